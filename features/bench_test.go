package features_test

import (
	"context"
	"os"
	"testing"

	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/ingest"
)

// fullSplits loads the shipped dataset and splits it as the default
// config does; the benchmarks skip if it is missing.
func fullSplits(b *testing.B) (*config.Config, *ingest.Splits, []float64) {
	b.Helper()
	const path = "../data/flights-3m.parquet"
	if _, err := os.Stat(path); err != nil {
		b.Skip(err)
	}
	cfg, err := config.Load("../configs/flights.yaml")
	if err != nil {
		b.Fatal(err)
	}
	ds, err := ingest.Load(context.Background(), ingest.Source{Path: path}, cfg.Schema, nil)
	if err != nil {
		b.Fatal(err)
	}
	sp, err := ingest.Split(context.Background(), ds.Table, cfg.Split)
	if err != nil {
		b.Fatal(err)
	}
	l, err := cfg.Label.Derive(sp.Train)
	if err != nil {
		b.Fatal(err)
	}
	y := make([]float64, len(l.Y))
	for i, v := range l.Y {
		y[i] = float64(v)
	}
	return cfg, sp, y
}

// BenchmarkFit fits the default config's features on the 1,978,941
// training rows (including the out-of-fold target encodings).
func BenchmarkFit(b *testing.B) {
	cfg, sp, y := fullSplits(b)
	for b.Loop() {
		if _, _, err := features.Fit(sp.Train, y, cfg.Features, 1); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTransform transforms the 502,228 test rows; rows/s is the
// batch scoring rate of the feature step.
func BenchmarkTransform(b *testing.B) {
	cfg, sp, y := fullSplits(b)
	p, _, err := features.Fit(sp.Train, y, cfg.Features, 1)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := p.Transform(sp.Test); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(sp.Test.NumRows())*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkTransformRow is the serving path: one request's row.
func BenchmarkTransformRow(b *testing.B) {
	cfg, sp, y := fullSplits(b)
	p, _, err := features.Fit(sp.Train, y, cfg.Features, 1)
	if err != nil {
		b.Fatal(err)
	}
	row := features.Row{"date": "2001-06-15T08:30:00", "delay": nil, "distance": int64(1250), "origin": "ATL", "destination": "LAX"}
	var dst []float64
	b.ReportAllocs()
	for b.Loop() {
		if dst, err = p.TransformRow(row, dst); err != nil {
			b.Fatal(err)
		}
	}
}
