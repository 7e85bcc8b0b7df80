// Package profile computes and describes a data profile (a bundle's
// profile.json): per-column statistics of the training split, which the
// drift monitor compares traffic with, and serving reads its input
// bounds and a regression's prediction buckets from. It needs no file
// readers, so neither does anything that reads a profile.
//
// In: an Arrow table (Table, ColumnOf), its rows a part at a time
// (Builder), or profile.json (encoding/json). Out: a Profile; Column
// finds one column's statistics.
//
// Table and a Builder profile a column with the same code (Table gives
// it each column whole), so a table streamed in parts of any size
// (docs/architecture.md, "Memory and scale") gets Table's profile bit
// for bit: the statistics that depend on the values' order
// (the mean and standard deviation's sums, the exact quantiles, the
// histogram, the distinct count) are computed at the end from the
// sorted values, and the categories from their counts.
//
// Memory: the exact quantiles need every value, so a Builder holds 8
// bytes (a float64) per non-null finite value of each int64, float64 or
// timestamp column: 8 bytes a row of each when told the row count
// first (Grow); otherwise its slices grow by append, with up to about a
// quarter of spare capacity, and while one grows its old copy is live
// too (about 2.25 times the values at that moment). It holds nothing
// per row of a string or bool column, only a copy of each distinct
// category and its count, and nothing per row of a column of another
// type. Profile sorts the values in place, without a second copy. For
// the flights data's three numeric columns that is 24 bytes a row: 72
// MB for 3 million rows. Table holds one numeric column's values per
// goroutine (Options.Parallelism) at a time, not all of them.
package profile
