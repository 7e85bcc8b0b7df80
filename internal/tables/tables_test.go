package tables

import (
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// TestSlice slices a table of two chunks across the chunk boundary, at
// its ends and to nothing, and checks every value.
func TestSlice(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
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
