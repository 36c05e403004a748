// Package search holds the adaptive parts of a sweep as pure functions of
// past results: the TPE sampler that suggests the next configuration from
// the finished (and still training) ones, and the seed-aware early-stopping
// rules (successive halving, median) that decide whether a configuration
// goes on. It knows nothing of SQL, files or training: the store calls it
// inside its own write transaction, so suggestions never race, and the
// model never sees it.
//
// Determinism: every function takes its random generator or its data
// explicitly. The same seed and the same history give the same suggestion;
// the same metrics give the same decisions.
package search
