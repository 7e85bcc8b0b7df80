package serve

import (
	"errors"
	"math"
	"strconv"
)

// Rule is how the server checks the values of one raw input. Batch
// scoring (package score, mlpipe predict) checks the rows of a file by
// the same rules, so that it refuses exactly the rows a request would
// be refused for.
type Rule struct {
	// Name and Type are the input's name and contract type.
	Name, Type string
	// Nullable: a missing value is accepted (the training data had some).
	Nullable bool
	// Categorical: the value may fall into the unknown bucket, which
	// responses report.
	Categorical bool
	in          *input
}

// Rules returns the checks of the model's inputs, in input order.
func (m *Model) Rules() []Rule {
	out := make([]Rule, len(m.inputs))
	for i := range m.inputs {
		in := &m.inputs[i]
		out[i] = Rule{Name: in.name, Type: in.typ, Nullable: in.nullable, Categorical: in.categorical, in: in}
	}
	return out
}

// CheckNumber returns why the server would refuse the number f for this
// input (a request's JSON number), or nil. NaN and ±Inf, which JSON
// cannot carry, are refused. It is nil for an input that is not a
// number.
func (r *Rule) CheckNumber(f float64) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return errors.New(strconv.FormatFloat(f, 'g', -1, 64) + " is not a finite number")
	}
	if r.in.oipType != "INT64" && r.in.oipType != "FP64" {
		return nil
	}
	return r.in.check(f, nil)
}

// Classes returns the class names: 2 for a binary model (the second is
// the positive class), K for a K-class model. The slice must not be
// changed.
func (m *Model) Classes() []string { return m.classes }

// Outputs is the model's number of outputs per row: 1 for a binary
// model, K for a K-class one.
func (m *Model) Outputs() int { return m.outputs }
