package golearn_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/mlpipe/mlpipe/internal/flightstest"
	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/golearn"
)

// The full data set is loaded once per test binary, for the benchmark.
var (
	fullOnce sync.Once
	full     *flightsSets
)

func loadFullFlights(b *testing.B) *flightsSets {
	b.Helper()
	fullOnce.Do(func() { full = loadFlights(b, "../../data/flights-3m.parquet") })
	if full == nil {
		b.Skip("no full flights data")
	}
	return full
}

// BenchmarkFitFlights fits each trainer on the full flights training
// split (1,978,941 rows; the default MaxRows samples 50,000 of them) and
// reports the test ROC AUC (502,228 rows) and the model's node count.
// Loading and encoding are not timed. Run it with -benchtime=1x:
//
//	go test ./train/golearn -run '^$' -bench FitFlights -benchtime=1x -timeout 30m
//
// The defaults alone: -bench 'FitFlights/^(id3|rf)$'.
func BenchmarkFitFlights(b *testing.B) {
	for _, tc := range []struct {
		name string
		tr   train.Trainer
	}{
		{"id3", golearn.NewID3(golearn.ID3Params{})},
		{"id3-native", golearn.NewID3(golearn.ID3Params{NativeCategorical: true})},
		{"id3-50k", golearn.NewID3(golearn.ID3Params{MaxRows: 50_000})},
		{"id3-all", golearn.NewID3(golearn.ID3Params{MaxRows: -1})},
		{"rf", golearn.NewRF(golearn.RFParams{})},
		{"rf-native", golearn.NewRF(golearn.RFParams{NativeCategorical: true})},
		{"rf-50k", golearn.NewRF(golearn.RFParams{MaxRows: 50_000})},
		{"rf-1M", golearn.NewRF(golearn.RFParams{MaxRows: 1_000_000})},
	} {
		b.Run(tc.name, func(b *testing.B) {
			fs := loadFullFlights(b)
			var m train.Model
			for b.Loop() {
				var err error
				if m, err = tc.tr.Fit(context.Background(), fs.train, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			gm := m.(*golearn.Model)
			b.ReportMetric(flightstest.AUC(m.Predict(fs.test.X), fs.test.Y), "test-auc")
			b.ReportMetric(float64(gm.Nodes()), "nodes")
			fmt.Println(gm.Note())
		})
	}
}
