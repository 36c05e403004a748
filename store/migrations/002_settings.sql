-- 002_settings: the settings added after the first release. Each column's
-- default is the value every earlier run trained with, so old databases
-- keep their meaning (and their runs their ids).
ALTER TABLE runs ADD COLUMN sum_input      TEXT    NOT NULL DEFAULT 'log_probs'; -- 'log_probs' or 'probs'
ALTER TABLE runs ADD COLUMN conv1_channels INTEGER NOT NULL DEFAULT 10;
ALTER TABLE runs ADD COLUMN conv2_channels INTEGER NOT NULL DEFAULT 20;
ALTER TABLE runs ADD COLUMN fc_hidden      INTEGER NOT NULL DEFAULT 50;
ALTER TABLE runs ADD COLUMN dropout        REAL    NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN weight_decay   REAL    NOT NULL DEFAULT 0;
