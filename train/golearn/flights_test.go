package golearn_test

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/internal/flightstest"
	"github.com/mlpipe/mlpipe/train"
)

// This file holds the flights task for the tests and the benchmark: the
// data contract, split and label of configs/flights.yaml written out as
// ingest values, a stand-in feature encoder (to be replaced by
// features.Fit when the features package lands) and a ROC AUC (to be
// replaced by the evaluate package's).

// flightsSets are the train, validation and test splits as datasets.
type flightsSets struct {
	train, valid, test *train.Dataset
}

var (
	flightsSchema = ingest.Schema{Columns: []ingest.ColumnSpec{
		{Name: "date", Type: "timestamp[us]"},
		{Name: "delay", Type: "int64"},
		{Name: "distance", Type: "int64"},
		{Name: "origin", Type: "string"},
		{Name: "destination", Type: "string"},
	}}
	flightsSplit = ingest.SplitSpec{
		Method:    "time",
		Column:    "date",
		ValidFrom: time.Date(2001, 5, 1, 0, 0, 0, 0, time.UTC),
		TestFrom:  time.Date(2001, 6, 1, 0, 0, 0, 0, time.UTC),
	}
	flightsLabel = ingest.LabelSpec{Name: "delayed", Column: "delay", Positive: "> 15"}
)

// loadFlights loads a flights data file, splits it and encodes it. It
// skips the test when the file is missing.
func loadFlights(tb testing.TB, path string) *flightsSets {
	tb.Helper()
	ctx := context.Background()
	if _, err := os.Stat(path); err != nil {
		tb.Skipf("no data: %v", err)
	}
	ds, err := ingest.Load(ctx, ingest.Source{Path: path}, flightsSchema, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer ds.Release()
	sp, err := ingest.Split(ctx, ds.Table, flightsSplit)
	if err != nil {
		tb.Fatal(err)
	}
	defer sp.Release()
	enc := fitFlightsEncoder(sp.Train)
	out := &flightsSets{}
	for _, s := range []struct {
		tbl arrow.Table
		dst **train.Dataset
	}{{sp.Train, &out.train}, {sp.Valid, &out.valid}, {sp.Test, &out.test}} {
		labels, err := flightsLabel.Derive(s.tbl)
		if err != nil {
			tb.Fatal(err)
		}
		y := make([]float64, len(labels.Y))
		for i, v := range labels.Y {
			y[i] = float64(v)
		}
		*s.dst = &train.Dataset{X: enc.transform(s.tbl), Y: y, Classes: 2, ClassNames: labels.Classes}
	}
	return out
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
