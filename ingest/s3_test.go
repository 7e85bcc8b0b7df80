package ingest_test

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/internal/s3test"
	"github.com/mlpipe/mlpipe/storage"
)

// TestLoadS3 reads inputs from a real S3 server: a Parquet object in
// place (ranged GETs of the columns the schema names, not the whole
// object), a CSV object (downloaded), and a prefix of objects; each gives
// the table the local file gives.
func TestLoadS3(t *testing.T) {
	srv := s3test.Start(t)
	ctx := context.Background()
	b, err := storage.Open(srv.URL("ingest"))
	if err != nil {
		t.Fatal(err)
	}
	uploads := map[string]string{
		"flights.parquet":         "../testdata/flights-10k.parquet",
		"weather.csv":             "../testdata/ingest/weather.csv",
		"parts/a/flights.parquet": "../testdata/flights-10k.parquet",
		"parts/b/flights.parquet": "../testdata/flights-10k.parquet",
		"parts/.hidden.parquet":   "../testdata/ingest/weather.csv",
	}
	for key, path := range uploads {
		if err := b.PutFile(ctx, key, path); err != nil {
			t.Fatal(err)
		}
	}
	twoColumns := ingest.Schema{AllowExtra: true, Columns: []ingest.ColumnSpec{
		{Name: "delay", Type: "int64"}, {Name: "origin", Type: "string"},
	}}
	fingerprint := func(src ingest.Source, schema ingest.Schema) (string, int) {
		t.Helper()
		ds, err := loadSource(t, src, schema)
		if err != nil {
			t.Fatalf("load %s: %v", src.Path, err)
		}
		fp, err := ingest.Fingerprint(ctx, ds.Table)
		if err != nil {
			t.Fatal(err)
		}
		return fp, int(ds.Table.NumRows())
	}
	local, rows := fingerprint(ingest.Source{Path: "../testdata/flights-10k.parquet"}, twoColumns)
	before := storage.Totals.BytesRead.Load()
	if got, _ := fingerprint(ingest.Source{Path: srv.URL("ingest/flights.parquet")}, twoColumns); got != local {
		t.Errorf("Parquet from S3: fingerprint %s, local %s", got, local)
	}
	two := storage.Totals.BytesRead.Load() - before
	before = storage.Totals.BytesRead.Load()
	all := ingest.Schema{AllowExtra: true, Columns: append(twoColumns.Columns, ingest.ColumnSpec{Name: "distance", Type: "int64"},
		ingest.ColumnSpec{Name: "destination", Type: "string"}, ingest.ColumnSpec{Name: "date", Type: "timestamp[us]"})}
	fingerprint(ingest.Source{Path: srv.URL("ingest/flights.parquet")}, all)
	five := storage.Totals.BytesRead.Load() - before
	size, _, _ := b.Stat(ctx, "flights.parquet")
	t.Logf("read %d bytes for 2 columns, %d for 5, of a %d-byte object", two, five, size)
	if two >= five || five > size+64<<10 {
		t.Errorf("read %d bytes for 2 columns and %d for all 5 of a %d-byte object: want fewer for fewer columns", two, five, size)
	}

	if got, n := fingerprint(ingest.Source{Path: srv.URL("ingest/parts")}, twoColumns); n != 2*rows {
		t.Errorf("prefix: %d rows (fingerprint %s), want %d from two objects (the hidden one skipped)", n, got, 2*rows)
	}
	csvLocal, _ := fingerprint(ingest.Source{Path: "../testdata/ingest/weather.csv"}, weatherSchema)
	if got, _ := fingerprint(ingest.Source{Path: srv.URL("ingest/weather.csv")}, weatherSchema); got != csvLocal {
		t.Errorf("CSV from S3: fingerprint %s, local %s", got, csvLocal)
	}
	if _, err := loadSource(t, ingest.Source{Path: srv.URL("ingest/nothing-here")}, twoColumns); !errors.Is(err, ingest.ErrNoFiles) {
		t.Errorf("missing object: %v, want ErrNoFiles", err)
	}

	// A Parquet object's own types (mlpipe predict --keep) are the local
	// file's; a CSV object is not read a chunk at a time.
	localTypes, err := ingest.FileTypes(ctx, ingest.Source{Path: "../testdata/flights-10k.parquet"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ingest.FileTypes(ctx, ingest.Source{Path: srv.URL("ingest/flights.parquet")}); err != nil || !maps.Equal(got, localTypes) {
		t.Errorf("file types of the Parquet object: %v (%v), local %v", got, err, localTypes)
	}
	if _, err := ingest.Columns(ctx, ingest.Source{Path: srv.URL("ingest/weather.csv")}); err == nil || !strings.Contains(err.Error(), "a csv object is not read a chunk at a time from object storage (Parquet is)") {
		t.Errorf("columns of a CSV object: %v", err)
	}
}
