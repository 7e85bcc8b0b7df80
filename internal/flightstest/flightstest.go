// Package flightstest holds what the model packages' flights tests and
// benchmarks share: reading plain Go slices out of the Arrow columns of
// the flights data, category codes by frequency, and ROC AUC.
//
// In: a flights data file (Load) or arrow.Tables. Out: the default
// task's splits with labels, []string,
// []int64 and code maps for the test-only feature encoders that stand in
// for features.Fit where a benchmark needs fixed raw inputs. It is for
// tests only.
package flightstest

import (
	"cmp"
	"context"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/evaluate"
	"github.com/mlpipe/mlpipe/ingest"
)

func chunks(tbl arrow.Table, name string) []arrow.Array {
	return tbl.Column(tbl.Schema().FieldIndices(name)[0]).Data().Chunks()
}

// Strings returns a string column's values.
func Strings(tbl arrow.Table, name string) []string {
	out := make([]string, 0, tbl.NumRows())
	for _, c := range chunks(tbl, name) {
		a := c.(*array.String)
		for i := range a.Len() {
			out = append(out, a.Value(i))
		}
	}
	return out
}

// Int64s returns an int64 column's values.
func Int64s(tbl arrow.Table, name string) []int64 {
	out := make([]int64, 0, tbl.NumRows())
	for _, c := range chunks(tbl, name) {
		out = append(out, c.(*array.Int64).Int64Values()...)
	}
	return out
}

// Micros returns a timestamp[us] column's values: naive wall-clock
// times, to be read with time.UnixMicro(v).UTC().
func Micros(tbl arrow.Table, name string) []int64 {
	out := make([]int64, 0, tbl.NumRows())
	for _, c := range chunks(tbl, name) {
		for _, v := range c.(*array.Timestamp).TimestampValues() {
			out = append(out, int64(v))
		}
	}
	return out
}

// CodesByFrequency codes values by frequency: the most frequent gets 1
// (ties by value), and code 0 is left for unseen values. It returns the
// codes and the level names, "(unknown)" first.
func CodesByFrequency(values []string) (map[string]int, []string) {
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

// AUC is the ROC AUC of scores for binary labels y (evaluate.ROCAUC),
// or NaN when it is undefined (one class, bad scores).
func AUC(scores, y []float64) float64 {
	auc, err := evaluate.ROCAUC(y, scores)
	if err != nil {
		return math.NaN()
	}
	return auc
}

// Splits are the default task's three splits and their binary labels.
type Splits struct {
	Config                *config.Config
	Train, Valid, Test    arrow.Table
	YTrain, YValid, YTest []float64
}

// Release releases the three tables and drops them (nil), so that their
// memory can be reclaimed once encoded. It may be called more than once.
func (s *Splits) Release() {
	for _, t := range []*arrow.Table{&s.Train, &s.Valid, &s.Test} {
		if *t != nil {
			(*t).Release()
			*t = nil
		}
	}
}

// Load loads the flights data at path (the shipped file or a fixture)
// with configs/flights.yaml's schema, splits it by time and derives the
// label of each split. It skips the test when the file is missing. The
// tables are released when the test ends, or earlier by the caller's
// Release (a benchmark drops them once encoded); the loaded table is
// released at once, as the splits hold what they need of it.
func Load(tb testing.TB, path string) *Splits {
	tb.Helper()
	if _, err := os.Stat(path); err != nil {
		tb.Skipf("no data: %v", err)
	}
	_, self, _, _ := runtime.Caller(0)
	cfg, err := config.Load(filepath.Join(filepath.Dir(self), "..", "..", "configs", "flights.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	ds, err := ingest.Load(ctx, ingest.Source{Path: path}, cfg.Schema, nil)
	if err != nil {
		tb.Fatal(err)
	}
	sp, err := ingest.Split(ctx, ds.Table, cfg.Split)
	if err != nil {
		tb.Fatal(err)
	}
	ds.Release()
	labels := func(tbl arrow.Table) []float64 {
		l, err := cfg.Label.Derive(tbl)
		if err != nil {
			tb.Fatal(err)
		}
		y := make([]float64, len(l.Y))
		for i, v := range l.Y {
			y[i] = float64(v)
		}
		return y
	}
	out := &Splits{Config: cfg, Train: sp.Train, Valid: sp.Valid, Test: sp.Test}
	tb.Cleanup(out.Release)
	out.YTrain, out.YValid, out.YTest = labels(sp.Train), labels(sp.Valid), labels(sp.Test)
	return out
}
