package features_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/internal/tables"
)

// spec is the default task's feature spec, with every kind of transform.
var spec = features.Spec{
	{Column: "date", Transform: "time"},
	{Column: "distance", Transform: "numeric", Log: true},
	{Column: "origin", Transform: "categorical", MinFrequency: 5, TargetEncoding: true},
	{Column: "destination", Transform: "categorical", MinFrequency: 5},
	{Columns: []string{"origin", "destination"}, Transform: "cross", TargetEncoding: true},
}

// labels returns delay > 15 for each row, as float64.
func labels(t *testing.T, cfg *config.Config, ds *ingest.Dataset) []float64 {
	l, err := cfg.Label.Derive(ds.Table)
	if err != nil {
		t.Fatal(err)
	}
	y := make([]float64, len(l.Y))
	for i, v := range l.Y {
		y[i] = float64(v)
	}
	return y
}

// TestParity is the guard against training/serving skew: Transform over
// a table and TransformRow over each raw row give bit-identical vectors,
// on 10,000 rows of the fixture with unseen categories and missing values
// mixed in.
func TestParity(t *testing.T) {
	cfg, err := config.Load("../testdata/flights-10k.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Fit on the January rows only, so that later months bring routes and
	// airports the pipeline has never seen.
	jan, err := ingest.Load(context.Background(), ingest.Source{Path: "../testdata/monthly/2001-01.parquet"}, cfg.Schema, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer jan.Release()
	p, _, err := features.Fit(jan.Table, labels(t, cfg, jan), spec, 1)
	if err != nil {
		t.Fatal(err)
	}

	// The fixture as CSV, with missing values and unseen codes put in at
	// random (seeded), under a schema that allows nulls.
	csvPath, rows := corrupt(t, "../testdata/flights-10k.csv", 42)
	schema := cfg.Schema
	schema.Columns = append([]ingest.ColumnSpec(nil), schema.Columns...)
	for i := range schema.Columns {
		schema.Columns[i].Nullable = true
	}
	ds, err := ingest.Load(context.Background(), ingest.Source{Path: csvPath}, schema, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Release()
	m, err := p.Transform(ds.Table)
	if err != nil {
		t.Fatal(err)
	}
	if m.Rows != len(rows) {
		t.Fatalf("%d matrix rows, %d raw rows", m.Rows, len(rows))
	}
	var buf, want []float64
	unknown := 0
	for i, row := range rows {
		buf, err = p.TransformRow(row, buf)
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		want = m.Row(i, want)
		for j := range want {
			if math.Float64bits(buf[j]) != math.Float64bits(want[j]) {
				t.Fatalf("row %d column %s: TransformRow %v, Transform %v", i, p.Columns[j].Name, buf[j], want[j])
			}
		}
		if want[indexOf(p, "origin")] == 0 {
			unknown++
		}
	}
	// The test means something only if unknown codes occurred.
	if unknown == 0 {
		t.Error("no unknown origin in the test rows")
	}
}

// corrupt copies a fixture CSV into a temp file, blanking about 2% of
// values and replacing about 1% of airports by "ZZZ", and returns the
// rows as TransformRow input.
func corrupt(t *testing.T, path string, seed uint64) (string, []features.Row) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rng := rand.New(rand.NewPCG(seed, 0))
	sc := bufio.NewScanner(f)
	var out []string
	var rows []features.Row
	var header []string
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ",")
		if header == nil {
			header = fields
			out = append(out, sc.Text())
			continue
		}
		row := features.Row{}
		for k, v := range fields {
			switch u := rng.Float64(); {
			case u < 0.02:
				v = ""
			case u < 0.03 && (header[k] == "origin" || header[k] == "destination"):
				v = "ZZZ"
			}
			fields[k] = v
			switch {
			case v == "":
				row[header[k]] = nil
			case header[k] == "delay" || header[k] == "distance":
				row[header[k]] = json.Number(v) // as a JSON request decodes it
			default:
				row[header[k]] = v
			}
		}
		out = append(out, strings.Join(fields, ","))
		rows = append(rows, row)
	}
	dst := filepath.Join(t.TempDir(), "corrupt.csv")
	if err := os.WriteFile(dst, []byte(strings.Join(out, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dst, rows
}

func indexOf(p *features.Pipeline, name string) int {
	for j, c := range p.Columns {
		if c.Name == name {
			return j
		}
	}
	panic(fmt.Sprintf("no column %q", name))
}

// TestJSONRoundTrip checks that a pipeline read back from its JSON
// transforms exactly as the fitted one.
func TestJSONRoundTrip(t *testing.T) {
	cfg, err := config.Load("../testdata/flights-10k.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ds, err := ingest.Load(context.Background(), ingest.Source{Path: "../testdata/flights-10k.parquet"}, cfg.Schema, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Release()
	p, _, err := features.Fit(ds.Table, labels(t, cfg, ds), spec, 1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var q features.Pipeline
	if err := json.Unmarshal(b, &q); err != nil {
		t.Fatal(err)
	}
	a, _ := p.Transform(ds.Table)
	c, err := q.Transform(ds.Table)
	if err != nil {
		t.Fatal(err)
	}
	for j := range a.Data {
		for i := range a.Data[j] {
			if math.Float64bits(a.Data[j][i]) != math.Float64bits(c.Data[j][i]) {
				t.Fatalf("column %d row %d differs after a JSON round trip", j, i)
			}
		}
	}
}

// TestConstantParts: on date-only days of one year, hour, minute_of_day
// and year never change; the other parts do.
func TestConstantParts(t *testing.T) {
	b := array.NewTimestampBuilder(memory.DefaultAllocator, &arrow.TimestampType{Unit: arrow.Microsecond})
	defer b.Release()
	for d := 0; d < 60; d++ { // 2012-01-01 .. 2012-02-29, midnights
		b.Append(arrow.Timestamp(time.Date(2012, 1, 1+d, 0, 0, 0, 0, time.UTC).UnixMicro()))
	}
	b.AppendNull()
	a := b.NewArray()
	defer a.Release()
	schema := arrow.NewSchema([]arrow.Field{{Name: "date", Type: a.DataType(), Nullable: true}}, nil)
	rec := array.NewRecord(schema, []arrow.Array{a}, int64(a.Len()))
	defer rec.Release()
	tbl := array.NewTableFromRecords(schema, []arrow.Record{rec})
	defer tbl.Release()
	spec := features.Spec{{Column: "date", Transform: features.KindTime,
		Parts: []string{"hour", "minute_of_day", "day_of_week", "month", "year", "quarter", "is_weekend"}}}
	got := features.ConstantParts(tbl, spec)
	want := []string{"date: hour", "date: minute_of_day", "date: year", "date: quarter"}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("ConstantParts = %q, want %q", got, want)
	}
}

// TestTrainEncoder: the training matrix transformed a range of rows at a
// time, or at gathered rows, is Fit's, bit for bit (out-of-fold target
// encodings included).
func TestTrainEncoder(t *testing.T) {
	cfg, err := config.Load("../testdata/flights-10k.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ds, err := ingest.Load(context.Background(), ingest.Source{Path: "../testdata/flights-10k.parquet"}, cfg.Schema, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Release()
	y := labels(t, cfg, ds)
	_, want, err := features.Fit(ds.Table, y, spec, 1)
	if err != nil {
		t.Fatal(err)
	}
	// Fitted a range of 1,000 rows at a time (the keys of the whole
	// column never held), the pipeline is the same.
	restore := features.SetFitRows(1000)
	p, enc, err := features.FitEncoder(ds.Table, y, spec, 1)
	restore()
	if err != nil {
		t.Fatal(err)
	}
	whole, _, err := features.Fit(ds.Table, y, spec, 1)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(p)
	b, _ := json.Marshal(whole)
	if !bytes.Equal(a, b) {
		t.Fatal("the pipeline fitted 1,000 rows at a time differs from the one fitted at once")
	}
	n := int(ds.Table.NumRows())
	same := func(got *features.Matrix, row func(i int) int) {
		t.Helper()
		for j := range want.Data {
			for i := range got.Rows {
				if math.Float64bits(got.Data[j][i]) != math.Float64bits(want.Data[j][row(i)]) {
					t.Fatalf("column %s, row %d: %v, Fit gives %v", want.Cols[j].Name, row(i), got.Data[j][i], want.Data[j][row(i)])
				}
			}
		}
	}
	const chunk = 1234
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		slice := tables.Slice(ds.Table, int64(lo), int64(hi))
		got, err := enc.Transform(slice, lo)
		slice.Release()
		if err != nil {
			t.Fatal(err)
		}
		same(got, func(i int) int { return lo + i })
	}
	rows := []int32{0, 3, 17, 500, int32(n - 1)}
	sample, err := ingest.TakeRows(context.Background(), ds.Table, rows)
	if err != nil {
		t.Fatal(err)
	}
	defer sample.Release()
	got, err := enc.TransformRows(sample, rows)
	if err != nil {
		t.Fatal(err)
	}
	same(got, func(i int) int { return int(rows[i]) })
	if _, err := enc.Transform(ds.Table, 1); err == nil {
		t.Error("rows beyond the training rows: no error")
	}
}

// TestGroupTargetEncoding: 400 groups of five rows, each group its own
// category and one label for all its rows. Out-of-fold target encodings
// with row folds see a row's group-mates in the other folds, and the
// encoding gives the label away; with the groups' folds
// (FitEncoderGroups) a row's category is never seen outside its fold,
// and every row gets its fold's prior: at most Folds values, whatever
// the label.
func TestGroupTargetEncoding(t *testing.T) {
	const groups, size = 400, 5
	rng := rand.New(rand.NewPCG(3, 4))
	b := array.NewStringBuilder(memory.DefaultAllocator)
	defer b.Release()
	var y []float64
	var ids []int
	label := make([]float64, groups)
	for g := range label {
		label[g] = float64(rng.IntN(2))
	}
	for i := range groups * size {
		g := (i * 7) % groups // a group's rows apart from each other
		b.Append(fmt.Sprintf("g%d", g))
		y = append(y, label[g])
		ids = append(ids, g)
	}
	a := b.NewArray()
	defer a.Release()
	schema := arrow.NewSchema([]arrow.Field{{Name: "c", Type: a.DataType()}}, nil)
	rec := array.NewRecord(schema, []arrow.Array{a}, int64(a.Len()))
	defer rec.Release()
	tbl := array.NewTableFromRecords(schema, []arrow.Record{rec})
	defer tbl.Release()
	spec := features.Spec{{Column: "c", Transform: features.KindCategorical, TargetEncoding: true}}
	encoded := func(groups []int) map[float64]bool {
		t.Helper()
		_, enc, err := features.FitEncoderGroups(context.Background(), tables.Whole(tbl), y, groups, spec, 1)
		if err != nil {
			t.Fatal(err)
		}
		m, err := enc.Transform(tbl, 0)
		if err != nil {
			t.Fatal(err)
		}
		values := map[float64]bool{}
		for _, v := range m.Data[len(m.Data)-1] { // the encoding follows the codes
			values[v] = true
		}
		return values
	}
	if n := len(encoded(ids)); n > features.Folds {
		t.Errorf("with the groups' folds: %d distinct encodings, want at most %d (each fold's prior)", n, features.Folds)
	}
	if n := len(encoded(nil)); n <= features.Folds {
		t.Errorf("with row folds: %d distinct encodings; the test expects the leak it guards against", n)
	}
	if _, _, err := features.FitEncoderGroups(context.Background(), tables.Whole(tbl), y, ids[:10], spec, 1); err == nil {
		t.Error("10 groups for 2,000 rows: no error")
	}
}
