package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

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

// TestSplitGroup: with split.group, every row of a group lands in the same
// split, whatever the row order and the chunking; the shares are of
// groups; a null group is a group of its own for each row; and a float
// column cannot name groups.
func TestSplitGroup(t *testing.T) {
	const n, groups, nulls = 6000, 1500, 1000 // 4 rows a group, 1,500 rows apart; then the null rows
	mem := memory.DefaultAllocator
	value := map[string]func(b array.Builder, g int){
		"string":    func(b array.Builder, g int) { b.(*array.StringBuilder).Append(fmt.Sprintf("patient-%d", g)) },
		"int64":     func(b array.Builder, g int) { b.(*array.Int64Builder).Append(int64(g) * 1000003) },
		"timestamp": func(b array.Builder, g int) { b.(*array.TimestampBuilder).Append(arrow.Timestamp(int64(g) * 3600e6)) },
	}
	types := map[string]arrow.DataType{"string": arrow.BinaryTypes.String, "int64": arrow.PrimitiveTypes.Int64,
		"timestamp": &arrow.TimestampType{Unit: arrow.Microsecond}}
	for name, put := range value {
		t.Run(name, func(t *testing.T) {
			schema := arrow.NewSchema([]arrow.Field{{Name: "g", Type: types[name], Nullable: true}, {Name: "id", Type: arrow.PrimitiveTypes.Int64}}, nil)
			// table builds the rows ids in order, in chunks of chunk rows.
			table := func(ids []int, chunk int) arrow.Table {
				var recs []arrow.Record
				for lo := 0; lo < len(ids); lo += chunk {
					b := array.NewRecordBuilder(mem, schema)
					for _, id := range ids[lo:min(lo+chunk, len(ids))] {
						if id >= n {
							b.Field(0).AppendNull()
						} else {
							put(b.Field(0), id%groups)
						}
						b.Field(1).(*array.Int64Builder).Append(int64(id))
					}
					recs = append(recs, b.NewRecord())
					b.Release()
				}
				return array.NewTableFromRecords(schema, recs)
			}
			spec := ingest.SplitSpec{Method: "random", ValidFraction: 0.2, TestFraction: 0.1, Seed: 7, Group: "g"}
			// splitOf returns the split of each row id.
			splitOf := func(tbl arrow.Table) map[int]int {
				sp, err := ingest.Split(context.Background(), tbl, spec)
				if err != nil {
					t.Fatal(err)
				}
				defer sp.Release()
				out := map[int]int{}
				for k, part := range []arrow.Table{sp.Train, sp.Valid, sp.Test} {
					for _, c := range part.Column(1).Data().Chunks() {
						for _, id := range c.(*array.Int64).Int64Values() {
							out[int(id)] = k
						}
					}
				}
				return out
			}
			ids := make([]int, n+nulls)
			for i := range ids {
				ids[i] = i
			}
			a := splitOf(table(ids, 1000))
			slices.Reverse(ids)
			b := splitOf(table(ids, 777))
			var perSplit [3]int
			for g := range groups {
				k := a[g]
				perSplit[k]++
				for id := g; id < n; id += groups {
					if a[id] != k || b[id] != k {
						t.Fatalf("group %d: row %d in split %d (reversed: %d), row %d in %d", g, id, a[id], b[id], g, k)
					}
				}
			}
			// Groups per split are binomial: 5 standard deviations of
			// n=1,500 groups, p=0.2 is 5*sqrt(1500*0.2*0.8) = 77.
			if perSplit[1] < 300-77 || perSplit[1] > 300+77 || perSplit[2] < 150-58 || perSplit[2] > 150+58 {
				t.Errorf("groups per split %v, far from 70/20/10%%", perSplit)
			}
			var nullSplits [3]int
			for id := n; id < n+nulls; id++ {
				nullSplits[a[id]]++
			}
			if nullSplits[0] == 0 || nullSplits[1] == 0 || nullSplits[2] == 0 {
				t.Errorf("rows with a null group went %v to train, validation and test: each should be drawn alone", nullSplits)
			}
		})
	}
	t.Run("float", func(t *testing.T) {
		schema := arrow.NewSchema([]arrow.Field{{Name: "g", Type: arrow.PrimitiveTypes.Float64}}, nil)
		_, err := ingest.NewAssigner(ingest.SplitSpec{Method: "random", ValidFraction: 0.2, TestFraction: 0.1, Group: "g"}, schema, time.Time{})
		if err == nil || !strings.Contains(err.Error(), `group column "g" is float64`) {
			t.Errorf("err = %v, want the group column refused", err)
		}
	})
}
