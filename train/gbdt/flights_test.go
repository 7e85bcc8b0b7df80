package gbdt_test

// The flights task: loading, a stand-in feature encoder, ROC AUC and the
// full-data benchmarks.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/internal/flightstest"
	"github.com/mlpipe/mlpipe/internal/tables"
	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/gbdt"
)

const (
	flightsConfig = "../../configs/flights.yaml"
	flights10k    = "../../testdata/flights-10k.parquet"
	flights3m     = "../../data/flights-3m.parquet"
)

// flightsSplits are the train, validation and test sets of the flights
// task, as datasets.
type flightsSplits struct {
	train, valid, test *train.Dataset
}

// loadFlights loads the file at path, splits it by time as the config
// says and encodes each split with an encoder fitted on the training
// split.
func loadFlights(tb testing.TB, path string) flightsSplits {
	tb.Helper()
	sp := flightstest.Load(tb, path)
	enc := fitFlightsEncoder(sp.Train)
	dataset := func(tbl arrow.Table, y []float64) *train.Dataset {
		return &train.Dataset{X: enc.matrix(tbl), Y: y, Classes: 2, ClassNames: []string{"0", "1"}}
	}
	return flightsSplits{dataset(sp.Train, sp.YTrain), dataset(sp.Valid, sp.YValid), dataset(sp.Test, sp.YTest)}
}

// loadFlightsBinned is loadFlights for a fit of tr on the full data in
// the least memory: the training split is binned as it is encoded
// (binRanges), and each raw table is dropped once encoded. The returned
// training set holds the bins (train.Dataset.Prebinned) and the shape of
// its matrix; binning is the time spent in the BinBuilder, which Fit
// spends itself when given floats: the benchmarks add it to the fit
// time.
func loadFlightsBinned(tb testing.TB, path string, tr *gbdt.Trainer) (sp flightsSplits, binning time.Duration) {
	tb.Helper()
	raw := flightstest.Load(tb, path)
	defer raw.Release()
	enc := fitFlightsEncoder(raw.Train)
	dataset := func(tbl arrow.Table, y []float64) *train.Dataset {
		return &train.Dataset{X: enc.matrix(tbl), Y: y, Classes: 2, ClassNames: []string{"0", "1"}}
	}
	sp.valid, sp.test = dataset(raw.Valid, raw.YValid), dataset(raw.Test, raw.YTest)
	cols := enc.matrix(tables.Slice(raw.Train, 0, 0)).Cols
	bins, binning := binRanges(tb, raw.Train, cols, tr,
		func(part arrow.Table, _ int) (*features.Matrix, error) { return enc.matrix(part), nil },
		func(sample arrow.Table, _ []int32) (*features.Matrix, error) { return enc.matrix(sample), nil }, nil)
	sp.train = &train.Dataset{X: &features.Matrix{Rows: bins.Rows(), Cols: cols}, Y: raw.YTrain, Classes: 2, ClassNames: []string{"0", "1"}, Prebinned: bins}
	return sp, binning
}

// binRanges bins the training split tbl for a fit of tr as the
// pipeline's streamed features stage does (pipeline/stream.go): the
// float rows of the binning sample (sampleX) fix the numeric bounds,
// then each range of 65,536 rows (rangeX; first is its first row) is
// binned at once, and handed to each when it is not nil. The float
// matrix is never held whole; the bins are bit for bit those Fit makes
// of it (TestPrebinned). It returns the bins and the time spent in the
// BinBuilder.
func binRanges(tb testing.TB, tbl arrow.Table, cols []features.ColumnInfo, tr *gbdt.Trainer,
	rangeX func(part arrow.Table, first int) (*features.Matrix, error),
	sampleX func(sample arrow.Table, rows []int32) (*features.Matrix, error),
	each func(first int, x *features.Matrix)) (*gbdt.Bins, time.Duration) {
	tb.Helper()
	const streamRows = 1 << 16 // pipeline's streamRows
	n := int(tbl.NumRows())
	bb, err := tr.NewBinBuilder(cols, n)
	if err != nil {
		tb.Fatal(err)
	}
	var binning time.Duration
	timed := func(f func() error) {
		start := time.Now()
		if err := f(); err != nil {
			tb.Fatal(err)
		}
		binning += time.Since(start)
	}
	sample, err := ingest.TakeRows(context.Background(), tbl, bb.SampleRows())
	if err != nil {
		tb.Fatal(err)
	}
	x, err := sampleX(sample, bb.SampleRows())
	sample.Release()
	if err != nil {
		tb.Fatal(err)
	}
	timed(func() error { return bb.SetSample(x) })
	for lo := 0; lo < n; lo += streamRows {
		part := tables.Slice(tbl, int64(lo), int64(min(lo+streamRows, n)))
		x, err := rangeX(part, lo)
		part.Release()
		if err != nil {
			tb.Fatal(err)
		}
		timed(func() error { return bb.Add(x) })
		if each != nil {
			each(lo, x)
		}
	}
	var bins *gbdt.Bins
	timed(func() (err error) { bins, err = bb.Bins(); return err })
	return bins, binning
}

// loadFlightsPipeline is loadFlights with the project's feature pipeline
// (features.Fit with the config's features section) instead of the
// stand-in encoder below.
func loadFlightsPipeline(tb testing.TB, path string) flightsSplits {
	tb.Helper()
	sp := flightstest.Load(tb, path)
	pipe, xtr, err := features.Fit(sp.Train, sp.YTrain, sp.Config.Features, 1)
	if err != nil {
		tb.Fatal(err)
	}
	return flightsSplits{&train.Dataset{X: xtr, Y: sp.YTrain, Classes: 2},
		transformed(tb, pipe, sp.Valid, sp.YValid), transformed(tb, pipe, sp.Test, sp.YTest)}
}

// transformed is the binary dataset of tbl through pipe, with labels y.
func transformed(tb testing.TB, pipe *features.Pipeline, tbl arrow.Table, y []float64) *train.Dataset {
	tb.Helper()
	x, err := pipe.Transform(tbl)
	if err != nil {
		tb.Fatal(err)
	}
	return &train.Dataset{X: x, Y: y, Classes: 2}
}

// flightsEncoder is a STAND-IN for the project's feature pipeline
// (features.Fit, being written separately); replace it with that once it
// lands. It makes the design matrix of the flights task, column at a time:
// six numeric columns from the scheduled departure time and the distance,
// and the two airports as categorical codes assigned by frequency on the
// training split (code 1 the most frequent; code 0 unknown, which is what
// airports first seen in validation or test get).
type flightsEncoder struct {
	origin, destination map[string]int
	originLevels        []string
	destinationLevels   []string
}

func fitFlightsEncoder(tbl arrow.Table) *flightsEncoder {
	e := &flightsEncoder{}
	e.origin, e.originLevels = flightstest.CodesByFrequency(flightstest.Strings(tbl, "origin"))
	e.destination, e.destinationLevels = flightstest.CodesByFrequency(flightstest.Strings(tbl, "destination"))
	return e
}

func (e *flightsEncoder) matrix(tbl arrow.Table) *features.Matrix {
	cols := []features.ColumnInfo{
		{Name: "dep_hour", Kind: features.Numeric},
		{Name: "dep_minute_of_day", Kind: features.Numeric},
		{Name: "day_of_week", Kind: features.Numeric},
		{Name: "day_of_month", Kind: features.Numeric},
		{Name: "month", Kind: features.Numeric},
		{Name: "distance", Kind: features.Numeric},
		{Name: "origin", Kind: features.Categorical, Card: len(e.originLevels), Levels: e.originLevels},
		{Name: "destination", Kind: features.Categorical, Card: len(e.destinationLevels), Levels: e.destinationLevels},
	}
	m := features.NewMatrix(int(tbl.NumRows()), cols)
	for i, us := range flightstest.Micros(tbl, "date") {
		t := time.UnixMicro(us).UTC() // naive wall clock stored as UTC
		m.Data[0][i] = float64(t.Hour())
		m.Data[1][i] = float64(t.Hour()*60 + t.Minute())
		m.Data[2][i] = float64(t.Weekday())
		m.Data[3][i] = float64(t.Day())
		m.Data[4][i] = float64(t.Month())
	}
	for i, v := range flightstest.Int64s(tbl, "distance") {
		m.Data[5][i] = float64(v)
	}
	for i, v := range flightstest.Strings(tbl, "origin") {
		m.Data[6][i] = float64(e.origin[v]) // 0 when unseen in training
	}
	for i, v := range flightstest.Strings(tbl, "destination") {
		m.Data[7][i] = float64(e.destination[v])
	}
	return m
}

// The benchmarks below use the full dataset (data/flights-3m.parquet) and
// are skipped without it. Run them once each:
//
//	go test -run '^$' -bench . -benchtime 1x ./train/gbdt
//
// BenchmarkPredict and BenchmarkPredictRow reuse the model of
// BenchmarkFitFlights when it ran first, and fit one otherwise.

// full caches the full dataset's splits (the training split as bins:
// loadFlightsBinned), the time their binning took and the last model
// fitted on them.
var full struct {
	sync.Mutex
	splits  *flightsSplits
	binning time.Duration
	model   train.Model
}

func fullSplits(b *testing.B) *flightsSplits {
	if _, err := os.Stat(flights3m); err != nil {
		b.Skipf("full dataset not available: %v", err)
	}
	full.Lock()
	defer full.Unlock()
	if full.splits == nil {
		tr, ok := configTrainer(b, flightsConfig, nil).(*gbdt.Trainer)
		if !ok {
			b.Fatalf("%s: the gbdt trainer is not a *gbdt.Trainer", flightsConfig)
		}
		sp, binning := loadFlightsBinned(b, flights3m, tr)
		full.splits, full.binning = &sp, binning
	}
	return full.splits
}

func fullModel(b *testing.B) (train.Model, *flightsSplits) {
	sp := fullSplits(b)
	full.Lock()
	defer full.Unlock()
	if full.model == nil {
		m, err := configTrainer(b, flightsConfig, nil).Fit(context.Background(), sp.train, sp.valid)
		if err != nil {
			b.Fatal(err)
		}
		full.model = m
	}
	return full.model, sp
}

// BenchmarkFitFlights fits configs/flights.yaml's gbdt on the full flights training
// split (1,978,941 rows) with early stopping on May (518,831 rows), and
// reports the fit time in seconds, the test ROC AUC on June (502,228
// rows) and the rounds kept. The training split is binned as it is
// encoded (loadFlightsBinned), as the pipeline's streamed features stage
// does; fit-s is the fit plus that binning, which a fit on floats does
// itself. The process's peak RSS (scripts/bench/models.sh) is issue 17's
// memory figure. The bar: AUC >= 0.719 in at most
// 24.6 s, what XGBoost 1.7.4 (hist, depth 8, native categoricals, 200
// trees, 2 threads) scored on this machine.
func BenchmarkFitFlights(b *testing.B) {
	sp := fullSplits(b)
	var m train.Model
	for b.Loop() {
		start := time.Now()
		var err error
		m, err = configTrainer(b, flightsConfig, nil).Fit(context.Background(), sp.train, sp.valid)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric((time.Since(start) + full.binning).Seconds(), "fit-s")
	}
	b.ReportMetric(flightstest.AUC(m.Predict(sp.test.X), sp.test.Y), "test-AUC")
	b.ReportMetric(float64(m.(*gbdt.Model).BestRound+1), "rounds")
	full.Lock()
	full.model = m
	full.Unlock()
}

// BenchmarkFitFlightsPipeline is BenchmarkFitFlights on the matrix of the
// project's feature pipeline (configs/flights.yaml's features: time
// parts, log distance, airport codes and out-of-fold target encodings, the
// route's target encoding) instead of the stand-in encoder's.
func BenchmarkFitFlightsPipeline(b *testing.B) {
	if _, err := os.Stat(flights3m); err != nil {
		b.Skipf("full dataset not available: %v", err)
	}
	sp := loadFlightsPipeline(b, flights3m)
	var m train.Model
	for b.Loop() {
		start := time.Now()
		var err error
		m, err = configTrainer(b, flightsConfig, nil).Fit(context.Background(), sp.train, sp.valid)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(start).Seconds(), "fit-s")
	}
	b.ReportMetric(flightstest.AUC(m.Predict(sp.test.X), sp.test.Y), "test-AUC")
	b.ReportMetric(float64(m.(*gbdt.Model).BestRound+1), "rounds")
}

// BenchmarkPredict scores the flights test split (502,228 rows) in one
// Predict call with the full-data model, and reports rows per second.
func BenchmarkPredict(b *testing.B) {
	m, sp := fullModel(b)
	n, start := 0, time.Now()
	for b.Loop() {
		m.Predict(sp.test.X)
		n++
	}
	b.ReportMetric(float64(n*sp.test.X.Rows)/time.Since(start).Seconds(), "rows/s")
}

// BenchmarkPredictRow scores test rows one PredictRow call at a time, as
// serving does, and reports rows per second on one goroutine.
func BenchmarkPredictRow(b *testing.B) {
	m, sp := fullModel(b)
	rows := make([][]float64, 10_000)
	for i := range rows {
		rows[i] = sp.test.X.Row(i, nil)
	}
	out := make([]float64, m.Outputs())
	n, start := 0, time.Now()
	for b.Loop() {
		for _, r := range rows {
			m.PredictRow(r, out)
		}
		n += len(rows)
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "rows/s")
}

// BenchmarkExplainRow explains test rows one ExplainRow call at a time
// with the full-data model (exact TreeSHAP, shap.go), as mlserve does for
// an explained request, and reports rows per second and the cost of one
// explanation as a multiple of one PredictRow on the same rows, timed
// alternately in the same benchmark.
func BenchmarkExplainRow(b *testing.B) {
	m, sp := fullModel(b)
	ex, err := train.Explain(m)
	if err != nil {
		b.Fatal(err)
	}
	rows := make([][]float64, 200)
	for i := range rows {
		rows[i] = sp.test.X.Row(i, nil)
	}
	k, cols := m.Outputs(), len(sp.test.X.Cols)
	phi, margin, out := make([]float64, k*cols), make([]float64, k), make([]float64, k)
	var explain, predict time.Duration
	n := 0
	for b.Loop() {
		start := time.Now()
		for _, r := range rows {
			ex.ExplainRow(r, phi, margin)
		}
		explain += time.Since(start)
		b.StopTimer()
		start = time.Now()
		for range 50 { // PredictRow is ~1000x faster: repeat it for a measurable time
			for _, r := range rows {
				m.PredictRow(r, out)
			}
		}
		predict += time.Since(start) / 50
		b.StartTimer()
		n += len(rows)
	}
	b.ReportMetric(float64(n)/explain.Seconds(), "rows/s")
	b.ReportMetric(explain.Seconds()/predict.Seconds(), "x-PredictRow")
}

// backtestRows is the training rows of BenchmarkFitBacktest: about what
// each of `mlpipe simulate`'s default backtest fits trains on (~700k).
const backtestRows = 700_000

// BenchmarkFitBacktest fits configs/flights.yaml's gbdt (40 rounds of up
// to 4,095 leaves) on the last 700,000 rows of the flights training split
// through the feature pipeline, with early stopping on May: the shape of
// each of the backtest's fits (scripts/bench/backtest.sh). Besides the
// wall time it reports the CPU seconds of the fit (cpu-s), steadier than
// the wall time on a shared machine, and the test ROC AUC on June.
func BenchmarkFitBacktest(b *testing.B) {
	sp := pipelineSplits(b)
	tr := *sp.train
	x := *tr.X
	lo := x.Rows - backtestRows
	x.Rows, x.Data = backtestRows, make([][]float64, len(tr.X.Data))
	for j, col := range tr.X.Data {
		x.Data[j] = col[lo:]
	}
	tr.X, tr.Y = &x, tr.Y[lo:]
	var m train.Model
	for b.Loop() {
		start, cpu := time.Now(), cpuSeconds()
		var err error
		m, err = configTrainer(b, flightsConfig, nil).Fit(context.Background(), &tr, sp.valid)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(start).Seconds(), "fit-s")
		b.ReportMetric(cpuSeconds()-cpu, "cpu-s")
	}
	b.ReportMetric(flightstest.AUC(m.Predict(sp.test.X), sp.test.Y), "test-AUC")
	b.ReportMetric(float64(m.(*gbdt.Model).BestRound+1), "rounds")
	var buf bytes.Buffer
	if err := train.Save(&buf, m); err != nil {
		b.Fatal(err)
	}
	b.Logf("model: %d bytes, sha256 %x", buf.Len(), sha256.Sum256(buf.Bytes()))
}
