package tables

import (
	"context"
	"errors"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// twoChunks returns a table of one int64 column, 0 to 6, in chunks of
// 3 and 4 rows.
func twoChunks(mem memory.Allocator) arrow.Table {
	schema := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int64}}, nil)
	var chunks []arrow.Array
	for _, vals := range [][]int64{{0, 1, 2}, {3, 4, 5, 6}} {
		b := array.NewInt64Builder(mem)
		b.AppendValues(vals, nil)
		chunks = append(chunks, b.NewArray())
		b.Release()
	}
	chunked := arrow.NewChunked(arrow.PrimitiveTypes.Int64, chunks)
	for _, a := range chunks {
		a.Release()
	}
	col := arrow.NewColumn(schema.Field(0), chunked)
	chunked.Release()
	tbl := array.NewTable(schema, []arrow.Column{*col}, 7)
	col.Release()
	return tbl
}

// TestSlice slices a table of two chunks across the chunk boundary, at
// its ends and to nothing, and checks every value.
func TestSlice(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tbl := twoChunks(mem)
	defer tbl.Release()

	for _, tc := range []struct{ lo, hi int64 }{{0, 7}, {2, 5}, {3, 3}, {0, 1}, {6, 7}} {
		s := Slice(tbl, tc.lo, tc.hi)
		if s.NumRows() != tc.hi-tc.lo || s.NumCols() != 1 {
			t.Errorf("Slice(%d, %d): %d rows, %d columns", tc.lo, tc.hi, s.NumRows(), s.NumCols())
		}
		want := tc.lo
		for _, c := range s.Column(0).Data().Chunks() {
			for _, v := range c.(*array.Int64).Int64Values() {
				if v != want {
					t.Errorf("Slice(%d, %d): value %d, want %d", tc.lo, tc.hi, v, want)
				}
				want++
			}
		}
		if want != tc.hi {
			t.Errorf("Slice(%d, %d): values end at %d", tc.lo, tc.hi, want)
		}
		s.Release()
	}
}

// TestRanges reads the two-chunk table in ranges of several sizes: each
// value once, in order, at its offset; an error from fn stops it.
func TestRanges(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tbl := twoChunks(mem)
	defer tbl.Release()
	ctx := context.Background()
	for _, size := range []int{1, 2, 3, 4, 7, 100} {
		want := int64(0)
		err := Ranges(ctx, tbl, size, func(off int64, part arrow.Table) error {
			if off != want || part.NumRows() != min(int64(size), 7-off) {
				t.Errorf("size %d: range of %d rows at %d, want at %d", size, part.NumRows(), off, want)
			}
			for _, c := range part.Column(0).Data().Chunks() {
				for _, v := range c.(*array.Int64).Int64Values() {
					if v != want {
						t.Errorf("size %d: value %d, want %d", size, v, want)
					}
					want++
				}
			}
			return nil
		})
		if err != nil || want != 7 {
			t.Errorf("size %d: %d values read, error %v", size, want, err)
		}
	}
	stop := errors.New("stop")
	calls := 0
	err := Ranges(ctx, tbl, 2, func(int64, arrow.Table) error { calls++; return stop })
	if err != stop || calls != 1 {
		t.Errorf("fn's error: %v after %d calls, want it after 1", err, calls)
	}
	if err := Ranges(ctx, tbl, 0, func(int64, arrow.Table) error { return nil }); err == nil {
		t.Error("a range of 0 rows: no error")
	}
}
