package ingest_test

import (
	"context"
	"os"
	"testing"

	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/internal/s3test"
	"github.com/mlpipe/mlpipe/storage"
)

// BenchmarkLoadS3 loads data/flights-3m.parquet (all five columns) from
// the local disk and from a SeaweedFS server on loopback, alternately
// (run it with -count): the ratio s3/local is the cost of object storage
// (the target: at most 2). scripts/bench/s3.sh reports it.
func BenchmarkLoadS3(b *testing.B) {
	const path = "../data/flights-3m.parquet"
	if _, err := os.Stat(path); err != nil {
		b.Skip("no data/flights-3m.parquet")
	}
	srv := s3test.Start(b)
	bucket, err := storage.Open(srv.URL("bench"))
	if err != nil {
		b.Fatal(err)
	}
	if err := bucket.PutFile(context.Background(), "flights-3m.parquet", path); err != nil {
		b.Fatal(err)
	}
	schema := ingest.Schema{Columns: []ingest.ColumnSpec{
		{Name: "date", Type: "timestamp[us]"}, {Name: "delay", Type: "int64"}, {Name: "distance", Type: "int64"},
		{Name: "origin", Type: "string"}, {Name: "destination", Type: "string"},
	}}
	for _, c := range []struct{ name, path string }{{"local", path}, {"s3", srv.URL("bench/flights-3m.parquet")}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				ds, err := ingest.Load(context.Background(), ingest.Source{Path: c.path}, schema, nil)
				if err != nil {
					b.Fatal(err)
				}
				ds.Release()
			}
		})
	}
}
