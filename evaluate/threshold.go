package evaluate

import (
	"fmt"
	"math"
)

// ThresholdMethod says how a decision threshold was chosen.
type ThresholdMethod string

// The ways to choose a threshold.
const (
	// MaxF1 picks the threshold with the highest F1 (MaxF1Threshold).
	MaxF1 ThresholdMethod = "max_f1"
	// MinCost picks the threshold with the lowest expected cost for a
	// ratio of error costs (MinCostThreshold).
	MinCost ThresholdMethod = "min_cost"
	// Fixed takes a threshold given by the caller.
	Fixed ThresholdMethod = "fixed"
)

// Threshold is the decision threshold of a report and how it was chosen.
// A row is predicted positive when its probability is at or above Value.
type Threshold struct {
	Value  float64         `json:"value"`
	Method ThresholdMethod `json:"method"`
	// CostRatio is the false positive cost over the false negative cost,
	// for MinCost.
	CostRatio float64 `json:"cost_ratio,omitempty"`
	// ChosenOn names the data the threshold was chosen on: "validation",
	// or "evaluation" when no validation data was given (an optimistic
	// choice: the reported metrics then overstate what a new sample
	// would show); empty for Fixed.
	ChosenOn string `json:"chosen_on,omitempty"`
}

// MaxF1Threshold returns the threshold that maximises F1 on the given
// (validation) data. The candidates are the distinct scores: at candidate
// t, the rows scoring at or above t are predicted positive. Among equal
// F1s it returns the highest threshold. It also returns that F1.
//
// Each label must be 0 or 1, with at least one positive (without one,
// every F1 is 0: ErrOneClass); each score finite. It panics if the
// lengths differ.
func MaxF1Threshold(labels, scores []float64) (threshold, f1 float64, err error) {
	const op = "max-F1 threshold"
	positives, err := checkBinary(op, labels, scores, false)
	if err != nil {
		return 0, 0, err
	}
	if positives == 0 {
		return 0, 0, fmt.Errorf("%s: %w: no positive labels", op, ErrOneClass)
	}
	threshold, f1 = maxF1(rank(labels, scores, positives))
	return threshold, f1, nil
}

// maxF1 is MaxF1Threshold on ranked rows holding a positive.
func maxF1(r ranked) (threshold, f1 float64) {
	f1 = -1
	for s := range r.steps() {
		c := Confusion{TP: s.tp, FP: s.fp, FN: len(r.pos) - s.tp}
		if f := c.F1(); f > f1 {
			threshold, f1 = s.threshold, f
		}
	}
	return threshold, f1
}

// MinCostThreshold returns the threshold that minimises the expected cost
// of errors on the given (validation) data, where a false positive costs
// costRatio times as much as a false negative:
//
//	cost(t) = (costRatio × FP(t) + FN(t)) / n,
//
// in units of one false negative per row. It also returns that cost. The
// candidates are the distinct scores, plus the highest score plus 1, at
// which nothing is predicted positive (the best choice when false
// positives are dear enough). Among equal costs it returns the highest
// threshold.
//
// For calibrated probabilities the expected-cost-optimal threshold is
// costRatio/(1+costRatio); choosing on data corrects for miscalibration.
//
// costRatio must be positive and finite (else an error wrapping
// ErrInvalid); labels and scores are as for MaxF1Threshold, except that
// one class is allowed.
func MinCostThreshold(labels, scores []float64, costRatio float64) (threshold, cost float64, err error) {
	if err := checkCostRatio(costRatio); err != nil {
		return 0, 0, err
	}
	positives, err := checkBinary("min-cost threshold", labels, scores, false)
	if err != nil {
		return 0, 0, err
	}
	threshold, cost = minCost(rank(labels, scores, positives), costRatio)
	return threshold, cost, nil
}

// minCost is MinCostThreshold on ranked rows.
func minCost(r ranked, costRatio float64) (threshold, cost float64) {
	positives := len(r.pos)
	// Nothing predicted positive: every positive is a false negative.
	threshold, best := r.above(), float64(positives)
	for s := range r.steps() {
		if c := costRatio*float64(s.fp) + float64(positives-s.tp); c < best {
			threshold, best = s.threshold, c
		}
	}
	return threshold, best / float64(positives+len(r.neg))
}

// checkCostRatio returns an error wrapping ErrInvalid unless costRatio is
// positive and finite.
func checkCostRatio(costRatio float64) error {
	if !(costRatio > 0) || math.IsInf(costRatio, 1) {
		return fmt.Errorf("min-cost threshold: %w: cost ratio %g, want a positive number", ErrInvalid, costRatio)
	}
	return nil
}
