package tables

import (
	"context"
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// Whole is tbl, held in memory, as a Source: its ranges are zero-copy
// slices of it (Slice), and Take copies the rows asked for. It does not
// retain tbl. It is for packages that may not import ingest, whose
// InMemory is the same with ingest's gather.
func Whole(tbl arrow.Table) Source { return whole{tbl} }

type whole struct{ tbl arrow.Table }

func (w whole) Schema() *arrow.Schema { return w.tbl.Schema() }
func (w whole) NumRows() int64        { return w.tbl.NumRows() }

func (w whole) Ranges(ctx context.Context, size int, fn func(off int64, part arrow.Table) error) error {
	return Ranges(ctx, w.tbl, size, fn)
}

// Take copies each column's rows at rows, a run of consecutive rows of
// one chunk at a time, into one array (array.Concatenate: any type,
// without arrow/compute, which serving does not link).
func (w whole) Take(ctx context.Context, rows []int32) (arrow.Table, error) {
	n := w.tbl.NumRows()
	for k, r := range rows {
		if r < 0 || int64(r) >= n || (k > 0 && r <= rows[k-1]) {
			return nil, fmt.Errorf("take rows: row %d: want ascending rows in [0, %d)", r, n)
		}
	}
	cols := make([]arrow.Column, w.tbl.NumCols())
	release := func() {
		for _, c := range cols {
			if c.Data() != nil {
				c.Release()
			}
		}
	}
	for j := range cols {
		if err := ctx.Err(); err != nil {
			release()
			return nil, err
		}
		a, err := takeColumn(w.tbl.Column(j).Data(), rows)
		if err != nil {
			release()
			return nil, fmt.Errorf("take rows: column %q: %w", w.tbl.Schema().Field(j).Name, err)
		}
		ch := arrow.NewChunked(a.DataType(), []arrow.Array{a})
		a.Release()
		cols[j] = *arrow.NewColumn(w.tbl.Schema().Field(j), ch)
		ch.Release()
	}
	out := array.NewTable(w.tbl.Schema(), cols, int64(len(rows)))
	release()
	return out, nil
}

// takeColumn copies the rows at rows (ascending, in range) of col.
func takeColumn(col *arrow.Chunked, rows []int32) (arrow.Array, error) {
	mem := memory.DefaultAllocator
	var runs []arrow.Array
	defer func() {
		for _, a := range runs {
			a.Release()
		}
	}()
	var off int64 // the first row of chunk
	k := 0
	for _, chunk := range col.Chunks() {
		end := off + int64(chunk.Len())
		for k < len(rows) && int64(rows[k]) < end {
			lo := int64(rows[k])
			hi := lo + 1
			for k++; k < len(rows) && int64(rows[k]) == hi && hi < end; k++ {
				hi++
			}
			runs = append(runs, array.NewSlice(chunk, lo-off, hi-off))
		}
		off = end
	}
	if len(runs) == 0 {
		return array.MakeArrayOfNull(mem, col.DataType(), 0), nil
	}
	return array.Concatenate(runs, mem)
}
