// Package onehot lays a feature matrix out as a linear model reads it:
// the sparse one-hot design that logistic regression (train/logreg) and
// ridge regression (train/ridge) share.
//
// In: a features.Matrix. Out: a Design of Features features: feature 0
// is the intercept (1 on every row); each numeric column of the matrix
// takes one feature (its value, NaN read as 0, the mean of a
// standardised column); each categorical column takes Card features, the
// indicators of its codes, kept as the codes themselves and never
// expanded.
package onehot

import (
	"fmt"
	"github.com/mlpipe/mlpipe/model"
	"math"

	"github.com/mlpipe/mlpipe/features"
)

// Design is a matrix in the form a linear model reads.
type Design struct {
	Rows int
	// Features is 1 (the intercept) + the widths of all columns.
	Features int
	// First[j] is the first feature of matrix column j.
	First       []int
	Numeric     []Numeric
	Categorical []Categorical
}

// Numeric is a numeric column with NaN replaced by 0.
type Numeric struct {
	Feature int
	X       []float64
}

// Categorical is a categorical column as codes; code c is feature
// First+c.
type Categorical struct {
	First int
	Card  int
	Codes []int32
}

// Width is the number of features a column takes.
func Width(c features.ColumnInfo) int {
	if c.Kind == features.Categorical {
		return c.Card
	}
	return 1
}

// CheckColumns reports whether cols can be read by a linear model: every
// column numeric or categorical with at least one code.
func CheckColumns(cols []features.ColumnInfo) error {
	for j, c := range cols {
		switch c.Kind {
		case features.Numeric:
		case features.Categorical:
			if c.Card < 1 {
				return fmt.Errorf("column %d (%s): categorical with %d codes", j, c.Name, c.Card)
			}
		default:
			return fmt.Errorf("column %d (%s): unsupported kind %v", j, c.Name, c.Kind)
		}
	}
	return nil
}

// New checks x and lays it out. It copies a numeric column only when it
// holds NaN, and never expands a categorical column. An infinite value or
// a categorical value that is not a code is an error naming the column
// and row.
func New(x *features.Matrix) (*Design, error) {
	if err := CheckColumns(x.Cols); err != nil {
		return nil, err
	}
	if len(x.Data) != len(x.Cols) {
		return nil, fmt.Errorf("matrix has %d data columns for %d column infos", len(x.Data), len(x.Cols))
	}
	out := &Design{Rows: x.Rows, First: make([]int, len(x.Cols))}
	f := 1 // feature 0 is the intercept
	for j, info := range x.Cols {
		col := x.Data[j]
		if len(col) != x.Rows {
			return nil, fmt.Errorf("column %d (%s): %d values for %d rows", j, info.Name, len(col), x.Rows)
		}
		out.First[j] = f
		if info.Kind == features.Numeric {
			clean, err := zeroNaN(col)
			if err != nil {
				return nil, fmt.Errorf("column %d (%s): %w", j, info.Name, err)
			}
			out.Numeric = append(out.Numeric, Numeric{Feature: f, X: clean})
		} else {
			codes, err := toCodes(col, info.Card)
			if err != nil {
				return nil, fmt.Errorf("column %d (%s): %w", j, info.Name, err)
			}
			out.Categorical = append(out.Categorical, Categorical{First: f, Card: info.Card, Codes: codes})
		}
		f += Width(info)
	}
	out.Features = f
	return out, nil
}

// zeroNaN returns col with NaN (missing) replaced by 0, copying it only if
// needed. Infinite values are an error: no linear model has a finite
// loss on them.
func zeroNaN(col []float64) ([]float64, error) {
	out, copied := col, false
	for i, v := range col {
		if math.IsInf(v, 0) {
			return nil, fmt.Errorf("row %d: infinite value", i)
		}
		if math.IsNaN(v) {
			if !copied {
				out, copied = append([]float64(nil), col...), true
			}
			out[i] = 0
		}
	}
	return out, nil
}

// toCodes converts a categorical column to codes, checking that each
// value is an integer in [0, card).
func toCodes(col []float64, card int) ([]int32, error) {
	codes := make([]int32, len(col))
	for i, v := range col {
		if !(v >= 0 && v < float64(card)) || v != math.Trunc(v) {
			return nil, fmt.Errorf("row %d: code %g is not an integer in [0, %d)", i, v, card)
		}
		codes[i] = int32(v)
	}
	return codes, nil
}

// Code maps a categorical value to a code in [0, card): itself if it is
// one, 0 (unknown) otherwise, as prediction reads it (model.Code).
func Code(v float64, card int) int { return model.Code(v, card) }

// ContributionSD returns, for each matrix column, the standard deviation
// over the design's rows of the column's contribution to a linear model's
// score: w·x for a numeric column (x read as the model reads it, NaN as
// 0), so |w|·sd(x), the standardised coefficient; the weight of the row's
// code for a categorical one. With several outputs (a K-class model) it
// is the root of the sum of the outputs' variances. weight(f, k) is the
// weight of feature f for output k. It is the importance the linear
// models report: in the units of the score, comparable across columns
// whatever their scale.
func (d *Design) ContributionSD(outputs int, weight func(f, k int) float64) []float64 {
	out := make([]float64, len(d.First))
	column := make(map[int]int, len(d.First)) // first feature → matrix column
	for j, f := range d.First {
		column[f] = j
	}
	n := float64(d.Rows)
	if d.Rows == 0 {
		return out
	}
	for _, c := range d.Numeric {
		var s, ss float64
		for _, x := range c.X {
			s += x
			ss += x * x
		}
		mean := s / n
		v := max(ss/n-mean*mean, 0)
		var w2 float64
		for k := range outputs {
			w := weight(c.Feature, k)
			w2 += w * w
		}
		out[column[c.Feature]] = math.Sqrt(v * w2)
	}
	for _, c := range d.Categorical {
		counts := make([]float64, c.Card)
		for _, code := range c.Codes {
			counts[code]++
		}
		var v float64
		for k := range outputs {
			var s, ss float64
			for code, m := range counts {
				w := weight(c.First+code, k)
				s += m * w
				ss += m * w * w
			}
			mean := s / n
			v += max(ss/n-mean*mean, 0)
		}
		out[column[c.First]] = math.Sqrt(v)
	}
	return out
}
