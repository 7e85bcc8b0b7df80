// Package profile computes and describes a data profile (a bundle's
// profile.json): per-column statistics of the training split, which the
// drift monitor compares traffic with, and serving reads its input
// bounds and a regression's prediction buckets from. It needs no file
// readers, so neither does anything that reads a profile.
//
// In: an Arrow table (Table, ColumnOf), or profile.json
// (encoding/json). Out: a Profile; Column finds one column's
// statistics.
package profile
