package backtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/mlpipe/mlpipe/monitor"
)

// monitorCheck is the label-free policies' default check: the monitor
// compares a period's rows with the production model's training rows,
// as `mlpipe monitor` compares the prediction log with a bundle. The
// baseline of each training window is built, and its thresholds
// calibrated, once.
type monitorCheck struct {
	o   *Options
	res *Result

	mu        sync.Mutex
	baselines map[arrow.Table]*monitor.Baseline
}

// check implements CheckFunc with the monitor's rules (o.Thresholds,
// its policy set to policy).
func (m *monitorCheck) check(ctx context.Context, policy string, prod *Production, window arrow.Table, proba []float64) (bool, string, error) {
	b, err := m.baseline(ctx, prod)
	if err != nil {
		return false, "", err
	}
	t := m.o.Thresholds
	t.Policy = policy
	r, err := monitor.CompareTable(ctx, b, window, proba, t)
	if err != nil {
		return false, "", err
	}
	return r.Retrain, strings.Join(r.Reasons, "; "), nil
}

// baseline is the monitor's baseline of prod: its training rows (the
// reference sample, the profile), its validation scores, its calibration
// map and validation score (in the place of the test split's), and the
// thresholds calibrated on its training window, in windows of one
// period, the domain classifier's too when the estimated policy runs.
func (m *monitorCheck) baseline(ctx context.Context, prod *Production) (*monitor.Baseline, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if b, ok := m.baselines[prod.Train]; ok {
		return b, nil
	}
	o := m.o
	b, err := monitor.NewBaseline(ctx, prod.Train, prod.Inputs, prod.ValidScores, monitor.DefaultReferenceRows, o.Config.Seed)
	if err != nil {
		return nil, err
	}
	b.Calibrator = prod.Calibration
	b.Info.Threshold = 0.5
	if prod.Calibration != nil {
		auc := prod.ValidScore
		b.Test = &monitor.TestMetrics{ROCAUC: &auc}
	}
	t := o.Thresholds.WithDefaults()
	if !t.Fixed {
		start := time.Now()
		domain := false
		for _, p := range o.Policies {
			domain = domain || p == Estimated
		}
		c, err := monitor.Calibrate(ctx, b, prod.Train, monitor.CalibrateOptions{
			Column: o.Config.Split.Column, Window: o.Period, Domain: domain, Seed: o.Config.Seed,
			Alpha: t.FalseAlarmRate, DriftShare: t.DriftShare,
		})
		switch {
		case errors.Is(err, monitor.ErrNoWindows):
			o.Log.Warn("backtest: training window too short to calibrate the monitor: fixed thresholds", "err", err)
		case err != nil:
			return nil, fmt.Errorf("backtest: %w", err)
		default:
			b.Calibration = c
			m.res.Calibrations = append(m.res.Calibrations, Calibration{At: prod.At, From: c.From, To: c.To, Pairs: c.Pairs, FalseAlarms: c.FalseAlarms})
			m.res.CalibrationSeconds += time.Since(start).Seconds()
			fa := c.FalseAlarms
			o.Log.Info("backtest: monitor calibrated", "at", prod.At.Format(time.DateOnly), "pairs", c.Pairs,
				"false_alarms", fmt.Sprintf("%d of %d series-windows (promised %.3f), %d of %d retrains (promised %.3f)",
					fa.SeriesAlarms, fa.SeriesWindows, fa.SeriesPromised, fa.Retrains, fa.Windows, fa.RetrainPromised),
				"seconds", fmt.Sprintf("%.1f", time.Since(start).Seconds()))
		}
	}
	if m.baselines == nil {
		m.baselines = map[arrow.Table]*monitor.Baseline{}
	}
	m.baselines[prod.Train] = b
	return b, nil
}
