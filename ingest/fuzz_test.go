package ingest_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlpipe/mlpipe/ingest"
)

// The fuzz targets feed arbitrary bytes to the text readers. Whatever the
// input, Load must return either a table or an error that wraps
// ErrInvalid, and never panic. `make test` runs the seed corpus below
// (and testdata/fuzz/ if present); `make fuzz` explores.

func seedFrom(f *testing.F, paths ...string) {
	f.Helper()
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if len(b) > 4096 {
			b = b[:4096]
		}
		f.Add(b)
	}
}

func fuzzLoad(t *testing.T, name string, data []byte) {
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	schema := ingest.Schema{Columns: []ingest.ColumnSpec{
		{Name: "date", Type: "timestamp[us]"},
		{Name: "delay", Type: "int64"},
		{Name: "distance", Type: "float64", Nullable: true},
		{Name: "origin", Type: "string"},
		{Name: "destination", Type: "string", Nullable: true},
	}}
	ds, err := ingest.Load(context.Background(), ingest.Source{Path: path}, schema, &ingest.Options{Parallelism: 2})
	if err != nil {
		if !errors.Is(err, ingest.ErrInvalid) {
			t.Fatalf("error does not wrap ErrInvalid: %v", err)
		}
		return
	}
	defer ds.Release()
	if int(ds.Table.NumCols()) != len(schema.Columns) {
		t.Fatalf("table has %d columns, want %d", ds.Table.NumCols(), len(schema.Columns))
	}
	// Validation and profiling must cope with whatever loaded.
	ingest.Validate(ds, schema, ingest.LabelSpec{Name: "y", Column: "delay", Positive: "> 15"})
	if _, err := ingest.ProfileTable(context.Background(), ds.Table, nil); err != nil {
		t.Fatal(err)
	}
}

func FuzzCSV(f *testing.F) {
	seedFrom(f, "../testdata/bad/ragged.csv", "../testdata/bad/nonnumeric.csv", "../testdata/bad/nan-inf.csv",
		"../testdata/bad/header-only.csv", "../testdata/bad/bad-date.csv", "../testdata/monthly-csv/2001-01.csv")
	f.Add([]byte("date,delay,distance,origin,destination\n\"2001-01-01T00:00:00\",1,\"2\",\"A\nB\",C\n"))
	f.Add([]byte("date,delay,distance,origin,destination\n2001-01-01,1,,\"un\"\"closed,X\n"))
	f.Add([]byte("\xef\xbb\xbfdate,delay,distance,origin,destination\r\n2001-01-01 10:00,1,1e308,A,B\r\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) { fuzzLoad(t, "in.csv", data) })
}

func FuzzJSONL(f *testing.F) {
	seedFrom(f, "../testdata/bad/bad.jsonl", "../testdata/bad/wrongtype.jsonl")
	f.Add([]byte(`{"date":"2001-01-01T06:00:00","delay":1,"distance":null,"origin":"A","destination":"B","x":[1]}`))
	f.Add([]byte(`{"date":"2001-01-01T06:00:00Z","delay":1.5,"distance":"3","origin":7,"destination":{}}` + "\n\n[]\n"))
	f.Add([]byte(`{"delay":99999999999999999999}`))
	f.Add([]byte("\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzLoad(t, "in.jsonl", data) })
}
