package profile

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"golang.org/x/sync/errgroup"
	"gonum.org/v1/gonum/stat"
)

// Defaults for Options.
const (
	DefaultHistogramBins = 20
	DefaultMaxCategories = 1000
)

// Options tune Table. The zero value means the defaults.
type Options struct {
	// HistogramBins is the number of equal-width bins (default 20).
	HistogramBins int
	// MaxCategories caps the categories kept per column (default 1000;
	// the flights data has about 229 airports).
	MaxCategories int
	// Parallelism bounds how many columns are profiled at once (default
	// GOMAXPROCS).
	Parallelism int
}

// Table computes the statistics of every column of tbl, in parallel
// across columns. It only fails if ctx is cancelled.
func Table(ctx context.Context, tbl arrow.Table, opts *Options) (*Profile, error) {
	o := Options{}
	if opts != nil {
		o = *opts
	}
	if o.HistogramBins <= 0 {
		o.HistogramBins = DefaultHistogramBins
	}
	if o.MaxCategories <= 0 {
		o.MaxCategories = DefaultMaxCategories
	}
	p := &Profile{Rows: tbl.NumRows(), Columns: make([]ColumnProfile, tbl.NumCols())}
	g, gctx := errgroup.WithContext(ctx)
	workers := o.Parallelism
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	g.SetLimit(workers)
	for j := 0; j < int(tbl.NumCols()); j++ {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			p.Columns[j] = profileColumn(tbl.Schema().Field(j), tbl.Column(j).Data(), o)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return p, nil
}

func profileColumn(f arrow.Field, col *arrow.Chunked, o Options) ColumnProfile {
	cp := ColumnProfile{Name: f.Name, Type: typeName(f.Type), Nulls: int64(col.NullN())}
	cp.Count = int64(col.Len()) - cp.Nulls
	switch f.Type.ID() {
	case arrow.INT64, arrow.FLOAT64, arrow.TIMESTAMP:
		cp.Numeric = profileNumeric(col, o)
	case arrow.STRING, arrow.BOOL:
		cp.Categorical = profileCategorical(col, o)
	}
	return cp
}

// numericValues copies the finite non-null values of a numeric column as
// float64 (timestamps in seconds) and counts NaN/Inf.
func numericValues(col *arrow.Chunked) (xs []float64, nan int64) {
	xs = make([]float64, 0, col.Len()-col.NullN())
	for _, chunk := range col.Chunks() {
		switch a := chunk.(type) {
		case *array.Int64:
			for i, v := range a.Int64Values() {
				if a.IsValid(i) {
					xs = append(xs, float64(v))
				}
			}
		case *array.Float64:
			for i, v := range a.Float64Values() {
				if !a.IsValid(i) {
					continue
				}
				if math.IsNaN(v) || math.IsInf(v, 0) {
					nan++
					continue
				}
				xs = append(xs, v)
			}
		case *array.Timestamp:
			unit := a.DataType().(*arrow.TimestampType).Unit
			div := float64(unit.Multiplier()) / float64(time.Second)
			for i, v := range a.TimestampValues() {
				if a.IsValid(i) {
					xs = append(xs, float64(v)*div)
				}
			}
		}
	}
	return xs, nan
}

func profileNumeric(col *arrow.Chunked, o Options) *NumericProfile {
	xs, nan := numericValues(col)
	np := &NumericProfile{NaN: nan, Quantiles: []Quantile{}, Histogram: Histogram{Edges: []float64{}, Counts: []int64{}}}
	if len(xs) == 0 {
		return np
	}
	slices.Sort(xs)
	np.Min, np.Max = xs[0], xs[len(xs)-1]
	np.Mean, np.Std = stat.MeanStdDev(xs, nil)
	if len(xs) < 2 {
		np.Std = 0
	}
	np.Distinct = 1
	for i := 1; i < len(xs); i++ {
		if xs[i] != xs[i-1] {
			np.Distinct++
		}
	}
	for _, p := range QuantileProbs {
		np.Quantiles = append(np.Quantiles, Quantile{P: p, Value: stat.Quantile(p, stat.Empirical, xs, nil)})
	}
	np.Histogram = histogram(xs, np.Min, np.Max, o.HistogramBins)
	if _, ok := col.DataType().(*arrow.TimestampType); ok {
		np.MinTime = wallClock(np.Min)
		np.MaxTime = wallClock(np.Max)
	}
	return np
}

// histogram counts sorted values into bins equal-width bins over [lo, hi].
func histogram(sorted []float64, lo, hi float64, bins int) Histogram {
	if hi == lo {
		return Histogram{Edges: []float64{lo, hi}, Counts: []int64{int64(len(sorted))}}
	}
	h := Histogram{Edges: make([]float64, bins+1), Counts: make([]int64, bins)}
	width := (hi - lo) / float64(bins)
	for i := range h.Edges {
		h.Edges[i] = lo + float64(i)*width
	}
	h.Edges[bins] = hi
	// Values are sorted, so each bin is a run: find its end by search.
	start := 0
	for b := 0; b < bins; b++ {
		end := len(sorted)
		if b < bins-1 {
			edge := h.Edges[b+1]
			end = start + sort.SearchFloat64s(sorted[start:], edge)
			for end < len(sorted) && sorted[end] < edge {
				end++
			}
		}
		h.Counts[b] = int64(end - start)
		start = end
	}
	return h
}

func profileCategorical(col *arrow.Chunked, o Options) *CategoricalProfile {
	counts := map[string]int64{}
	var total int64
	for _, chunk := range col.Chunks() {
		switch a := chunk.(type) {
		case *array.String:
			for i := 0; i < a.Len(); i++ {
				if a.IsValid(i) {
					counts[a.Value(i)]++
				}
			}
		case *array.Boolean:
			for i := 0; i < a.Len(); i++ {
				if a.IsValid(i) {
					if a.Value(i) {
						counts["true"]++
					} else {
						counts["false"]++
					}
				}
			}
		}
	}
	freqs := make([]Frequency, 0, len(counts))
	for v, n := range counts {
		freqs = append(freqs, Frequency{Value: v, Count: n})
		total += n
	}
	sort.Slice(freqs, func(i, j int) bool {
		if freqs[i].Count != freqs[j].Count {
			return freqs[i].Count > freqs[j].Count
		}
		return freqs[i].Value < freqs[j].Value
	})
	cp := &CategoricalProfile{Distinct: int64(len(freqs)), Top: []Frequency{}}
	for i := range freqs {
		freqs[i].Share = float64(freqs[i].Count) / float64(total)
		if i < o.MaxCategories {
			cp.Top = append(cp.Top, freqs[i])
		} else {
			cp.OtherCount += freqs[i].Count
		}
	}
	if total > 0 {
		cp.OtherShare = float64(cp.OtherCount) / float64(total)
	}
	return cp
}

// wallClock formats seconds since 1970 as naive local time.
func wallClock(sec float64) string {
	whole := math.Floor(sec)
	return time.Unix(int64(whole), int64((sec-whole)*1e9)).UTC().Format("2006-01-02T15:04:05")
}

// ColumnOf profiles one column of tbl by name.
func ColumnOf(tbl arrow.Table, name string) (*ColumnProfile, error) {
	j := tbl.Schema().FieldIndices(name)
	if len(j) != 1 {
		return nil, fmt.Errorf("profile: column %q is not in the table", name)
	}
	cp := profileColumn(tbl.Schema().Field(j[0]), tbl.Column(j[0]).Data(), Options{HistogramBins: DefaultHistogramBins, MaxCategories: DefaultMaxCategories})
	return &cp, nil
}

// typeName is a column type's name in a profile: "string" for Arrow's
// utf8, else Arrow's name (ingest's contract names types the same way).
func typeName(dt arrow.DataType) string {
	if dt.ID() == arrow.STRING {
		return "string"
	}
	return dt.String()
}
