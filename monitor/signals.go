package monitor

import (
	"context"
	"fmt"
	"math"
	"slices"
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
		e.Reason = fmt.Sprintf("%s scored rows; min_samples is %s", thousands(e.Rows), thousands(t.MinSamples))
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
	if b.Reference == nil {
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
		d.Reason = fmt.Sprintf("%s rows in the window; min_samples is %s", thousands(w.rows), thousands(t.MinSamples))
		return
	}
	ref := make([]column, len(ps))
	cur := make([]column, len(ps))
	parallel(len(ps), func(k int) {
		p := ps[k]
		ref[k] = p.observeValues(slicesValues(b.Reference.Inputs[p.input]), len(b.Reference.Inputs[p.input]))
		cur[k] = p.observeValues(w.inputs(p.input), w.rows)
	})
	auc, k, err := domainAUC(ctx, ps, ref, cur, nil, nil, DefaultDomainRows, DefaultDomainFolds, b.Reference.Seed)
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
	d.Status = StatusOK
	if auc > d.Threshold {
		d.Status = StatusDrift
		d.Reason = fmt.Sprintf("AUC %.4f > %.4f (%s)", auc, d.Threshold, d.ThresholdSource)
	}
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
