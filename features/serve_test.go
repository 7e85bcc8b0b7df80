package features_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/ingest"
)

// values converts a TransformRow row into Encoder values, parsing each
// field by its input's type as a server would.
func values(t testing.TB, e *features.Encoder, row features.Row) []features.Value {
	t.Helper()
	vals := make([]features.Value, len(e.Inputs()))
	for i, in := range e.Inputs() {
		v := row[in.Name]
		if v == nil {
			vals[i].Missing = true
			continue
		}
		switch e.Kind(i) {
		case features.InputNumber:
			switch x := v.(type) {
			case json.Number:
				f, err := x.Float64()
				if err != nil {
					t.Fatal(err)
				}
				vals[i].Num = f
			case float64:
				vals[i].Num = x
			case int64:
				vals[i].Num = float64(x)
			}
		case features.InputString:
			vals[i].Text = []byte(v.(string))
		case features.InputBool:
			vals[i].Bool = v.(bool)
		case features.InputTime:
			tm, err := ingest.ParseTime(v.(string))
			if err != nil {
				t.Fatal(err)
			}
			vals[i].Micros = tm.UnixMicro()
		}
	}
	return vals
}

// TestEncoderParity checks the serving path against TransformRow, bit
// for bit, on the 10,000 fixture rows with missing values and unseen
// airports mixed in (the rows of TestParity), and checks that the unseen
// inputs it reports are those Pipeline.Unseen finds, and those
// UnseenTable finds for the same rows as a table.
func TestEncoderParity(t *testing.T) {
	cfg, err := config.Load("../testdata/flights-10k.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Fit on January only, so that later months bring unseen airports.
	jan, err := ingest.Load(context.Background(), ingest.Source{Path: "../testdata/monthly/2001-01.parquet"}, cfg.Schema, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer jan.Release()
	p, _, err := features.Fit(jan.Table, labels(t, cfg, jan), spec, 1)
	if err != nil {
		t.Fatal(err)
	}
	e, err := features.NewEncoder(p)
	if err != nil {
		t.Fatal(err)
	}
	path, rows := corrupt(t, "../testdata/flights-10k.csv", 42)
	// The batch path's flags (UnseenTable on the same rows as a table).
	ds, err := ingest.Load(context.Background(), ingest.Source{Path: path}, cfg.Schema, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Release()
	mat, err := p.Transform(ds.Table)
	if err != nil {
		t.Fatal(err)
	}
	batch, err := p.UnseenTable(ds.Table, mat)
	if err != nil {
		t.Fatal(err)
	}
	var want, got []float64
	unseen := make([]bool, len(e.Inputs()))
	nUnseen, nMissing := 0, 0
	for i, row := range rows {
		want, err = p.TransformRow(row, want)
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		vals := values(t, e, row)
		got = e.Encode(vals, got, unseen)
		for j := range want {
			if math.Float64bits(got[j]) != math.Float64bits(want[j]) {
				t.Fatalf("row %d column %s: Encode %v, TransformRow %v", i, p.Columns[j].Name, got[j], want[j])
			}
		}
		names, err := p.Unseen(row)
		if err != nil {
			t.Fatalf("row %d: Unseen: %v", i, err)
		}
		var fromEncode []string
		for k, u := range unseen {
			if u {
				fromEncode = append(fromEncode, e.Inputs()[k].Name)
			}
		}
		if !slices.Equal(names, fromEncode) {
			t.Fatalf("row %d: Encode reports unseen %v, Unseen %v", i, fromEncode, names)
		}
		if b := batch[i*len(unseen) : (i+1)*len(unseen)]; !slices.Equal(b, unseen) {
			t.Fatalf("row %d: UnseenTable %v, Encode %v", i, b, unseen)
		}
		nUnseen += len(names)
		for _, v := range vals {
			if v.Missing {
				nMissing++
			}
		}
	}
	// The test means something only if both cases occurred.
	if nUnseen == 0 || nMissing == 0 {
		t.Errorf("%d unseen and %d missing values in the test rows; want some of each", nUnseen, nMissing)
	}
}

// typedPipeline is a fitted pipeline (as JSON, its saved form) over the
// input types the flights task lacks: an int64 and a bool category, their
// cross, and a float64 number. Codes and encodings are made up.
const typedPipeline = `{
  "version": 1,
  "inputs": [{"name": "n", "type": "int64"}, {"name": "b", "type": "bool"}, {"name": "x", "type": "float64"}],
  "steps": [
    {"transform": "categorical", "column": "n", "codes": true, "levels": ["7", "-3"],
     "target_encoding": {"prior": 0.25, "smoothing": 20, "values": {"7": 0.5, "-3": 0.125}}},
    {"transform": "categorical", "column": "b", "codes": true, "levels": ["true"]},
    {"transform": "cross", "columns": ["n", "b"],
     "target_encoding": {"prior": 0.25, "smoothing": 20, "values": {"7\u001ftrue": 0.75}}},
    {"transform": "numeric", "column": "x", "median": 2, "mean": 1, "std": 3}
  ],
  "columns": [
    {"name": "n", "kind": 1, "card": 3}, {"name": "n_te", "kind": 0},
    {"name": "b", "kind": 1, "card": 2},
    {"name": "n_x_b_te", "kind": 0},
    {"name": "x", "kind": 0}
  ]
}`

// TestEncoderTypes checks Encode against TransformRow for int64, bool and
// float64 inputs, seen, unseen and missing.
func TestEncoderTypes(t *testing.T) {
	var p features.Pipeline
	if err := json.Unmarshal([]byte(typedPipeline), &p); err != nil {
		t.Fatal(err)
	}
	e, err := features.NewEncoder(&p)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		row    features.Row
		unseen []string
	}{
		{"OK/seen", features.Row{"n": 7.0, "b": true, "x": 4.5}, nil},
		{"OK/negative", features.Row{"n": -3.0, "b": true, "x": -1.0}, nil},
		{"Unseen/int", features.Row{"n": 8.0, "b": true, "x": 0.0}, []string{"n"}},
		{"Unseen/bool", features.Row{"n": 7.0, "b": false, "x": 0.0}, []string{"b"}},
		{"Missing", features.Row{"n": nil, "b": nil, "x": nil}, nil},
		{"Inf", features.Row{"n": 7.0, "b": true, "x": math.Inf(1)}, nil},
	}
	unseen := make([]bool, 3)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := p.TransformRow(tt.row, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := e.Encode(values(t, e, tt.row), nil, unseen)
			for j := range want {
				if math.Float64bits(got[j]) != math.Float64bits(want[j]) {
					t.Errorf("column %s: Encode %v, TransformRow %v", p.Columns[j].Name, got[j], want[j])
				}
			}
			names, err := p.Unseen(tt.row)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(names, tt.unseen) {
				t.Errorf("Unseen = %v, want %v", names, tt.unseen)
			}
			for k, in := range e.Inputs() {
				if unseen[k] != slices.Contains(tt.unseen, in.Name) {
					t.Errorf("Encode unseen[%s] = %v", in.Name, unseen[k])
				}
			}
		})
	}
}

func TestNewEncoderErrors(t *testing.T) {
	tests := []struct {
		name, json string
	}{
		{"ErrInputType", `{"version":1,"inputs":[{"name":"s","type":"large_utf8"}],"steps":[],"columns":[]}`},
		{"ErrStepInput", `{"version":1,"inputs":[{"name":"x","type":"float64"}],"steps":[{"transform":"numeric","column":"y"}],"columns":[{"name":"y"}]}`},
		{"ErrNumericOnString", `{"version":1,"inputs":[{"name":"s","type":"string"}],"steps":[{"transform":"numeric","column":"s"}],"columns":[{"name":"s"}]}`},
		{"ErrCategoryOnFloat", `{"version":1,"inputs":[{"name":"x","type":"float64"}],"steps":[{"transform":"categorical","column":"x","codes":true}],"columns":[{"name":"x"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p features.Pipeline
			if err := json.Unmarshal([]byte(tt.json), &p); err != nil {
				t.Fatal(err)
			}
			if _, err := features.NewEncoder(&p); err == nil {
				t.Error("NewEncoder accepted the pipeline")
			} else if tt.name == "ErrInputType" && !errors.Is(err, features.ErrInput) {
				t.Errorf("err = %v, want ErrInput", err)
			}
		})
	}
}

// BenchmarkEncode compares the serving path with TransformRow on one
// fixture row.
func BenchmarkEncode(b *testing.B) {
	cfg, err := config.Load("../testdata/flights-10k.yaml")
	if err != nil {
		b.Fatal(err)
	}
	ds, err := ingest.Load(context.Background(), ingest.Source{Path: "../testdata/flights-10k.parquet"}, cfg.Schema, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer ds.Release()
	l, err := cfg.Label.Derive(ds.Table)
	if err != nil {
		b.Fatal(err)
	}
	y := make([]float64, len(l.Y))
	for i, v := range l.Y {
		y[i] = float64(v)
	}
	p, _, err := features.Fit(ds.Table, y, spec, 1)
	if err != nil {
		b.Fatal(err)
	}
	e, err := features.NewEncoder(p)
	if err != nil {
		b.Fatal(err)
	}
	row := features.Row{"date": "2001-06-15T08:30:00", "distance": 1250.0, "origin": "ATL", "destination": "LAX"}
	vals := values(b, e, row)
	dst := make([]float64, e.Width())
	unseen := make([]bool, len(vals))
	b.Run("Encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			e.Encode(vals, dst, unseen)
		}
	})
	b.Run("TransformRow", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := p.TransformRow(row, dst); err != nil {
				b.Fatal(err)
			}
		}
	})
}
