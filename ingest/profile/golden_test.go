package profile_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/ipc"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/mlpipe/mlpipe/ingest/profile"
)

var update = flag.Bool("update", false, "rewrite the golden profiles in testdata/")

// fixture is a table to profile with options; golden names its profile
// in testdata/.
type fixture struct {
	name   string
	golden string
	table  func(t *testing.T) arrow.Table
	opts   *profile.Options
}

// fixtures are the tables the golden and the builder tests profile: the
// shipped 10,000-row flights sample, a seeded table of every awkward
// value (edgeTable) with the default and with small options, and an
// empty table.
var fixtures = []fixture{
	{"flights-10k", "flights-10k.json", flightsTable, nil},
	{"edge", "edge.json", edgeTable, nil},
	{"edge small options", "edge-small-options.json", edgeTable, &profile.Options{HistogramBins: 7, MaxCategories: 40}},
	{"empty", "empty.json", emptyTable, nil},
}

// TestTableGolden: Table's profiles of the fixtures, as JSON (whose
// floats round-trip exactly, so equal bytes are equal bits), are the
// ones recorded in testdata/ by Table before it became a Builder given
// the whole table. Run with -update to rewrite them.
func TestTableGolden(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) {
			p, err := profile.Table(context.Background(), fx.table(t), fx.opts)
			if err != nil {
				t.Fatal(err)
			}
			got := marshal(t, p)
			path := filepath.Join("testdata", fx.golden)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Table's profile differs from %s", path)
			}
		})
	}
}

func marshal(t *testing.T, p *profile.Profile) []byte {
	t.Helper()
	b, err := json.MarshalIndent(p, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// flightsTable reads the repository's testdata/flights-10k.arrow (4
// record batches; its strings are large_utf8, which a profile counts but
// does not describe).
func flightsTable(t *testing.T) arrow.Table {
	t.Helper()
	f, err := os.Open("../../testdata/flights-10k.arrow")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := ipc.NewFileReader(f)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var recs []arrow.Record
	for i := range r.NumRecords() {
		rec, err := r.RecordAt(i)
		if err != nil {
			t.Fatal(err)
		}
		defer rec.Release()
		recs = append(recs, rec)
	}
	tbl := array.NewTableFromRecords(r.Schema(), recs)
	t.Cleanup(tbl.Release)
	return tbl
}

// edgeSchema is edgeTable's: every type a profile describes, and one
// (int32) it only counts.
var edgeSchema = arrow.NewSchema([]arrow.Field{
	{Name: "f", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "i", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "ts_ms", Type: &arrow.TimestampType{Unit: arrow.Millisecond}, Nullable: true},
	{Name: "ts_us", Type: &arrow.TimestampType{Unit: arrow.Microsecond}, Nullable: true},
	{Name: "cat", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "few", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	{Name: "null_f", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "null_s", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "const", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "one", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "i32", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
}, nil)

// edgeRows is edgeTable's size: more than Builder reads on one goroutine.
const edgeRows = 5003

// edgeTable is edgeRows seeded rows in 3 chunks of unequal size, with
// nulls in every column; in f NaN, ±Inf, -0 and +0, subnormal and huge
// values (whose sums round: a different order would give other bits);
// in i values beyond 2^53 (which float64 rounds); timestamps before and
// after 1970 with fractions of a second; 300 categories in cat (more
// than the small options keep); an all-null float and string column; a
// constant column; and a column with a single value.
func edgeTable(t *testing.T) arrow.Table {
	t.Helper()
	rng := rand.New(rand.NewPCG(23, 6))
	mem := memory.DefaultAllocator
	b := array.NewRecordBuilder(mem, edgeSchema)
	defer b.Release()
	var recs []arrow.Record
	for k, n := range []int{1700, 1, edgeRows - 1701} {
		for i := range n {
			row := len(recs)*10000 + i
			null := rng.IntN(10) == 0
			f := b.Field(0).(*array.Float64Builder)
			switch {
			case null:
				f.AppendNull()
			default:
				vals := []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 0, 5e-324, 1e150, -1e150}
				if j := rng.IntN(40); j < len(vals) {
					f.Append(vals[j])
				} else {
					f.Append(rng.NormFloat64()*1e3 + 0.1)
				}
			}
			ib := b.Field(1).(*array.Int64Builder)
			if rng.IntN(7) == 0 {
				ib.AppendNull()
			} else {
				ib.Append(rng.Int64N(1<<62) - 1<<61)
			}
			for c := 2; c <= 3; c++ {
				tb := b.Field(c).(*array.TimestampBuilder)
				if rng.IntN(9) == 0 {
					tb.AppendNull()
				} else {
					tb.Append(arrow.Timestamp(rng.Int64N(4e12) - 1e12))
				}
			}
			sb := b.Field(4).(*array.StringBuilder)
			if rng.IntN(11) == 0 {
				sb.AppendNull()
			} else {
				// Skewed, so that counts differ and ties are broken by value.
				sb.Append(fmt.Sprintf("c%03d", int(300*math.Pow(rng.Float64(), 2))))
			}
			few := b.Field(5).(*array.StringBuilder)
			if rng.IntN(4) == 0 {
				few.AppendNull()
			} else {
				few.Append([]string{"", "a", "b", "é"}[rng.IntN(4)])
			}
			bb := b.Field(6).(*array.BooleanBuilder)
			if rng.IntN(5) == 0 {
				bb.AppendNull()
			} else {
				bb.Append(rng.IntN(3) == 0)
			}
			b.Field(7).AppendNull()
			b.Field(8).AppendNull()
			b.Field(9).(*array.Float64Builder).Append(2.5)
			one := b.Field(10).(*array.Int64Builder)
			if k == 1 {
				one.Append(-7)
			} else {
				one.AppendNull()
			}
			b.Field(11).(*array.Int32Builder).AppendValues([]int32{int32(row)}, []bool{row%3 != 0})
		}
		rec := b.NewRecord()
		defer rec.Release()
		recs = append(recs, rec)
	}
	tbl := array.NewTableFromRecords(edgeSchema, recs)
	t.Cleanup(tbl.Release)
	return tbl
}

// emptyTable is edgeTable's schema with no rows (and no chunks).
func emptyTable(t *testing.T) arrow.Table {
	tbl := array.NewTableFromRecords(edgeSchema, nil)
	t.Cleanup(tbl.Release)
	return tbl
}
