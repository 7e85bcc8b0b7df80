package pipeline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/mlpipe/mlpipe/calibrate"
	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/internal/tables"
	"github.com/mlpipe/mlpipe/monitor"
	"github.com/mlpipe/mlpipe/monitor/domaingbdt"
	"github.com/mlpipe/mlpipe/train"
)

// trainingSummary is what the register stage needs of the raw training
// split: its profile (the bundle's profile.json and the monitor's
// baseline), the monitor's reference sample of its inputs, and the drift
// statistics' null on consecutive windows of it (monitor.ThresholdsFile).
// None depends on the model, so the features stage takes it from the
// split before training and releases the split (docs/architecture.md,
// "Memory and scale", step 3); the bundle is byte for byte the one made
// from the split at register time (TestTrainingSummary).
type trainingSummary struct {
	monitor *monitor.Training
	// calibration is the thresholds' null; nil when the split has no time
	// column or is too short, and noCalibration then says why (logged by
	// the register stage).
	calibration   *monitor.Calibration
	noCalibration string
	calibErr      error
	seconds       float64 // the calibration's time
}

// release releases the reference sample.
func (t *trainingSummary) release() {
	if t != nil {
		t.monitor.Release()
	}
}

// summarizeTraining takes the trainingSummary of the training split tbl
// for the model inputs of s.Features.
func summarizeTraining(ctx context.Context, s *State, tbl arrow.Table) (*trainingSummary, error) {
	src := ingest.InMemory(tbl)
	t, ob, err := beginSummary(ctx, s, src)
	if err != nil {
		return nil, err
	}
	if err := t.observe(ctx, ob, src); err != nil {
		t.release()
		return nil, err
	}
	if err := t.calibrate(ctx, ob); err != nil {
		t.release()
		return nil, err
	}
	return t, nil
}

// beginSummary takes the trainingSummary of the training split src but
// for the thresholds' null, and returns the calibration's Observer (nil
// when there is none to run, and t says why). The caller observes the
// split's rows (observe), and may release the split before calibrate
// runs (docs/architecture.md, "Memory and scale", step 6).
func beginSummary(ctx context.Context, s *State, src tables.Source) (t *trainingSummary, ob *monitor.Observer, err error) {
	cfg := s.Config
	mt, err := monitor.SummarizeFrom(ctx, src, inputNames(s.Features), monitor.DefaultReferenceRows, cfg.Seed)
	if err != nil {
		return nil, nil, fmt.Errorf("register: %w", err)
	}
	t = &trainingSummary{monitor: mt}
	col := cfg.Split.Column
	if col == "" || !isTimestamp(src.Schema(), col) {
		t.noCalibration = "register: no time column: the monitor's thresholds are the fixed ones"
		return t, nil, nil
	}
	window, err := config.ParseWindow(cmp.Or(cfg.Monitor.Window, config.DefaultMonitorWindow))
	if err != nil {
		t.release()
		return nil, nil, fmt.Errorf("register: %w", err)
	}
	start := time.Now()
	// The null depends on the inputs' baseline alone, not on the model's
	// scores (monitor TestCalibrateWithoutScores).
	b, err := mt.Baseline(nil)
	if err == nil {
		ob, err = monitor.NewObserver(b, src.Schema(), monitor.CalibrateOptions{
			Column: col, Window: window, Domain: domaingbdt.Fit, Seed: cfg.Seed,
			Alpha: cfg.Monitor.FalseAlarmRate, DriftShare: cfg.Monitor.DriftShare,
		})
	}
	if err != nil {
		t.release()
		return nil, nil, fmt.Errorf("register: %w", err)
	}
	t.seconds = time.Since(start).Seconds()
	return t, ob, nil
}

// observe has ob observe the rows of the training split src, a range at
// a time (nothing when ob is nil).
func (t *trainingSummary) observe(ctx context.Context, ob *monitor.Observer, src tables.Source) error {
	if ob == nil {
		return nil
	}
	start := time.Now()
	err := src.Ranges(ctx, streamRows, func(_ int64, part arrow.Table) error {
		ob.Add(part)
		return nil
	})
	t.seconds += time.Since(start).Seconds()
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	return nil
}

// calibrate calibrates the monitor's thresholds from ob, what was
// observed of the training split (nil: nothing to run).
func (t *trainingSummary) calibrate(ctx context.Context, ob *monitor.Observer) error {
	if ob == nil {
		return nil
	}
	start := time.Now()
	c, err := ob.Calibrate(ctx)
	switch {
	case errors.Is(err, monitor.ErrNoWindows):
		t.noCalibration, t.calibErr = "register: the training split is too short to calibrate the monitor's thresholds: the fixed ones apply", err
	case err != nil:
		return fmt.Errorf("register: %w", err)
	default:
		t.calibration = c
		t.seconds += time.Since(start).Seconds()
	}
	return nil
}

// inputNames are the names of p's raw inputs.
func inputNames(p *features.Pipeline) []string {
	inputs := make([]string, len(p.Inputs))
	for i, in := range p.Inputs {
		inputs[i] = in.Name
	}
	return inputs
}

// monitorFiles are the bundle files the monitor reads besides the
// reference sample: the calibration map of a binary model's
// probabilities, fitted on the validation split (calibrate.File), for
// the performance estimate without labels; and the drift statistics'
// null on consecutive windows of the training split
// (monitor.ThresholdsFile, from t), from which each feature's thresholds
// are drawn. A split without a time column gets no null (the fixed
// thresholds apply), and the log says so.
func monitorFiles(s *State, t *trainingSummary, scores []float64) (map[string]any, error) {
	files := map[string]any{}
	if s.ValidSet != nil && s.ValidSet.Classes == 2 && s.ValidSet.Task != train.Regression && len(scores) == len(s.ValidSet.Y) {
		m, err := calibrate.Fit(scores, s.ValidSet.Y)
		switch {
		case errors.Is(err, calibrate.ErrInvalid):
			s.log.Warn("register: no calibration map: the monitor will not estimate performance without labels", "err", err)
		case err != nil:
			return nil, fmt.Errorf("register: %w", err)
		default:
			files[calibrate.File] = m
		}
	}
	c := t.calibration
	if c == nil {
		if t.calibErr != nil {
			s.log.Info(t.noCalibration, "err", t.calibErr)
		} else {
			s.log.Info(t.noCalibration, "file", monitor.ThresholdsFile)
		}
		return files, nil
	}
	fa := c.FalseAlarms
	s.log.Info("register: monitor thresholds calibrated", "pairs", c.Pairs, "window", time.Duration(c.WindowSeconds*float64(time.Second)),
		"series_false_alarms", fmt.Sprintf("%d of %d (promised %.3f)", fa.SeriesAlarms, fa.SeriesWindows, fa.SeriesPromised),
		"seconds", fmt.Sprintf("%.1f", t.seconds))
	files[monitor.ThresholdsFile] = c
	return files, nil
}

// isTimestamp reports whether column col of schema is a timestamp.
func isTimestamp(schema *arrow.Schema, col string) bool {
	j := schema.FieldIndices(col)
	if len(j) != 1 {
		return false
	}
	_, ok := schema.Field(j[0]).Type.(*arrow.TimestampType)
	return ok
}
