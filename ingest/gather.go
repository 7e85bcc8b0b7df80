package ingest

import (
	"context"
	"fmt"
	"slices"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/compute"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/mlpipe/mlpipe/internal/tables"
)

// This file holds the one way rows are picked out of a table (by the
// split, TimeSlice and the window filter): chunk by chunk. Each chunk's
// rows for an output are a zero-copy slice when they are contiguous, and
// otherwise one Take over that chunk alone, with indices local to it. The
// work is one pass over the rows and one copy of each row kept, whatever
// the row order and however many chunks the table has. (A Take over the
// whole many-chunk table was superlinear: 168 s for 6M unsorted rows,
// issue 23; see takeStrings for why.) Outputs keep the input's chunking: chunk c of an output
// holds the rows of input chunk c that go to it.

// gather returns n tables with tbl's schema: table k holds the rows i of
// tbl with assign[i] == k, in table order. Rows with assign[i] < 0 (or
// >= n) go nowhere. Buffers come from the context's allocator
// (compute.WithAllocator; memory.DefaultAllocator otherwise).
func gather(ctx context.Context, tbl arrow.Table, assign []int8, n int) ([]arrow.Table, error) {
	if int64(len(assign)) != tbl.NumRows() {
		panic(fmt.Sprintf("ingest: gather: %d assignments for %d rows", len(assign), tbl.NumRows()))
	}
	cols := make([][]arrow.Column, n)
	for k := range cols {
		cols[k] = make([]arrow.Column, tbl.NumCols())
	}
	release := func() {
		for k := range cols {
			for j := range cols[k] {
				if cols[k][j].Data() != nil {
					cols[k][j].Release()
				}
			}
		}
	}
	// Columns are usually chunked alike; their picks are computed once
	// per chunk layout.
	var layout []int
	var picks [][]chunkPick
	for j := 0; j < int(tbl.NumCols()); j++ {
		col := tbl.Column(j).Data()
		if l := chunkLens(col); picks == nil || !slices.Equal(l, layout) {
			layout, picks = l, pickRows(l, assign, n)
		}
		for k := 0; k < n; k++ {
			chunks, err := takeChunks(ctx, col, picks[k])
			if err != nil {
				release()
				return nil, err
			}
			ch := arrow.NewChunked(col.DataType(), chunks)
			for _, a := range chunks {
				a.Release()
			}
			cols[k][j] = *arrow.NewColumn(tbl.Schema().Field(j), ch)
			ch.Release()
		}
	}
	out := make([]arrow.Table, n)
	for k := range out {
		var rows int64
		for _, p := range picks[k] {
			rows += p.rows()
		}
		out[k] = array.NewTable(tbl.Schema(), cols[k], rows)
	}
	release()
	return out, nil
}

// chunkPick is the rows of one input chunk that go to one output: a
// contiguous run [lo, hi) of the chunk, or the listed rows.
type chunkPick struct {
	chunk  int
	lo, hi int
	idx    []int32 // nil for a run
}

func (p chunkPick) rows() int64 {
	if p.idx != nil {
		return int64(len(p.idx))
	}
	return int64(p.hi - p.lo)
}

func chunkLens(col *arrow.Chunked) []int {
	l := make([]int, len(col.Chunks()))
	for c, a := range col.Chunks() {
		l[c] = a.Len()
	}
	return l
}

// pickRows lists, for each output, the rows it takes from each chunk.
func pickRows(layout []int, assign []int8, n int) [][]chunkPick {
	picks := make([][]chunkPick, n)
	first, last, count := make([]int, n), make([]int, n), make([]int, n)
	off := 0
	for c, size := range layout {
		a := assign[off : off+size]
		for k := range n {
			first[k], last[k], count[k] = -1, -1, 0
		}
		for i, k := range a {
			if k < 0 || int(k) >= n {
				continue
			}
			if first[k] < 0 {
				first[k] = i
			}
			last[k] = i
			count[k]++
		}
		for k := range n {
			switch {
			case count[k] == 0:
			case last[k]-first[k]+1 == count[k]:
				picks[k] = append(picks[k], chunkPick{chunk: c, lo: first[k], hi: last[k] + 1})
			default:
				idx := make([]int32, 0, count[k])
				for i, kk := range a[first[k] : last[k]+1] {
					if int(kk) == k {
						idx = append(idx, int32(first[k]+i))
					}
				}
				picks[k] = append(picks[k], chunkPick{chunk: c, idx: idx})
			}
		}
		off += size
	}
	return picks
}

// takeChunks returns the picked rows of col, one array per pick.
func takeChunks(ctx context.Context, col *arrow.Chunked, picks []chunkPick) ([]arrow.Array, error) {
	out := make([]arrow.Array, 0, len(picks))
	for _, p := range picks {
		src := col.Chunk(p.chunk)
		if p.idx == nil {
			out = append(out, array.NewSlice(src, int64(p.lo), int64(p.hi)))
			continue
		}
		if err := ctx.Err(); err != nil {
			releaseArrays(out)
			return nil, err
		}
		if str, ok := src.(*array.String); ok {
			out = append(out, takeStrings(compute.GetAllocator(ctx), str, p.idx))
			continue
		}
		// The indices are a view of the Go slice: no copy.
		buf := memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(p.idx))
		data := array.NewData(arrow.PrimitiveTypes.Int32, len(p.idx), []*memory.Buffer{nil, buf}, nil, 0, 0)
		idx := array.NewInt32Data(data)
		data.Release()
		a, err := compute.TakeArray(ctx, src, idx)
		idx.Release()
		if err != nil {
			releaseArrays(out)
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// takeStrings returns the strings of a at idx. Arrow's Take kernel grows
// a string array's value buffer in small steps, reallocating it again and
// again: it asked for 176 MB to take 50,000 three-byte strings from one
// chunk (quadratic; the cause of issue 23's 168 s). Here the buffers are
// sized once, from the lengths of the strings taken.
func takeStrings(mem memory.Allocator, a *array.String, idx []int32) arrow.Array {
	size := 0
	for _, i := range idx {
		size += a.ValueLen(int(i))
	}
	b := array.NewStringBuilder(mem)
	defer b.Release()
	b.Reserve(len(idx))
	b.ReserveData(size)
	for _, i := range idx {
		if a.IsNull(int(i)) {
			b.AppendNull()
		} else {
			b.Append(a.Value(int(i)))
		}
	}
	return b.NewArray()
}

func releaseArrays(as []arrow.Array) {
	for _, a := range as {
		a.Release()
	}
}

// TakeRows returns the rows of tbl at rows (ascending, each in [0,
// tbl.NumRows())), in that order, with the same one-pass gather as the
// split: a seeded sample of a large table, without copying the rest.
func TakeRows(ctx context.Context, tbl arrow.Table, rows []int32) (arrow.Table, error) {
	assign := make([]int8, tbl.NumRows())
	for i := range assign {
		assign[i] = -1
	}
	for k, r := range rows {
		if r < 0 || int64(r) >= tbl.NumRows() || (k > 0 && r <= rows[k-1]) {
			return nil, fmt.Errorf("take rows: row %d: want ascending rows in [0, %d)", r, tbl.NumRows())
		}
		assign[r] = 0
	}
	out, err := gather(ctx, tbl, assign, 1)
	if err != nil {
		return nil, fmt.Errorf("take rows: %w", err)
	}
	return out[0], nil
}

// InMemory is tbl as a tables.Source (tables.Whole): its ranges are
// zero-copy slices of it. It does not retain tbl.
func InMemory(tbl arrow.Table) tables.Source { return tables.Whole(tbl) }
