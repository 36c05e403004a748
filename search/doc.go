// Package search holds the adaptive parts of a sweep as pure functions of
// past results: the TPE sampler that suggests the next configuration from
// the finished (and still training) ones, and the seed-aware early-stopping
// rules (successive halving, median) that decide whether a configuration
// goes on. It knows nothing of SQL, files or training: the store calls it
// inside its own write transaction, so suggestions never race, and the
// model never sees it.
//
// Next, Judge and Promotable (sweep.go) are what sweep run calls: Next makes a
// [tpe] sweep's next configuration from every run the sweep has, and
// Judge says whether a configuration goes on, waits or stops at the epoch one of its
// runs just recorded. Suggestions become settings as [random] draws do
// (pipeline.RoundDraw, pipeline.Normalize), so the two kinds of sweep
// round and identify runs alike.
//
// Determinism: every function takes its random generator or its data
// explicitly. The same seed and the same history give the same suggestion;
// the same metrics give the same decisions.
package search
