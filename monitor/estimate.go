package monitor

import (
	"fmt"
	"math"
	"slices"

	"github.com/mlpipe/mlpipe/calibrate"
)

// This file is confidence-based performance estimation (CBPE, as NannyML
// calls it): what a binary model's metrics on a window are expected to
// be before any label arrives. If the calibration map holds on the
// window (the rows of a given score are as often positive as on the
// validation split: a shift of the inputs, not of the relation between
// inputs and label), each row's label is an independent Bernoulli draw
// with its calibrated probability c, and every metric has an expectation
// over those draws. docs/monitoring.md has the formulas.

// Z95 is the normal quantile of a two-sided 95% band.
const Z95 = 1.959963984540054

// Interval is an estimate with its 95% band: the band is where the
// realized metric falls with 95% probability when the calibration holds
// (the labels' own randomness; the calibration map's error is not in
// it).
type Interval struct {
	Value float64 `json:"value"`
	Low   float64 `json:"low"`
	High  float64 `json:"high"`
	// SE is the standard error the band is Value ± Z95·SE of (clipped
	// to the metric's range).
	SE float64 `json:"se"`
}

// Contains reports whether x is within the band.
func (i Interval) Contains(x float64) bool { return x >= i.Low && x <= i.High }

// Estimate is the expected performance of a binary model on a window
// whose labels have not arrived.
type Estimate struct {
	// Status is StatusOK, or StatusNotEnoughData with Reason (fewer
	// than min_samples rows: the estimate is still given, and does not
	// decide).
	Status string `json:"status,omitempty"`
	Reason string `json:"reason,omitempty"`
	// TestROCAUC is the test split's ROC AUC and AUCDrop how far the
	// estimate is below it (positive: worse), when the bundle has it.
	TestROCAUC *float64 `json:"test_roc_auc,omitempty"`
	AUCDrop    *float64 `json:"auc_drop,omitempty"`
	// Rows is the number of scored rows; Calibration the method of the
	// map ("isotonic" or "platt").
	Rows        int    `json:"rows"`
	Calibration string `json:"calibration"`
	// PositiveRate is the expected share of positive labels, the mean
	// calibrated probability.
	PositiveRate float64 `json:"positive_rate"`
	// ROCAUC and LogLoss are the expected metrics with their bands.
	ROCAUC  Interval `json:"roc_auc"`
	LogLoss Interval `json:"log_loss"`
	// Confusion is the expected confusion matrix at Threshold (a score
	// at or above it is predicted positive), and Accuracy its expected
	// accuracy.
	Threshold float64           `json:"threshold"`
	Confusion ExpectedConfusion `json:"confusion"`
	Accuracy  Interval          `json:"accuracy"`
}

// ExpectedConfusion is a confusion matrix's expected counts.
type ExpectedConfusion struct {
	TN float64 `json:"tn"`
	FP float64 `json:"fp"`
	FN float64 `json:"fn"`
	TP float64 `json:"tp"`
}

// EstimateBinary estimates the metrics of a binary model from its
// scores (the model's probabilities of the positive class, in [0, 1])
// and the calibration map m. NaN scores are left out. It needs at least
// two rows with a calibrated probability strictly between 0 and 1 (else
// the AUC has no pairs to count): an error says so.
//
// With cᵢ = m(sᵢ) the calibrated probability of row i:
//
//	E[TP] = Σ_{sᵢ ≥ t} cᵢ, E[FP] = Σ_{sᵢ ≥ t} (1 − cᵢ), and so on;
//	log loss = −(1/n) Σ [cᵢ ln sᵢ + (1 − cᵢ) ln(1 − sᵢ)] (sᵢ clipped as evaluate.LogLoss);
//	ROC AUC = Σ_{i≠j} cᵢ (1 − cⱼ) K(sᵢ, sⱼ) / Σ_{i≠j} cᵢ (1 − cⱼ),
//
// K being 1 when sᵢ > sⱼ and ½ on a tie: the expected number of
// positive–negative pairs ranked right over the expected number of
// pairs. The standard errors are exact for the linear metrics and, for
// the AUC, the delta method's (the Hájek projection of the ratio onto
// each row's label).
func EstimateBinary(scores []float64, m *calibrate.Map, threshold float64) (*Estimate, error) {
	type row struct{ s, c float64 }
	rows := make([]row, 0, len(scores))
	for _, s := range scores {
		if math.IsNaN(s) {
			continue
		}
		rows = append(rows, row{s, m.Apply(s)})
	}
	n := float64(len(rows))
	e := &Estimate{Rows: len(rows), Calibration: m.Method, Threshold: threshold}
	if len(rows) < 2 {
		return nil, fmt.Errorf("estimate: %d scored rows; at least 2 are needed", len(rows))
	}
	slices.SortFunc(rows, func(a, b row) int {
		switch {
		case a.s < b.s:
			return -1
		case a.s > b.s:
			return 1
		}
		return 0
	})
	var pos, neg, self, ll, llVar, correct, accVar float64
	for _, r := range rows {
		v := r.c * (1 - r.c)
		pos += r.c
		neg += 1 - r.c
		self += v
		s := min(max(r.s, 1e-15), 1-1e-15) // evaluate.Epsilon
		ls, l1s := math.Log(s), math.Log(1-s)
		ll -= r.c*ls + (1-r.c)*l1s
		llVar += v * (ls - l1s) * (ls - l1s)
		accVar += v // each row's correctness is a Bernoulli draw
		if r.s >= threshold {
			e.Confusion.TP += r.c
			e.Confusion.FP += 1 - r.c
			correct += r.c
		} else {
			e.Confusion.FN += r.c
			e.Confusion.TN += 1 - r.c
			correct += 1 - r.c
		}
	}
	e.PositiveRate = pos / n
	e.LogLoss = band(ll/n, math.Sqrt(llVar)/n, 0, math.Inf(1))
	e.Accuracy = band(correct/n, math.Sqrt(accVar)/n, 0, 1)
	pairs := pos*neg - self // Σ_{i≠j} cᵢ(1 − cⱼ)
	if !(pairs > 0) {
		return nil, fmt.Errorf("estimate: every calibrated probability is 0 or 1: no positive–negative pair to rank")
	}
	// Walk the groups of tied scores in increasing order: negBelow and
	// posAbove are the expected negatives scored below a group and the
	// expected positives above it.
	var right float64 // Σ_{i≠j} cᵢ(1−cⱼ)K(sᵢ,sⱼ)
	type group struct{ lo, hi int }
	var groups []group
	for lo := 0; lo < len(rows); {
		hi := lo
		for hi+1 < len(rows) && rows[hi+1].s == rows[lo].s {
			hi++
		}
		groups = append(groups, group{lo, hi})
		lo = hi + 1
	}
	negBelow := 0.0
	for _, g := range groups {
		var gp, gn, gs float64
		for _, r := range rows[g.lo : g.hi+1] {
			gp += r.c
			gn += 1 - r.c
			gs += r.c * (1 - r.c)
		}
		right += gp*negBelow + 0.5*(gp*gn-gs)
		negBelow += gn
	}
	auc := right / pairs
	// The AUC's standard error: with D = K − AUC, Z = Σ_{i≠j} yᵢ(1−yⱼ)D
	// has mean about 0 and AUC − E ≈ Z / pairs; Z's projection on row i's
	// label has slope gᵢ = Σ_{j≠i} (1−cⱼ)D(sᵢ,sⱼ) − Σ_{j≠i} cⱼ D(sⱼ,sᵢ), so
	// Var(AUC) ≈ Σ cᵢ(1−cᵢ) gᵢ² / pairs².
	varSum := 0.0
	negBelow = 0
	posAbove := pos
	for _, g := range groups {
		var gp, gn float64
		for _, r := range rows[g.lo : g.hi+1] {
			gp += r.c
			gn += 1 - r.c
		}
		posAbove -= gp
		for _, r := range rows[g.lo : g.hi+1] {
			// Pairs with row i as the positive: the negatives below it
			// and half those tied with it (itself left out).
			asPos := negBelow + 0.5*(gn-(1-r.c)) - auc*(neg-(1-r.c))
			// Pairs with row i as the negative: the positives above it
			// and half those tied, each pair's D weighted by cⱼ.
			asNeg := posAbove + 0.5*(gp-r.c) - auc*(pos-r.c)
			gi := asPos - asNeg
			varSum += r.c * (1 - r.c) * gi * gi
		}
		negBelow += gn
	}
	e.ROCAUC = band(auc, math.Sqrt(varSum)/pairs, 0, 1)
	return e, nil
}

// band is the Interval value ± Z95·se, clipped to [lo, hi].
func band(value, se, lo, hi float64) Interval {
	return Interval{Value: value, SE: se, Low: max(lo, value-Z95*se), High: min(hi, value+Z95*se)}
}
