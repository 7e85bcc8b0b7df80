package evaluate

import (
	"errors"
	"fmt"
	"math"
)

// Sentinel errors of evaluation. Each returned error wraps one of them
// and says which metric and, for bad data, which row.
var (
	// ErrEmpty means there are no rows to evaluate.
	ErrEmpty = errors.New("no rows")
	// ErrOneClass means the labels hold one class only, so a metric that
	// compares the classes (ROC AUC, for one) is undefined.
	ErrOneClass = errors.New("labels hold one class only")
	// ErrInvalid means a label or a score breaks the input contract: a
	// binary label other than 0 or 1, a class index out of range, a NaN
	// or infinite score, a probability outside [0, 1], a row of class
	// probabilities that does not sum to 1, or a bad option.
	ErrInvalid = errors.New("invalid input")
)

// sumTolerance is how far a row of class probabilities may sum from 1.
const sumTolerance = 1e-6

// mustSameLength panics if labels and scores differ in length: that is a
// programmer error, not bad data.
func mustSameLength(op string, labels, scores []float64) {
	if len(labels) != len(scores) {
		panic(fmt.Sprintf("evaluate: %s: %d labels for %d scores", op, len(labels), len(scores)))
	}
}

// checkBinary checks the binary input contract: at least one row, every
// label 0 or 1, every score finite and, if probs, in [0, 1]. It returns
// the number of positive rows. It panics if the lengths differ.
func checkBinary(op string, labels, scores []float64, probs bool) (positives int, err error) {
	mustSameLength(op, labels, scores)
	if len(labels) == 0 {
		return 0, fmt.Errorf("%s: %w", op, ErrEmpty)
	}
	for i, y := range labels {
		switch y {
		case 1:
			positives++
		case 0:
		default:
			return 0, fmt.Errorf("%s: %w: row %d: label %g is not 0 or 1", op, ErrInvalid, i, y)
		}
	}
	for i, s := range scores {
		if err := checkScore(s, probs); err != nil {
			return 0, fmt.Errorf("%s: %w: row %d: %v", op, ErrInvalid, i, err)
		}
	}
	return positives, nil
}

// checkScore says what is wrong with one score, or returns nil.
func checkScore(s float64, prob bool) error {
	switch {
	case math.IsNaN(s):
		return errors.New("score is NaN")
	case math.IsInf(s, 0):
		return fmt.Errorf("score is %g", s)
	case prob && (s < 0 || s > 1):
		return fmt.Errorf("probability %g is outside [0, 1]", s)
	}
	return nil
}

// checkMulticlass checks the K-class input contract: at least one row,
// every label a class index in [0, k), every probability in [0, 1] and
// every row summing to 1 within sumTolerance. It panics if k < 2 or if
// probs does not hold len(labels)×k values.
func checkMulticlass(op string, labels, probs []float64, k int) error {
	if k < 2 {
		panic(fmt.Sprintf("evaluate: %s: %d classes, need at least 2", op, k))
	}
	if len(probs) != len(labels)*k {
		panic(fmt.Sprintf("evaluate: %s: %d probabilities for %d labels and %d classes", op, len(probs), len(labels), k))
	}
	if len(labels) == 0 {
		return fmt.Errorf("%s: %w", op, ErrEmpty)
	}
	for i, y := range labels {
		if y != math.Trunc(y) || y < 0 || y >= float64(k) {
			return fmt.Errorf("%s: %w: row %d: label %g is not a class in [0, %d)", op, ErrInvalid, i, y, k)
		}
		row := probs[i*k : (i+1)*k]
		sum := 0.0
		for _, p := range row {
			if err := checkScore(p, true); err != nil {
				return fmt.Errorf("%s: %w: row %d: %v", op, ErrInvalid, i, err)
			}
			sum += p
		}
		if math.Abs(sum-1) > sumTolerance {
			return fmt.Errorf("%s: %w: row %d: probabilities sum to %g, not 1", op, ErrInvalid, i, sum)
		}
	}
	return nil
}
