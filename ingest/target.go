package ingest

import (
	"fmt"
	"math"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/mlpipe/mlpipe/evaluate"
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
			return nil, l.notNumber(chunk.DataType())
		}
	}
	return out, nil
}

// notNumber is the error for a regression target of type dt.
func (l LabelSpec) notNumber(dt arrow.DataType) error {
	return fmt.Errorf("label: column %q is %s; a regression target must be a number (int64 or float64)", l.Column, dt)
}

func nullOr(a arrow.Array, i int, v float64) float64 {
	if a.IsNull(i) {
		return math.NaN()
	}
	return v
}

// targetCheck finds the problems of a regression's label column that
// the column checks do not see: a target that never varies (nothing to
// learn), a target beyond ±evaluate.MaxTarget, and, with the log1p
// transform, a target at or below -1 (whose log(1+y) is undefined). NaN,
// ±Inf and values outside the schema's range are the column checks'
// errors; a null target is the label policy's (label.missing, in the
// Validator), as for any label. It sees the column an array at a time
// and keeps only the first target, whether another differs, and the
// count and first of those at or below -1 or beyond the bound.
type targetCheck struct {
	label  LabelSpec
	err    error   // the column is not a number
	first  float64 // the first target (NaN until one is seen)
	varies bool    // a target differs from first
	low    counter // targets at or below -1, under log1p
	huge   counter // targets beyond ±evaluate.MaxTarget
}

// add checks one array of the column, whose row k is row off+k of what
// at names.
func (t *targetCheck) add(a arrow.Array, off int64, at func(int64) Issue) {
	if t.err != nil {
		return
	}
	check := func(i int, y float64) {
		if t.first != t.first {
			t.first = y
		} else if y != t.first {
			t.varies = true
		}
		if math.Abs(y) > evaluate.MaxTarget && !math.IsInf(y, 0) { // ±Inf is the column checks'
			t.huge.hit(at, off+int64(i), func() string { return fmt.Sprint(y) })
		}
		if t.label.Transform == TransformLog1p && y <= -1 {
			t.low.hit(at, off+int64(i), func() string { return fmt.Sprint(y) })
		}
	}
	switch a := a.(type) {
	case *array.Int64:
		for i, v := range a.Int64Values() {
			if a.IsValid(i) {
				check(i, float64(v))
			}
		}
	case *array.Float64:
		for i, y := range a.Float64Values() {
			if a.IsValid(i) && !math.IsNaN(y) { // NaN is the column checks'
				check(i, y)
			}
		}
	default:
		t.err = t.label.notNumber(a.DataType())
	}
}

// emit adds the target's issues to r.
func (t *targetCheck) emit(r *Report) {
	if t.err != nil {
		r.add(Issue{Severity: Error, Code: CodeLabel, Column: t.label.Column, RowGroup: -1, Message: t.err.Error()})
		return
	}
	emit(r, t.label.Column, &t.low, Error, CodeLabel, "target %s is at or below -1: label.transform log1p needs every target above -1")
	emit(r, t.label.Column, &t.huge, Error, CodeLabel, fmt.Sprintf("target %%s is beyond ±%g: the squared errors that training and the metrics sum would overflow; rescale the target", evaluate.MaxTarget))
	if t.first == t.first && !t.varies {
		r.add(Issue{Severity: Error, Code: CodeLabel, Column: t.label.Column, RowGroup: -1,
			Message: fmt.Sprintf("the regression target %q is constant (every row is %g): there is nothing to learn", t.label.Name, t.first)})
	}
}
