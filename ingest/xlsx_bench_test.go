package ingest

import (
	"context"
	"os"
	"testing"
)

// BenchmarkLoadXLSX loads the flights workbook at $MLPIPE_BENCH_XLSX
// (scripts/bench/xlsx.sh makes it: rows of data/flights-3m.parquet with
// their dates as Excel dates) with the flights contract: the worksheet
// read as CSV text, its dates found from their formats, and every value
// parsed, as `mlpipe ingest` loads it. Skipped without the variable.
func BenchmarkLoadXLSX(b *testing.B) {
	path := os.Getenv("MLPIPE_BENCH_XLSX")
	if path == "" {
		b.Skip("MLPIPE_BENCH_XLSX is not set (scripts/bench/xlsx.sh sets it)")
	}
	var rows int64
	for b.Loop() {
		ds, err := Load(context.Background(), Source{Path: path}, flightsSchema, nil)
		if err != nil {
			b.Fatal(err)
		}
		rows = ds.Table.NumRows()
		ds.Release()
	}
	b.ReportMetric(float64(rows), "rows")
}
