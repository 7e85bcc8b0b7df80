package evaluate

import (
	"iter"
	"slices"
)

// ranked holds the scores of the positive rows and of the negative rows,
// each sorted in ascending order. Every metric that depends on the order
// of the scores (ROC AUC, average precision, the curves, threshold
// selection) walks it with steps, so each sorts the data once.
type ranked struct {
	pos, neg []float64
}

// rank splits scores by label and sorts each part. The labels must
// already be checked to be 0 or 1.
func rank(labels, scores []float64, positives int) ranked {
	r := ranked{
		pos: make([]float64, 0, positives),
		neg: make([]float64, 0, len(labels)-positives),
	}
	for i, y := range labels {
		if y == 1 {
			r.pos = append(r.pos, scores[i])
		} else {
			r.neg = append(r.neg, scores[i])
		}
	}
	slices.Sort(r.pos)
	slices.Sort(r.neg)
	return r
}

// step is the outcome of one threshold: the rows scored at or above it
// are predicted positive, and tp and fp count the positive and the
// negative rows among them.
type step struct {
	threshold float64
	tp, fp    int
}

// steps yields one step per distinct score, from the highest score to the
// lowest. Rows with tied scores enter the same step together, which is
// what makes a tie count half in ROC AUC. The last step has every row
// predicted positive: tp = len(pos), fp = len(neg).
func (r ranked) steps() iter.Seq[step] {
	return func(yield func(step) bool) {
		i, j := len(r.pos)-1, len(r.neg)-1 // highest positive and negative not yet counted
		tp, fp := 0, 0
		for i >= 0 || j >= 0 {
			var t float64
			switch {
			case i < 0:
				t = r.neg[j]
			case j < 0:
				t = r.pos[i]
			default:
				t = max(r.pos[i], r.neg[j])
			}
			for i >= 0 && r.pos[i] == t {
				tp++
				i--
			}
			for j >= 0 && r.neg[j] == t {
				fp++
				j--
			}
			if !yield(step{threshold: t, tp: tp, fp: fp}) {
				return
			}
		}
	}
}

// above is a threshold above every score, at which no row is predicted
// positive: the highest score plus 1, as scikit-learn 1.2 uses. Unlike
// +Inf it can be written as JSON.
func (r ranked) above() float64 {
	var top float64
	switch {
	case len(r.pos) == 0:
		top = r.neg[len(r.neg)-1]
	case len(r.neg) == 0:
		top = r.pos[len(r.pos)-1]
	default:
		top = max(r.pos[len(r.pos)-1], r.neg[len(r.neg)-1])
	}
	return top + 1
}
