package tables

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// nullableChunks is rows 0 to 6 in chunks of 3 and 4: x = the row, s = "s"
// and the row, null at every third row.
func nullableChunks(t *testing.T, mem memory.Allocator) arrow.Table {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "x", Type: arrow.PrimitiveTypes.Int64},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	var recs []arrow.Record
	for _, rows := range [][2]int{{0, 3}, {3, 7}} {
		b := array.NewRecordBuilder(mem, schema)
		for i := rows[0]; i < rows[1]; i++ {
			b.Field(0).(*array.Int64Builder).Append(int64(i))
			if i%3 == 0 {
				b.Field(1).AppendNull()
			} else {
				b.Field(1).(*array.StringBuilder).Append(fmt.Sprint("s", i))
			}
		}
		recs = append(recs, b.NewRecord())
		b.Release()
	}
	tbl := array.NewTableFromRecords(schema, recs)
	for _, r := range recs {
		r.Release()
	}
	return tbl
}

// rowsOf lists a table's rows as text, nulls as "null".
func rowsOf(tbl arrow.Table) []string {
	var out []string
	rd := array.NewTableReader(tbl, 0)
	defer rd.Release()
	for rd.Next() {
		rec := rd.Record()
		for i := range int(rec.NumRows()) {
			out = append(out, rec.Column(0).ValueStr(i)+" "+rec.Column(1).ValueStr(i))
		}
	}
	return out
}

// TestWhole: Whole's ranges put end to end are the table, at their
// offsets; Take gives the rows asked for, across the chunk boundary and
// in runs, and refuses rows out of order or out of range; nothing of the table leaks.
func TestWhole(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tbl := nullableChunks(t, mem)
	defer tbl.Release()
	all := rowsOf(tbl)
	src := Whole(tbl)
	ctx := context.Background()
	if src.NumRows() != 7 || !src.Schema().Equal(tbl.Schema()) {
		t.Fatalf("Whole: %d rows, schema %s", src.NumRows(), src.Schema())
	}
	for _, size := range []int{1, 2, 3, 7, 100} {
		var got []string
		err := src.Ranges(ctx, size, func(off int64, part arrow.Table) error {
			if off != int64(len(got)) || part.NumRows() > int64(size) {
				t.Errorf("size %d: a range of %d rows at %d after %d rows", size, part.NumRows(), off, len(got))
			}
			got = append(got, rowsOf(part)...)
			return nil
		})
		if err != nil || !slices.Equal(got, all) {
			t.Errorf("size %d: ranges %q (%v), want %q", size, got, err, all)
		}
	}
	if err := src.Ranges(ctx, 0, func(int64, arrow.Table) error { return nil }); err == nil {
		t.Error("ranges of 0 rows did not fail")
	}

	for _, rows := range [][]int32{{}, {0}, {6}, {2, 3}, {0, 1, 2, 3, 4, 5, 6}, {1, 2, 4, 6}} {
		got, err := src.Take(ctx, rows)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, r := range rows {
			want = append(want, all[r])
		}
		if g := rowsOf(got); !slices.Equal(g, want) || got.NumRows() != int64(len(rows)) {
			t.Errorf("Take(%v) = %q, want %q", rows, g, want)
		}
		got.Release()
	}
	for _, rows := range [][]int32{{3, 2}, {1, 1}, {-1}, {7}} {
		if got, err := src.Take(ctx, rows); err == nil {
			got.Release()
			t.Errorf("Take(%v) did not fail", rows)
		}
	}
}
