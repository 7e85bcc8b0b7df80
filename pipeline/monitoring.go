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
	"github.com/mlpipe/mlpipe/monitor"
	"github.com/mlpipe/mlpipe/train"
)

// monitorFiles are the bundle files the monitor reads besides the
// reference sample: the calibration map of a binary model's
// probabilities, fitted on the validation split (calibrate.File), for
// the performance estimate without labels; and the drift statistics'
// null on consecutive windows of the training split
// (monitor.ThresholdsFile), from which each feature's thresholds are
// drawn. A split without a time column gets no null (the fixed
// thresholds apply), and the log says so.
func monitorFiles(ctx context.Context, s *State, inputs []string, scores []float64) (map[string]any, error) {
	cfg := s.Config
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
	col := cfg.Split.Column
	if col == "" || !isTimestamp(s.Splits.Train, col) {
		s.log.Info("register: no time column: the monitor's thresholds are the fixed ones", "file", monitor.ThresholdsFile)
		return files, nil
	}
	window, err := config.ParseWindow(cmp.Or(cfg.Monitor.Window, config.DefaultMonitorWindow))
	if err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	start := time.Now()
	b, err := monitor.NewBaseline(ctx, s.Splits.Train, inputs, scores, monitor.DefaultReferenceRows, cfg.Seed)
	if err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	c, err := monitor.Calibrate(ctx, b, s.Splits.Train, monitor.CalibrateOptions{
		Column: col, Window: window, Domain: true, Seed: cfg.Seed,
		Alpha: cfg.Monitor.FalseAlarmRate, DriftShare: cfg.Monitor.DriftShare,
	})
	if errors.Is(err, monitor.ErrNoWindows) {
		s.log.Info("register: the training split is too short to calibrate the monitor's thresholds: the fixed ones apply", "err", err)
		return files, nil
	}
	if err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	fa := c.FalseAlarms
	s.log.Info("register: monitor thresholds calibrated", "pairs", c.Pairs, "window", window,
		"series_false_alarms", fmt.Sprintf("%d of %d (promised %.3f)", fa.SeriesAlarms, fa.SeriesWindows, fa.SeriesPromised),
		"seconds", fmt.Sprintf("%.1f", time.Since(start).Seconds()))
	files[monitor.ThresholdsFile] = c
	return files, nil
}

// isTimestamp reports whether column col of tbl is a timestamp.
func isTimestamp(tbl arrow.Table, col string) bool {
	j := tbl.Schema().FieldIndices(col)
	if len(j) != 1 {
		return false
	}
	_, ok := tbl.Schema().Field(j[0]).Type.(*arrow.TimestampType)
	return ok
}
