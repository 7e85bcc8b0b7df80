package backtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"time"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/evaluate"
	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/catalog"
)

// The policies, in report order.
const (
	Never       = "never"
	Scheduled   = "scheduled"
	Drift       = "drift"
	Performance = "performance"
)

// Policies lists every policy.
var Policies = []string{Never, Scheduled, Drift, Performance}

// DriftFunc says whether the traffic of a period drifted from the data a
// model was trained on, and why. train is the model's training rows,
// window the period's rows and proba the model's scores on them.
type DriftFunc func(ctx context.Context, train, window arrow.Table, proba []float64) (retrain bool, why string, err error)

// Options configure a backtest. Zero values take the defaults noted.
type Options struct {
	// Config gives the label, the features, the time column (split.column)
	// and the gate's min_improvement; Model names which of its models is
	// trained (default: the first).
	Config *config.Config
	Model  string
	// Start is when the first period starts (default: TrainDays +
	// ValidDays after the first day of the data). Period is its length
	// (default 7 days); Steps caps the number of periods (default: until
	// the data ends).
	Start  time.Time
	Period time.Duration
	Steps  int
	// TrainDays and ValidDays are the trailing window of a retrain
	// (defaults 42 and 7: six weeks to train on, one to validate).
	TrainDays, ValidDays int
	// Policies to compare (default all). The drift policy needs Drift.
	Policies []string
	Drift    DriftFunc
	// PerformanceDrop is the drop of the production model's labelled AUC
	// below its AUC on the first period it served that triggers the
	// performance policy (default 0.02). (Its validation AUC is a poor
	// baseline: the validation week can be easier or harder than the
	// weeks served, by several points on this data.) For a regression,
	// RMSERise is the share by which its RMSE must exceed its first
	// period's instead (default 0.2: 20% worse).
	PerformanceDrop float64
	RMSERise        float64
	Log             *slog.Logger
}

// Period is one step of the simulated clock. PositiveRate is a binary
// label's share of positive rows, MeanTarget a regression's mean target.
type Period struct {
	From         time.Time `json:"from"`
	To           time.Time `json:"to"`
	Rows         int       `json:"rows"`
	PositiveRate *float64  `json:"positive_rate,omitempty"`
	MeanTarget   *float64  `json:"mean_target,omitempty"`
}

// PolicyResult is one policy's run through the periods.
type PolicyResult struct {
	Name string `json:"name"`
	// Score is the production model's score on each period: its ROC AUC
	// for a binary label (NaN, written as null, when a period has one
	// class only), its RMSE for a regression (Result.Metric says which).
	Score []float64 `json:"score"`
	// Version is the production model's version in each period (1 is the
	// first model; each promotion adds one).
	Version []int `json:"version"`
	// Retrained marks the periods at whose start a candidate was trained;
	// Promoted those where it replaced production; Why says why.
	Retrained []bool   `json:"retrained"`
	Promoted  []bool   `json:"promoted"`
	Why       []string `json:"why"`
	// Retrains counts the trainings after the first model, TrainSeconds
	// their fit time (shared fits count for every policy that uses them,
	// as each would have paid for its own).
	Retrains     int     `json:"retrains"`
	TrainSeconds float64 `json:"train_seconds"`
	MeanScore    float64 `json:"mean_score"`
}

// Result is a whole backtest.
type Result struct {
	Model string `json:"model"`
	// Metric is what Score holds: "roc_auc" (higher is better) or, for a
	// regression, "rmse" (lower is better).
	Metric         string         `json:"metric"`
	HigherIsBetter bool           `json:"higher_is_better"`
	Periods        []Period       `json:"periods"`
	Policies       []PolicyResult `json:"policies"`
	// Fits is the number of distinct trainings, FitSeconds their time.
	Fits       int     `json:"fits"`
	FitSeconds float64 `json:"fit_seconds"`
	Seconds    float64 `json:"seconds"`
}

// fitted is a model trained at the start of a period.
type fitted struct {
	features   *features.Pipeline
	model      train.Model
	train      arrow.Table // its training rows (the drift baseline)
	valid      arrow.Table // its validation rows
	validY     []float64
	validScore float64 // the metric on its validation rows
	seconds    float64
}

// metric is how the backtest scores a model on labelled rows.
type metric struct {
	name           string
	higherIsBetter bool
	score          func(y, pred []float64) (float64, error)
}

// metricFor is the backtest's metric for the config's task: ROC AUC for
// a binary label, RMSE for a regression.
func metricFor(task train.Task) metric {
	if task == train.Regression {
		return metric{"rmse", false, evaluate.RMSE}
	}
	return metric{"roc_auc", true, evaluate.ROCAUC}
}

// better reports whether score a beats b by at least margin.
func (m metric) better(a, b, margin float64) bool {
	if m.higherIsBetter {
		return a >= b+margin && a > b
	}
	return a <= b-margin && a < b
}

// Run runs the backtest on data, which it does not release.
func Run(ctx context.Context, data arrow.Table, o Options) (*Result, error) {
	started := time.Now()
	if err := o.defaults(data); err != nil {
		return nil, err
	}
	cfg := o.Config
	col := cfg.Split.Column
	met := metricFor(cfg.Task())
	res := &Result{Model: o.Model, Metric: met.name, HigherIsBetter: met.higherIsBetter}
	// The periods.
	_, last, _ := ingest.TimeBounds(data, col)
	for from := o.Start; from.Before(last) && (o.Steps == 0 || len(res.Periods) < o.Steps); from = from.Add(o.Period) {
		res.Periods = append(res.Periods, Period{From: from, To: from.Add(o.Period)})
	}
	if len(res.Periods) == 0 {
		return nil, fmt.Errorf("backtest: no period starts between %s and the end of the data (%s)", o.Start.Format(time.DateOnly), last.Format(time.DateOnly))
	}
	// Each period's rows and labels, cut once.
	type window struct {
		tbl arrow.Table
		y   []float64
	}
	windows := make([]window, len(res.Periods))
	defer func() {
		for _, w := range windows {
			if w.tbl != nil {
				w.tbl.Release()
			}
		}
	}()
	for k := range res.Periods {
		p := &res.Periods[k]
		tbl, err := ingest.TimeSlice(ctx, data, col, p.From, p.To)
		if err != nil {
			return nil, fmt.Errorf("backtest: %w", err)
		}
		y, err := labels(cfg, tbl)
		if err != nil {
			tbl.Release()
			return nil, fmt.Errorf("backtest: period %s: %w", p.From.Format(time.DateOnly), err)
		}
		windows[k] = window{tbl, y}
		p.Rows = int(tbl.NumRows())
		m := mean(y)
		if cfg.Task() == train.Regression {
			p.MeanTarget = &m
		} else {
			p.PositiveRate = &m
		}
	}

	// The trainings, shared by the policies: the model trained at the
	// start of period k.
	fits := map[int]*fitted{}
	defer func() {
		for _, f := range fits {
			f.train.Release()
			f.valid.Release()
		}
	}()
	fitAt := func(k int) (*fitted, error) {
		if f, ok := fits[k]; ok {
			return f, nil
		}
		f, err := o.fit(ctx, data, res.Periods[k].From)
		if err != nil {
			return nil, err
		}
		fits[k] = f
		res.Fits++
		res.FitSeconds += f.seconds
		o.Log.Info("backtest: trained", "at", res.Periods[k].From.Format(time.DateOnly), "valid_"+met.name, fmt.Sprintf("%.4f", f.validScore), "seconds", fmt.Sprintf("%.1f", f.seconds))
		return f, nil
	}

	for _, name := range o.Policies {
		pr := PolicyResult{Name: name}
		var prod *fitted
		version := 0
		var lastProba []float64
		// launch is the production model's score on the first period it
		// served: the performance policy's baseline.
		launch := math.NaN()
		for k := range res.Periods {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("backtest: %w", err)
			}
			retrain, why := k == 0, "first model"
			if k > 0 {
				var err error
				retrain, why, err = o.decide(ctx, name, met, prod, windows[k-1].tbl, lastProba, launch, pr.Score[k-1])
				if err != nil {
					return nil, fmt.Errorf("backtest: %s at %s: %w", name, res.Periods[k].From.Format(time.DateOnly), err)
				}
			}
			promoted := false
			if retrain {
				cand, err := fitAt(k)
				if err != nil {
					return nil, fmt.Errorf("backtest: training at %s: %w", res.Periods[k].From.Format(time.DateOnly), err)
				}
				if k > 0 {
					pr.Retrains++
				}
				pr.TrainSeconds += cand.seconds
				promoted = prod == nil
				if prod != nil {
					// The gate: both models on the candidate's validation days.
					p, err := score(prod, cand.valid)
					if err != nil {
						return nil, err
					}
					prodScore, _ := met.score(cand.validY, p)
					promoted = met.better(cand.validScore, prodScore, cfg.Gate.MinImprovement)
					why += fmt.Sprintf("; gate: candidate %.4f vs production %.4f", cand.validScore, prodScore)
				}
				if promoted {
					prod = cand
					version++
					launch = math.NaN()
				}
			}
			proba, err := score(prod, windows[k].tbl)
			if err != nil {
				return nil, err
			}
			score, err := met.score(windows[k].y, proba)
			if err != nil {
				score = math.NaN()
			}
			lastProba = proba
			if math.IsNaN(launch) {
				launch = score
			}
			pr.Score = append(pr.Score, score)
			pr.Version = append(pr.Version, version)
			pr.Retrained = append(pr.Retrained, retrain)
			pr.Promoted = append(pr.Promoted, promoted)
			pr.Why = append(pr.Why, why)
		}
		pr.MeanScore = nanMean(pr.Score)
		res.Policies = append(res.Policies, pr)
		o.Log.Info("backtest: policy done", "policy", name, "retrains", pr.Retrains, "mean_"+met.name, fmt.Sprintf("%.4f", pr.MeanScore))
	}
	res.Seconds = time.Since(started).Seconds()
	return res, nil
}

// decide applies a policy at the start of a period, from the previous
// period's traffic, predictions and score, and the score the production
// model had on the first period it served.
func (o *Options) decide(ctx context.Context, policy string, met metric, prod *fitted, prev arrow.Table, prevProba []float64, launch, prevScore float64) (bool, string, error) {
	switch policy {
	case Never:
		return false, "", nil
	case Scheduled:
		return true, "scheduled", nil
	case Performance:
		if math.IsNaN(prevScore) || math.IsNaN(launch) {
			return false, "", nil
		}
		if !met.higherIsBetter {
			if rise := prevScore/launch - 1; rise > o.RMSERise {
				return true, fmt.Sprintf("%s %.4g last period, %.0f%% above its first period's %.4g", met.name, prevScore, 100*rise, launch), nil
			}
			return false, "", nil
		}
		if drop := launch - prevScore; drop > o.PerformanceDrop {
			return true, fmt.Sprintf("AUC %.4f last period, %.4f below its first period's %.4f", prevScore, drop, launch), nil
		}
		return false, "", nil
	case Drift:
		retrain, why, err := o.Drift(ctx, prod.train, prev, prevProba)
		if err != nil {
			return false, "", err
		}
		if retrain {
			return true, "drift: " + why, nil
		}
		return false, "", nil
	}
	return false, "", fmt.Errorf("unknown policy %q", policy)
}

// fit trains the model on the trailing window ending at t.
func (o *Options) fit(ctx context.Context, data arrow.Table, t time.Time) (*fitted, error) {
	cfg := o.Config
	col := cfg.Split.Column
	validFrom := t.AddDate(0, 0, -o.ValidDays)
	trainFrom := validFrom.AddDate(0, 0, -o.TrainDays)
	trainTbl, err := ingest.TimeSlice(ctx, data, col, trainFrom, validFrom)
	if err != nil {
		return nil, err
	}
	f := &fitted{train: trainTbl}
	if f.valid, err = ingest.TimeSlice(ctx, data, col, validFrom, t); err != nil {
		trainTbl.Release()
		return nil, err
	}
	release := func() { f.train.Release(); f.valid.Release() }
	ty, err := labels(cfg, trainTbl)
	if err != nil {
		release()
		return nil, fmt.Errorf("training window: %w", err)
	}
	if f.validY, err = labels(cfg, f.valid); err != nil {
		release()
		return nil, fmt.Errorf("validation window: %w", err)
	}
	start := time.Now()
	p, xTrain, err := features.Fit(trainTbl, ty, cfg.Features, cfg.Seed)
	if err != nil {
		release()
		return nil, err
	}
	xValid, err := p.Transform(f.valid)
	if err != nil {
		release()
		return nil, err
	}
	var spec train.ModelSpec
	for _, m := range cfg.Models {
		if m.Name == o.Model {
			spec = m
		}
	}
	tr, err := catalog.Trainer(spec.Name, spec.Candidates()[0], cfg.Seed)
	if err != nil {
		release()
		return nil, err
	}
	trainDS := &train.Dataset{X: xTrain, Y: ty, Classes: 2, ClassNames: []string{"0", "1"}}
	validDS := &train.Dataset{X: xValid, Y: f.validY, Classes: 2, ClassNames: trainDS.ClassNames}
	if cfg.Task() == train.Regression {
		trainDS = &train.Dataset{X: xTrain, Y: ty, Task: train.Regression}
		validDS = &train.Dataset{X: xValid, Y: f.validY, Task: train.Regression}
		if cfg.Label.Transform == ingest.TransformLog1p {
			tr = train.Log1p(tr)
		}
	}
	m, err := tr.Fit(ctx, trainDS, validDS)
	if err != nil {
		release()
		return nil, err
	}
	f.features, f.model, f.seconds = p, m, time.Since(start).Seconds()
	if f.validScore, err = metricFor(cfg.Task()).score(f.validY, m.Predict(xValid)); err != nil {
		release()
		return nil, fmt.Errorf("validation window: %w", err)
	}
	return f, nil
}

// score returns a model's probabilities on tbl, through the batch path.
func score(f *fitted, tbl arrow.Table) ([]float64, error) {
	x, err := f.features.Transform(tbl)
	if err != nil {
		return nil, fmt.Errorf("backtest: %w", err)
	}
	return f.model.Predict(x), nil
}

// labels derives a binary label vector, or a regression's targets; a
// null label is an error.
func labels(cfg *config.Config, tbl arrow.Table) ([]float64, error) {
	l, err := cfg.Label.Derive(tbl)
	if err != nil {
		return nil, err
	}
	if l.Values != nil {
		for i, v := range l.Values {
			if math.IsNaN(v) {
				return nil, fmt.Errorf("row %d has no target (column %q is null)", i+1, cfg.Label.Column)
			}
		}
		return l.Values, nil
	}
	if len(l.Classes) != 2 {
		return nil, errors.New("the backtest needs a binary label or a regression target")
	}
	y := make([]float64, len(l.Y))
	for i, c := range l.Y {
		if c < 0 {
			return nil, fmt.Errorf("row %d has no label", i+1)
		}
		y[i] = float64(c)
	}
	return y, nil
}

func (o *Options) defaults(data arrow.Table) error {
	cfg := o.Config
	if cfg == nil {
		return errors.New("backtest: no config")
	}
	if cfg.Split.Column == "" {
		return errors.New("backtest: the config has no time column (split.column)")
	}
	if o.Model == "" && len(cfg.Models) > 0 {
		o.Model = cfg.Models[0].Name
	}
	if !slices.ContainsFunc(cfg.Models, func(m train.ModelSpec) bool { return m.Name == o.Model }) {
		return fmt.Errorf("backtest: %q is not among the config's models", o.Model)
	}
	if o.Period <= 0 {
		o.Period = 7 * 24 * time.Hour
	}
	if o.TrainDays <= 0 {
		o.TrainDays = 42
	}
	if o.ValidDays <= 0 {
		o.ValidDays = 7
	}
	if len(o.Policies) == 0 {
		o.Policies = Policies
	}
	for _, p := range o.Policies {
		if !slices.Contains(Policies, p) {
			return fmt.Errorf("backtest: unknown policy %q (want %v)", p, Policies)
		}
		if p == Drift && o.Drift == nil {
			return errors.New("backtest: the drift policy needs a drift check")
		}
	}
	if o.PerformanceDrop <= 0 {
		o.PerformanceDrop = 0.02
	}
	if o.RMSERise <= 0 {
		o.RMSERise = 0.2
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Start.IsZero() {
		first, _, ok := ingest.TimeBounds(data, cfg.Split.Column)
		if !ok {
			return fmt.Errorf("backtest: no values in the time column %q", cfg.Split.Column)
		}
		o.Start = first.Truncate(24*time.Hour).AddDate(0, 0, o.TrainDays+o.ValidDays)
	}
	return nil
}

func mean(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

func nanMean(x []float64) float64 {
	s, n := 0.0, 0
	for _, v := range x {
		if !math.IsNaN(v) {
			s += v
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return s / float64(n)
}
