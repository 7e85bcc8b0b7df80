package evaluate

import (
	"fmt"
	"math"
)

// ConfusionMatrix counts the decisions of a K-class classifier:
// m[i][j] is the number of rows of true class i predicted as class j.
// Rows are true classes, columns predicted ones, as in scikit-learn's
// confusion_matrix.
type ConfusionMatrix [][]int

// MulticlassConfusion predicts for each row the class of highest
// probability (the lowest index among ties, as numpy's argmax) and counts
// the outcomes against the labels.
//
// labels holds a class index in [0, k) per row; probs holds len(labels)×k
// probabilities, row-major, each in [0, 1] and each row summing to 1
// within 1e-6. It returns an error wrapping ErrEmpty or ErrInvalid
// otherwise. It panics if k < 2 or if len(probs) != len(labels)×k.
func MulticlassConfusion(labels, probs []float64, k int) (ConfusionMatrix, error) {
	if err := checkMulticlass("multiclass confusion", labels, probs, k); err != nil {
		return nil, err
	}
	return multiclassConfusion(labels, probs, k), nil
}

func multiclassConfusion(labels, probs []float64, k int) ConfusionMatrix {
	m := make(ConfusionMatrix, k)
	for i := range m {
		m[i] = make([]int, k)
	}
	for i, y := range labels {
		m[int(y)][argmax(probs[i*k:(i+1)*k])]++
	}
	return m
}

// argmax returns the index of the largest value, the first among ties.
func argmax(xs []float64) int {
	best := 0
	for j, x := range xs {
		if x > xs[best] {
			best = j
		}
	}
	return best
}

// Total is the number of rows counted.
func (m ConfusionMatrix) Total() int {
	n := 0
	for _, row := range m {
		for _, c := range row {
			n += c
		}
	}
	return n
}

// Accuracy is the share of rows predicted correctly (the diagonal over
// the total), or 0 for no rows.
func (m ConfusionMatrix) Accuracy() float64 {
	correct := 0
	for i := range m {
		correct += m[i][i]
	}
	return ratio(correct, m.Total())
}

// ClassMetrics is one class's row of a per-class table, each class taken
// in turn as the positive one against all others.
type ClassMetrics struct {
	Class int `json:"class"`
	// Name is the class name, when known.
	Name      string  `json:"name,omitempty"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	// Support is the number of rows whose true class this is.
	Support int `json:"support"`
	// Predicted is the number of rows predicted as this class.
	Predicted int `json:"predicted"`
}

// PerClass returns precision, recall, F1 and support of every class, in
// class order; 0/0 ratios are 0. It equals scikit-learn's
// precision_recall_fscore_support(labels=range(K), zero_division=0).
func (m ConfusionMatrix) PerClass() []ClassMetrics {
	out := make([]ClassMetrics, len(m))
	for k := range m {
		c := Confusion{TP: m[k][k]}
		for j := range m {
			if j != k {
				c.FN += m[k][j] // class k predicted as j
				c.FP += m[j][k] // class j predicted as k
			}
		}
		out[k] = ClassMetrics{
			Class:     k,
			Precision: c.Precision(),
			Recall:    c.Recall(),
			F1:        c.F1(),
			Support:   c.TP + c.FN,
			Predicted: c.TP + c.FP,
		}
	}
	return out
}

// MacroF1 is the unweighted mean of the per-class F1 over the classes
// that occur, as a true or as a predicted class: a class absent from
// both tells nothing and is left out, as scikit-learn's f1_score(average=
// "macro") leaves it out by default. It is 0 for no rows.
func (m ConfusionMatrix) MacroF1() float64 {
	sum, n := 0.0, 0
	for _, c := range m.PerClass() {
		if c.Support > 0 || c.Predicted > 0 {
			sum += c.F1
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// WeightedF1 is the mean of the per-class F1 weighted by support, as
// scikit-learn's f1_score(average="weighted"). It is 0 for no rows.
func (m ConfusionMatrix) WeightedF1() float64 {
	sum, n := 0.0, 0
	for _, c := range m.PerClass() {
		sum += float64(c.Support) * c.F1
		n += c.Support
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// MulticlassLogLoss returns the mean negative log-probability of the true
// class, −(1/n) Σᵢ ln pᵢ,yᵢ, with scikit-learn's treatment of extreme
// values: each probability is clipped to [Epsilon, 1−Epsilon] and each
// row renormalised to sum to 1 before taking the log. The input contract
// and errors are MulticlassConfusion's; the labels may hold fewer than k
// classes.
func MulticlassLogLoss(labels, probs []float64, k int) (float64, error) {
	if err := checkMulticlass("multiclass log loss", labels, probs, k); err != nil {
		return 0, err
	}
	return multiclassLogLoss(labels, probs, k), nil
}

func multiclassLogLoss(labels, probs []float64, k int) float64 {
	total := 0.0
	for i, y := range labels {
		row := probs[i*k : (i+1)*k]
		sum := 0.0
		for _, p := range row {
			sum += clip(p)
		}
		total -= math.Log(clip(row[int(y)]) / sum)
	}
	return total / float64(len(labels))
}

// classesPresent counts the distinct classes in labels, which must be
// checked class indices in [0, k).
func classesPresent(labels []float64, k int) int {
	seen := make([]bool, k)
	n := 0
	for _, y := range labels {
		if !seen[int(y)] {
			seen[int(y)] = true
			n++
		}
	}
	return n
}

// needClasses returns an error wrapping ErrOneClass if labels hold fewer
// than two classes.
func needClasses(op string, labels []float64, k int) error {
	if n := classesPresent(labels, k); n < 2 {
		return fmt.Errorf("%s: %w: every label is class %g", op, ErrOneClass, labels[0])
	}
	return nil
}
