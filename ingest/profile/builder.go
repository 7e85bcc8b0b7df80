package profile

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"gonum.org/v1/gonum/stat"
)

// errSpent is the error of a Builder used after Profile.
var errSpent = errors.New("the builder has already given its profile")

// Builder computes a table's Profile from its rows given a part at a
// time (Add), so that the table need not be held whole. Profile then
// gives what Table gives on the parts put end to end, bit for bit,
// however the rows were cut: everything order-dependent (the mean and
// standard deviation's sums, the quantiles, the histogram, the top
// categories) is computed from the sorted values or the counts at the
// end, never per part. A Builder is not safe for concurrent use.
type Builder struct {
	opts  Options
	rows  int64
	cols  []columnBuilder
	spent bool
}

// columnBuilder holds what one column's statistics need: its counts,
// and either its finite numeric values (as float64, in row order) or
// its categories' counts.
type columnBuilder struct {
	field   arrow.Field
	len     int64
	nulls   int64
	numeric bool
	xs      []float64
	nan     int64
	// A string or bool column's categories: category k is cats[k],
	// counted counts[k] times, and index[cats[k]] is k (nil otherwise).
	index  map[string]int
	cats   []string
	counts []int64
}

// NewBuilder returns a Builder for tables of schema, with opts as Table
// takes them (nil for the defaults).
func NewBuilder(schema *arrow.Schema, opts *Options) *Builder {
	b := &Builder{opts: withDefaults(opts), cols: make([]columnBuilder, schema.NumFields())}
	for j := range b.cols {
		b.cols[j] = newColumnBuilder(schema.Field(j))
	}
	return b
}

// withDefaults returns opts with each unset field at its default.
func withDefaults(opts *Options) Options {
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
	if o.Parallelism <= 0 {
		o.Parallelism = runtime.GOMAXPROCS(0)
	}
	return o
}

func newColumnBuilder(f arrow.Field) columnBuilder {
	c := columnBuilder{field: f}
	switch f.Type.ID() {
	case arrow.INT64, arrow.FLOAT64, arrow.TIMESTAMP:
		c.numeric = true
	case arrow.STRING, arrow.BOOL:
		c.index = map[string]int{}
	}
	return c
}

// Grow makes room for the values of rows more rows. A caller that knows
// how many rows will come (tables.Source.NumRows) then holds 8 bytes a
// row of each numeric column and no more: no spare capacity, and never
// a growing slice's old copy beside its new one. It changes nothing in
// the profile.
func (b *Builder) Grow(rows int) {
	for j := range b.cols {
		if b.cols[j].numeric {
			b.cols[j].xs = slices.Grow(b.cols[j].xs, rows)
		}
	}
}

// Add takes the next rows, part, whose columns must have the types of
// the builder's schema (the names are the schema's). It keeps nothing
// of part's memory: the caller may release part when Add returns. It
// reads on the caller's goroutine: copying the values and counting the
// categories is cheap beside the sorts that Profile runs in parallel,
// and reading a part's columns in parallel showed no gain that this
// 2-core machine, shared, could measure (BenchmarkBuilderAdd).
func (b *Builder) Add(part arrow.Table) error {
	const op = "profile: add"
	if b.spent {
		return fmt.Errorf("%s: %w", op, errSpent)
	}
	if int(part.NumCols()) != len(b.cols) {
		return fmt.Errorf("%s: %d columns, want %d", op, part.NumCols(), len(b.cols))
	}
	for j := range b.cols {
		if got, want := part.Column(j).DataType(), b.cols[j].field.Type; !arrow.TypeEqual(got, want) {
			return fmt.Errorf("%s: column %d (%q) is %s, want %s", op, j, b.cols[j].field.Name, got, want)
		}
	}
	b.rows += part.NumRows()
	for j := range b.cols {
		b.cols[j].add(part.Column(j).Data())
	}
	return nil
}

// Profile returns the profile of the rows added, computing each column's
// statistics in parallel (up to Options.Parallelism). It sorts the
// values in place and drops them, so the builder is spent: a later Add
// or Profile is an error. Otherwise it only fails if ctx is cancelled.
func (b *Builder) Profile(ctx context.Context) (*Profile, error) {
	const op = "profile"
	if b.spent {
		return nil, fmt.Errorf("%s: %w", op, errSpent)
	}
	b.spent = true
	p := &Profile{Rows: b.rows, Columns: make([]ColumnProfile, len(b.cols))}
	err := eachColumn(ctx, len(b.cols), b.opts.Parallelism, func(j int) {
		p.Columns[j] = b.cols[j].profile(b.opts)
		b.cols[j] = columnBuilder{} // the values are no longer needed
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// add takes the next values of the column.
func (c *columnBuilder) add(col *arrow.Chunked) {
	c.len += int64(col.Len())
	c.nulls += int64(col.NullN())
	if c.numeric {
		// Room for every non-null value at once; append still grows the
		// slice geometrically when parts come a few rows at a time.
		c.xs = slices.Grow(c.xs, col.Len()-col.NullN())
	}
	for _, chunk := range col.Chunks() {
		switch a := chunk.(type) {
		case *array.Int64:
			for i, v := range a.Int64Values() {
				if a.IsValid(i) {
					c.xs = append(c.xs, float64(v))
				}
			}
		case *array.Float64:
			for i, v := range a.Float64Values() {
				if !a.IsValid(i) {
					continue
				}
				if math.IsNaN(v) || math.IsInf(v, 0) {
					c.nan++
					continue
				}
				c.xs = append(c.xs, v)
			}
		case *array.Timestamp:
			unit := a.DataType().(*arrow.TimestampType).Unit
			div := float64(unit.Multiplier()) / float64(time.Second)
			for i, v := range a.TimestampValues() {
				if a.IsValid(i) {
					c.xs = append(c.xs, float64(v)*div)
				}
			}
		case *array.String:
			for i := 0; i < a.Len(); i++ {
				if a.IsValid(i) {
					c.count(a.Value(i))
				}
			}
		case *array.Boolean:
			for i := 0; i < a.Len(); i++ {
				if a.IsValid(i) {
					if a.Value(i) {
						c.count("true")
					} else {
						c.count("false")
					}
				}
			}
		}
	}
}

// count counts one category. An Arrow string is a view of the array's
// buffer, which the caller may release, so a new category is copied.
// (The counts are not the map's values because assigning to a string
// key stores the key given again: the view would replace the copy.)
func (c *columnBuilder) count(v string) {
	if k, ok := c.index[v]; ok {
		c.counts[k]++
		return
	}
	v = strings.Clone(v)
	c.index[v] = len(c.cats)
	c.cats = append(c.cats, v)
	c.counts = append(c.counts, 1)
}

// profile computes the column's statistics from what add kept.
func (c *columnBuilder) profile(o Options) ColumnProfile {
	cp := ColumnProfile{Name: c.field.Name, Type: typeName(c.field.Type), Nulls: c.nulls, Count: c.len - c.nulls}
	switch {
	case c.numeric:
		cp.Numeric = c.numericProfile(o)
	case c.index != nil:
		cp.Categorical = categoricalProfile(c.cats, c.counts, o)
	}
	return cp
}

// numericProfile sorts the values in place and computes their
// statistics: all from the sorted values, so that they do not depend on
// how the rows came.
func (c *columnBuilder) numericProfile(o Options) *NumericProfile {
	xs := c.xs
	np := &NumericProfile{NaN: c.nan, Quantiles: []Quantile{}, Histogram: Histogram{Edges: []float64{}, Counts: []int64{}}}
	if len(xs) == 0 {
		return np
	}
	slices.Sort(xs)
	np.Min, np.Max = xs[0], xs[len(xs)-1]
	np.Mean, np.Std = meanStd(xs)
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
	if c.field.Type.ID() == arrow.TIMESTAMP {
		np.MinTime = wallClock(np.Min)
		np.MaxTime = wallClock(np.Max)
	}
	return np
}

// meanStd returns the mean and sample standard deviation of xs, sorted.
// Values near the float64 limit (beyond about 1e154) overflow the sum of
// squares, and a profile with an infinite or NaN statistic cannot be
// written as JSON: then the statistics are taken of the values scaled to
// at most 1 in magnitude and scaled back.
func meanStd(xs []float64) (mean, std float64) {
	mean, std = stat.MeanStdDev(xs, nil)
	if !math.IsInf(mean, 0) && !math.IsNaN(mean) && !math.IsInf(std, 0) && !math.IsNaN(std) {
		return mean, std
	}
	scale := max(math.Abs(xs[0]), math.Abs(xs[len(xs)-1]))
	ys := make([]float64, len(xs))
	for i, x := range xs {
		ys[i] = x / scale
	}
	mean, std = stat.MeanStdDev(ys, nil)
	// A few values of both signs near the limit (-1.7e308, 1.7e308) have
	// a spread beyond it: the largest float64 stands for it.
	return mean * scale, min(std*scale, math.MaxFloat64)
}
