package monitor

import (
	"context"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/mlpipe/mlpipe/internal/numfmt"
)

// This file adds the label-free signals to a report: the performance
// estimate (estimate.go) and the domain classifier (domain.go).

// estimateWindow estimates the window's performance from its
// probabilities (of a binary model with a calibration map) into r.
func estimateWindow(b *Baseline, r *Report, t Thresholds, w window) {
	if !b.binary() || b.Calibrator == nil || w.scores == nil {
		return
	}
	probs := slices.Collect(w.scores)
	if len(probs) == 0 {
		return
	}
	e, err := EstimateBinary(probs, b.Calibrator, b.Info.Threshold)
	if err != nil {
		r.Estimate = &Estimate{Rows: len(probs), Calibration: b.Calibrator.Method, Status: StatusNotEnoughData, Reason: err.Error()}
		return
	}
	e.Status = StatusOK
	if e.Rows < t.MinSamples {
		e.Status = StatusNotEnoughData
		e.Reason = fmt.Sprintf("%s scored rows; min_samples is %s", numfmt.Thousands(e.Rows), numfmt.Thousands(t.MinSamples))
	}
	if b.Test != nil && b.Test.ROCAUC != nil {
		test := *b.Test.ROCAUC
		drop := test - e.ROCAUC.Value
		e.TestROCAUC, e.AUCDrop = &test, &drop
	}
	r.Estimate = e
}

// domainWindow runs the domain classifier on the window against the
// reference sample into r.
func domainWindow(ctx context.Context, b *Baseline, r *Report, t Thresholds, w window) {
	if b.Reference == nil || b.DomainFit == nil {
		return
	}
	ps := judged(b)
	if len(ps) == 0 {
		return
	}
	d := &DomainResult{Folds: DefaultDomainFolds, Threshold: t.DomainAUC, ThresholdSource: SourceFixed}
	for _, p := range ps {
		d.Series = append(d.Series, p.name)
	}
	r.Domain = d
	calRows := 0
	if c := b.Calibration; c != nil && c.Domain != nil && len(c.Domain.Values) > 0 && !t.Fixed {
		d.Threshold, d.Alpha = conformal(c.Domain.Values, t.FalseAlarmRate)
		d.ThresholdSource, d.Pairs, calRows = SourceCalibrated, len(c.Domain.Values), c.Domain.Rows
	}
	if w.rows < t.MinSamples {
		d.Status = StatusNotEnoughData
		d.Reason = fmt.Sprintf("%s rows in the window; min_samples is %s", numfmt.Thousands(w.rows), numfmt.Thousands(t.MinSamples))
		return
	}
	ref := make([]column, len(ps))
	cur := make([]column, len(ps))
	parallel(len(ps), func(k int) {
		p := ps[k]
		ref[k] = p.observeValues(slicesValues(b.Reference.Inputs[p.input]), len(b.Reference.Inputs[p.input]))
		cur[k] = p.observeValues(w.inputs(p.input), w.rows)
	})
	auc, k, err := domainAUC(ctx, b.DomainFit, ps, ref, cur, nil, nil, DefaultDomainRows, DefaultDomainFolds, b.Reference.Seed)
	if err != nil {
		d.Status, d.Reason = StatusNotEnoughData, err.Error()
		return
	}
	d.AUC, d.Rows = auc, k
	// A window smaller than the calibration's: the AUC's noise about 0.5
	// grows as 1/√rows, and so does the calibrated threshold's excess.
	if calRows > 0 && k < calRows {
		d.Threshold = 0.5 + (d.Threshold-0.5)*math.Sqrt(float64(calRows)/float64(k))
	}
	if floor := domainFloor(k, t.FalseAlarmRate); d.Threshold < floor {
		d.Threshold, d.NoiseFloor = floor, true
	}
	d.Status = StatusOK
	if auc > d.Threshold {
		d.Status = StatusDrift
		d.Reason = fmt.Sprintf("AUC %.4f > %.4f (%s)", auc, d.Threshold, d.ThresholdSource)
	}
}

// domainFloor is the domain classifier's noise floor with k rows a
// side: the AUC that no difference at all exceeds with probability
// alpha, 0.5 + z(1−alpha)·sd, with the Mann–Whitney sd of an AUC under
// no difference, √((2k+1)/(12k²)) (0.0058 at 5,000 rows: a floor of
// 0.5095 at alpha 0.05). A calibrated threshold below it, drawn from a
// null that varies less than sampling alone would make one window vary
// (the out-of-fold AUC of a classifier that learns nothing sits a little
// below 0.5), would fire on the classifier's noise.
func domainFloor(k int, alpha float64) float64 {
	if k <= 0 || alpha <= 0 || alpha >= 1 {
		return 0.5
	}
	n := float64(k)
	return 0.5 + distuv.UnitNormal.Quantile(1-alpha)*math.Sqrt((2*n+1)/(12*n*n))
}

// observeValues observes a series value by value.
func (p *plan) observeValues(vals func(func(any) bool), n int) column {
	c := column{bucket: make([]int32, 0, n)}
	if p.kind == KindNumeric && !isTimestamp(p.typ) {
		c.value = make([]float64, 0, n)
	}
	for v := range vals {
		b, x, _, _ := p.observe(v)
		c.bucket = append(c.bucket, int32(b))
		if c.value != nil {
			if b == p.missing() {
				x = math.NaN()
			}
			c.value = append(c.value, x)
		}
	}
	return c
}

func slicesValues(xs []any) func(func(any) bool) {
	return func(yield func(any) bool) {
		for _, x := range xs {
			if !yield(x) {
				return
			}
		}
	}
}
