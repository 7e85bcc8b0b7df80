package ingest_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"

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
		b.ReportMetric(float64(tableBytes(ds.Table))/1e6, "table-MB")
		ds.Release()
	}
}

// tableBytes is the size of a table's Arrow buffers.
func tableBytes(t arrow.Table) int64 {
	var n int64
	for j := 0; j < int(t.NumCols()); j++ {
		for _, c := range t.Column(j).Data().Chunks() {
			for _, buf := range c.Data().Buffers() {
				if buf != nil {
					n += int64(buf.Len())
				}
			}
		}
	}
	return n
}

// loadFull loads the shipped dataset once for the benchmarks that need
// a table.
func loadFull(b *testing.B) *ingest.Dataset {
	b.Helper()
	cfg := flightsConfig(b)
	ds, err := ingest.Load(context.Background(), ingest.Source{Path: fullData}, cfg.Schema, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(ds.Release)
	return ds
}

func BenchmarkProfile(b *testing.B) {
	ds := loadFull(b)
	for b.Loop() {
		if _, err := ingest.ProfileTable(context.Background(), ds.Table, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFingerprint(b *testing.B) {
	ds := loadFull(b)
	for b.Loop() {
		if _, err := ingest.Fingerprint(context.Background(), ds.Table); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidate(b *testing.B) {
	ds := loadFull(b)
	cfg := flightsConfig(b)
	for b.Loop() {
		if r := ingest.Validate(ds, cfg.Schema, cfg.Label); !r.OK() {
			b.Fatal(r.Err())
		}
	}
}

func BenchmarkSplit(b *testing.B) {
	ds := loadFull(b)
	cfg := flightsConfig(b)
	for b.Loop() {
		sp, err := ingest.Split(context.Background(), ds.Table, cfg.Split)
		if err != nil {
			b.Fatal(err)
		}
		sp.Release()
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

// BenchmarkLoadText reads the 10,000-row fixture from each text format,
// and the JSON array and gzip forms made from it in a temp dir, so that a
// new reader is compared with its peer in the same run: json with jsonl
// (the same per-object decoding after one scan for the elements), csv.gz
// with csv (the cost of decompressing).
func BenchmarkLoadText(b *testing.B) {
	cfg := flightsConfig(b)
	dir := b.TempDir()
	lines, err := os.ReadFile("../testdata/flights-10k.jsonl")
	if err != nil {
		b.Fatal(err)
	}
	array := append([]byte("[\n"), bytes.ReplaceAll(bytes.TrimSpace(lines), []byte("\n"), []byte(",\n"))...)
	array = append(array, "\n]\n"...)
	if err := os.WriteFile(filepath.Join(dir, "flights.json"), array, 0o644); err != nil {
		b.Fatal(err)
	}
	csv, err := os.ReadFile("../testdata/flights-10k.csv")
	if err != nil {
		b.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(csv)
	zw.Close()
	if err := os.WriteFile(filepath.Join(dir, "flights.csv.gz"), gz.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	for _, p := range []string{"../testdata/flights-10k.jsonl", filepath.Join(dir, "flights.json"), "../testdata/flights-10k.csv", filepath.Join(dir, "flights.csv.gz")} {
		b.Run(filepath.Base(p), func(b *testing.B) {
			for b.Loop() {
				ds, err := ingest.Load(context.Background(), ingest.Source{Path: p}, cfg.Schema, nil)
				if err != nil {
					b.Fatal(err)
				}
				if ds.Table.NumRows() != sampleRows {
					b.Fatalf("%d rows", ds.Table.NumRows())
				}
				ds.Release()
			}
		})
	}
}

// BenchmarkScan scans a CSV and a JSON Lines file of 600,000 and 200,000
// rows (the 10,000-row fixture's rows repeated, written to a temp dir),
// so that each is several of Scan's text blocks: the cost of reading,
// checking and parsing a block at a time.
func BenchmarkScan(b *testing.B) {
	cfg := flightsConfig(b)
	dir := b.TempDir()
	for _, f := range []struct {
		name   string
		header bool
		copies int
	}{{"flights-10k.csv", true, 60}, {"flights-10k.jsonl", false, 20}} {
		data, err := os.ReadFile(filepath.Join("../testdata", f.name))
		if err != nil {
			b.Fatal(err)
		}
		var out bytes.Buffer
		body := data
		if f.header {
			nl := bytes.IndexByte(data, '\n')
			out.Write(data[:nl+1])
			body = data[nl+1:]
		}
		for range f.copies {
			out.Write(body)
		}
		path := filepath.Join(dir, f.name)
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			b.Fatal(err)
		}
		want := int64(f.copies) * sampleRows
		b.Run(f.name, func(b *testing.B) {
			b.SetBytes(int64(out.Len()))
			for b.Loop() {
				var rows int64
				err := ingest.Scan(context.Background(), ingest.Source{Path: path}, cfg.Schema, nil, func(c *ingest.Chunk) error {
					rows += c.Table.NumRows()
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				if rows != want {
					b.Fatalf("%d rows, want %d", rows, want)
				}
			}
		})
	}
}
