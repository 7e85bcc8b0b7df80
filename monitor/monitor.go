package monitor

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"log/slog"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mlpipe/mlpipe/internal/numfmt"
	"github.com/mlpipe/mlpipe/predlog"
	"github.com/mlpipe/mlpipe/storage"
)

// Thresholds are the decision rules. A zero field takes its default
// (the Default* constants); the config's monitor: section sets them
// (docs/monitoring.md explains each).
//
// A series is judged by the thresholds calibrated on the training data
// (the bundle's ThresholdsFile, drawn at FalseAlarmRate), unless Fixed
// is set, the bundle has none, or Series overrides them; otherwise by
// the fixed PSI, KS, JS and Wasserstein thresholds below.
//
// The fixed effect-size defaults are matched to one another: for a
// normal variable whose mean moves by 0.46 standard deviations, PSI over
// the training deciles is 0.2, KS D is 0.18, the normalised Wasserstein
// distance is 0.46, and the JS distance over the same bins is 0.19. So
// each statistic flags about the same amount of change.
type Thresholds struct {
	// Policy is the rule that decides Retrain: PolicyDrift (the default)
	// or PolicyEstimated. Both are evaluated and reported; the labelled
	// performance rule (AUCDrop, RMSERise) decides under either.
	Policy string `json:"policy"`
	// PSI: a series drifts when its PSI exceeds it.
	PSI float64 `json:"psi_threshold"`
	// KS: a numeric series drifts when KS D exceeds it.
	KS float64 `json:"ks_threshold"`
	// JS: a categorical series drifts when the Jensen–Shannon distance
	// (base 2) exceeds it.
	JS float64 `json:"js_threshold"`
	// Wasserstein: a numeric series drifts when the Wasserstein distance
	// divided by the training standard deviation exceeds it.
	Wasserstein float64 `json:"wasserstein_threshold"`
	// FalseAlarmRate is the share of windows like the training period's
	// on which a series may be called drifted: the calibrated thresholds
	// are drawn from the null at this rate.
	FalseAlarmRate float64 `json:"false_alarm_rate"`
	// Fixed ignores the calibrated thresholds: every series is judged
	// by the fixed ones.
	Fixed bool `json:"fixed,omitempty"`
	// Series overrides the thresholds of single series, by series name
	// ("distance", "date:hour"); a zero field keeps the series' own.
	Series map[string]SeriesOverride `json:"series,omitempty"`
	// DriftShare: the drift rule recommends retraining when at least
	// this share of the evaluated features drift.
	DriftShare float64 `json:"drift_share"`
	// AUCDrop: retraining is recommended when the window's ROC AUC is
	// below the test split's by more than this (with enough labels).
	AUCDrop float64 `json:"auc_drop"`
	// RMSERise: for a regression, retraining is recommended when the
	// window's RMSE exceeds the test split's by more than this share of
	// it (with enough labels).
	RMSERise float64 `json:"rmse_rise"`
	// EstimatedAUCDrop: the estimated rule recommends retraining when
	// the ROC AUC estimated without labels is below the test split's by
	// more than this.
	EstimatedAUCDrop float64 `json:"estimated_auc_drop"`
	// DomainAUC is the domain classifier's threshold when the bundle has
	// no calibrated one: the window drifts when the classifier's
	// cross-validated AUC exceeds it.
	DomainAUC float64 `json:"domain_auc"`
	// MinSamples is the fewest window rows a feature (and labelled rows
	// the performance) needs to be judged at all; fewer give "not enough
	// data", never "drift".
	MinSamples int `json:"min_samples"`
}

// SeriesOverride sets some thresholds of one series.
type SeriesOverride struct {
	PSI         float64 `json:"psi_threshold,omitempty"`
	KS          float64 `json:"ks_threshold,omitempty"`
	JS          float64 `json:"js_threshold,omitempty"`
	Wasserstein float64 `json:"wasserstein_threshold,omitempty"`
}

// The policies.
const (
	// PolicyDrift retrains when at least DriftShare of the features drift.
	PolicyDrift = "drift"
	// PolicyEstimated retrains when the estimated ROC AUC falls more than
	// EstimatedAUCDrop below the test split's, or when the domain
	// classifier fires.
	PolicyEstimated = "estimated"
)

// Defaults of Thresholds.
const (
	DefaultPSI         = 0.2
	DefaultKS          = 0.18
	DefaultJS          = 0.19
	DefaultWasserstein = 0.46
	DefaultDriftShare  = 0.5
	DefaultAUCDrop     = 0.05
	// DefaultRMSERise is 20%: a regression's error growing by a fifth is
	// as clear a sign of decay as a classifier's AUC falling by 0.05.
	DefaultRMSERise = 0.2
	// DefaultEstimatedAUCDrop is 0.02: the estimate's band on a week of
	// the default task is about ±0.005, and a model whose AUC falls by
	// two points has lost a good part of what retraining recovers.
	DefaultEstimatedAUCDrop = 0.02
	// DefaultDomainAUC is the domain classifier's threshold without a
	// calibrated one: an AUC of 0.6 means the classifier ranks a window
	// row above a reference row 60% of the time, a difference no
	// sampling noise makes at the classifier's sizes (its sd under no
	// drift is about 0.006).
	DefaultDomainAUC  = 0.6
	DefaultMinSamples = 1000
)

// WithDefaults returns t with every zero field set to its default.
func (t Thresholds) WithDefaults() Thresholds {
	def := func(x *float64, d float64) {
		if *x == 0 {
			*x = d
		}
	}
	if t.Policy == "" {
		t.Policy = PolicyDrift
	}
	def(&t.PSI, DefaultPSI)
	def(&t.KS, DefaultKS)
	def(&t.JS, DefaultJS)
	def(&t.Wasserstein, DefaultWasserstein)
	def(&t.FalseAlarmRate, DefaultFalseAlarmRate)
	def(&t.DriftShare, DefaultDriftShare)
	def(&t.AUCDrop, DefaultAUCDrop)
	def(&t.RMSERise, DefaultRMSERise)
	def(&t.EstimatedAUCDrop, DefaultEstimatedAUCDrop)
	def(&t.DomainAUC, DefaultDomainAUC)
	if t.MinSamples == 0 {
		t.MinSamples = DefaultMinSamples
	}
	return t
}

// Validate returns an error wrapping ErrInvalid, naming the field, if a
// threshold is out of range.
func (t Thresholds) Validate() error {
	if t.Policy != "" && t.Policy != PolicyDrift && t.Policy != PolicyEstimated {
		return fmt.Errorf("%w: policy is %q (want %s or %s)", ErrInvalid, t.Policy, PolicyDrift, PolicyEstimated)
	}
	checks := []struct {
		name string
		v    float64
		max  float64
	}{{"psi_threshold", t.PSI, 0}, {"ks_threshold", t.KS, 1}, {"js_threshold", t.JS, 1},
		{"wasserstein_threshold", t.Wasserstein, 0}, {"drift_share", t.DriftShare, 1}, {"auc_drop", t.AUCDrop, 1},
		{"rmse_rise", t.RMSERise, 0}, {"false_alarm_rate", t.FalseAlarmRate, 1}, {"estimated_auc_drop", t.EstimatedAUCDrop, 1},
		{"domain_auc", t.DomainAUC, 1}}
	for name, o := range t.Series {
		checks = append(checks, []struct {
			name string
			v    float64
			max  float64
		}{{name + ".psi_threshold", o.PSI, 0}, {name + ".ks_threshold", o.KS, 1}, {name + ".js_threshold", o.JS, 1},
			{name + ".wasserstein_threshold", o.Wasserstein, 0}}...)
	}
	for _, c := range checks {
		if !(c.v >= 0) || (c.max > 0 && c.v > c.max) {
			return fmt.Errorf("%w: %s is %g", ErrInvalid, c.name, c.v)
		}
	}
	if t.MinSamples < 0 {
		return fmt.Errorf("%w: min_samples is %d", ErrInvalid, t.MinSamples)
	}
	return nil
}

// seriesThresholds are the thresholds of every series of b under t: the
// calibrated ones (unless t.Fixed), else the fixed ones, then t.Series'
// overrides.
func seriesThresholds(b *Baseline, t Thresholds) map[string]SeriesThresholds {
	out := map[string]SeriesThresholds{}
	if c := b.Calibration; c != nil && !t.Fixed {
		for i := range c.Series {
			out[c.Series[i].Name] = c.Series[i].thresholds(t.FalseAlarmRate, c.Pairs, c.WindowRows)
		}
	}
	for name, o := range t.Series {
		th, ok := out[name]
		if !ok {
			th = SeriesThresholds{PSI: t.PSI, KS: t.KS, JS: t.JS, Wasserstein: t.Wasserstein}
		}
		th.Source = SourceOverride
		for st, v := range map[string]float64{statPSI: o.PSI, statKS: o.KS, statJS: o.JS, statWasserstein: o.Wasserstein} {
			if v > 0 {
				th.set(st, v)
			}
		}
		th.Alpha, th.Pairs, th.calRows = 0, 0, 0
		out[name] = th
	}
	return out
}

// fixedThresholds are t's thresholds for a series with no calibrated or
// configured ones.
func fixedThresholds(t Thresholds) SeriesThresholds {
	return SeriesThresholds{PSI: t.PSI, KS: t.KS, JS: t.JS, Wasserstein: t.Wasserstein, Source: SourceFixed}
}

// Options tune Run. The zero value is the defaults.
type Options struct {
	Thresholds
	// Log receives progress at Info and what was skipped at Warn; nil
	// logs nothing.
	Log *slog.Logger
}

// Compute compares the predictions preds (one window of the prediction
// log) and the labels that have arrived for them with the baseline b,
// and returns the report. It is pure computation: no I/O, no logging.
// Predictions of a model other than b's are left out (counted); labels
// join the predictions by id (predlog.Join). An empty or small window is
// a report whose status is StatusNotEnoughData, not an error; Compute
// fails only on bad thresholds.
func Compute(b *Baseline, preds []predlog.Record, labels []predlog.Label, t Thresholds) (*Report, error) {
	return compute(context.Background(), b, preds, labels, t)
}

// compute is Compute; ctx stops the domain classifier's fits.
func compute(ctx context.Context, b *Baseline, preds []predlog.Record, labels []predlog.Label, t Thresholds) (*Report, error) {
	r, t, err := newReport(b, t)
	if err != nil {
		return nil, err
	}
	// Keep this model's predictions.
	mine := preds
	ours := func(r *predlog.Record) bool { return b.Info.Name == "" || r.Model == "" || r.Model == b.Info.Name }
	if i := slices.IndexFunc(preds, func(r predlog.Record) bool { return !ours(&r) }); i >= 0 {
		mine = slices.Clone(preds[:i]) // copied only when some are not ours
		for j := i; j < len(preds); j++ {
			if ours(&preds[j]) {
				mine = append(mine, preds[j])
			}
		}
		r.OtherModels = len(preds) - len(mine)
	}
	r.Predictions = len(mine)
	for i := range mine {
		if r.Versions == nil {
			r.Versions = map[int]int{}
		}
		r.Versions[mine[i].Version]++
	}
	w := window{
		rows:   len(mine),
		inputs: func(name string) iter.Seq[any] { return inputs(mine, name) },
		scores: scores(mine, b.Version, b.regression()),
	}
	compare(b, r, t, w)
	estimateWindow(b, r, t, w)
	domainWindow(ctx, b, r, t, w)
	if r.Score != nil && b.Version > 0 && len(r.Versions) > 1 {
		r.Score.Notes = append(r.Score.Notes, fmt.Sprintf("only the predictions of version %d", b.Version))
	}
	if len(r.Versions) > 1 && b.Version == 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("the window holds predictions of %d model versions; the probability and the performance mix them (the bundle's version is unknown)", len(r.Versions)))
	}
	if len(labels) > 0 {
		r.Performance = performance(b, predlog.Join(mine, labels), t)
	}
	decide(r, t)
	return r, nil
}

// newReport starts the report of b under t (defaults filled in).
func newReport(b *Baseline, t Thresholds) (*Report, Thresholds, error) {
	t = t.WithDefaults()
	if err := t.Validate(); err != nil {
		return nil, t, fmt.Errorf("monitor: %w", err)
	}
	r := &Report{Model: b.Info.Name, Version: b.Version, Bundle: b.Dir, Baseline: BaselineProfile, Thresholds: t,
		Reasons: []string{}, Features: []Feature{}, Notes: append([]string(nil), b.Notes...)}
	if b.Reference != nil {
		r.Baseline = BaselineReference
	}
	return r, t, nil
}

// window is a window of traffic, whatever holds it: its number of rows,
// each input's values, and the predicted probabilities (nil: none).
type window struct {
	rows   int
	inputs func(name string) iter.Seq[any]
	scores iter.Seq[float64]
}

// compare measures every series of b on w, in parallel, into r.
func compare(b *Baseline, r *Report, t Thresholds, w window) {
	ps, notes := plans(b)
	r.Notes = append(r.Notes, notes...)
	sp := scorePlan(b.Reference)
	jobs := append([]*plan(nil), ps...)
	if sp != nil && (b.binary() || b.regression()) && w.scores != nil {
		jobs = append(jobs, sp)
	}
	results := make([]Feature, len(jobs))
	ths := seriesThresholds(b, t)
	parallel(len(jobs), func(i int) {
		p := jobs[i]
		var a *accumulator
		if p == sp {
			a = p.accumulateFloats(w.scores, w.rows)
		} else {
			a = p.accumulate(w.inputs(p.input), w.rows)
		}
		th, ok := ths[p.name]
		if !ok {
			th = fixedThresholds(t)
		}
		results[i] = p.measure(a, t, th)
	})
	r.Features = results[:len(ps)]
	if len(results) > len(ps) {
		r.Score = &results[len(ps)]
	} else if sp != nil && !b.binary() {
		r.Notes = append(r.Notes, "the predicted probability of a multiclass model is not compared")
	}
}

// inputs yields each prediction's value of one input.
func inputs(preds []predlog.Record, name string) iter.Seq[any] {
	return func(yield func(any) bool) {
		for i := range preds {
			if !yield(preds[i].Inputs[name]) {
				return
			}
		}
	}
}

// scores yields the predicted probability of each prediction of a
// binary model, or the predicted value of a regression's (of version, if
// it is not 0).
func scores(preds []predlog.Record, version int, regression bool) iter.Seq[float64] {
	return func(yield func(float64) bool) {
		for i := range preds {
			r := &preds[i]
			if (version > 0 && r.Version != version) || (regression && r.Prediction == nil) || (!regression && r.Probabilities != nil) {
				continue
			}
			v := r.Probability
			if regression {
				v = *r.Prediction
			}
			if !yield(v) {
				return
			}
		}
	}
}

// decide applies the dataset-level rules and the policy's choice among
// them: the drift rule (at least DriftShare of the evaluated features
// drift), the estimated rule (the estimated ROC AUC fell by more than
// EstimatedAUCDrop, or the domain classifier fired) and, under either
// policy, the labelled performance rule (the ROC AUC fell by more than
// AUCDrop, or a regression's RMSE rose by more than RMSERise).
func decide(r *Report, t Thresholds) {
	r.Policy = t.Policy
	var drifted []string
	for _, f := range r.Features {
		switch f.Status {
		case StatusDrift:
			r.Drifted++
			r.Evaluated++
			drifted = append(drifted, f.Name)
		case StatusOK:
			r.Evaluated++
		}
	}
	if r.Evaluated > 0 {
		r.DriftedShare = float64(r.Drifted) / float64(r.Evaluated)
	}
	// quiet marks a signal of the policy not in force.
	quiet := func(policy string) string {
		if policy == t.Policy {
			return ""
		}
		return " (the " + policy + " policy's rule: it does not decide)"
	}
	retrain := false
	judged := false
	if r.Evaluated > 0 {
		judged = true
		cmp := "<"
		if r.DriftedShare >= t.DriftShare {
			cmp = "≥"
			retrain = retrain || t.Policy == PolicyDrift
		}
		reason := fmt.Sprintf("%d of %d features drift (%.0f%% %s drift_share %.0f%%)", r.Drifted, r.Evaluated, 100*r.DriftedShare, cmp, 100*t.DriftShare)
		if len(drifted) > 0 {
			reason += ": " + strings.Join(drifted, ", ")
		}
		if cmp == "≥" {
			reason += quiet(PolicyDrift)
		}
		r.Reasons = append(r.Reasons, reason)
	}
	if e := r.Estimate; e != nil && e.Status == StatusOK && e.AUCDrop != nil {
		judged = judged || t.Policy == PolicyEstimated
		what := fmt.Sprintf("estimated ROC AUC %.4f [%.4f, %.4f] without labels, %s the test split's %.4f (estimated_auc_drop %g)",
			e.ROCAUC.Value, e.ROCAUC.Low, e.ROCAUC.High, signed(-*e.AUCDrop), *e.TestROCAUC, t.EstimatedAUCDrop)
		if *e.AUCDrop > t.EstimatedAUCDrop {
			retrain = retrain || t.Policy == PolicyEstimated
			what += quiet(PolicyEstimated)
		}
		r.Reasons = append(r.Reasons, what)
	}
	if d := r.Domain; d != nil && (d.Status == StatusOK || d.Status == StatusDrift) {
		judged = judged || t.Policy == PolicyEstimated
		what := fmt.Sprintf("domain classifier AUC %.4f ≤ %.4f (%s)", d.AUC, d.Threshold, d.ThresholdSource)
		if d.Status == StatusDrift {
			retrain = retrain || t.Policy == PolicyEstimated
			what = "domain classifier " + d.Reason + quiet(PolicyEstimated)
		}
		r.Reasons = append(r.Reasons, what)
	}
	if p := r.Performance; p != nil && p.Status == StatusOK && p.RMSERise != nil {
		judged = true
		rise := fmt.Sprintf("RMSE %.4g is %+.1f%% from the test split's %.4g (rmse_rise %g%%)", *p.RMSE, 100**p.RMSERise, *p.Test.RMSE, 100*t.RMSERise)
		if *p.RMSERise > t.RMSERise {
			retrain = true
		}
		r.Reasons = append(r.Reasons, rise)
	}
	if p := r.Performance; p != nil && p.Status == StatusOK && p.AUCDrop != nil {
		judged = true
		if *p.AUCDrop > t.AUCDrop {
			retrain = true
			r.Reasons = append(r.Reasons, fmt.Sprintf("ROC AUC %.4f is %.4f below the test split's %.4f (auc_drop %g)", *p.ROCAUC, *p.AUCDrop, *p.Test.ROCAUC, t.AUCDrop))
		} else {
			r.Reasons = append(r.Reasons, fmt.Sprintf("ROC AUC %.4f, %s the test split's %.4f (auc_drop %g)", *p.ROCAUC, signed(*p.ROCAUC-*p.Test.ROCAUC), *p.Test.ROCAUC, t.AUCDrop))
		}
	}
	if s := r.Score; s != nil && s.Status == StatusDrift {
		what := "predicted probability"
		if s.Name == "prediction" {
			what = "prediction"
		}
		r.Reasons = append(r.Reasons, "the "+what+" drifts ("+s.Reason+"); it does not decide alone")
	}
	switch {
	case retrain:
		r.Status, r.Retrain = StatusRetrain, true
	case judged:
		r.Status = StatusOK
	default:
		r.Status = StatusNotEnoughData
		if r.Predictions == 0 {
			r.Reasons = append(r.Reasons, "no predictions in the window")
		} else {
			r.Reasons = append(r.Reasons, fmt.Sprintf("no feature has enough data (%s predictions)", numfmt.Thousands(r.Predictions)))
		}
	}
}

// signed formats a change to four decimals, "±0.0000 from" when it
// rounds to zero (never "-0.0000").
func signed(d float64) string {
	if math.Abs(d) < 0.00005 {
		return "±0.0000 from"
	}
	return fmt.Sprintf("%+.4f from", d)
}

// parallel runs fn(0..n-1) on up to GOMAXPROCS goroutines.
func parallel(n int, fn func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(n, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// Run reads the predictions of [from, to) from the prediction log
// directory logDir, and the labels logged from `from` on (labels arrive
// after their predictions), and compares them with b (Compute). A zero
// from or to leaves that end open. A missing or unreadable log
// directory is an error naming it (wrapping fs.ErrNotExist when it does
// not exist); bad lines in the log are skipped and counted in
// Report.Log, and logged at Warn.
func Run(ctx context.Context, b *Baseline, logDir string, from, to time.Time, opts *Options) (*Report, error) {
	const op = "monitor"
	var o Options
	if opts != nil {
		o = *opts
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	start := time.Now()
	if _, err := os.Stat(logDir); err != nil && !storage.IsURL(logDir) {
		return nil, fmt.Errorf("%s: prediction log: %w", op, err) // *PathError names the directory
	}
	// The two kinds of file are independent: read them at once.
	var (
		preds      []predlog.Record
		labels     []predlog.Label
		pst, lst   predlog.Stats
		perr, lerr error
		wg         sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		labels, lst, lerr = predlog.ReadLabels(ctx, logDir, from, time.Time{})
	}()
	preds, pst, perr = predlog.ReadPredictions(ctx, logDir, from, to)
	wg.Wait()
	if err := cmp.Or(perr, lerr); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	log.Info("monitor: log read", "dir", logDir, "predictions", len(preds), "labels", len(labels),
		"files", pst.Files+lst.Files, "seconds", time.Since(start).Seconds())
	for _, st := range []predlog.Stats{pst, lst} {
		if st.Skipped > 0 {
			first := ""
			if st.FirstBad != nil {
				first = st.FirstBad.Error()
			}
			log.Warn("monitor: skipped log lines", "bad", st.Bad, "truncated", st.Truncated, "first_bad", first)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	r, err := compute(ctx, b, preds, labels, o.Thresholds)
	if err != nil {
		return nil, err
	}
	r.From, r.To = from, to
	r.Log = &LogStats{Files: pst.Files, Lines: pst.Lines, Bad: pst.Bad + lst.Bad, Truncated: pst.Truncated + lst.Truncated, Labels: len(labels)}
	if pst.FirstBad != nil {
		r.Log.FirstBad = pst.FirstBad.Error()
	} else if lst.FirstBad != nil {
		r.Log.FirstBad = lst.FirstBad.Error()
	}
	log.Info("monitor: report", "status", r.Status, "drifted", r.Drifted, "evaluated", r.Evaluated, "seconds", time.Since(start).Seconds())
	return r, nil
}
