package report

import (
	"cmp"
	"math"
	"slices"

	"github.com/mlpipe/mlpipe/bundle"
	"github.com/mlpipe/mlpipe/features"
)

// Importance is one feature column's share of a model's importance.
type Importance struct {
	// Feature is the feature pipeline's output column ("origin_te").
	Feature string `json:"feature"`
	// Input names the raw input column(s) the feature is computed from
	// ("origin"; "origin × destination" for a cross).
	Input string `json:"input"`
	// Gain is the model's importance of the column (for gbdt, the total
	// split gain; for a linear model, its standardised coefficient);
	// Share is Gain over the sum of all columns' values.
	Gain  float64 `json:"gain"`
	Share float64 `json:"share"`
}

// importancer is what a model offers when it can say how much each
// input column matters (gbdt's gain, logreg's and ridge's standardised
// coefficients; golearn's models do not).
type importancer interface {
	Importance() []float64
}

// Importances returns the importance of each feature column of b's
// model, largest first, or nil when the model has no Importance method,
// its importances do not match the feature pipeline's columns, or they
// are all zero.
func Importances(b *bundle.Bundle) []Importance {
	if b == nil || b.Model == nil || b.Features == nil {
		return nil
	}
	m, ok := b.Model.(importancer)
	if !ok {
		return nil
	}
	gains := m.Importance()
	cols := b.Features.Columns
	if len(gains) != len(cols) {
		return nil
	}
	inputs := columnInputs(b.Features)
	var total float64
	for _, g := range gains {
		if g > 0 && !math.IsInf(g, 0) {
			total += g
		}
	}
	if total == 0 {
		return nil
	}
	out := make([]Importance, len(cols))
	for i, c := range cols {
		g := gains[i]
		if !(g > 0) || math.IsInf(g, 0) {
			g = 0
		}
		out[i] = Importance{Feature: c.Name, Input: c.Name, Gain: g, Share: g / total}
		if inputs != nil {
			out[i].Input = inputs[i]
		}
	}
	slices.SortStableFunc(out, func(a, b Importance) int { return cmp.Compare(b.Gain, a.Gain) })
	return out
}

// byInput sums importances by raw input, largest first.
func byInput(imps []Importance) []Importance {
	var out []Importance
	index := map[string]int{}
	for _, im := range imps {
		k, ok := index[im.Input]
		if !ok {
			k = len(out)
			index[im.Input] = k
			out = append(out, Importance{Feature: im.Input, Input: im.Input})
		}
		out[k].Gain += im.Gain
		out[k].Share += im.Share
	}
	slices.SortStableFunc(out, func(a, b Importance) int { return cmp.Compare(b.Gain, a.Gain) })
	return out
}

// columnInputs names, for each output column of p, the raw inputs of the
// step that produced it, or returns nil if the steps' widths do not add
// up to the columns (a pipeline format this code does not know).
func columnInputs(p *features.Pipeline) []string {
	out := p.ColumnInputs()
	if len(out) != len(p.Columns) {
		return nil
	}
	return out
}
