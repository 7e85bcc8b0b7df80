package golearn_test

import (
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/internal/flightstest"
	"github.com/mlpipe/mlpipe/train"
)

// This file holds the flights task for the tests and the benchmark: the
// data (loaded and split by flightstest.Load) and a stand-in feature
// encoder with fixed raw inputs.

// flightsSets are the train, validation and test splits as datasets.
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

// The 10k fixture is loaded once per test binary.
var (
	smallOnce sync.Once
	small     *flightsSets
)

func loadSmallFlights(tb testing.TB) *flightsSets {
	tb.Helper()
	smallOnce.Do(func() { small = loadFlights(tb, "../../testdata/flights-10k.parquet") })
	if small == nil {
		tb.Fatal("loading the flights fixture failed")
	}
	return small
}

// flightsEncoder is a stand-in for features.Fit on the flights task:
//
//	numeric: hour (0-23), day_of_week (Sunday = 0), distance (miles)
//	categorical: origin and destination, airports coded 1, 2, ... by
//	  decreasing frequency in the training split; 0 for one not seen there
type flightsEncoder struct {
	origin, dest         map[string]int
	originLvls, destLvls []string
}

func fitFlightsEncoder(tbl arrow.Table) *flightsEncoder {
	e := &flightsEncoder{}
	e.origin, e.originLvls = flightstest.CodesByFrequency(flightstest.Strings(tbl, "origin"))
	e.dest, e.destLvls = flightstest.CodesByFrequency(flightstest.Strings(tbl, "destination"))
	return e
}

func (e *flightsEncoder) transform(tbl arrow.Table) *features.Matrix {
	cols := []features.ColumnInfo{
		{Name: "hour", Kind: features.Numeric},
		{Name: "day_of_week", Kind: features.Numeric},
		{Name: "distance", Kind: features.Numeric},
		{Name: "origin", Kind: features.Categorical, Card: len(e.originLvls), Levels: e.originLvls},
		{Name: "destination", Kind: features.Categorical, Card: len(e.destLvls), Levels: e.destLvls},
	}
	m := features.NewMatrix(int(tbl.NumRows()), cols)
	for i, us := range flightstest.Micros(tbl, "date") {
		t := time.UnixMicro(us).UTC() // naive wall clock
		m.Data[0][i] = float64(t.Hour())
		m.Data[1][i] = float64(t.Weekday())
	}
	for i, d := range flightstest.Int64s(tbl, "distance") {
		m.Data[2][i] = float64(d)
	}
	for i, s := range flightstest.Strings(tbl, "origin") {
		m.Data[3][i] = float64(e.origin[s]) // 0 when unseen
	}
	for i, s := range flightstest.Strings(tbl, "destination") {
		m.Data[4][i] = float64(e.dest[s])
	}
	return m
}
