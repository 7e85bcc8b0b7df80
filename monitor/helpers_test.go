package monitor_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/mlpipe/mlpipe/bundle"
	"github.com/mlpipe/mlpipe/evaluate"
	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/internal/fsx"
	"github.com/mlpipe/mlpipe/monitor"
	"github.com/mlpipe/mlpipe/predlog"
)

// A synthetic task shaped like the flights data: a departure time, a
// distance, an origin among 20 airports (Zipf-like), a flag, and a
// constant column; the model's probability is a logistic of a normal.

// gen says how to draw rows; the zero value is the training
// distribution, and each field shifts one thing.
type gen struct {
	start       time.Time // first day (default 2001-01-01)
	days        int       // days spanned (default 120)
	distScale   float64   // multiplies distance (default 1)
	newOrigin   float64   // share of rows from an origin unseen in training
	dropTop     bool      // the most frequent origin vanishes
	constant    int64     // the constant column's value (default 5)
	scoreShift  float64   // added to the score's log-odds
	missingDist float64   // share of rows without a distance
	perDay      int       // rows per day, spread evenly (default: n rows on random days)
	routes      bool      // the distance depends on the origin (airport k flies 8% further than k-1)
}

var inputs = []features.Input{
	{Name: "date", Type: "timestamp[us]"},
	{Name: "distance", Type: "int64"},
	{Name: "origin", Type: "string"},
	{Name: "flag", Type: "bool"},
	{Name: "constant", Type: "int64"},
}

// row is one drawn row, typed as Arrow holds it.
type row struct {
	date     time.Time
	distance int64
	hasDist  bool
	origin   string
	flag     bool
	constant int64
	score    float64
	label    bool
}

func draw(rng *rand.Rand, n int, g gen) []row {
	if g.start.IsZero() {
		g.start = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if g.days == 0 {
		g.days = 120
	}
	if g.distScale == 0 {
		g.distScale = 1
	}
	if g.constant == 0 {
		g.constant = 5
	}
	// Departures from 6:00 to 22:00, busier in the morning.
	hourW := make([]float64, 24)
	for h := 6; h <= 22; h++ {
		hourW[h] = 1 + float64(22-h)/8
	}
	originW := make([]float64, 20)
	for k := range originW {
		originW[k] = 1 / float64(k+1)
	}
	if g.dropTop {
		originW[0] = 0
	}
	out := make([]row, n)
	for i := range out {
		day := rng.IntN(g.days)
		if g.perDay > 0 {
			day = (i / g.perDay) % g.days
		}
		h := pick(rng, hourW)
		out[i].date = g.start.AddDate(0, 0, day).Add(time.Duration(h)*time.Hour + time.Duration(rng.IntN(60))*time.Minute)
		out[i].distance = int64(math.Round(math.Exp(rng.NormFloat64()*0.6+6.3) * g.distScale))
		out[i].hasDist = rng.Float64() >= g.missingDist
		k := 0
		if rng.Float64() < g.newOrigin {
			out[i].origin = "NEW"
		} else {
			k = pick(rng, originW)
			out[i].origin = fmt.Sprintf("A%02d", k)
		}
		if g.routes {
			out[i].distance = int64(math.Round(math.Exp(rng.NormFloat64()*0.2+5.6+0.08*float64(k)) * g.distScale))
		}
		out[i].flag = rng.Float64() < 0.3
		out[i].constant = g.constant
		z := rng.NormFloat64()*0.8 - 1.3 + g.scoreShift
		out[i].score = 1 / (1 + math.Exp(-z))
		out[i].label = rng.Float64() < out[i].score
	}
	return out
}

func pick(rng *rand.Rand, w []float64) int {
	total := 0.0
	for _, x := range w {
		total += x
	}
	u := rng.Float64() * total
	for k, x := range w {
		if u < x {
			return k
		}
		u -= x
	}
	return len(w) - 1
}

// table builds the Arrow table of rows (with a label-source column that
// is not an input, as the real training split has).
func table(t testing.TB, rows []row) arrow.Table {
	t.Helper()
	mem := memory.NewGoAllocator()
	ts := &arrow.TimestampType{Unit: arrow.Microsecond}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "date", Type: ts}, {Name: "delay", Type: arrow.PrimitiveTypes.Int64},
		{Name: "distance", Type: arrow.PrimitiveTypes.Int64, Nullable: true}, {Name: "origin", Type: arrow.BinaryTypes.String},
		{Name: "flag", Type: arrow.FixedWidthTypes.Boolean}, {Name: "constant", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for _, r := range rows {
		b.Field(0).(*array.TimestampBuilder).Append(arrow.Timestamp(r.date.UnixMicro()))
		delay := int64(0)
		if r.label {
			delay = 30
		}
		b.Field(1).(*array.Int64Builder).Append(delay)
		if r.hasDist {
			b.Field(2).(*array.Int64Builder).Append(r.distance)
		} else {
			b.Field(2).AppendNull()
		}
		b.Field(3).(*array.StringBuilder).Append(r.origin)
		b.Field(4).(*array.BooleanBuilder).Append(r.flag)
		b.Field(5).(*array.Int64Builder).Append(r.constant)
	}
	rec := b.NewRecord()
	defer rec.Release()
	tbl := array.NewTableFromRecords(schema, []arrow.Record{rec})
	t.Cleanup(tbl.Release)
	return tbl
}

// request is a row as mlserve logs it: JSON's types, the timestamp as
// text.
func request(r row) map[string]any {
	m := map[string]any{
		"date":     r.date.Format("2006-01-02T15:04:05"),
		"origin":   r.origin,
		"flag":     r.flag,
		"constant": float64(r.constant),
		"distance": nil,
	}
	if r.hasDist {
		m["distance"] = float64(r.distance)
	}
	return m
}

// logTime is when the synthetic window was served.
var logTime = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

// records turns rows into the predictions of model version 1, one a
// second from logTime.
func records(rows []row) []predlog.Record {
	out := make([]predlog.Record, len(rows))
	for i, r := range rows {
		out[i] = predlog.Record{ID: fmt.Sprintf("req-%d", i), Time: logTime.Add(time.Duration(i) * time.Second),
			Model: "synthetic", Version: 1, Inputs: request(r), Probability: r.score, Predicted: "0"}
	}
	return out
}

// labelsOf are the labels of rows, logged an hour after each prediction.
func labelsOf(rows []row) []predlog.Label {
	out := make([]predlog.Label, len(rows))
	for i, r := range rows {
		out[i] = predlog.Label{ID: fmt.Sprintf("req-%d", i), Time: logTime.Add(time.Hour + time.Duration(i)*time.Second), Label: r.label}
	}
	return out
}

// makeBundle writes a synthetic bundle directory: training.json,
// signature.json, profile.json and evaluation.json, and the reference
// files unless noRef. Training rows: 20,000 with seed 1.
func makeBundle(t testing.TB, noRef bool) string {
	t.Helper()
	dir := t.TempDir()
	train := draw(rand.New(rand.NewPCG(1, 1)), 20_000, gen{})
	tbl := table(t, train)
	prof, err := ingest.ProfileTable(context.Background(), tbl, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The test metrics: the score's ROC AUC on a test draw of its own
	// (seed 3), so an undrifted window shows no real drop.
	test := draw(rand.New(rand.NewPCG(3, 3)), 5000, gen{})
	y, p := make([]float64, len(test)), make([]float64, len(test))
	for i, r := range test {
		p[i] = r.score
		if r.label {
			y[i] = 1
		}
	}
	auc, err := evaluate.ROCAUC(y, p)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]any{
		bundle.InfoFile:       bundle.Info{Name: "synthetic", Kind: "logreg", Classes: []string{"0", "1"}, Threshold: 0.3},
		bundle.SignatureFile:  bundle.Signature{Inputs: inputs},
		bundle.ProfileFile:    prof,
		bundle.EvaluationFile: monitor.TestMetrics{Rows: 5000, ROCAUC: &auc},
	}
	for name, v := range files {
		if err := fsx.WriteJSON(filepath.Join(dir, name), v); err != nil {
			t.Fatal(err)
		}
	}
	if !noRef {
		valid := draw(rand.New(rand.NewPCG(2, 2)), 5000, gen{start: time.Date(2001, 5, 1, 0, 0, 0, 0, time.UTC), days: 31})
		scores := make([]float64, len(valid))
		for i, r := range valid {
			scores[i] = r.score
		}
		names := make([]string, len(inputs))
		for i, in := range inputs {
			names[i] = in.Name
		}
		if err := monitor.WriteReference(dir, tbl, names, scores, 0, 7); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// assertFinite fails the test if any float64 in v (a report) is NaN or
// infinite, naming its path, and if v does not marshal to JSON.
func assertFinite(t *testing.T, v any) {
	t.Helper()
	if _, err := json.Marshal(v); err != nil {
		t.Errorf("report does not marshal: %v", err)
	}
	var walk func(path string, x reflect.Value)
	walk = func(path string, x reflect.Value) {
		switch x.Kind() {
		case reflect.Float64, reflect.Float32:
			if f := x.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
				t.Errorf("%s is %v", path, f)
			}
		case reflect.Pointer, reflect.Interface:
			if !x.IsNil() {
				walk(path, x.Elem())
			}
		case reflect.Struct:
			for i := 0; i < x.NumField(); i++ {
				if x.Type().Field(i).IsExported() {
					walk(path+"."+x.Type().Field(i).Name, x.Field(i))
				}
			}
		case reflect.Slice, reflect.Array:
			for i := 0; i < x.Len(); i++ {
				walk(fmt.Sprintf("%s[%d]", path, i), x.Index(i))
			}
		case reflect.Map:
			for _, k := range x.MapKeys() {
				walk(fmt.Sprintf("%s[%v]", path, k), x.MapIndex(k))
			}
		}
	}
	walk("report", reflect.ValueOf(v))
}

// feature returns the named feature of r.
func feature(t *testing.T, r *monitor.Report, name string) monitor.Feature {
	t.Helper()
	for _, f := range r.Features {
		if f.Name == name {
			return f
		}
	}
	if r.Score != nil && r.Score.Name == name {
		return *r.Score
	}
	t.Fatalf("no feature %q in the report", name)
	return monitor.Feature{}
}
