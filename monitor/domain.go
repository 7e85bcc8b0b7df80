package monitor

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/mlpipe/mlpipe/evaluate"
	"github.com/mlpipe/mlpipe/features"
)

// This file is the multivariate drift test: a domain classifier, a small
// gbdt (package monitor/domaingbdt, passed in as a DomainFit) trained to
// tell the reference rows from the window's. If the two
// come from one distribution it cannot (its cross-validated ROC AUC is
// about 0.5); the more it can, the further apart the joint distributions
// are, whether or not any single feature moved.

// Domain classifier defaults.
const (
	// DefaultDomainRows is the most rows DomainAUC takes from each side:
	// under no drift the out-of-fold AUC of n rows a side has a standard
	// deviation of about sqrt(1/(6n)) (Mann–Whitney), 0.0058 at 5,000, far
	// below the shifts worth acting on, and a fit takes a fraction of a
	// second.
	DefaultDomainRows = 5000
	// DefaultDomainFolds is the number of cross-validation folds.
	DefaultDomainFolds = 3
)

// DomainFit fits the domain classifier on the design matrix x (one
// column per series: a numeric input's values, a category's or a time
// part's bucket as a categorical column) and the labels y (0: a
// reference row, 1: a window row), seeded with seed, and returns its
// probability of label 1 on other rows. domaingbdt.Fit is the one the
// commands use; the monitor imports no trainer, so that a serving
// binary, which uses its live gauges, links none.
type DomainFit func(ctx context.Context, x *features.Matrix, y []float64, seed uint64) (func(*features.Matrix) []float64, error)

// DomainResult is the domain classifier's verdict on a window.
type DomainResult struct {
	// Status is StatusOK, StatusDrift or StatusNotEnoughData (with
	// Reason).
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
	// AUC is the out-of-fold ROC AUC of telling the window's rows from
	// the reference's; Threshold the AUC above which the window drifts,
	// and ThresholdSource where it comes from ("calibrated" or
	// "default").
	AUC             float64 `json:"auc"`
	Threshold       float64 `json:"threshold"`
	ThresholdSource string  `json:"threshold_source"`
	// NoiseFloor says the threshold was raised to the AUC's noise floor
	// on Rows rows a side (the one-sided test of "no difference" at the
	// false-alarm rate, from the Mann–Whitney sd): a calibrated
	// threshold is never below it.
	NoiseFloor bool `json:"noise_floor,omitempty"`
	// Alpha is the false-alarm rate a calibrated threshold promises, and
	// Pairs the window pairs it was drawn from.
	Alpha float64 `json:"alpha,omitempty"`
	Pairs int     `json:"pairs,omitempty"`
	// Rows is the rows taken from each side, Folds the folds.
	Rows  int `json:"rows"`
	Folds int `json:"folds"`
	// Series are the series the classifier reads.
	Series []string `json:"series"`
}

// domainAUC returns the out-of-fold ROC AUC of the small gbdt telling
// rows of ref (label 0) from rows of cur (label 1), both observed on the
// series of ps: up to n rows drawn from each side (the same number from
// both), split into folds by a generator seeded with seed. refRows and
// curRows are the row indices to draw from (nil: every row). It returns
// the AUC and the rows used per side; fewer than 2·folds rows a side is
// an error.
func domainAUC(ctx context.Context, fit DomainFit, ps []*plan, ref, cur []column, refRows, curRows []int32, n, folds int, seed uint64) (float64, int, error) {
	rng := rand.New(rand.NewPCG(seed, 0x646f6d61696e)) // "domain"
	all := func(c []column) []int32 {
		rows := make([]int32, len(c[0].bucket))
		for i := range rows {
			rows[i] = int32(i)
		}
		return rows
	}
	if len(ps) == 0 {
		return 0, 0, errors.New("domain classifier: no series to read")
	}
	if refRows == nil {
		refRows = all(ref)
	}
	if curRows == nil {
		curRows = all(cur)
	}
	k := min(n, len(refRows), len(curRows))
	if k < 2*folds {
		return 0, 0, fmt.Errorf("domain classifier: %d rows a side; at least %d are needed", k, 2*folds)
	}
	pick := func(rows []int32) []int32 {
		idx := sampleIndices(int64(len(rows)), k, rng)
		out := make([]int32, len(idx))
		for i, j := range idx {
			out[i] = rows[j]
		}
		return out
	}
	a, b := pick(refRows), pick(curRows)
	// The design matrix: the reference rows, then the window's.
	cols := make([]features.ColumnInfo, len(ps))
	for j, p := range ps {
		cols[j] = features.ColumnInfo{Name: p.name, Kind: features.Categorical, Card: len(p.labels)}
		if ref[j].value != nil {
			cols[j] = features.ColumnInfo{Name: p.name, Kind: features.Numeric}
		}
	}
	x := features.NewMatrix(2*k, cols)
	y := make([]float64, 2*k)
	for j := range ps {
		for side, rows := range [][]int32{a, b} {
			c := ref[j]
			if side == 1 {
				c = cur[j]
			}
			for i, r := range rows {
				if c.value != nil {
					x.Data[j][side*k+i] = c.value[r]
				} else {
					x.Data[j][side*k+i] = float64(c.bucket[r])
				}
			}
		}
	}
	for i := k; i < 2*k; i++ {
		y[i] = 1
	}
	// Stratified folds: each side's rows dealt round-robin in a random
	// order.
	fold := make([]int, 2*k)
	for side := range 2 {
		perm := rng.Perm(k)
		for i, p := range perm {
			fold[side*k+p] = i % folds
		}
	}
	oof := make([]float64, 2*k)
	for f := range folds {
		var tr, te []int
		for i := range fold {
			if fold[i] == f {
				te = append(te, i)
			} else {
				tr = append(tr, i)
			}
		}
		ty := make([]float64, len(tr))
		for i, r := range tr {
			ty[i] = y[r]
		}
		predict, err := fit(ctx, x.Take(tr), ty, seed)
		if err != nil {
			return 0, 0, fmt.Errorf("domain classifier: %w", err)
		}
		p := predict(x.Take(te))
		for i, r := range te {
			oof[r] = p[i]
		}
	}
	auc, err := evaluate.ROCAUC(y, oof)
	if err != nil {
		return 0, 0, fmt.Errorf("domain classifier: %w", err)
	}
	return auc, k, nil
}
