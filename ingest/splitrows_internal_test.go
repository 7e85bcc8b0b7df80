package ingest

import (
	"context"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// TestPickCopy: the rows SplitRows picks from a chunk are copied out of
// it, a contiguous run of them too (a slice would hold the whole chunk's
// buffers while a range waits for its rows), unless they are all of it.
func TestPickCopy(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "n", Type: arrow.PrimitiveTypes.Int64}}, nil)
	b := array.NewInt64Builder(memory.DefaultAllocator)
	for i := range 1000 {
		b.Append(int64(i))
	}
	arr := b.NewArray()
	b.Release()
	rec := array.NewRecord(schema, []arrow.Array{arr}, 1000)
	arr.Release()
	tbl := array.NewTableFromRecords(schema, []arrow.Record{rec, rec}) // two chunks
	rec.Release()
	defer tbl.Release()

	for _, tc := range []struct {
		name   string
		lo, hi int // the rows picked
		shared bool
	}{
		{"a run", 100, 110, false},
		{"a chunk", 1000, 2000, true},
		{"a chunk and a run", 500, 2000, true},
		{"all", 0, 2000, true},
	} {
		pick := make([]int8, 2000)
		for i := range pick {
			if i < tc.lo || i >= tc.hi {
				pick[i] = -1
			}
		}
		out, err := pickCopy(context.Background(), tbl, pick, tc.hi-tc.lo)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		shared := false
		for _, c := range out.Column(0).Data().Chunks() {
			got = append(got, c.(*array.Int64).Int64Values()...)
			shared = shared || c.Data().Buffers()[1] == arr.Data().Buffers()[1]
		}
		if len(got) != tc.hi-tc.lo || got[0] != int64(tc.lo%1000) || got[len(got)-1] != int64((tc.hi-1)%1000) {
			t.Errorf("%s: %d rows %d .. %d", tc.name, len(got), got[0], got[len(got)-1])
		}
		if shared != tc.shared {
			t.Errorf("%s: shares the chunk's buffer: %v, want %v", tc.name, shared, tc.shared)
		}
		out.Release()
	}
}
