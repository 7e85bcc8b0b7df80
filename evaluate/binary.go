package evaluate

import (
	"fmt"
	"math"
)

// ROCAUC returns the area under the receiver operating characteristic
// curve: the probability that a positive row, drawn at random, scores
// higher than a negative row drawn at random, with a tie counting half
// (the Mann–Whitney U statistic divided by positives×negatives). It
// equals scikit-learn's roc_auc_score. 1 is a perfect ranking, 0.5 a
// random one (or all scores equal), 0 a perfectly inverted one.
//
// Each label must be 0 or 1, with both present; each score is any finite
// number, higher meaning "more likely positive" (a probability, a margin,
// a log-odds). ROCAUC returns an error wrapping ErrEmpty for no rows,
// ErrOneClass if every label is the same, and ErrInvalid for any other
// label or a NaN or infinite score. It panics if the lengths differ.
//
// It sorts the scores once: O(n log n).
func ROCAUC(labels, scores []float64) (float64, error) {
	const op = "roc auc"
	positives, err := checkBinary(op, labels, scores, false)
	if err != nil {
		return 0, err
	}
	r := rank(labels, scores, positives)
	if err := needBothClasses(op, r); err != nil {
		return 0, err
	}
	return rocAUC(r), nil
}

// rocAUC is the trapezoidal area under the ROC curve of r, computed in
// integers: each step from (fp0, tp0) to (fp1, tp1) adds the trapezoid
// (fp1-fp0)×(tp0+tp1)/2, so a run of tied scores holding both classes adds
// a diagonal segment, which is the "tie counts half" rule. The sum is
// exact, and is divided once by positives×negatives at the end.
func rocAUC(r ranked) float64 {
	twiceArea := 0 // int is 64 bits: exact up to ~3e9 rows per class
	prevTP, prevFP := 0, 0
	for s := range r.steps() {
		twiceArea += (s.fp - prevFP) * (s.tp + prevTP)
		prevTP, prevFP = s.tp, s.fp
	}
	return float64(twiceArea) / (2 * float64(len(r.pos)) * float64(len(r.neg)))
}

// AveragePrecision returns the area under the precision–recall curve as
// scikit-learn's average_precision_score defines it: the step-wise sum
//
//	AP = Σₙ (Rₙ − Rₙ₋₁) Pₙ
//
// over the distinct scores from the highest to the lowest, where Pₙ and Rₙ
// are the precision and recall when the rows scoring at least the n-th
// score are predicted positive. There is no interpolation between points,
// so unlike a trapezoidal area it is not optimistic. It is 1 for a perfect
// ranking; a random ranking gives about the positive rate.
//
// Each label must be 0 or 1, with at least one positive (with none,
// recall is undefined: ErrOneClass); scores are as for ROCAUC. Labels all
// positive give 1. It panics if the lengths differ.
func AveragePrecision(labels, scores []float64) (float64, error) {
	const op = "average precision"
	positives, err := checkBinary(op, labels, scores, false)
	if err != nil {
		return 0, err
	}
	if positives == 0 {
		return 0, fmt.Errorf("%s: %w: no positive labels", op, ErrOneClass)
	}
	return averagePrecision(rank(labels, scores, positives)), nil
}

// averagePrecision computes AP over r, which must hold a positive.
func averagePrecision(r ranked) float64 {
	sum := 0.0 // Σ ΔTP × precision; divided by the positives at the end
	prevTP := 0
	for s := range r.steps() {
		if s.tp > prevTP {
			sum += float64(s.tp-prevTP) * float64(s.tp) / float64(s.tp+s.fp)
		}
		prevTP = s.tp
	}
	return sum / float64(len(r.pos))
}

// Epsilon is how far log loss keeps probabilities from 0 and 1: each
// probability is clipped to [Epsilon, 1−Epsilon] before taking its log,
// so a confident wrong prediction costs at most −ln(1e-15) ≈ 34.5 instead
// of +Inf. It is scikit-learn's log_loss clipping before version 1.2.
const Epsilon = 1e-15

// LogLoss returns the mean negative log-likelihood of the labels under
// the predicted probabilities (binary cross-entropy):
//
//	−(1/n) Σᵢ [yᵢ ln pᵢ + (1−yᵢ) ln(1−pᵢ)],
//
// with each pᵢ first clipped to [Epsilon, 1−Epsilon]. Lower is better;
// always predicting the positive rate π gives the entropy of π, at most
// ln 2 ≈ 0.693.
//
// Each label must be 0 or 1 (one class is fine) and each probability, the
// probability that the label is 1, in [0, 1]. It returns an error wrapping
// ErrEmpty or ErrInvalid otherwise, and panics if the lengths differ.
func LogLoss(labels, probs []float64) (float64, error) {
	if _, err := checkBinary("log loss", labels, probs, true); err != nil {
		return 0, err
	}
	return logLoss(labels, probs), nil
}

func logLoss(labels, probs []float64) float64 {
	sum := 0.0
	for i, y := range labels {
		p := clip(probs[i])
		if y == 1 {
			sum -= math.Log(p)
		} else {
			sum -= math.Log(1 - p)
		}
	}
	return sum / float64(len(labels))
}

// clip keeps p within [Epsilon, 1−Epsilon].
func clip(p float64) float64 {
	return min(max(p, Epsilon), 1-Epsilon)
}

// Brier returns the Brier score, the mean squared difference between the
// predicted probability and the label: (1/n) Σᵢ (pᵢ − yᵢ)². It is 0 for
// certain, correct predictions and 1 for certain, wrong ones; always
// predicting the positive rate π gives π(1−π). It equals scikit-learn's
// brier_score_loss. Its input contract is LogLoss's.
func Brier(labels, probs []float64) (float64, error) {
	if _, err := checkBinary("brier score", labels, probs, true); err != nil {
		return 0, err
	}
	return brier(labels, probs), nil
}

func brier(labels, probs []float64) float64 {
	sum := 0.0
	for i, y := range labels {
		d := probs[i] - y
		sum += d * d
	}
	return sum / float64(len(labels))
}

// Confusion counts the decisions of a binary classifier at one threshold:
// true negatives, false positives, false negatives and true positives.
type Confusion struct {
	TN int `json:"tn"`
	FP int `json:"fp"`
	FN int `json:"fn"`
	TP int `json:"tp"`
}

// ConfusionAt predicts positive every row whose score is at or above
// threshold (score >= threshold, the rule the ROC and PR curves use) and
// counts the outcomes against the labels. Each label must be 0 or 1 and
// each score finite; it returns an error wrapping ErrEmpty or ErrInvalid
// otherwise, and panics if the lengths differ.
func ConfusionAt(labels, scores []float64, threshold float64) (Confusion, error) {
	if _, err := checkBinary("confusion", labels, scores, false); err != nil {
		return Confusion{}, err
	}
	return confusionAt(labels, scores, threshold), nil
}

func confusionAt(labels, scores []float64, threshold float64) Confusion {
	var c Confusion
	for i, y := range labels {
		predicted := scores[i] >= threshold
		switch {
		case y == 1 && predicted:
			c.TP++
		case y == 1:
			c.FN++
		case predicted:
			c.FP++
		default:
			c.TN++
		}
	}
	return c
}

// Total is the number of rows counted.
func (c Confusion) Total() int { return c.TN + c.FP + c.FN + c.TP }

// Accuracy is the share of rows predicted correctly, (TP+TN)/n, or 0 for
// no rows.
func (c Confusion) Accuracy() float64 { return ratio(c.TP+c.TN, c.Total()) }

// Precision is the share of predicted positives that are positive,
// TP/(TP+FP), or 0 when nothing is predicted positive.
func (c Confusion) Precision() float64 { return ratio(c.TP, c.TP+c.FP) }

// Recall is the share of positives predicted positive (the true positive
// rate), TP/(TP+FN), or 0 when there is no positive.
func (c Confusion) Recall() float64 { return ratio(c.TP, c.TP+c.FN) }

// F1 is the harmonic mean of precision and recall, 2TP/(2TP+FP+FN), or 0
// when there is no positive and nothing is predicted positive.
func (c Confusion) F1() float64 { return ratio(2*c.TP, 2*c.TP+c.FP+c.FN) }

// ratio is num/den, or 0 when den is 0.
func ratio(num, den int) float64 {
	if den == 0 {
		return 0
	}
	return float64(num) / float64(den)
}

// needBothClasses returns an error wrapping ErrOneClass unless r holds a
// positive and a negative row.
func needBothClasses(op string, r ranked) error {
	switch {
	case len(r.pos) == 0:
		return fmt.Errorf("%s: %w: all %d labels are 0", op, ErrOneClass, len(r.neg))
	case len(r.neg) == 0:
		return fmt.Errorf("%s: %w: all %d labels are 1", op, ErrOneClass, len(r.pos))
	}
	return nil
}
