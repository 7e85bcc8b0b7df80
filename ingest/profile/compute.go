package profile

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"golang.org/x/sync/errgroup"
)

// Defaults for Options.
const (
	DefaultHistogramBins = 20
	DefaultMaxCategories = 1000
)

// Options tune Table and a Builder. The zero value means the defaults.
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
// across columns. It is what a Builder gives on tbl's rows, by the same
// code, but each column's values are read, sorted and dropped by one
// goroutine, so at most Options.Parallelism columns' values are held at
// once (a Builder holds every numeric column's until Profile). It only
// fails if ctx is cancelled.
func Table(ctx context.Context, tbl arrow.Table, opts *Options) (*Profile, error) {
	o := withDefaults(opts)
	p := &Profile{Rows: tbl.NumRows(), Columns: make([]ColumnProfile, tbl.NumCols())}
	err := eachColumn(ctx, len(p.Columns), o.Parallelism, func(j int) {
		c := newColumnBuilder(tbl.Schema().Field(j))
		c.add(tbl.Column(j).Data())
		p.Columns[j] = c.profile(o)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// eachColumn calls fn for columns 0 to n-1, up to workers at once. It
// stops starting columns, and returns ctx's error, once ctx is done.
func eachColumn(ctx context.Context, n, workers int, fn func(j int)) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for j := range n {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			fn(j)
			return nil
		})
	}
	return g.Wait()
}

// histogram counts sorted values into bins equal-width bins over [lo, hi].
func histogram(sorted []float64, lo, hi float64, bins int) Histogram {
	if hi == lo {
		return Histogram{Edges: []float64{lo, hi}, Counts: []int64{int64(len(sorted))}}
	}
	h := Histogram{Edges: make([]float64, bins+1), Counts: make([]int64, bins)}
	width := (hi - lo) / float64(bins)
	for i := range h.Edges {
		if math.IsInf(width, 0) {
			// The span overflows (values near ±1.8e308 of both signs):
			// the edge is a weighted mean of lo and hi, which stays
			// between them. Ordinary data never comes here.
			t := float64(i) / float64(bins)
			h.Edges[i] = lo*(1-t) + hi*t
		} else {
			h.Edges[i] = lo + float64(i)*width
		}
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

// categoricalProfile orders the categories cats, counted counts, by
// count (ties by value) and keeps the first o.MaxCategories.
func categoricalProfile(cats []string, counts []int64, o Options) *CategoricalProfile {
	var total int64
	freqs := make([]Frequency, len(cats))
	for k, v := range cats {
		freqs[k] = Frequency{Value: v, Count: counts[k]}
		total += counts[k]
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
	c := newColumnBuilder(tbl.Schema().Field(j[0]))
	c.add(tbl.Column(j[0]).Data())
	cp := c.profile(withDefaults(nil))
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
