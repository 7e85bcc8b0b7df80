// Package flightstest holds what the model packages' flights tests and
// benchmarks share: reading plain Go slices out of the Arrow columns of
// the flights data, category codes by frequency, and ROC AUC.
//
// In: arrow.Tables from ingest.Load / ingest.Split. Out: []string,
// []int64 and code maps for the test-only feature encoders that stand in
// for features.Fit where a benchmark needs fixed raw inputs. It is for
// tests only.
package flightstest

import (
	"cmp"
	"math"
	"slices"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/mlpipe/mlpipe/evaluate"
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
