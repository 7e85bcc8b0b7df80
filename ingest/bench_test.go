package ingest_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/ingest"
)

// The benchmarks read the shipped 3,000,000-row dataset. `make bench`
// runs them (see scripts/bench/run.sh); a plain `go test` skips them.

const fullData = "../data/flights-3m.parquet"

func flightsConfig(b *testing.B) *config.Config {
	cfg, err := config.Load("../configs/flights.yaml")
	if err != nil {
		b.Fatal(err)
	}
	return cfg
}

func BenchmarkLoadParquet(b *testing.B) {
	cfg := flightsConfig(b)
	info, err := os.Stat(fullData)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(info.Size())
	for b.Loop() {
		ds, err := ingest.Load(context.Background(), ingest.Source{Path: fullData}, cfg.Schema, nil)
		if err != nil {
			b.Fatal(err)
		}
		if ds.Table.NumRows() != 3_000_000 { // rows in data/flights-3m.parquet (data/README.md)
			b.Fatalf("rows = %d", ds.Table.NumRows())
		}
		ds.Release()
	}
}

// BenchmarkLoadCSV reads the full dataset as CSV. The CSV is made from
// the Parquet file by `go run ./scripts/fixtures -full-csv PATH`; set
// MLPIPE_BENCH_CSV to its path (make bench does).
func BenchmarkLoadCSV(b *testing.B) {
	path := os.Getenv("MLPIPE_BENCH_CSV")
	if path == "" {
		b.Skip("MLPIPE_BENCH_CSV is not set")
	}
	cfg := flightsConfig(b)
	info, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(info.Size())
	for b.Loop() {
		ds, err := ingest.Load(context.Background(), ingest.Source{Path: filepath.Clean(path)}, cfg.Schema, nil)
		if err != nil {
			b.Fatal(err)
		}
		if ds.Table.NumRows() != 3_000_000 {
			b.Fatalf("rows = %d", ds.Table.NumRows())
		}
		ds.Release()
	}
}
