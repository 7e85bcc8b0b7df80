package gbdt_test

// The flights frontier: mlpipe's gbdt with the higher-quality setting of
// configs/flights-quality.yaml, on the default config's feature matrix,
// against XGBoost on the same matrix (scripts/bench/gbdt.sh runs both).

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/internal/flightstest"
	"github.com/mlpipe/mlpipe/internal/npy"
	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/catalog"
	"github.com/mlpipe/mlpipe/train/gbdt"
)

const qualityConfig = "../../configs/flights-quality.yaml"

// pipe caches the full dataset's splits through the feature pipeline.
var pipe struct {
	sync.Mutex
	splits *flightsSplits
}

func pipelineSplits(b *testing.B) *flightsSplits {
	if _, err := os.Stat(flights3m); err != nil {
		b.Skipf("full dataset not available: %v", err)
	}
	pipe.Lock()
	defer pipe.Unlock()
	if pipe.splits == nil {
		sp := loadFlightsPipeline(b, flights3m)
		pipe.splits = &sp
	}
	return pipe.splits
}

// qualityParams returns the gbdt parameters and the seed of
// configs/flights-quality.yaml, after checking that its data, split,
// label and features are configs/flights.yaml's, so that it is the same
// task on the same inputs.
func qualityParams(tb testing.TB) (map[string]any, uint64) {
	tb.Helper()
	q, err := config.Load(qualityConfig)
	if err != nil {
		tb.Fatal(err)
	}
	d, err := config.Load(flightsConfig)
	if err != nil {
		tb.Fatal(err)
	}
	same := func(a, b any) bool { return reflect.DeepEqual(a, b) }
	if !same(q.Data, d.Data) || !same(q.Schema, d.Schema) || !same(q.Label, d.Label) || !same(q.Split, d.Split) || !same(q.Features, d.Features) || q.Seed != d.Seed {
		tb.Fatalf("%s: data, schema, label, split, features and seed must be those of %s", qualityConfig, flightsConfig)
	}
	for _, m := range q.Models {
		if m.Name == gbdt.Name && len(m.Grid) == 0 {
			params := maps.Clone(m.Params)
			if s := os.Getenv("MLPIPE_BENCH_PARAMS"); s != "" {
				if err := json.Unmarshal([]byte(s), &params); err != nil {
					tb.Fatalf("MLPIPE_BENCH_PARAMS: %v", err)
				}
			}
			return params, q.Seed
		}
	}
	tb.Fatalf("%s: no gbdt model without a grid", qualityConfig)
	return nil, 0
}

// configTrainer returns the trainer of the first gbdt model of the config
// at path, with the parameters set over its own: the flights benchmarks
// fit what the shipped configs fit (gbdt's defaults are chosen for smaller
// data; doc.go). MLPIPE_BENCH_PARAMS (JSON) sets parameters over both, to
// try other settings.
func configTrainer(tb testing.TB, path string, set map[string]any) train.Trainer {
	tb.Helper()
	cfg, err := config.Load(path)
	if err != nil {
		tb.Fatal(err)
	}
	for _, m := range cfg.Models {
		if m.Name != gbdt.Name {
			continue
		}
		params := maps.Clone(m.Params)
		if params == nil {
			params = map[string]any{}
		}
		maps.Copy(params, set)
		if s := os.Getenv("MLPIPE_BENCH_PARAMS"); s != "" {
			if err := json.Unmarshal([]byte(s), &params); err != nil {
				tb.Fatalf("MLPIPE_BENCH_PARAMS: %v", err)
			}
		}
		t, err := catalog.Trainer(gbdt.Name, params, 0)
		if err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		return t
	}
	tb.Fatalf("%s: no gbdt model", path)
	return nil
}

// BenchmarkFlightsQuality fits gbdt with the parameters of
// configs/flights-quality.yaml on the default config's feature matrix of
// the flights training split, with early stopping on May, and reports the
// fit time, the test ROC AUC and log loss, and the rounds kept and run.
//
// Environment, for scripts/bench/gbdt.sh:
//
//	MLPIPE_BENCH_EXPORT=DIR  first write the three splits' matrices and
//	                         labels to DIR as NumPy files (internal/npy) and
//	                         the columns to DIR/columns.json, for XGBoost
//	MLPIPE_BENCH_AT=T1,T2..  training times in seconds: write the test
//	                         ROC AUC of the model as trained up to each
//	MLPIPE_BENCH_TRACE=FILE  (as JSON) to FILE
//	MLPIPE_BENCH_PARAMS=JSON parameters to set over the config's, to try
//	                         other settings (BenchmarkRound255 too)
//	MLPIPE_BENCH_AT_ROUNDS=N1,N2,..  log the training time and test ROC
//	                         AUC after each of these rounds (up to the
//	                         round kept)
//
// The process's peak RSS is issue 17's "flights fit" figure
// (scripts/bench/gbdt.sh): the training split is binned as it is
// transformed (qualitySplits), the float matrix never held whole, and
// fit-s and the trace's times count that binning, which a fit on floats
// does itself.
func BenchmarkFlightsQuality(b *testing.B) {
	params, seed := qualityParams(b)
	var start time.Time
	var binning time.Duration
	var elapsed []float64   // training time at the end of each round
	var validLoss []float64 // the validation loss after each round
	progress := func(_ int, _, v float64) {
		elapsed = append(elapsed, (time.Since(start) + binning).Seconds())
		validLoss = append(validLoss, v)
	}
	tr, err := catalog.WithProgress(gbdt.Name, params, seed, progress)
	if err != nil {
		b.Fatal(err)
	}
	g, ok := tr.(*gbdt.Trainer)
	if !ok {
		b.Fatalf("%T is not a *gbdt.Trainer", tr)
	}
	sp, binning := qualitySplits(b, flights3m, g, os.Getenv("MLPIPE_BENCH_EXPORT"))
	var m *gbdt.Model
	for b.Loop() {
		elapsed, validLoss = elapsed[:0], validLoss[:0]
		start = time.Now()
		cpu := cpuSeconds()
		fitted, err := tr.Fit(context.Background(), sp.train, sp.valid)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric((time.Since(start) + binning).Seconds(), "fit-s")
		b.ReportMetric(cpuSeconds()-cpu, "fit-cpu-s")
		m = fitted.(*gbdt.Model)
	}
	// The validation loss of the round kept: what a setting is chosen by
	// (doc.go), where the test figures below are only reported.
	b.ReportMetric(validLoss[m.BestRound], "valid-logloss")
	p := m.Predict(sp.test.X)
	b.ReportMetric(flightstest.AUC(p, sp.test.Y), "test-AUC")
	b.ReportMetric(logLoss(p, sp.test.Y), "test-logloss")
	b.ReportMetric(float64(m.BestRound+1), "rounds")
	b.ReportMetric(float64(len(elapsed)), "rounds-run")
	if err := writeTrace(m, elapsed, sp.test); err != nil {
		b.Fatal(err)
	}
	if at := os.Getenv("MLPIPE_BENCH_AT_ROUNDS"); at != "" {
		for _, f := range strings.Split(at, ",") {
			n, err := strconv.Atoi(f)
			if err != nil || n < 1 {
				b.Fatalf("MLPIPE_BENCH_AT_ROUNDS: %q is not a number of rounds", f)
			}
			if n > len(elapsed) {
				break
			}
			tm := &gbdt.Model{Classes: m.Classes, Columns: m.Columns, Base: m.Base, Trees: m.Trees[:min(n, m.BestRound+1)*m.Outputs()], Params: m.Params}
			b.Logf("round %d: %.1f s, test ROC AUC %.5f", n, elapsed[n-1], flightstest.AUC(tm.Predict(sp.test.X), sp.test.Y))
		}
	}
}

// writeTrace writes, for each time of MLPIPE_BENCH_AT, the rounds trained
// by then and the test ROC AUC of the model of those rounds (the fitted
// model once training had ended), to MLPIPE_BENCH_TRACE.
func writeTrace(m *gbdt.Model, elapsed []float64, test *train.Dataset) error {
	path, at := os.Getenv("MLPIPE_BENCH_TRACE"), os.Getenv("MLPIPE_BENCH_AT")
	if path == "" || at == "" {
		return nil
	}
	type point struct {
		S       float64  `json:"s"`
		Rounds  int      `json:"rounds"`
		TestAUC *float64 `json:"test_auc"`
	}
	var out struct {
		At []point `json:"at"`
	}
	for _, f := range strings.Split(at, ",") {
		t, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return fmt.Errorf("MLPIPE_BENCH_AT: %w", err)
		}
		n := 0
		for n < len(elapsed) && elapsed[n] <= t {
			n++
		}
		pt := point{S: t, Rounds: n}
		if n > 0 {
			if n == len(elapsed) { // training had ended: the model it kept
				n = m.BestRound + 1
			}
			tm := &gbdt.Model{Classes: m.Classes, Columns: m.Columns, Base: m.Base, Trees: m.Trees[:n*m.Outputs()], Params: m.Params}
			auc := flightstest.AUC(tm.Predict(test.X), test.Y)
			pt.Rounds, pt.TestAUC = n, &auc
		}
		out.At = append(out.At, pt)
	}
	data, err := json.MarshalIndent(out, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// logLoss is the mean binary log loss of probabilities p for labels y,
// with p clipped to [1e-15, 1-1e-15] as scripts/bench/xgb_frontier.py does.
func logLoss(p, y []float64) float64 {
	var s float64
	for i, v := range p {
		v = min(max(v, 1e-15), 1-1e-15)
		if y[i] == 1 {
			s -= math.Log(v)
		} else {
			s -= math.Log(1 - v)
		}
	}
	return s / float64(len(p))
}

// BenchmarkRound255 boosts rounds of 255-leaf trees on the flights
// training split (the default config's features) with the other
// parameters of configs/flights-quality.yaml, validation on May and no
// early stopping, and reports the wall and CPU seconds per round after
// the first (binning, before the first round, is not counted). ROUNDS
// sets the rounds (default 50).
func BenchmarkRound255(b *testing.B) {
	sp := pipelineSplits(b)
	params, seed := qualityParams(b)
	rounds := 50
	if s := os.Getenv("ROUNDS"); s != "" {
		var err error
		if rounds, err = strconv.Atoi(s); err != nil || rounds < 2 {
			b.Fatalf("ROUNDS=%q: want a number of rounds above 1", s)
		}
	}
	params = maps.Clone(params)
	params["rounds"], params["max_leaves"], params["early_stopping_rounds"] = rounds, 255, -1
	var first, last time.Time
	var cpu0, cpu1 float64
	progress := func(round int, _, _ float64) {
		if round == 0 {
			first, cpu0 = time.Now(), cpuSeconds()
		}
		last, cpu1 = time.Now(), cpuSeconds()
	}
	tr, err := catalog.WithProgress(gbdt.Name, params, seed, progress)
	if err != nil {
		b.Fatal(err)
	}
	var wall, cpu float64
	for b.Loop() {
		if _, err := tr.Fit(context.Background(), sp.train, sp.valid); err != nil {
			b.Fatal(err)
		}
		wall += last.Sub(first).Seconds()
		cpu += cpu1 - cpu0
	}
	b.ReportMetric(wall/float64(b.N*(rounds-1)), "s/round")
	b.ReportMetric(cpu/float64(b.N*(rounds-1)), "cpu-s/round")
}

// cpuSeconds is the user and system CPU time of the process so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// qualitySplits is loadFlightsPipeline for a fit of tr in the least
// memory: features.FitEncoder fits the pipeline (Fit's, exactly), the
// training split is transformed and binned a range at a time
// (binRanges), and each raw table is dropped once transformed. When
// export is not "", the three splits' matrices and labels are written
// there as exportSplits writes them, the training matrix a range at a
// time.
func qualitySplits(b *testing.B, path string, tr *gbdt.Trainer, export string) (*flightsSplits, time.Duration) {
	if _, err := os.Stat(path); err != nil {
		b.Skipf("full dataset not available: %v", err)
	}
	raw := flightstest.Load(b, path)
	defer raw.Release()
	pipe, enc, err := features.FitEncoder(raw.Train, raw.YTrain, raw.Config.Features, 1)
	if err != nil {
		b.Fatal(err)
	}
	sp := &flightsSplits{valid: transformed(b, pipe, raw.Valid, raw.YValid), test: transformed(b, pipe, raw.Test, raw.YTest)}
	n := int(raw.Train.NumRows())
	sp.train = &train.Dataset{X: &features.Matrix{Rows: n, Cols: pipe.Columns}, Y: raw.YTrain, Classes: 2}
	var each func(int, *features.Matrix)
	var w *npy.Writer
	if export != "" {
		if err := exportSplits(export, &flightsSplits{train: &train.Dataset{X: &features.Matrix{Cols: pipe.Columns}, Y: raw.YTrain}, valid: sp.valid, test: sp.test}); err != nil {
			b.Fatal(err)
		}
		if w, err = npy.Create(filepath.Join(export, "train-x.npy"), n, len(pipe.Columns)); err != nil {
			b.Fatal(err)
		}
		each = func(first int, x *features.Matrix) {
			if err := w.WriteRows(first, x.Data); err != nil {
				b.Fatal(err)
			}
		}
	}
	bins, binning := binRanges(b, raw.Train, pipe.Columns, tr, enc.Transform, enc.TransformRows, each)
	if w != nil {
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	sp.train.Prebinned = bins
	return sp, binning
}

// exportSplits writes the matrices and labels of the three splits to dir
// as NumPy files (train-x.npy, train-y.npy, ...) and their columns to
// dir/columns.json. A split whose matrix is not held (Data nil) gets its
// labels only: the caller writes its matrix a range at a time.
func exportSplits(dir string, sp *flightsSplits) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, s := range []struct {
		name string
		ds   *train.Dataset
	}{{"train", sp.train}, {"valid", sp.valid}, {"test", sp.test}} {
		if s.ds.X.Data != nil { // else the caller writes it a range at a time
			if err := npy.Write(filepath.Join(dir, s.name+"-x.npy"), s.ds.X.Rows, s.ds.X.Data); err != nil {
				return err
			}
		}
		if err := npy.Write(filepath.Join(dir, s.name+"-y.npy"), len(s.ds.Y), [][]float64{s.ds.Y}); err != nil {
			return err
		}
	}
	cols, err := json.Marshal(sp.train.X.Cols)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "columns.json"), cols, 0o644)
}

// TestQualityConfig: configs/flights-quality.yaml is the default task
// with valid gbdt parameters.
func TestQualityConfig(t *testing.T) {
	params, _ := qualityParams(t)
	if err := catalog.CheckParams(gbdt.Name, params); err != nil {
		t.Fatal(err)
	}
}
