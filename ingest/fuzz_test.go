package ingest_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlpipe/mlpipe/ingest"
)

// The fuzz targets feed arbitrary bytes to the text readers (CSV with its
// options, JSON Lines, JSON arrays, compressed files) and arbitrary
// formats to the timestamp parser. Whatever the
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
	fuzzLoadSource(t, name, data, ingest.Source{})
}

// fuzzLoadSource writes data to a file called name and loads it with the
// source's options.
func fuzzLoadSource(t *testing.T, name string, data []byte, src ingest.Source) {
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	src.Path = path
	schema := ingest.Schema{Columns: []ingest.ColumnSpec{
		{Name: "date", Type: "timestamp[us]"},
		{Name: "delay", Type: "int64"},
		{Name: "distance", Type: "float64", Nullable: true},
		{Name: "origin", Type: "string"},
		{Name: "destination", Type: "string", Nullable: true},
	}}
	ds, err := ingest.Load(context.Background(), src, schema, &ingest.Options{Parallelism: 2})
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

func FuzzJSON(f *testing.F) {
	seedFrom(f, "../testdata/ingest/bad/bad-array.json", "../testdata/ingest/bad/wrongtype.json", "../testdata/ingest/bad/object.json")
	f.Add([]byte(`[{"date":"2001-01-01T06:00:00","delay":1,"distance":null,"origin":"A","destination":1776}]`))
	f.Add([]byte(`[{"date":"2001-01-01T06:00:00+02:00","delay":1.5},` + "\n" + `[], 3, {"origin":{}}]`))
	f.Add([]byte(`[] []`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzLoad(t, "in.json", data) })
}

// FuzzCompressed feeds the bytes both as they are and gzip-compressed to
// the CSV reader under a compressed name: corrupt or truncated
// compressed data must be an error, never a panic.
func FuzzCompressed(f *testing.F) {
	seedFrom(f, "../testdata/ingest/weather.csv.gz", "../testdata/ingest/weather.jsonl.zst", "../testdata/ingest/bad/truncated.csv.gz", "../testdata/ingest/bad/xz.csv")
	f.Add([]byte("date,delay,distance,origin,destination\n2001-01-01,1,2,A,B\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzLoad(t, "in.csv.gz", data)
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(data)
		zw.Close()
		fuzzLoad(t, "in.csv", b.Bytes())
	})
}

// FuzzCSVOptions reads the bytes as TSV, and as a headerless CSV with a
// semicolon delimiter and a skipped first line.
func FuzzCSVOptions(f *testing.F) {
	seedFrom(f, "../testdata/ingest/weather.tsv", "../testdata/ingest/weather-noheader.csv", "../testdata/ingest/bad/cr-only.csv", "../testdata/ingest/bad/latin1.csv")
	f.Add([]byte("date\tdelay\tdistance\torigin\tdestination\n2001-01-01\t1\t\t\"A\tB\"\tC\n"))
	f.Add([]byte("skip me\n2001-01-01;1;2;A;B\r\n2001-01-02;x;;;\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzLoadSource(t, "in.tsv", data, ingest.Source{})
		no := false
		fuzzLoadSource(t, "in.csv", data, ingest.Source{Delimiter: ";", Header: &no, SkipRows: 1})
	})
}

// FuzzTimeFormat parses a value with a strftime format: any format is
// either refused by CheckTimeFormat or reads any value without a panic.
func FuzzTimeFormat(f *testing.F) {
	f.Add("%b %d %Y", "Jun 12 1998")
	f.Add("%Y-%m-%dT%H:%M:%S.%f%z", "2001-06-15T08:30:00.25+0200")
	f.Add("%d/%m/%y %I:%M %p", "1/6/01 8:05 PM")
	f.Add("%j %Y %Z", "166 2001 UTC")
	f.Fuzz(func(t *testing.T, format, value string) {
		if ingest.CheckTimeFormat(format, "") != nil {
			return
		}
		schema := ingest.Schema{Columns: []ingest.ColumnSpec{{Name: "t", Type: "timestamp[us]", Format: format, Timezone: "Europe/Paris"}}}
		path := filepath.Join(t.TempDir(), "in.jsonl")
		b, _ := json.Marshal(map[string]string{"t": value})
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		ds, err := ingest.Load(context.Background(), ingest.Source{Path: path}, schema, nil)
		if err != nil {
			if !errors.Is(err, ingest.ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		ds.Release()
	})
}
