// Package serve is the live web UI of 'sweep serve': server-rendered pages
// and a small JSON API over a sweep database, for watching a sweep while
// it trains and comparing its runs.
//
// # Pages
//
//   - /                        every sweep: runs by status (every status of
//     sweep.Statuses, pruned included), epochs done of total (a pruned
//     run's total is the epochs it trained), what pruning saved when the
//     sweep has a pruning rule, measured seconds per epoch, ETA,
//     description and file text.
//   - /sweeps/{name}           the sweep's runs: sort by any column
//     (?sort=COLUMN&dir=asc|desc), filter by status and by any setting
//     (?status=running&s.head=classify), tick runs to compare. Statuses
//     read as reports.StatusText words them: "pruned at epoch 2", "done
//     (reused from 3f2a9c1b…)".
//   - /sweeps/{name}/overview  parallel coordinates of the varying settings
//     against a final metric (?metric=test_r2 …) and the report's findings.
//   - /runs/{id}               one run: settings, epoch table, train and
//     test curves of digit NLL, digit accuracy, sum R² and sum accuracy,
//     and its error if it failed.
//   - /compare?run=ID&run=ID   the selected runs' test curves on shared axes;
//     /compare?sweep=NAME groups the sweep's repeats by configuration
//     (mean line, min–max band, as in the report; pruned configurations
//     listed after the ranked ones and drawn ending with ×).
//
// Figures come from package reports (the same functions as the HTML
// report), drawn as inline SVG.
//
// # JSON API
//
// GET only. NaN metrics and missing times are null.
//
//   - /api/sweeps              every sweep with counts and progress.
//   - /api/sweeps/{name}       one sweep, with its file's text.
//   - /api/runs?sweep=NAME     runs with settings and final test metrics;
//     the runs table's parameters (status, s.SETTING, sort, dir, limit up
//     to MaxRunsPage, offset) apply. Answers {total, offset, runs}.
//   - /api/runs/{id}           one run (a unique id prefix will do).
//   - /api/runs/{id}/epochs    its epochs, train before test.
//   - /api/events              Server-Sent Events: "hello" on connect and
//     "change" whenever the database changed, with a generation number.
//
// # Live updates
//
// Watch reads a Changes counter every Options.Poll (250 ms by default);
// for SQLite that is PRAGMA data_version, which moves whenever any process
// commits, and reads no table. When it moves, the server reads the sweeps'
// fingerprints (runs by status, training seconds, first start, last
// finish, last save: one cheap query), bumps its generation and that of
// each sweep whose fingerprint changed, and sends "change" on every event
// stream. A page's script then fetches its own URL again and swaps in the
// new <main id="live">: sort and filters live in the URL and the ticked
// runs in sessionStorage, so an update keeps them.
//
// Answers are cached by URL. A page of one sweep stays cached until that
// sweep changes; pages over all sweeps, runs and run pages until anything
// changes. After a change one request recomputes an answer while others
// get the previous one, and an answer is recomputed at most every 500 ms;
// each answer says in X-Sweep-Generation which generation it is current
// at, and the script asks again until it has the one announced. So any
// number of open pages cost at most a few database reads a second per
// URL, and none for sweeps that do not change.
//
// # Security
//
// The server only reads (GET and HEAD; anything else is 405) from a Source
// the caller opens read-only. It answers only requests whose Host is
// localhost, an IP address or one of Options.Hosts, against DNS rebinding;
// sets a Content-Security-Policy that allows nothing from outside the
// server (scripts and styles are embedded in the binary; inline SVG needs
// inline styles); escapes every value from the database with html/template;
// and bounds every request: Options.Timeout per request, at most
// MaxRunsPage rows and MaxCompare compared runs, a few database readers at
// once. There is no authentication: keep it on loopback and reach it
// through an SSH tunnel.
package serve
