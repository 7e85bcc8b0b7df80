// Package tables holds what several packages do to an arrow.Table and
// none of them owns: in, a table; out, a view of it. It exists because
// those packages may not import each other (features, which mlserve
// links, may not import ingest).
package tables

import (
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
