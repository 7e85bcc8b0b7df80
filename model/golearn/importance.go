package golearn

import (
	"math"

	"github.com/mlpipe/mlpipe/model"
)

// Importance implements model.Importancer with each column's information
// gain, the criterion ID3 splits by: at every split node, the class
// entropy (in bits) of its training rows less that of its children's
// rows, weighted by their row counts, summed per column over a tree,
// divided by the tree's rows and averaged over the trees. A column's
// value is thus the bits of class entropy per training row that its
// splits remove, on average over the trees (scikit-learn's
// feature_importances_ of a forest before normalisation, with entropy
// for impurity). It is computed from the class counts every node keeps,
// so a model saved before this method existed has it too.
func (m *Model) Importance() []float64 {
	out := make([]float64, len(m.Columns))
	for _, t := range m.Trees {
		if len(t.Nodes) == 0 {
			continue
		}
		rows := float64(sum(t.Nodes[0].Counts))
		if rows == 0 {
			continue
		}
		for _, n := range t.Nodes {
			if n.Col < 0 || n.Col >= len(out) {
				continue
			}
			gain := weightedEntropy(n.Counts)
			for _, c := range n.Children {
				if c >= 0 && c < len(t.Nodes) {
					gain -= weightedEntropy(t.Nodes[c].Counts)
				}
			}
			// max: children that hold more rows than their parent (a
			// hand-made model) do not make a negative gain.
			out[n.Col] += max(gain, 0) / rows / float64(len(m.Trees))
		}
	}
	return out
}

// ImportanceKind implements model.Importancer.
func (m *Model) ImportanceKind() string { return model.ImportanceGain }

// weightedEntropy returns n·H(counts), n the sum of the counts and H the
// entropy in bits of their shares.
func weightedEntropy(counts []int) float64 {
	n := float64(sum(counts))
	var h float64
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return n * h
}

func sum(v []int) int {
	s := 0
	for _, x := range v {
		s += x
	}
	return s
}
