package ingest_test

import (
	"context"
	"math"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/mlpipe/mlpipe/ingest"
)

// tol is the tolerance for statistics computed in floating point.
const tol = 1e-9

// smallTable is a hand-checkable table: n = 1, 2, 3, 4, 100 and a null;
// x = 0.5, NaN, 1.5, and three nulls; s = a, b, a, null, c, a.
func smallTable(t *testing.T) arrow.Table {
	t.Helper()
	mem := memory.DefaultAllocator
	ib := array.NewInt64Builder(mem)
	ib.AppendValues([]int64{1, 2, 3, 4, 100, 0}, []bool{true, true, true, true, true, false})
	fb := array.NewFloat64Builder(mem)
	fb.AppendValues([]float64{0.5, math.NaN(), 1.5, 0, 0, 0}, []bool{true, true, true, false, false, false})
	sb := array.NewStringBuilder(mem)
	sb.AppendValues([]string{"a", "b", "a", "", "c", "a"}, []bool{true, true, true, false, true, true})
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "n", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "x", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	rec := array.NewRecord(schema, []arrow.Array{ib.NewArray(), fb.NewArray(), sb.NewArray()}, 6)
	tbl := array.NewTableFromRecords(schema, []arrow.Record{rec})
	t.Cleanup(tbl.Release)
	return tbl
}

func TestProfile(t *testing.T) {
	p, err := ingest.ProfileTable(context.Background(), smallTable(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	n := p.Column("n")
	if n.Count != 5 || n.Nulls != 1 {
		t.Errorf("n: count %d nulls %d, want 5 and 1", n.Count, n.Nulls)
	}
	// By hand: mean (1+2+3+4+100)/5 = 22; squared deviations 441, 400,
	// 361, 324, 6084 sum to 7610; sample variance 7610/4 = 1902.5.
	np := n.Numeric
	if np.Min != 1 || np.Max != 100 || math.Abs(np.Mean-22) > tol || math.Abs(np.Std-math.Sqrt(1902.5)) > tol {
		t.Errorf("n: min %g max %g mean %g std %g", np.Min, np.Max, np.Mean, np.Std)
	}
	quantile := func(np *ingest.NumericProfile, p float64) float64 {
		for _, q := range np.Quantiles {
			if q.P == p {
				return q.Value
			}
		}
		t.Fatalf("no quantile at %g", p)
		return 0
	}
	// Empirical quantiles of 1, 2, 3, 4, 100: the median is 3, the 0.8
	// quantile is the 4th value (4), the 0.95 quantile the 5th (100).
	for _, c := range []struct{ p, want float64 }{{0, 1}, {0.5, 3}, {0.8, 4}, {0.95, 100}, {1, 100}} {
		if got := quantile(np, c.p); got != c.want {
			t.Errorf("n: quantile(%g) = %g, want %g", c.p, got, c.want)
		}
	}
	// 20 bins over [1, 100], each 4.95 wide: 1..4 in the first, 100 in the last.
	h := np.Histogram
	if len(h.Counts) != 20 || h.Counts[0] != 4 || h.Counts[19] != 1 || h.Edges[0] != 1 || h.Edges[20] != 100 {
		t.Errorf("n: histogram %+v", h)
	}
	if np.Distinct != 5 {
		t.Errorf("n: distinct = %d, want 5", np.Distinct)
	}

	x := p.Column("x").Numeric
	if x.NaN != 1 || x.Min != 0.5 || x.Max != 1.5 || x.Mean != 1 {
		t.Errorf("x: %+v, want NaN 1, min 0.5, max 1.5, mean 1", x)
	}

	s := p.Column("s").Categorical
	if s.Distinct != 3 || len(s.Top) != 3 || s.Top[0] != (ingest.Frequency{Value: "a", Count: 3, Share: 0.6}) {
		t.Errorf("s: %+v", s)
	}
	// Ties are ordered by value: b before c.
	if s.Top[1].Value != "b" || s.Top[2].Value != "c" {
		t.Errorf("s: order %+v, want a, b, c", s.Top)
	}

	// With MaxCategories 1, b and c are "other": 2 of 5 values.
	p1, _ := ingest.ProfileTable(context.Background(), smallTable(t), &ingest.ProfileOptions{MaxCategories: 1})
	if c := p1.Column("s").Categorical; len(c.Top) != 1 || c.OtherCount != 2 || math.Abs(c.OtherShare-0.4) > tol {
		t.Errorf("s with 1 category: %+v", c)
	}
}

func TestProfileFlights(t *testing.T) {
	ds, err := load(t, "../testdata/flights-10k.parquet", flights(t).Schema)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ingest.ProfileTable(context.Background(), ds.Table, nil)
	if err != nil {
		t.Fatal(err)
	}
	date := p.Column("date").Numeric
	// First and last rows of the sample (testdata/README.md).
	if date.MinTime != "2001-01-01T00:01:00" || date.MaxTime != "2001-06-30T22:42:00" {
		t.Errorf("date range %s .. %s", date.MinTime, date.MaxTime)
	}
	var total int64
	for _, c := range p.Column("distance").Numeric.Histogram.Counts {
		total += c
	}
	if total != sampleRows {
		t.Errorf("histogram counts sum to %d, want %d", total, sampleRows)
	}
	if p.Column("origin").Categorical == nil || p.Column("origin").Type != "string" {
		t.Errorf("origin: %+v", p.Column("origin"))
	}
}

func TestFingerprint(t *testing.T) {
	ctx := context.Background()
	tbl := smallTable(t)
	base, err := ingest.Fingerprint(ctx, tbl)
	if err != nil {
		t.Fatal(err)
	}
	// The same rows in other chunks: rows [0, 2) and [2, 6) as two records.
	tr := array.NewTableReader(tbl, 2)
	var recs []arrow.Record
	for tr.Next() {
		r := tr.Record()
		r.Retain()
		recs = append(recs, r)
	}
	tr.Release()
	rechunked := array.NewTableFromRecords(tbl.Schema(), recs)
	defer rechunked.Release()
	if got, _ := ingest.Fingerprint(ctx, rechunked); got != base {
		t.Errorf("rechunked fingerprint %s != %s", got, base)
	}
	// Renaming a column changes it.
	renamed := arrow.NewSchema([]arrow.Field{
		{Name: "m", Type: arrow.PrimitiveTypes.Int64, Nullable: true}, tbl.Schema().Field(1), tbl.Schema().Field(2),
	}, nil)
	cols := []arrow.Column{*tbl.Column(0), *tbl.Column(1), *tbl.Column(2)}
	cols[0] = *arrow.NewColumn(renamed.Field(0), tbl.Column(0).Data())
	rt := array.NewTable(renamed, cols, tbl.NumRows())
	defer rt.Release()
	if got, _ := ingest.Fingerprint(ctx, rt); got == base {
		t.Error("renaming a column did not change the fingerprint")
	}
	// Dropping a row changes it.
	sub := array.NewTableFromRecords(tbl.Schema(), recs[1:])
	defer sub.Release()
	if got, _ := ingest.Fingerprint(ctx, sub); got == base {
		t.Error("dropping rows did not change the fingerprint")
	}
	if len(base) != len("sha256:")+64 {
		t.Errorf("fingerprint %q is not sha256:<64 hex>", base)
	}
}
