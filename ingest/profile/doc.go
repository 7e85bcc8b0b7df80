// Package profile is the format of a data profile (a bundle's
// profile.json): per-column statistics of the training split, which
// ingest.ProfileTable computes, the drift monitor compares traffic with,
// and serving reads its input bounds and a regression's prediction
// buckets from. It holds types only, so that a reader needs no ingest.
//
// In: profile.json (encoding/json). Out: a Profile; Column finds one
// column's statistics.
package profile
