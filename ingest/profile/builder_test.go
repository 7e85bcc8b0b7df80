package profile_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"runtime"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/mlpipe/mlpipe/ingest/profile"
	"github.com/mlpipe/mlpipe/internal/tables"
)

// TestBuilderChunkings: a Builder given a fixture in parts of 1, 7 and
// 1000 rows, or whole, gives Table's profile of it (reflect.DeepEqual,
// and the same JSON, which tells -0 from +0), with its columns
// profiled on one goroutine or several, told the row count first (Grow)
// or not. Each part is a copy that is scribbled over and released as
// soon as Add returns, so a builder that kept any of a part's memory (an
// Arrow string is a view of its buffer) would profile the scribbles; the
// copies' allocator must end at zero.
func TestBuilderChunkings(t *testing.T) {
	sizes := []int64{0, 1, 7, 1000} // 0: whole
	if testing.Short() {
		// make test's run under the race detector: one-row parts are
		// most of the time there; the run without -short checks them.
		sizes = []int64{0, 7, 1000}
	}
	for _, fx := range fixtures {
		tbl := fx.table(t)
		want, err := profile.Table(context.Background(), tbl, fx.opts)
		if err != nil {
			t.Fatal(err)
		}
		wantJSON := marshal(t, want)
		for _, size := range sizes {
			for _, par := range []int{1, 0} {
				mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
				opts := profile.Options{Parallelism: par}
				if fx.opts != nil {
					opts.HistogramBins, opts.MaxCategories = fx.opts.HistogramBins, fx.opts.MaxCategories
				}
				b := profile.NewBuilder(tbl.Schema(), &opts)
				if par == 1 {
					b.Grow(int(tbl.NumRows())) // room made first changes nothing
				}
				step := size
				if step == 0 {
					step = max(tbl.NumRows(), 1)
				}
				// An empty part first: it must change nothing.
				for lo := -step; lo < tbl.NumRows(); lo += step {
					part := copyRows(t, mem, tbl, max(lo, 0), min(max(lo+step, 0), tbl.NumRows()))
					if err := b.Add(part); err != nil {
						t.Fatal(err)
					}
					scribble(part)
					part.Release()
				}
				mem.AssertSize(t, 0)
				got, err := b.Profile(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) || !bytes.Equal(marshal(t, got), wantJSON) {
					t.Errorf("%s in parts of %d rows, parallelism %d: the builder's profile differs from Table's", fx.name, size, par)
				}
			}
		}
	}
}

// copyRows copies rows [lo, hi) of tbl into memory from mem, one chunk
// per column.
func copyRows(t *testing.T, mem memory.Allocator, tbl arrow.Table, lo, hi int64) arrow.Table {
	t.Helper()
	s := tables.Slice(tbl, lo, hi)
	defer s.Release()
	cols := make([]arrow.Array, s.NumCols())
	for j := range cols {
		chunks := s.Column(j).Data().Chunks()
		if len(chunks) == 0 {
			cols[j] = array.MakeArrayOfNull(mem, s.Schema().Field(j).Type, 0)
			continue
		}
		a, err := array.Concatenate(chunks, mem)
		if err != nil {
			t.Fatal(err)
		}
		cols[j] = a
	}
	rec := array.NewRecord(s.Schema(), cols, hi-lo)
	for _, a := range cols {
		a.Release()
	}
	defer rec.Release()
	return array.NewTableFromRecords(s.Schema(), []arrow.Record{rec})
}

// scribble overwrites every byte of tbl's buffers.
func scribble(tbl arrow.Table) {
	for j := range int(tbl.NumCols()) {
		for _, c := range tbl.Column(j).Data().Chunks() {
			for _, buf := range c.Data().Buffers() {
				if buf != nil {
					for i := range buf.Bytes() {
						buf.Bytes()[i] = 0xA5
					}
				}
			}
		}
	}
}

// TestBuilderErrors: a part of another schema, and any use of a spent
// builder, are errors.
func TestBuilderErrors(t *testing.T) {
	tbl := edgeTable(t)
	ctx := context.Background()
	b := profile.NewBuilder(tbl.Schema(), nil)
	other := arrow.NewSchema([]arrow.Field{{Name: "f", Type: arrow.PrimitiveTypes.Int64}}, nil)
	narrow := array.NewTableFromRecords(other, nil)
	defer narrow.Release()
	if err := b.Add(narrow); err == nil {
		t.Error("Add took a part with 1 column for a schema of 12")
	}
	flights := flightsTable(t)
	if err := profile.NewBuilder(flights.Schema(), nil).Add(tables.Slice(tbl, 0, 5)); err == nil {
		t.Error("Add took a part whose column types differ from the schema's")
	}
	if err := b.Add(tbl); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Profile(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Add(tbl); err == nil {
		t.Error("Add after Profile did not fail")
	}
	if _, err := b.Profile(ctx); err == nil {
		t.Error("a second Profile did not fail")
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	b = profile.NewBuilder(tbl.Schema(), nil)
	if err := b.Add(tbl); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Profile(cancelled); !errors.Is(err, context.Canceled) {
		t.Errorf("Profile with a cancelled context: %v", err)
	}
	if _, err := profile.Table(cancelled, tbl, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Table with a cancelled context: %v", err)
	}
}

// TestBuilderGrow: told the row count first, a Builder adds the parts of
// a numeric table allocating almost nothing (its values go where Grow
// made room: under a byte a row, where the values are 24); not told, it
// allocates at least the values' 8 bytes a row as its slices grow.
func TestBuilderGrow(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "i", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Second}},
		{Name: "f", Type: arrow.PrimitiveTypes.Float64},
	}, nil)
	const rows = 3000
	rb := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer rb.Release()
	for i := range rows {
		rb.Field(0).(*array.Int64Builder).AppendValues([]int64{int64(i)}, []bool{i%5 != 0})
		rb.Field(1).(*array.TimestampBuilder).Append(arrow.Timestamp(i))
		rb.Field(2).(*array.Float64Builder).Append(float64(i) / 3)
	}
	rec := rb.NewRecord()
	defer rec.Release()
	tbl := array.NewTableFromRecords(schema, []arrow.Record{rec})
	defer tbl.Release()
	var parts []arrow.Table
	for lo := int64(0); lo < rows; lo += 1000 {
		parts = append(parts, tables.Slice(tbl, lo, lo+1000))
	}
	defer func() {
		for _, p := range parts {
			p.Release()
		}
	}()
	for _, grow := range []bool{true, false} {
		b := profile.NewBuilder(schema, nil)
		if grow {
			b.Grow(rows)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for _, p := range parts {
			if err := b.Add(p); err != nil {
				t.Fatal(err)
			}
		}
		runtime.ReadMemStats(&after)
		bytes := after.TotalAlloc - before.TotalAlloc
		if grow && bytes >= rows || !grow && bytes < 8*rows {
			t.Errorf("grow %v: %d bytes allocated adding %d rows", grow, bytes, rows)
		}
	}
}

// TestHugeValues: a column of values near the float64 limit, whose sum
// of squares overflows, gets a finite mean and standard deviation (the
// sample's: 1e300, 3e300 have mean 2e300 and std √2·1e300), and its
// profile can be written as JSON.
func TestHugeValues(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Float64}}, nil)
	b := array.NewFloat64Builder(memory.DefaultAllocator)
	b.AppendValues([]float64{3e300, 1e300}, nil)
	a := b.NewArray()
	defer a.Release()
	col := arrow.NewColumnFromArr(schema.Field(0), a)
	defer col.Release()
	tbl := array.NewTable(schema, []arrow.Column{col}, 2)
	defer tbl.Release()
	p, err := profile.Table(context.Background(), tbl, nil)
	if err != nil {
		t.Fatal(err)
	}
	np := p.Columns[0].Numeric
	if math.Abs(np.Mean/2e300-1) > 1e-12 || math.Abs(np.Std/(math.Sqrt2*1e300)-1) > 1e-12 {
		t.Errorf("mean %g, std %g; want 2e300, %g", np.Mean, np.Std, math.Sqrt2*1e300)
	}
	if _, err := json.Marshal(p); err != nil {
		t.Errorf("the profile cannot be written: %v", err)
	}
}

// TestHistogramSpanOverflow: a column whose values span more than the
// largest float64 (-1.7e308 to 1.7e308) has a span of +Inf, and equal
// widths of it gave edges of ±Inf and NaN, so profile.json could not be
// written. Its edges must be finite, ascending and from min to max, its
// counts must hold every value, and the profile must be writable (two
// values ±1.7e308 also have a standard deviation beyond float64's range).
func TestHistogramSpanOverflow(t *testing.T) {
	for _, values := range [][]float64{
		{-1.7e308, -1e308, 0, 1, 1.7e308},
		{-1.7e308, 1.7e308}, // a standard deviation beyond float64's range too
	} {
		spanOverflow(t, values)
	}
}

func spanOverflow(t *testing.T, values []float64) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Float64}}, nil)
	b := array.NewFloat64Builder(memory.DefaultAllocator)
	b.AppendValues(values, nil)
	a := b.NewArray()
	defer a.Release()
	col := arrow.NewColumnFromArr(schema.Field(0), a)
	defer col.Release()
	tbl := array.NewTable(schema, []arrow.Column{col}, int64(len(values)))
	defer tbl.Release()
	p, err := profile.Table(context.Background(), tbl, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := p.Columns[0].Numeric.Histogram
	if h.Edges[0] != values[0] || h.Edges[len(h.Edges)-1] != values[len(values)-1] {
		t.Errorf("edges from %g to %g, want %g to %g", h.Edges[0], h.Edges[len(h.Edges)-1], values[0], values[len(values)-1])
	}
	for i, e := range h.Edges {
		if math.IsInf(e, 0) || math.IsNaN(e) || (i > 0 && e <= h.Edges[i-1]) {
			t.Fatalf("edge %d is %g after %g: want finite and ascending (%v)", i, e, h.Edges[max(i-1, 0)], h.Edges)
		}
	}
	var n int64
	for _, c := range h.Counts {
		n += c
	}
	if n != int64(len(values)) {
		t.Errorf("the counts hold %d values, want %d", n, len(values))
	}
	if _, err := json.Marshal(p); err != nil {
		t.Errorf("the profile cannot be written: %v", err)
	}
}
