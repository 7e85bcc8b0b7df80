// Package tables holds what several packages do to an arrow.Table and
// none of them owns: in, a table; out, a view of it. It exists because
// those packages may not import each other (features, which mlserve
// links, may not import ingest).
package tables

import (
	"context"
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
)

// Slice returns rows [lo, hi) of tbl without copying: each column is a
// slice of tbl's. The caller releases the result.
func Slice(tbl arrow.Table, lo, hi int64) arrow.Table {
	cols := make([]arrow.Column, tbl.NumCols())
	for c := range cols {
		cols[c] = *array.NewColumnSlice(tbl.Column(c), lo, hi)
	}
	out := array.NewTable(tbl.Schema(), cols, hi-lo)
	for c := range cols {
		cols[c].Release()
	}
	return out
}

// Ranges calls fn with the rows of tbl in order, size rows at a time
// (the last range may be shorter), each a zero-copy slice released when
// fn returns; off is the index of the range's first row. It is
// Source.Ranges for a table held in memory. An error from fn, or the
// context's, stops it and is returned as it is.
func Ranges(ctx context.Context, tbl arrow.Table, size int, fn func(off int64, part arrow.Table) error) error {
	if size <= 0 {
		return fmt.Errorf("ranges: a range of %d rows", size)
	}
	n := tbl.NumRows()
	for lo := int64(0); lo < n; lo += int64(size) {
		if err := ctx.Err(); err != nil {
			return err
		}
		part := Slice(tbl, lo, min(lo+int64(size), n))
		err := fn(lo, part)
		part.Release()
		if err != nil {
			return err
		}
	}
	return nil
}
