package model

import (
	"cmp"
	"math"
	"slices"

	"github.com/mlpipe/mlpipe/features"
)

// Importancer is a Model that can say how much each feature column
// matters to it.
type Importancer interface {
	// Importance returns one non-negative number per column of the
	// feature matrix the model was fitted on, or nil when the model does
	// not know (a linear model saved before it recorded them).
	Importance() []float64
	// ImportanceKind names what Importance measures: ImportanceGain or
	// ImportanceCoefficient.
	ImportanceKind() string
}

// The kinds of importance.
const (
	// ImportanceGain is a tree model's total split gain per column.
	ImportanceGain = "gain"
	// ImportanceCoefficient is a linear model's standardised coefficient:
	// the standard deviation of the column's contribution to the score
	// over the training rows (|w|·sd(x) for a numeric column).
	ImportanceCoefficient = "coefficient"
)

// Importance is a model's importance of its inputs: per feature column
// and summed per raw input column, each largest first.
type Importance struct {
	// Kind is what Value measures (ImportanceGain or
	// ImportanceCoefficient).
	Kind string `json:"kind"`
	// Features has one entry per feature column, Inputs one per raw
	// input column (the sum of its feature columns).
	Features []ColumnImportance `json:"features"`
	Inputs   []ColumnImportance `json:"inputs"`
}

// ColumnImportance is one column's importance.
type ColumnImportance struct {
	// Feature is the feature pipeline's output column ("origin_te"), or
	// the raw input in Importance.Inputs.
	Feature string `json:"feature"`
	// Input names the raw input column(s) the feature is computed from
	// ("origin"; "origin × destination" for a cross).
	Input string `json:"input"`
	// Value is the importance; Share is Value over the sum of all
	// columns' values.
	Value float64 `json:"value"`
	Share float64 `json:"share"`
}

// Importances returns m's importance of the columns of p, or nil when m
// is not an Importancer, has no importances, they do not match p's
// columns, or they are all zero.
func Importances(m Model, p *features.Pipeline) *Importance {
	im, ok := m.(Importancer)
	if !ok || p == nil {
		return nil
	}
	values := im.Importance()
	cols := p.Columns
	if len(values) != len(cols) {
		return nil
	}
	inputs := p.ColumnInputs()
	if len(inputs) != len(cols) {
		inputs = nil
	}
	var total float64
	for _, v := range values {
		if v > 0 && !math.IsInf(v, 0) {
			total += v
		}
	}
	if total == 0 {
		return nil
	}
	out := &Importance{Kind: im.ImportanceKind(), Features: make([]ColumnImportance, len(cols))}
	for i, c := range cols {
		v := values[i]
		if !(v > 0) || math.IsInf(v, 0) {
			v = 0
		}
		out.Features[i] = ColumnImportance{Feature: c.Name, Input: c.Name, Value: v, Share: v / total}
		if inputs != nil {
			out.Features[i].Input = inputs[i]
		}
	}
	index := map[string]int{}
	for _, f := range out.Features {
		k, ok := index[f.Input]
		if !ok {
			k = len(out.Inputs)
			index[f.Input] = k
			out.Inputs = append(out.Inputs, ColumnImportance{Feature: f.Input, Input: f.Input})
		}
		out.Inputs[k].Value += f.Value
		out.Inputs[k].Share += f.Share
	}
	byValue := func(a, b ColumnImportance) int { return cmp.Compare(b.Value, a.Value) }
	slices.SortStableFunc(out.Features, byValue)
	slices.SortStableFunc(out.Inputs, byValue)
	return out
}

// Importance implements Importancer with the inner model's importance
// (nil when it has none): the log1p of the target does not change which
// columns matter.
func (m *Log1pModel) Importance() []float64 {
	if im, ok := m.Inner.(Importancer); ok {
		return im.Importance()
	}
	return nil
}

// ImportanceKind implements Importancer.
func (m *Log1pModel) ImportanceKind() string {
	if im, ok := m.Inner.(Importancer); ok {
		return im.ImportanceKind()
	}
	return ""
}
