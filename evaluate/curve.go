package evaluate

import "fmt"

// ROCCurve is the receiver operating characteristic of a scorer as data:
// point i is (FPR[i], TPR[i]), the false and true positive rates when the
// rows scoring at or above Thresholds[i] are predicted positive.
//
// Thresholds decrease, so the rates increase, from (0, 0) to (1, 1).
// Thresholds[0] is the highest score plus 1, at which no row is predicted
// positive (scikit-learn 1.2's convention: unlike +Inf it can be written
// as JSON); after it there is one point per distinct score, the last
// being the lowest score, at which every row is predicted positive.
type ROCCurve struct {
	FPR        []float64 `json:"fpr"`
	TPR        []float64 `json:"tpr"`
	Thresholds []float64 `json:"thresholds"`
}

// ROC returns the ROC curve of scores against labels. It equals
// scikit-learn's roc_curve with drop_intermediate=False. The input
// contract and errors are ROCAUC's.
func ROC(labels, scores []float64) (ROCCurve, error) {
	const op = "roc curve"
	positives, err := checkBinary(op, labels, scores, false)
	if err != nil {
		return ROCCurve{}, err
	}
	r := rank(labels, scores, positives)
	if err := needBothClasses(op, r); err != nil {
		return ROCCurve{}, err
	}
	return rocCurve(r), nil
}

func rocCurve(r ranked) ROCCurve {
	c := ROCCurve{FPR: []float64{0}, TPR: []float64{0}, Thresholds: []float64{r.above()}}
	p, n := float64(len(r.pos)), float64(len(r.neg))
	for s := range r.steps() {
		c.FPR = append(c.FPR, float64(s.fp)/n)
		c.TPR = append(c.TPR, float64(s.tp)/p)
		c.Thresholds = append(c.Thresholds, s.threshold)
	}
	return c
}

// Len is the number of points.
func (c ROCCurve) Len() int { return len(c.Thresholds) }

// Downsample returns at most limit points of c, evenly spaced by index
// (each kept point stands for about as many thresholds as the next),
// always keeping the first and the last point. It returns c itself if c
// has limit points or fewer. It panics if limit < 2.
func (c ROCCurve) Downsample(limit int) ROCCurve {
	idx := keep(c.Len(), limit)
	if idx == nil {
		return c
	}
	return ROCCurve{FPR: pick(c.FPR, idx), TPR: pick(c.TPR, idx), Thresholds: pick(c.Thresholds, idx)}
}

// PRCurve is the precision–recall curve of a scorer as data: point i is
// (Recall[i], Precision[i]) when the rows scoring at or above
// Thresholds[i] are predicted positive.
//
// Thresholds decrease, so recall increases. Point 0 is the start of the
// curve, recall 0 and precision 1 at the highest score plus 1, where no
// row is predicted positive and precision, 0/0, is taken as 1 (as
// scikit-learn does); after it there is one point per distinct score.
// Apart from that first point's threshold, it is scikit-learn's
// precision_recall_curve in reverse order.
type PRCurve struct {
	Precision  []float64 `json:"precision"`
	Recall     []float64 `json:"recall"`
	Thresholds []float64 `json:"thresholds"`
}

// PrecisionRecall returns the precision–recall curve of scores against
// labels. The input contract and errors are AveragePrecision's.
func PrecisionRecall(labels, scores []float64) (PRCurve, error) {
	const op = "precision-recall curve"
	positives, err := checkBinary(op, labels, scores, false)
	if err != nil {
		return PRCurve{}, err
	}
	if positives == 0 {
		return PRCurve{}, fmt.Errorf("%s: %w: no positive labels", op, ErrOneClass)
	}
	return prCurve(rank(labels, scores, positives)), nil
}

func prCurve(r ranked) PRCurve {
	c := PRCurve{Precision: []float64{1}, Recall: []float64{0}, Thresholds: []float64{r.above()}}
	p := float64(len(r.pos))
	for s := range r.steps() {
		c.Precision = append(c.Precision, float64(s.tp)/float64(s.tp+s.fp))
		c.Recall = append(c.Recall, float64(s.tp)/p)
		c.Thresholds = append(c.Thresholds, s.threshold)
	}
	return c
}

// Len is the number of points.
func (c PRCurve) Len() int { return len(c.Thresholds) }

// Downsample is ROCCurve.Downsample for a PR curve.
func (c PRCurve) Downsample(limit int) PRCurve {
	idx := keep(c.Len(), limit)
	if idx == nil {
		return c
	}
	return PRCurve{Precision: pick(c.Precision, idx), Recall: pick(c.Recall, idx), Thresholds: pick(c.Thresholds, idx)}
}

// keep returns limit indices out of n, evenly spaced and including 0 and
// n−1, or nil if n <= limit.
func keep(n, limit int) []int {
	if limit < 2 {
		panic(fmt.Sprintf("evaluate: downsample to %d points, need at least 2", limit))
	}
	if n <= limit {
		return nil
	}
	idx := make([]int, limit)
	for i := range idx {
		// Rounded i×(n−1)/(limit−1) in integers: strictly increasing since
		// n−1 > limit−1, and the last is exactly n−1.
		idx[i] = (2*i*(n-1) + (limit - 1)) / (2 * (limit - 1))
	}
	return idx
}

func pick(xs []float64, idx []int) []float64 {
	out := make([]float64, len(idx))
	for i, j := range idx {
		out[i] = xs[j]
	}
	return out
}
