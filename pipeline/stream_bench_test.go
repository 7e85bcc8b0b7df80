package pipeline

import (
	"context"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/mlpipe/mlpipe/ingest"
)

// BenchmarkPredictTable: scoring a test split a range of rows at a time
// (predictTable, what the evaluate stage and the gate do) against
// transforming it whole and scoring the matrix (what they did before
// step 4), on the fixture's 1,674 test rows tiled 120 times (200,880
// rows, 4 ranges of 65,536 and a rest) with the fixture's logreg model.
// The two sub-benchmarks alternate under -count; compare their CPU time
// per op, and B/op for what each allocates in all.
func BenchmarkPredictTable(b *testing.B) {
	cfg := logregFixture(b)
	s := &State{Config: cfg}
	defer s.Release()
	if _, err := (&Runner{Stages: TrainStages(&ingest.Options{})}).Run(context.Background(), s); err != nil {
		b.Fatal(err)
	}
	tbl := tile(s.Splits.Test, 120)
	defer tbl.Release()
	ctx := context.Background()
	b.Run("whole", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			x, err := s.Features.Transform(tbl)
			if err != nil {
				b.Fatal(err)
			}
			_ = s.Model.Predict(x)
		}
	})
	b.Run("ranges", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := predictTable(ctx, s.Features, s.Model, tbl, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// tile returns tbl's rows k times over (its chunks repeated, no copy).
func tile(tbl arrow.Table, k int) arrow.Table {
	cols := make([]arrow.Column, tbl.NumCols())
	for j := range cols {
		var chunks []arrow.Array
		for range k {
			chunks = append(chunks, tbl.Column(j).Data().Chunks()...)
		}
		ch := arrow.NewChunked(tbl.Schema().Field(j).Type, chunks)
		cols[j] = *arrow.NewColumn(tbl.Schema().Field(j), ch)
		ch.Release()
	}
	out := array.NewTable(tbl.Schema(), cols, tbl.NumRows()*int64(k))
	for j := range cols {
		cols[j].Release()
	}
	return out
}
