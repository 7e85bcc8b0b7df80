package tables

import (
	"context"

	"github.com/apache/arrow/go/v17/arrow"
)

// Source is a table read a range of rows at a time, for work that must
// not need the whole table in memory (docs/architecture.md, "Memory and
// scale"): the training split, held in memory (ingest.InMemory) or read
// again from the data's files, keeping only its rows (streaming ingest).
// Whatever reads a Source sees the same rows in the same order either
// way, so its result does not depend on which it is given.
type Source interface {
	// Schema is the schema of every range.
	Schema() *arrow.Schema
	// NumRows is the number of rows.
	NumRows() int64
	// Ranges calls fn with the rows in order, size rows at a time (the
	// last range may be shorter); off is the index of part's first row.
	// part is released when fn returns: fn retains what it keeps. An
	// error from fn stops the reading and is returned as it is.
	Ranges(ctx context.Context, size int, fn func(off int64, part arrow.Table) error) error
	// Take returns the rows at rows (ascending, each in [0, NumRows())),
	// in that order, as one table the caller releases: a seeded sample,
	// without holding the rest.
	Take(ctx context.Context, rows []int32) (arrow.Table, error)
}
