-- 003_notebook_bugs: the two settings that reproduce the notebook's
-- suspected bugs, and the spread of the sum predictions, where a head that
-- collapsed to a constant shows. Old runs trained with 'mse' and
-- 'aligned'; their epochs have no sum_pred_std (NULL).
ALTER TABLE runs ADD COLUMN sum_loss TEXT NOT NULL DEFAULT 'mse';      -- 'mse' or 'broadcast_mse'
ALTER TABLE runs ADD COLUMN pairing  TEXT NOT NULL DEFAULT 'aligned';  -- 'aligned' or 'shuffled'
ALTER TABLE epochs ADD COLUMN sum_pred_std REAL; -- std of the sum prediction over the split (divisor n)
