package backtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/mlpipe/mlpipe/calibrate"
	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/evaluate"
	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/internal/stream"
	"github.com/mlpipe/mlpipe/monitor"
	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/catalog"
	"github.com/mlpipe/mlpipe/train/gbdt"
)

// The policies, in report order.
const (
	Never       = "never"
	Scheduled   = "scheduled"
	Drift       = "drift"
	Estimated   = "estimated"
	Performance = "performance"
)

// Policies lists every policy.
var Policies = []string{Never, Scheduled, Drift, Estimated, Performance}

// Production is what a label-free check knows of the production model:
// what it was trained on and how it did on its validation rows, as a
// registered bundle knows its training split and its test metrics.
type Production struct {
	// At is the start of the period the model was trained for.
	At time.Time
	// Train is the model's training rows; Inputs its raw inputs.
	Train  arrow.Table
	Inputs []string
	// ValidScores are the model's scores on its validation rows (a
	// binary model's probabilities, a regression's predictions).
	ValidScores []float64
	// Calibration maps its probabilities to calibrated ones, fitted on
	// its validation rows (nil for a regression).
	Calibration *calibrate.Map
	// ValidScore is its metric on its validation rows: the estimated
	// policy's reference, as the test split's ROC AUC is the monitor's.
	ValidScore float64
}

// CheckFunc says whether a label-free policy (Drift or Estimated)
// retrains after a period, from the period's rows (window) and the
// production model's scores on them (proba), and why.
type CheckFunc func(ctx context.Context, policy string, prod *Production, window arrow.Table, proba []float64) (retrain bool, why string, err error)

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
	// Policies to compare (default all).
	Policies []string
	// Thresholds are the monitor's rules for the label-free policies
	// (the config's monitor: section): the drift policy retrains when
	// the monitor's drift rule fires on the previous period, the
	// estimated policy when its estimated rule does, each with
	// thresholds calibrated on the production model's training window
	// (monitor.Calibrate, windows of one Period). Check, when set,
	// replaces the monitor (tests).
	Thresholds monitor.Thresholds
	Check      CheckFunc
	// PerformanceDrop is the drop of the production model's labelled AUC
	// below its AUC on the first period it served that triggers the
	// performance policy (default 0.02). (Its validation AUC is a poor
	// baseline: the validation week can be easier or harder than the
	// weeks served, by several points on this data.) For a regression,
	// RMSERise is the share by which its RMSE must exceed its first
	// period's instead (default 0.2: 20% worse).
	PerformanceDrop float64
	RMSERise        float64
	// MaxAge, if set, retrains under the label-free policies (Drift,
	// Estimated) whatever the monitor says once the production model
	// has served MaxAge or longer (dated at the start of the period it
	// was trained for), as the scheduler's schedule.max_age does. A
	// candidate the gate keeps out leaves the old model in production,
	// so the rule fires again the next period.
	MaxAge time.Duration
	Log    *slog.Logger
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
	// Estimated is the production model's ROC AUC on each period as
	// estimated without labels (monitor.EstimateBinary, from its
	// calibration map), with its 95% band; nil entries where it could
	// not be estimated, and nil for a regression. EstimateMAE is the
	// mean of |estimated − realized| over the periods with both.
	Estimated   []*Band  `json:"estimated,omitempty"`
	EstimateMAE *float64 `json:"estimate_mae,omitempty"`
	// ExpectedRate is the share of positive labels the calibrated
	// probabilities expect on each period (the estimate's positive
	// rate), to set beside the period's realized PositiveRate: where
	// they part, the labels no longer follow the probabilities as
	// calibrated, and the estimate cannot be right. CalibrationError is
	// the calibrated probabilities' realized expected calibration error
	// on the period (ten equal-width bins, evaluate.ECE).
	ExpectedRate     []*float64 `json:"expected_rate,omitempty"`
	CalibrationError []*float64 `json:"calibration_error,omitempty"`
	// Recalibrated is the estimate with the calibration map refitted on
	// the previous period's labelled scores of the same model (labels
	// arriving one period late; on a model's first period, its
	// validation week, which is the map it has), RecalibratedMAE its
	// error. LastPeriodMAE is the error of taking the previous
	// period's realized score as the estimate (the same model's; the
	// gate's score on a new model's first period): how far the
	// realized score moves in one period.
	Recalibrated    []*Band  `json:"recalibrated,omitempty"`
	RecalibratedMAE *float64 `json:"recalibrated_mae,omitempty"`
	LastPeriodMAE   *float64 `json:"last_period_mae,omitempty"`
}

// Band is an estimate with its 95% band.
type Band struct {
	Value float64 `json:"value"`
	Low   float64 `json:"low"`
	High  float64 `json:"high"`
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
	// Fits is the number of distinct trainings, FitSeconds their time
	// (summed over the fits, which run FitsAtOnce at a time).
	Fits       int     `json:"fits"`
	FitSeconds float64 `json:"fit_seconds"`
	FitsAtOnce int     `json:"fits_at_once"`
	// Calibrations are the monitor's calibrations on the training
	// windows of the models the label-free policies put in production,
	// with their false alarms on those windows; CalibrationSeconds is
	// their time.
	Calibrations       []Calibration `json:"calibrations,omitempty"`
	CalibrationSeconds float64       `json:"calibration_seconds,omitempty"`
	// FalseAlarms sums the calibrations' false alarms.
	FalseAlarms *FalseAlarms `json:"false_alarms,omitempty"`
	// Stages splits the time by what it was spent on; Seconds is the
	// whole backtest's wall time.
	Stages  Stages  `json:"stages"`
	Seconds float64 `json:"seconds"`
}

// Stages is the backtest's time by stage, in seconds: each stage's wall
// time, summed where it runs on several goroutines at once (the fits run
// ahead, FitsAtOnce at a time, while the periods are scored and
// checked), so that the stages can add up to more than Result.Seconds.
type Stages struct {
	// Slicing cuts the periods' and the training windows' rows and
	// derives their labels.
	Slicing float64 `json:"slicing"`
	// Features fits the feature pipelines (target encodings out of
	// fold) and encodes the validation rows; Boosting fits the models
	// on them (FitSeconds is the two together).
	Features float64 `json:"features"`
	Boosting float64 `json:"boosting"`
	// Scoring encodes and scores the periods' rows (and the validation
	// rows), with the metric, the estimates and the calibration check.
	Scoring float64 `json:"scoring"`
	// Monitor runs the label-free policies' checks (the drift
	// statistics, the estimate, the domain classifier); Calibration
	// (CalibrationSeconds) calibrates their thresholds.
	Monitor     float64 `json:"monitor"`
	Calibration float64 `json:"calibration"`
}

// Calibration is the monitor's calibration on one training window: the
// period whose model it was trained for, and what the thresholds drawn
// from it would have flagged on the window itself (monitor.FalseAlarms).
type Calibration struct {
	// At is the start of the period the model was trained for; From
	// and To bound its training window.
	At          time.Time            `json:"at"`
	From        time.Time            `json:"from"`
	To          time.Time            `json:"to"`
	Pairs       int                  `json:"pairs"`
	FalseAlarms *monitor.FalseAlarms `json:"false_alarms"`
}

// fitted is a model trained at the start of a period.
type fitted struct {
	at         int // the period it was trained at the start of
	features   *features.Pipeline
	model      train.Model
	train      arrow.Table // its training rows (the drift baseline)
	valid      arrow.Table // its validation rows
	validY     []float64
	validPred  []float64 // its scores on them
	validScore float64   // the metric on them
	calibrated *calibrate.Map
	seconds    float64
	// featureSeconds, boostSeconds, sliceSeconds, scoreSeconds split
	// the fit's time.
	featureSeconds, boostSeconds, sliceSeconds, scoreSeconds float64
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

// maxPeriods is the most periods a backtest steps through unless Steps
// says how many: 27 years of days, 192 of weeks. A date far from the
// others (a row dated 0001-01-01, a common "unknown") would otherwise
// start the backtest two thousand years early, and it cut over 100,000
// empty weekly periods (1.5 GB) before failing at its first retrain.
const maxPeriods = 10000

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
	// In seconds: last.Sub saturates at 292 years.
	if n := (last.Unix() - o.Start.Unix()) / max(1, int64(o.Period/time.Second)); o.Steps == 0 && n > maxPeriods {
		return nil, fmt.Errorf("backtest: %s to %s is %d periods of %s, more than %d: a stray date in %s? set the start (--start) or the number of periods (--steps)",
			o.Start.Format(time.DateOnly), last.Format(time.DateOnly), n, days(o.Period), maxPeriods, col)
	}
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
	sliced := time.Now()
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
	res.Stages.Slicing += time.Since(sliced).Seconds()

	// The trainings, shared by the policies: the model trained at the
	// start of period k. With the scheduled policy every period's is
	// needed, so all are queued at once, to be trained ahead (fits.go).
	workers, parallelism := 1, 0 // one at a time, on every CPU
	ahead := slices.Contains(o.Policies, Scheduled)
	if ahead {
		workers, parallelism = fitWorkers()
	}
	res.FitsAtOnce = workers
	pool := newFitPool(ctx, workers, len(res.Periods), func(ctx context.Context, k int) (*fitted, error) {
		f, err := o.fit(ctx, data, res.Periods[k].From, parallelism)
		if err != nil {
			return nil, err
		}
		f.at = k
		return f, nil
	})
	defer pool.close()
	if ahead {
		for k := range res.Periods {
			pool.ahead(k)
		}
	}
	used := map[int]bool{}
	fitAt := func(k int) (*fitted, error) {
		f, err := pool.get(ctx, k)
		if err != nil || used[k] {
			return f, err
		}
		used[k] = true
		res.Fits++
		res.FitSeconds += f.seconds
		res.Stages.Slicing += f.sliceSeconds
		res.Stages.Features += f.featureSeconds
		res.Stages.Boosting += f.boostSeconds
		res.Stages.Scoring += f.scoreSeconds
		o.Log.Info("backtest: trained", "at", res.Periods[k].From.Format(time.DateOnly), "valid_"+met.name, fmt.Sprintf("%.4f", f.validScore), "seconds", fmt.Sprintf("%.1f", f.seconds))
		return f, nil
	}
	// A model's scores, metric and estimate on a period depend on the
	// model and the period alone: computed once, whichever policies put
	// that model in production then.
	type scored struct {
		proba    []float64
		score    float64
		estimate *Band
		// The calibration check, and the estimate recalibrated on the
		// previous period's labels (see PolicyResult).
		expectedRate, calibrationError *float64
		recalibrated                   *Band
	}
	type key struct{ fit, period int }
	scores := map[key]*scored{}
	var scoreAt func(f *fitted, k int) (*scored, error)
	scoreAt = func(f *fitted, k int) (*scored, error) {
		if sc, ok := scores[key{f.at, k}]; ok {
			return sc, nil
		}
		started := time.Now()
		proba, err := score(ctx, f, windows[k].tbl)
		if err != nil {
			return nil, err
		}
		sc := &scored{proba: proba}
		if sc.score, err = met.score(windows[k].y, proba); err != nil {
			sc.score = math.NaN()
		}
		if f.calibrated != nil {
			if e, err := monitor.EstimateBinary(proba, f.calibrated, 0.5); err == nil {
				sc.estimate = &Band{e.ROCAUC.Value, e.ROCAUC.Low, e.ROCAUC.High}
				sc.expectedRate = &e.PositiveRate
			}
			if bins, err := evaluate.Calibration(windows[k].y, f.calibrated.ApplyAll(proba), 10); err == nil {
				ece := evaluate.ECE(bins)
				sc.calibrationError = &ece
			}
			sc.recalibrated = sc.estimate
		}
		res.Stages.Scoring += time.Since(started).Seconds()
		if f.calibrated != nil && k > f.at {
			// The map refitted on the labelled previous period, which
			// this model served (a production model serves the periods
			// from its own on, so that period is scored already).
			prev, err := scoreAt(f, k-1)
			if err != nil {
				return nil, err
			}
			started := time.Now()
			sc.recalibrated = nil
			if m, err := calibrate.Fit(prev.proba, windows[k-1].y); err == nil {
				if e, err := monitor.EstimateBinary(proba, m, 0.5); err == nil {
					sc.recalibrated = &Band{e.ROCAUC.Value, e.ROCAUC.Low, e.ROCAUC.High}
				}
			}
			res.Stages.Scoring += time.Since(started).Seconds()
		}
		scores[key{f.at, k}] = sc
		return sc, nil
	}
	check := o.Check
	if check == nil {
		mc := &monitorCheck{o: &o, res: res}
		check = func(ctx context.Context, policy string, prod *Production, window arrow.Table, proba []float64) (bool, string, error) {
			started, calibrating := time.Now(), res.CalibrationSeconds
			retrain, why, err := mc.check(ctx, policy, prod, window, proba)
			res.Stages.Monitor += time.Since(started).Seconds() - (res.CalibrationSeconds - calibrating)
			return retrain, why, err
		}
	}
	prods := map[int]*Production{}
	production := func(f *fitted) *Production {
		if p, ok := prods[f.at]; ok {
			return p
		}
		p := &Production{At: res.Periods[f.at].From, Train: f.train, ValidScores: f.validPred, Calibration: f.calibrated, ValidScore: f.validScore}
		for _, in := range f.features.Inputs {
			p.Inputs = append(p.Inputs, in.Name)
		}
		prods[f.at] = p
		return p
	}

	// The policies step through the periods together, period by period,
	// so that they keep up with the fits trained ahead: when the last fit
	// is done, only the last period is left to score and check.
	type policyState struct {
		pr         PolicyResult // its Name is the policy's
		lastPeriod []*Band
		prod       *fitted
		version    int
		// launch is the production model's score on the first period it
		// served: the performance policy's baseline.
		launch float64
	}
	step := func(st *policyState, k int) error {
		name := st.pr.Name
		retrain, why := k == 0, "first model"
		if k > 0 {
			last, err := scoreAt(st.prod, k-1)
			if err != nil {
				return err
			}
			switch {
			case (name == Drift || name == Estimated) && o.MaxAge > 0 && res.Periods[k].From.Sub(res.Periods[st.prod.at].From) >= o.MaxAge:
				// The scheduler's max_age: no need to ask the monitor.
				retrain, why = true, fmt.Sprintf("%s: max_age: production v%d has served %s (max_age %s)", name, st.version,
					days(res.Periods[k].From.Sub(res.Periods[st.prod.at].From)), days(o.MaxAge))
			case name == Drift || name == Estimated:
				var reason string
				retrain, reason, err = check(ctx, name, production(st.prod), windows[k-1].tbl, last.proba)
				why = ""
				if retrain {
					why = name + ": " + reason
				}
			default:
				retrain, why = o.decide(name, met, st.launch, last.score)
			}
			if err != nil {
				return fmt.Errorf("backtest: %s at %s: %w", name, res.Periods[k].From.Format(time.DateOnly), err)
			}
		}
		promoted := false
		if retrain {
			cand, err := fitAt(k)
			if err != nil {
				return fmt.Errorf("backtest: training at %s: %w", res.Periods[k].From.Format(time.DateOnly), err)
			}
			if k > 0 {
				st.pr.Retrains++
			}
			st.pr.TrainSeconds += cand.seconds
			promoted = st.prod == nil
			if st.prod != nil {
				// The gate: both models on the candidate's validation
				// days, which are the previous period when ValidDays is
				// one period (production has scored it already).
				var prodScore float64
				if time.Duration(o.ValidDays)*24*time.Hour == o.Period {
					last, err := scoreAt(st.prod, k-1)
					if err != nil {
						return err
					}
					prodScore = last.score
				} else {
					p, err := score(ctx, st.prod, cand.valid)
					if err != nil {
						return err
					}
					prodScore, _ = met.score(cand.validY, p)
				}
				promoted = met.better(cand.validScore, prodScore, cfg.Gate.MinImprovement)
				why += fmt.Sprintf("; gate: candidate %.4f vs production %.4f", cand.validScore, prodScore)
			}
			if promoted {
				st.prod = cand
				st.version++
				st.launch = math.NaN()
			}
		}
		sc, err := scoreAt(st.prod, k)
		if err != nil {
			return err
		}
		if math.IsNaN(st.launch) {
			st.launch = sc.score
		}
		st.pr.Score = append(st.pr.Score, sc.score)
		st.pr.Version = append(st.pr.Version, st.version)
		st.pr.Retrained = append(st.pr.Retrained, retrain)
		st.pr.Promoted = append(st.pr.Promoted, promoted)
		st.pr.Why = append(st.pr.Why, why)
		if met.higherIsBetter {
			st.pr.Estimated = append(st.pr.Estimated, sc.estimate)
			st.pr.ExpectedRate = append(st.pr.ExpectedRate, sc.expectedRate)
			st.pr.CalibrationError = append(st.pr.CalibrationError, sc.calibrationError)
			st.pr.Recalibrated = append(st.pr.Recalibrated, sc.recalibrated)
			// The same model's realized score on the previous period:
			// its validation score on its first.
			prev := st.prod.validScore
			if k > st.prod.at {
				p, err := scoreAt(st.prod, k-1)
				if err != nil {
					return err
				}
				prev = p.score
			}
			st.lastPeriod = append(st.lastPeriod, &Band{Value: prev, Low: prev, High: prev})
		}
		return nil
	}
	states := make([]*policyState, len(o.Policies))
	for i, name := range o.Policies {
		states[i] = &policyState{pr: PolicyResult{Name: name}, launch: math.NaN()}
	}
	for k := range res.Periods {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("backtest: %w", err)
		}
		for _, st := range states {
			if err := step(st, k); err != nil {
				return nil, err
			}
		}
	}
	for _, st := range states {
		pr := st.pr
		pr.MeanScore = nanMean(pr.Score)
		pr.EstimateMAE = estimateMAE(pr.Score, pr.Estimated)
		pr.RecalibratedMAE = estimateMAE(pr.Score, pr.Recalibrated)
		pr.LastPeriodMAE = estimateMAE(pr.Score, st.lastPeriod)
		res.Policies = append(res.Policies, pr)
		o.Log.Info("backtest: policy done", "policy", pr.Name, "retrains", pr.Retrains, "mean_"+met.name, fmt.Sprintf("%.4f", pr.MeanScore))
	}
	// Chronologically, whichever policy asked first.
	slices.SortStableFunc(res.Calibrations, func(a, b Calibration) int { return a.At.Compare(b.At) })
	res.FalseAlarms = sumFalseAlarms(res.Calibrations)
	res.Stages.Calibration = res.CalibrationSeconds
	res.Seconds = time.Since(started).Seconds()
	return res, nil
}

// FalseAlarms sums the false alarms of several calibrations
// (monitor.FalseAlarms): on the training weeks, judged as the monitor
// would have, and out of sample (leave out), with the rates the
// thresholds promise, averaged over the calibrations.
type FalseAlarms struct {
	// Training weeks against their training window's baseline: the
	// (series, week) pairs judged and called drifted, the weeks and the
	// drift rule's retrains, the domain classifier's weeks and alarms.
	SeriesWeeks      int `json:"series_weeks"`
	WeekSeriesAlarms int `json:"week_series_alarms"`
	Weeks            int `json:"weeks"`
	WeekRetrains     int `json:"week_retrains"`
	WeekDomain       int `json:"week_domain"`
	WeekDomainAlarms int `json:"week_domain_alarms"`
	// Out of sample: the pairs of the nulls, each judged by thresholds
	// drawn from the pairs that share no day with it.
	SeriesWindows int `json:"series_windows"`
	SeriesAlarms  int `json:"series_alarms"`
	Windows       int `json:"windows"`
	Retrains      int `json:"retrains"`
	DomainWindows int `json:"domain_windows"`
	DomainAlarms  int `json:"domain_alarms"`
	// The rates promised: a series', a retrain's, the domain
	// classifier's (means over the calibrations).
	SeriesPromised  float64 `json:"series_promised"`
	RetrainPromised float64 `json:"retrain_promised"`
	DomainPromised  float64 `json:"domain_promised"`
}

func sumFalseAlarms(cs []Calibration) *FalseAlarms {
	if len(cs) == 0 {
		return nil
	}
	s := &FalseAlarms{}
	for _, c := range cs {
		f := c.FalseAlarms
		s.SeriesWeeks += f.Weeks * f.Series
		s.WeekSeriesAlarms += f.WeekSeriesAlarms
		s.Weeks += f.Weeks
		s.WeekRetrains += f.WeekRetrains
		s.WeekDomain += f.WeekDomain
		s.WeekDomainAlarms += f.WeekDomainAlarms
		s.SeriesWindows += f.SeriesWindows
		s.SeriesAlarms += f.SeriesAlarms
		s.Windows += f.Windows
		s.Retrains += f.Retrains
		s.DomainWindows += f.DomainWindows
		s.DomainAlarms += f.DomainAlarms
		s.SeriesPromised += f.SeriesPromised / float64(len(cs))
		s.RetrainPromised += f.RetrainPromised / float64(len(cs))
		s.DomainPromised += f.DomainPromised / float64(len(cs))
	}
	return s
}

// String says the false alarms in a line.
func (s *FalseAlarms) String() string {
	pct := func(a, b int) string {
		if b == 0 {
			return "—"
		}
		return fmt.Sprintf("%.1f%%", 100*float64(a)/float64(b))
	}
	out := fmt.Sprintf("training weeks: %d of %d feature-weeks drifted (%s; promised ≤ %.1f%%), %d of %d weeks retrained (%s; promised ≤ %.1f%%)",
		s.WeekSeriesAlarms, s.SeriesWeeks, pct(s.WeekSeriesAlarms, s.SeriesWeeks), 100*s.SeriesPromised,
		s.WeekRetrains, s.Weeks, pct(s.WeekRetrains, s.Weeks), 100*s.RetrainPromised)
	if s.WeekDomain > 0 {
		out += fmt.Sprintf(", domain classifier %d of %d (%s; promised ≤ %.1f%%)", s.WeekDomainAlarms, s.WeekDomain, pct(s.WeekDomainAlarms, s.WeekDomain), 100*s.DomainPromised)
	}
	out += fmt.Sprintf("; left out: %d of %d feature-pairs (%s), %d of %d retrains (%s)",
		s.SeriesAlarms, s.SeriesWindows, pct(s.SeriesAlarms, s.SeriesWindows), s.Retrains, s.Windows, pct(s.Retrains, s.Windows))
	if s.DomainWindows > 0 {
		out += fmt.Sprintf(", domain %d of %d (%s)", s.DomainAlarms, s.DomainWindows, pct(s.DomainAlarms, s.DomainWindows))
	}
	return out
}

// estimateMAE is the mean |estimated − realized| over the periods with
// both (nil if none).
func estimateMAE(realized []float64, est []*Band) *float64 {
	sum, n := 0.0, 0
	for k, e := range est {
		if e != nil && !math.IsNaN(realized[k]) {
			sum += math.Abs(e.Value - realized[k])
			n++
		}
	}
	if n == 0 {
		return nil
	}
	mae := sum / float64(n)
	return &mae
}

// decide applies a policy that needs no monitor (never, scheduled,
// performance) at the start of a period, from the score the production
// model had on the previous period and on the first period it served.
func (o *Options) decide(policy string, met metric, launch, prevScore float64) (bool, string) {
	switch policy {
	case Scheduled:
		return true, "scheduled"
	case Performance:
		if math.IsNaN(prevScore) || math.IsNaN(launch) {
			return false, ""
		}
		if !met.higherIsBetter {
			if rise := prevScore/launch - 1; rise > o.RMSERise {
				return true, fmt.Sprintf("%s %.4g last period, %.0f%% above its first period's %.4g", met.name, prevScore, 100*rise, launch)
			}
			return false, ""
		}
		if drop := launch - prevScore; drop > o.PerformanceDrop {
			return true, fmt.Sprintf("AUC %.4f last period, %.4f below its first period's %.4f", prevScore, drop, launch)
		}
	}
	return false, ""
}

// fit trains the model on the trailing window ending at t, with the
// trainer's parallelism set to parallelism if it is not 0 and the config
// leaves it unset.
func (o *Options) fit(ctx context.Context, data arrow.Table, t time.Time, parallelism int) (*fitted, error) {
	cfg := o.Config
	col := cfg.Split.Column
	sliced := time.Now()
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
	f.sliceSeconds = start.Sub(sliced).Seconds()
	p, enc, err := features.FitEncoder(trainTbl, ty, cfg.Features, cfg.Seed)
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
	params := maps.Clone(spec.Candidates()[0])
	if _, set := params[parallelismParam]; !set && parallelism > 0 && slices.ContainsFunc(catalog.Params(spec.Name), func(p catalog.Param) bool { return p.Name == parallelismParam }) {
		if params == nil {
			params = map[string]any{}
		}
		params[parallelismParam] = parallelism
	}
	tr, err := newTrainer(spec.Name, params, cfg.Seed)
	if err != nil {
		release()
		return nil, err
	}
	// With gbdt, both windows are binned a range at a time, as the
	// pipeline's features stage bins its splits (pipeline/stream.go): no
	// float matrix of either is held whole.
	var xTrain, xValid *features.Matrix
	var trainBins, validBins *gbdt.Bins
	if b, ok := tr.(binner); ok {
		trainBins, validBins, err = binWindows(ctx, b, p, enc, trainTbl, f.valid)
		xTrain = &features.Matrix{Rows: len(ty), Cols: p.Columns}
		xValid = &features.Matrix{Rows: len(f.validY), Cols: p.Columns}
	} else if xTrain, err = enc.Transform(trainTbl, 0); err == nil {
		xValid, err = p.Transform(f.valid)
	}
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
	if trainBins != nil {
		trainDS.Prebinned, validDS.Prebinned = trainBins, validBins
	}
	boost := time.Now()
	f.featureSeconds = boost.Sub(start).Seconds()
	m, err := tr.Fit(ctx, trainDS, validDS)
	if err != nil {
		release()
		return nil, err
	}
	f.features, f.model, f.seconds = p, m, time.Since(start).Seconds()
	f.boostSeconds = f.seconds - f.featureSeconds
	scoring := time.Now()
	defer func() { f.scoreSeconds = time.Since(scoring).Seconds() }()
	if trainBins != nil {
		f.validPred, err = score(ctx, f, f.valid)
	} else {
		f.validPred = m.Predict(xValid)
	}
	if err != nil {
		release()
		return nil, err
	}
	if f.validScore, err = metricFor(cfg.Task()).score(f.validY, f.validPred); err != nil {
		release()
		return nil, fmt.Errorf("validation window: %w", err)
	}
	if cfg.Task() != train.Regression {
		// The calibration map of the performance estimate, as the
		// pipeline fits it on the validation split; none when it cannot
		// be fitted (one class).
		f.calibrated, _ = calibrate.Fit(f.validPred, f.validY)
	}
	return f, nil
}

// binner is a trainer that takes its training rows as bins built a range
// at a time (gbdt: train/gbdt prebinned.go).
type binner interface {
	NewBinBuilder(cols []features.ColumnInfo, rows int) (*gbdt.BinBuilder, error)
}

// binWindows bins a fit's training window trainTbl (whose rows enc was
// fitted on) and its validation window valid with b's bins, streamRows
// rows at a time.
func binWindows(ctx context.Context, b binner, p *features.Pipeline, enc *features.TrainEncoder, trainTbl, valid arrow.Table) (trainBins, validBins *gbdt.Bins, err error) {
	bb, err := b.NewBinBuilder(p.Columns, enc.Rows())
	if err != nil {
		return nil, nil, err
	}
	r := stream.Ranges{Size: streamRows}
	if trainBins, err = r.TrainBins(ctx, trainTbl, enc, bb); err != nil {
		return nil, nil, fmt.Errorf("training window: %w", err)
	}
	if validBins, err = r.ValidBins(ctx, valid, p, trainBins); err != nil {
		return nil, nil, fmt.Errorf("validation window: %w", err)
	}
	return trainBins, validBins, nil
}

// parallelismParam is the trainer parameter that caps its goroutines
// (gbdt's, logreg's, ridge's; none changes the model).
const parallelismParam = "parallelism"

// streamRows is the rows transformed at a time, to be binned or scored
// (stream.Rows says why).
var streamRows = stream.Rows // a variable for the tests

// newTrainer is catalog.Trainer (a variable for the tests).
var newTrainer = catalog.Trainer

// score returns a model's outputs on tbl, through the batch path,
// transforming and scoring streamRows rows at a time: no float matrix of
// tbl is held whole.
func score(ctx context.Context, f *fitted, tbl arrow.Table) ([]float64, error) {
	p, err := stream.Ranges{Size: streamRows}.Predict(ctx, f.features, f.model, tbl)
	if err != nil {
		return nil, fmt.Errorf("backtest: %w", err)
	}
	return p, nil
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

// days formats a whole number of days ("21d"), or the duration.
func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
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
