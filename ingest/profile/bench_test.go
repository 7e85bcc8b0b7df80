package profile_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/mlpipe/mlpipe/ingest/profile"
	"github.com/mlpipe/mlpipe/internal/tables"
)

// BenchmarkBuilderAdd adds 1,000,000 rows shaped like the flights data
// (a timestamp, two int64 and two string columns of 300 categories) in
// parts of several sizes. Profile is not timed. (Reading each part's
// columns in parallel was measured here and dropped: on a shared 2-core
// machine, 65,536-row parts took 136-148 ms in parallel against 143-180
// ms on one goroutine, within the noise; 100-row parts were slower.)
func BenchmarkBuilderAdd(b *testing.B) {
	tbl := benchTable(b, 1_000_000)
	for _, size := range []int64{100, 1000, 65536} {
		b.Run(fmt.Sprintf("part=%d", size), func(b *testing.B) {
			parts := make([]arrow.Table, 0, tbl.NumRows()/size+1)
			for lo := int64(0); lo < tbl.NumRows(); lo += size {
				parts = append(parts, tables.Slice(tbl, lo, min(lo+size, tbl.NumRows())))
			}
			defer func() {
				for _, p := range parts {
					p.Release()
				}
			}()
			for b.Loop() {
				pb := profile.NewBuilder(tbl.Schema(), nil)
				for _, p := range parts {
					if err := pb.Add(p); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

func benchTable(b *testing.B, rows int) arrow.Table {
	b.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "date", Type: &arrow.TimestampType{Unit: arrow.Microsecond}},
		{Name: "delay", Type: arrow.PrimitiveTypes.Int64},
		{Name: "distance", Type: arrow.PrimitiveTypes.Int64},
		{Name: "origin", Type: arrow.BinaryTypes.String},
		{Name: "destination", Type: arrow.BinaryTypes.String},
	}, nil)
	rng := rand.New(rand.NewPCG(1, 2))
	rb := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer rb.Release()
	for range rows {
		rb.Field(0).(*array.TimestampBuilder).Append(arrow.Timestamp(rng.Int64N(1.6e13)))
		rb.Field(1).(*array.Int64Builder).Append(rng.Int64N(200) - 20)
		rb.Field(2).(*array.Int64Builder).Append(rng.Int64N(3000))
		rb.Field(3).(*array.StringBuilder).Append(fmt.Sprintf("A%03d", rng.IntN(300)))
		rb.Field(4).(*array.StringBuilder).Append(fmt.Sprintf("A%03d", rng.IntN(300)))
	}
	rec := rb.NewRecord()
	defer rec.Release()
	tbl := array.NewTableFromRecords(schema, []arrow.Record{rec})
	b.Cleanup(tbl.Release)
	return tbl
}

// BenchmarkProfileTable is Table on the same 1,000,000 rows, for scale.
func BenchmarkProfileTable(b *testing.B) {
	tbl := benchTable(b, 1_000_000)
	for b.Loop() {
		if _, err := profile.Table(context.Background(), tbl, nil); err != nil {
			b.Fatal(err)
		}
	}
}
