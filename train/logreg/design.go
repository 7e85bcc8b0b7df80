package logreg

import (
	"fmt"
	"math"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/train"
)

// design is a training set in the form the objective reads. The
// parameter vector theta holds, for each feature f and output k, the
// weight theta[f*outputs+k]: feature 0 is the intercept, then each column
// of the matrix in order takes one feature (numeric) or Card features
// (categorical, one per code). The weights of one feature for all outputs
// are contiguous, so a row touches few cache lines.
type design struct {
	rows     int
	outputs  int // 1 for a binary task (the logit of class 1), else the number of classes
	features int // 1 (the intercept) + the widths of all columns
	// first[j] is the first feature of matrix column j.
	first       []int
	numeric     []numericColumn
	categorical []categoricalColumn
	y           []int32
	// counts[c] is the number of rows of class c.
	counts []int
}

// numericColumn is a numeric column with NaN replaced by 0 (the mean of a
// standardised column).
type numericColumn struct {
	feature int
	x       []float64
}

// categoricalColumn is a categorical column as codes; code c is feature
// first+c.
type categoricalColumn struct {
	first int
	card  int
	codes []int32
}

// width is the number of features a column takes.
func width(c features.ColumnInfo) int {
	if c.Kind == features.Categorical {
		return c.Card
	}
	return 1
}

// checkColumns reports whether cols can be read by the model: every column
// numeric or categorical with at least one code.
func checkColumns(cols []features.ColumnInfo) error {
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

// newDesign checks d (already validated by Dataset.Validate) and converts
// it. It copies a numeric column only when it holds NaN, and never
// expands a categorical column.
func newDesign(d *train.Dataset) (*design, error) {
	x := d.X
	if err := checkColumns(x.Cols); err != nil {
		return nil, err
	}
	if len(x.Data) != len(x.Cols) {
		return nil, fmt.Errorf("matrix has %d data columns for %d column infos", len(x.Data), len(x.Cols))
	}
	out := &design{rows: x.Rows, outputs: d.Classes, first: make([]int, len(x.Cols))}
	if d.Classes == 2 {
		out.outputs = 1
	}
	f := 1 // feature 0 is the intercept
	for j, info := range x.Cols {
		col := x.Data[j]
		if len(col) != x.Rows {
			return nil, fmt.Errorf("column %d (%s): %d values for %d rows", j, info.Name, len(col), x.Rows)
		}
		out.first[j] = f
		if info.Kind == features.Numeric {
			clean, err := zeroNaN(col)
			if err != nil {
				return nil, fmt.Errorf("column %d (%s): %w", j, info.Name, err)
			}
			out.numeric = append(out.numeric, numericColumn{feature: f, x: clean})
		} else {
			codes, err := toCodes(col, info.Card)
			if err != nil {
				return nil, fmt.Errorf("column %d (%s): %w", j, info.Name, err)
			}
			out.categorical = append(out.categorical, categoricalColumn{first: f, card: info.Card, codes: codes})
		}
		f += width(info)
	}
	out.features = f
	out.y = make([]int32, len(d.Y))
	out.counts = make([]int, d.Classes)
	for i, y := range d.Y {
		out.y[i] = int32(y) // Validate checked that y is a class index
		out.counts[int(y)]++
	}
	return out, nil
}

// zeroNaN returns col with NaN (missing) replaced by 0, copying it only if
// needed. Infinite values are an error: they have no finite log loss.
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

// classesPresent is the number of classes with at least one row.
func (d *design) classesPresent() int {
	n := 0
	for _, c := range d.counts {
		if c > 0 {
			n++
		}
	}
	return n
}
