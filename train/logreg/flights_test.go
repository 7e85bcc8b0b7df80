package logreg_test

import (
	"cmp"
	"context"
	"math"
	"os"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/ingest"
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

// loadFlights loads the data of the config at path, splits it and
// encodes it. It skips the test when the data file is missing.
func loadFlights(tb testing.TB, path string) *flightsSets {
	tb.Helper()
	ctx := context.Background()
	cfg, err := config.Load(path)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := os.Stat(cfg.Data.Path); err != nil {
		tb.Skipf("no data: %v", err)
	}
	ds, err := ingest.Load(ctx, cfg.Data, cfg.Schema, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer ds.Release()
	sp, err := ingest.Split(ctx, ds.Table, cfg.Split)
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
		labels, err := cfg.Label.Derive(s.tbl)
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
	fullOnce.Do(func() { full = loadFlights(b, "../../configs/flights.yaml") })
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
	e.origin, e.originLvls = codeByFrequency(stringColumn(tbl, "origin"))
	e.dest, e.destLvls = codeByFrequency(stringColumn(tbl, "destination"))
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
	for i, us := range timestampColumn(tbl, "date") {
		t := time.UnixMicro(us).UTC() // naive wall clock
		m.Data[0][i] = float64(t.Hour())
		m.Data[1][i] = float64(t.Weekday())
	}
	for i, s := range stringColumn(tbl, "origin") {
		m.Data[2][i] = float64(e.origin[s]) // 0 when unseen
	}
	for i, s := range stringColumn(tbl, "destination") {
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
	for _, d := range int64Column(tbl, "distance") {
		out[0] = append(out[0], float64(d))
		out[1] = append(out[1], math.Log(float64(d)))
	}
	for _, us := range timestampColumn(tbl, "date") {
		out[2] = append(out[2], float64(time.UnixMicro(us).UTC().Day()))
	}
	return out
}

// codeByFrequency codes the distinct values 1, 2, ... from the most
// frequent (ties by name); code 0 is left for unseen values.
func codeByFrequency(values []string) (map[string]int, []string) {
	counts := map[string]int{}
	for _, v := range values {
		counts[v]++
	}
	levels := make([]string, 0, len(counts))
	for v := range counts {
		levels = append(levels, v)
	}
	slices.SortFunc(levels, func(a, b string) int {
		return cmp.Or(cmp.Compare(counts[b], counts[a]), cmp.Compare(a, b))
	})
	codes := make(map[string]int, len(levels))
	for i, v := range levels {
		codes[v] = i + 1
	}
	return codes, append([]string{"(unknown)"}, levels...)
}

func column(tbl arrow.Table, name string) []arrow.Array {
	return tbl.Column(tbl.Schema().FieldIndices(name)[0]).Data().Chunks()
}

func stringColumn(tbl arrow.Table, name string) []string {
	out := make([]string, 0, tbl.NumRows())
	for _, c := range column(tbl, name) {
		a := c.(*array.String)
		for i := 0; i < a.Len(); i++ {
			out = append(out, a.Value(i))
		}
	}
	return out
}

func int64Column(tbl arrow.Table, name string) []int64 {
	out := make([]int64, 0, tbl.NumRows())
	for _, c := range column(tbl, name) {
		out = append(out, c.(*array.Int64).Int64Values()...)
	}
	return out
}

func timestampColumn(tbl arrow.Table, name string) []int64 {
	out := make([]int64, 0, tbl.NumRows())
	for _, c := range column(tbl, name) {
		for _, v := range c.(*array.Timestamp).TimestampValues() {
			out = append(out, int64(v))
		}
	}
	return out
}

// rocAUC is the area under the ROC curve of scores for binary labels y:
// the probability that a random positive scores above a random negative,
// ties counting one half (the Mann-Whitney U statistic with average
// ranks). A stand-in for the evaluate package's.
func rocAUC(score, y []float64) float64 {
	idx := make([]int, len(score))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return score[idx[a]] < score[idx[b]] })
	var rankSum, pos float64
	for lo := 0; lo < len(idx); {
		hi := lo
		for hi < len(idx) && score[idx[hi]] == score[idx[lo]] {
			hi++
		}
		rank := float64(lo+hi+1) / 2 // ranks lo+1 .. hi, averaged
		for _, i := range idx[lo:hi] {
			if y[i] == 1 {
				rankSum += rank
				pos++
			}
		}
		lo = hi
	}
	neg := float64(len(y)) - pos
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
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
	b.ReportMetric(rocAUC(m.PredictProba(sets.test.X), sets.test.Y), "test_auc")
	b.ReportMetric(float64(m.(*logreg.Model).Fit.Iterations), "iterations")
}
