package ingest

import (
	"fmt"
	"math"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
)

// target reads the values of a regression's label column (NaN where
// null). The column must be int64 or float64.
func (l LabelSpec) target(col *arrow.Chunked) (*Labels, error) {
	out := &Labels{Values: make([]float64, 0, col.Len())}
	for _, chunk := range col.Chunks() {
		switch a := chunk.(type) {
		case *array.Int64:
			for i, v := range a.Int64Values() {
				out.Values = append(out.Values, nullOr(a, i, float64(v)))
			}
		case *array.Float64:
			for i, v := range a.Float64Values() {
				out.Values = append(out.Values, nullOr(a, i, v))
			}
		default:
			return nil, fmt.Errorf("label: column %q is %s; a regression target must be a number (int64 or float64)", l.Column, chunk.DataType())
		}
	}
	return out, nil
}

func nullOr(a arrow.Array, i int, v float64) float64 {
	if a.IsNull(i) {
		return math.NaN()
	}
	return v
}

// checkTarget adds the issues of a regression's label column that the
// column checks do not see: a target that never varies (nothing to
// learn), and, with the log1p transform, a target at or below -1 (whose
// log(1+y) is undefined). NaN, ±Inf and values outside the schema's
// range are the column checks' errors; a null target is the label
// policy's (label.missing, in Validate), as for any label.
func checkTarget(ds *Dataset, j int, label LabelSpec, r *Report) {
	col := ds.Table.Column(j).Data()
	lab, err := label.target(col)
	if err != nil {
		r.add(Issue{Severity: Error, Code: CodeLabel, Column: label.Column, RowGroup: -1, Message: err.Error()})
		return
	}
	first, varies := math.NaN(), false
	var low counter
	for i, y := range lab.Values {
		if math.IsNaN(y) {
			continue // a null is the label policy's (Validate), NaN the column checks'
		}
		if first != first {
			first = y
		} else if y != first {
			varies = true
		}
		if label.Transform == TransformLog1p && y <= -1 {
			low.hit(int64(i), func() string { return fmt.Sprint(y) })
		}
	}
	v := &columnCheck{ds: ds, spec: ColumnSpec{Name: label.Column}, report: r}
	v.emit(&low, Error, CodeLabel, "target %s is at or below -1: label.transform log1p needs every target above -1")
	if first == first && !varies {
		r.add(Issue{Severity: Error, Code: CodeLabel, Column: label.Column, RowGroup: -1,
			Message: fmt.Sprintf("the regression target %q is constant (every row is %g): there is nothing to learn", label.Name, first)})
	}
}
