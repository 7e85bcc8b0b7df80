package ingest_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/mlpipe/mlpipe/ingest"
)

func TestSplitTime(t *testing.T) {
	cfg := flights(t)
	ds, err := load(t, "../testdata/flights-10k.parquet", cfg.Schema)
	if err != nil {
		t.Fatal(err)
	}
	// Months of the sample in reverse order, so that Split cannot slice
	// and must gather rows.
	june, err := load(t, "../testdata/monthly/2001-06.parquet", cfg.Schema)
	if err != nil {
		t.Fatal(err)
	}
	rest, err := ingest.Load(context.Background(), ingest.Source{Path: "../testdata/monthly/2001-0[1-5].parquet"}, cfg.Schema, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rest.Release()
	shuffled := concat(t, june.Table, rest.Table)

	for _, tc := range []struct {
		name string
		tbl  arrow.Table
	}{{"sorted", ds.Table}, {"unsorted", shuffled}} {
		t.Run(tc.name, func(t *testing.T) {
			sp, err := ingest.Split(context.Background(), tc.tbl, cfg.Split)
			if err != nil {
				t.Fatal(err)
			}
			defer sp.Release()
			want := []int64{janRows + febRows + marRows + aprRows, mayRows, junRows}
			for k, nt := range sp.Tables() {
				if nt.Table.NumRows() != want[k] {
					t.Errorf("%s: %d rows, want %d", nt.Name, nt.Table.NumRows(), want[k])
				}
			}
			lo, hi, _ := ingest.TimeBounds(sp.Valid, "date")
			if lo.Month() != time.May || hi.Month() != time.May {
				t.Errorf("validation spans %s .. %s, want May", lo, hi)
			}
			labels, err := cfg.Label.Derive(sp.Train)
			if err != nil {
				t.Fatal(err)
			}
			// 1,397 of the 6,597 training rows have delay > 15:
			//   awk -F, 'NR>1 && $1<"2001-05" && $2>15' testdata/flights-10k.csv | wc -l
			if got, want := labels.Rate(1), 1397.0/6597; math.Abs(got-want) > tol {
				t.Errorf("train positive rate = %g, want %g", got, want)
			}
		})
	}
}

func TestSplitErrors(t *testing.T) {
	cfg := flights(t)
	ds, err := load(t, "../testdata/monthly/2001-01.parquet", cfg.Schema)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ingest.Split(context.Background(), ds.Table, cfg.Split)
	if !errors.Is(err, ingest.ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
	want := "split: invalid data: column \"date\": the validation split is empty (no rows with 2001-05-01 <= date < 2001-06-01)"
	if err.Error() != want {
		t.Errorf("err =\n  %v\nwant\n  %s", err, want)
	}
}

func TestSplitRandom(t *testing.T) {
	cfg := flights(t)
	ds, err := load(t, "../testdata/flights-10k.parquet", cfg.Schema)
	if err != nil {
		t.Fatal(err)
	}
	spec := ingest.SplitSpec{Method: "random", ValidFraction: 0.2, TestFraction: 0.1, Seed: 7}
	sizes := func() [3]int64 {
		sp, err := ingest.Split(context.Background(), ds.Table, spec)
		if err != nil {
			t.Fatal(err)
		}
		defer sp.Release()
		return [3]int64{sp.Train.NumRows(), sp.Valid.NumRows(), sp.Test.NumRows()}
	}
	a, b := sizes(), sizes()
	if a != b {
		t.Errorf("the same seed gave %v then %v", a, b)
	}
	if a[0]+a[1]+a[2] != sampleRows {
		t.Errorf("sizes %v do not sum to %d", a, sampleRows)
	}
	// Each size is binomial; 5 standard deviations of n=10,000, p=0.2 is
	// 5*sqrt(10000*0.2*0.8) = 200 rows.
	if a[1] < 2000-200 || a[1] > 2000+200 || a[2] < 1000-150 || a[2] > 1000+150 {
		t.Errorf("sizes %v far from 70/20/10%%", a)
	}
	spec.Seed = 8
	if sizes() == a {
		t.Error("another seed gave the same split")
	}
}

func TestLabels(t *testing.T) {
	cfg := flights(t)
	ds, err := load(t, "../testdata/flights-10k.csv", cfg.Schema)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		spec ingest.LabelSpec
		want int // rows in class 1 (binary) or classes (multiclass)
	}{
		// awk -F, 'NR>1 && $2>15' testdata/flights-10k.csv | wc -l
		{"OK/binary", ingest.LabelSpec{Name: "delayed", Column: "delay", Positive: "> 15"}, 2009},
		// awk -F, 'NR>1 && $4=="ORD"' testdata/flights-10k.csv | wc -l
		{"OK/string-equals", ingest.LabelSpec{Name: "from_ord", Column: "origin", Positive: "== ORD"}, 564},
		{"OK/multiclass", ingest.LabelSpec{Name: "origin", Column: "origin", Kind: "multiclass"}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := tt.spec.Derive(ds.Table)
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Y) != sampleRows {
				t.Fatalf("labels = %d, want %d", len(l.Y), sampleRows)
			}
			if tt.spec.Kind == "multiclass" {
				// The sample has as many origins as the profile counts.
				p, _ := ingest.ProfileColumn(ds.Table, "origin")
				if int64(len(l.Classes)) != p.Categorical.Distinct {
					t.Errorf("classes = %d, want %d", len(l.Classes), p.Categorical.Distinct)
				}
				return
			}
			n := 0
			for _, y := range l.Y {
				if y == 1 {
					n++
				}
			}
			if n != tt.want {
				t.Errorf("positives = %d, want %d", n, tt.want)
			}
		})
	}
}

// concat joins tables with one schema, in order.
func concat(t testing.TB, tables ...arrow.Table) arrow.Table {
	t.Helper()
	var recs []arrow.Record
	for _, tbl := range tables {
		tr := array.NewTableReader(tbl, 1<<20)
		for tr.Next() {
			r := tr.Record()
			r.Retain()
			recs = append(recs, r)
		}
		tr.Release()
	}
	out := array.NewTableFromRecords(tables[0].Schema(), recs)
	for _, r := range recs {
		r.Release()
	}
	t.Cleanup(out.Release)
	return out
}

// TestSplitTrailingDays splits the fixture by days counted back from the
// end of its data: the last 7 days are test, the 7 before validation.
func TestSplitTrailingDays(t *testing.T) {
	cfg := flights(t)
	ds, err := load(t, "../testdata/flights-10k.parquet", cfg.Schema)
	if err != nil {
		t.Fatal(err)
	}
	spec := ingest.SplitSpec{Column: "date", ValidDays: 7, TestDays: 7}
	sp, err := ingest.Split(context.Background(), ds.Table, spec)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Release()
	_, last, _ := ingest.TimeBounds(ds.Table, "date")
	end := time.Date(last.Year(), last.Month(), last.Day()+1, 0, 0, 0, 0, time.UTC)
	testFrom, validFrom := end.AddDate(0, 0, -7), end.AddDate(0, 0, -14)
	// The expected sizes, counted row by row from the raw column.
	var want [3]int64
	for _, ch := range ds.Table.Column(0).Data().Chunks() {
		for _, v := range ch.(*array.Timestamp).TimestampValues() {
			switch at := time.UnixMicro(int64(v)).UTC(); {
			case at.Before(validFrom):
				want[0]++
			case at.Before(testFrom):
				want[1]++
			default:
				want[2]++
			}
		}
	}
	if want[1] == 0 || want[2] == 0 {
		t.Fatalf("the fixture has no rows in the last 14 days (%v): the test means nothing", want)
	}
	for k, nt := range sp.Tables() {
		if nt.Table.NumRows() != want[k] {
			t.Errorf("%s: %d rows, want %d", nt.Name, nt.Table.NumRows(), want[k])
		}
	}
	if lo, _, _ := ingest.TimeBounds(sp.Test, "date"); lo.Before(testFrom) {
		t.Errorf("test starts %s, before %s", lo, testFrom)
	}
}

// TestTimeSlice cuts June out of the fixture, sorted (a zero-copy slice)
// and shuffled (a copy), and counts the rows against the monthly file.
func TestTimeSlice(t *testing.T) {
	cfg := flights(t)
	ds, err := load(t, "../testdata/flights-10k.parquet", cfg.Schema)
	if err != nil {
		t.Fatal(err)
	}
	june, err := load(t, "../testdata/monthly/2001-06.parquet", cfg.Schema)
	if err != nil {
		t.Fatal(err)
	}
	rest, err := ingest.Load(context.Background(), ingest.Source{Path: "../testdata/monthly/2001-0[1-5].parquet"}, cfg.Schema, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rest.Release()
	from, to := time.Date(2001, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(2001, 7, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		tbl  arrow.Table
	}{{"sorted", ds.Table}, {"unsorted", concat(t, june.Table, rest.Table)}} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ingest.TimeSlice(context.Background(), tc.tbl, "date", from, to)
			if err != nil {
				t.Fatal(err)
			}
			defer got.Release()
			if got.NumRows() != junRows {
				t.Errorf("%d rows, want %d (testdata/monthly/2001-06.parquet)", got.NumRows(), junRows)
			}
		})
	}
	empty, err := ingest.TimeSlice(context.Background(), ds.Table, "date", to, to.AddDate(0, 1, 0))
	if err != nil || empty.NumRows() != 0 {
		t.Errorf("a window after the data: %v rows, %v", empty.NumRows(), err)
	}
}
