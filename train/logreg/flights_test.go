package logreg_test

import (
	"context"
	"math"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/internal/flightstest"
	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/logreg"
)

// This file holds the flights task for the tests and the benchmark: a
// stand-in feature encoder, to be replaced by features.Fit when the
// features package lands, and a ROC AUC, to be replaced by the evaluate
// package's.

// flightsSets are the train, validation and test splits of a flights
// config as datasets.
type flightsSets struct {
	train, valid, test *train.Dataset
}

// loadFlights loads a flights data file, splits it and encodes it. It
// skips the test when the file is missing.
func loadFlights(tb testing.TB, path string) *flightsSets {
	tb.Helper()
	sp := flightstest.Load(tb, path)
	enc := fitFlightsEncoder(sp.Train)
	dataset := func(tbl arrow.Table, y []float64) *train.Dataset {
		return &train.Dataset{X: enc.transform(tbl), Y: y, Classes: 2, ClassNames: []string{"0", "1"}}
	}
	return &flightsSets{train: dataset(sp.Train, sp.YTrain), valid: dataset(sp.Valid, sp.YValid), test: dataset(sp.Test, sp.YTest)}
}

// The full data set is loaded once per test binary, for the benchmark.
var (
	fullOnce sync.Once
	full     *flightsSets
)

func loadFullFlights(b *testing.B) *flightsSets {
	b.Helper()
	if _, err := os.Stat("../../data/flights-3m.parquet"); err != nil {
		b.Skipf("no data: %v", err)
	}
	fullOnce.Do(func() { full = loadFlights(b, "../../data/flights-3m.parquet") })
	if full == nil {
		b.Fatal("loading the flights data failed")
	}
	return full
}

// flightsEncoder is a stand-in for features.Fit on the flights task, to be
// replaced by it. It builds the features a one-hot logistic regression in
// scikit-learn was given for the reference AUC:
//
//	categorical: dep_hour (24 codes: the hour), day_of_week (7 codes:
//	  Sunday = 0), origin and destination (airports coded 1, 2, ... by
//	  decreasing frequency in the training split; 0 for one not seen there)
//	numeric: distance, log(distance) and day_of_month, standardised with
//	  the training split's mean and standard deviation
//
// The hour and weekday codes use 0 for a real value (midnight, Sunday),
// not for "unknown": the data has no missing times.
type flightsEncoder struct {
	origin, dest         map[string]int
	originLvls, destLvls []string
	mean, std            [3]float64 // of distance, log(distance), day_of_month
}

func fitFlightsEncoder(tbl arrow.Table) *flightsEncoder {
	e := &flightsEncoder{}
	e.origin, e.originLvls = flightstest.CodesByFrequency(flightstest.Strings(tbl, "origin"))
	e.dest, e.destLvls = flightstest.CodesByFrequency(flightstest.Strings(tbl, "destination"))
	num := numericFlights(tbl)
	for j, col := range num {
		var sum, sq float64
		for _, v := range col {
			sum += v
		}
		e.mean[j] = sum / float64(len(col))
		for _, v := range col {
			sq += (v - e.mean[j]) * (v - e.mean[j])
		}
		e.std[j] = math.Sqrt(sq / float64(len(col)))
	}
	return e
}

func (e *flightsEncoder) transform(tbl arrow.Table) *features.Matrix {
	cols := []features.ColumnInfo{
		{Name: "dep_hour", Kind: features.Categorical, Card: 24},
		{Name: "day_of_week", Kind: features.Categorical, Card: 7},
		{Name: "origin", Kind: features.Categorical, Card: len(e.originLvls), Levels: e.originLvls},
		{Name: "destination", Kind: features.Categorical, Card: len(e.destLvls), Levels: e.destLvls},
		{Name: "distance", Kind: features.Numeric},
		{Name: "log_distance", Kind: features.Numeric},
		{Name: "day_of_month", Kind: features.Numeric},
	}
	m := features.NewMatrix(int(tbl.NumRows()), cols)
	for i, us := range flightstest.Micros(tbl, "date") {
		t := time.UnixMicro(us).UTC() // naive wall clock
		m.Data[0][i] = float64(t.Hour())
		m.Data[1][i] = float64(t.Weekday())
	}
	for i, s := range flightstest.Strings(tbl, "origin") {
		m.Data[2][i] = float64(e.origin[s]) // 0 when unseen
	}
	for i, s := range flightstest.Strings(tbl, "destination") {
		m.Data[3][i] = float64(e.dest[s])
	}
	for j, col := range numericFlights(tbl) {
		for i, v := range col {
			m.Data[4+j][i] = (v - e.mean[j]) / e.std[j]
		}
	}
	return m
}

// numericFlights returns the raw numeric features: distance,
// log(distance), day of month.
func numericFlights(tbl arrow.Table) [3][]float64 {
	var out [3][]float64
	for _, d := range flightstest.Int64s(tbl, "distance") {
		out[0] = append(out[0], float64(d))
		out[1] = append(out[1], math.Log(float64(d)))
	}
	for _, us := range flightstest.Micros(tbl, "date") {
		out[2] = append(out[2], float64(time.UnixMicro(us).UTC().Day()))
	}
	return out
}

// BenchmarkFitFlights fits the default model on the full flights
// training split (1,978,941 rows) and reports the test ROC AUC and the
// number of L-BFGS iterations. Loading and encoding are not timed.
//
//	go test ./train/logreg -run '^$' -bench FitFlights -benchtime 1x
func BenchmarkFitFlights(b *testing.B) {
	sets := loadFullFlights(b)
	ctx := context.Background()
	var m train.Model
	for b.Loop() {
		var err error
		m, err = logreg.New(logreg.Params{}).Fit(ctx, sets.train, sets.valid)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(flightstest.AUC(m.Predict(sets.test.X), sets.test.Y), "test_auc")
	b.ReportMetric(float64(m.(*logreg.Model).Fit.Iterations), "iterations")
}
