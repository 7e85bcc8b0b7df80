package main

import (
	"context"
	"strings"
	"sync"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/mlpipe/mlpipe/backtest"
	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/monitor"
)

// thresholds are the monitor's thresholds from a config (nil: the
// monitor's defaults).
func thresholds(cfg *config.Config) monitor.Thresholds {
	if cfg == nil {
		return monitor.Thresholds{}
	}
	m := cfg.Monitor
	return monitor.Thresholds{PSI: m.PSIThreshold, KS: m.KSThreshold, JS: m.JSThreshold, Wasserstein: m.WassersteinThreshold,
		DriftShare: m.DriftShare, AUCDrop: m.AUCDrop, RMSERise: m.RMSERise, MinSamples: m.MinSamples}
}

// driftCheck is the backtest's drift policy: the monitor compares a
// period's traffic with the production model's training rows, as
// `mlpipe monitor` compares the prediction log with a bundle, with the
// config's thresholds. The baseline of each training window is built
// once.
func driftCheck(cfg *config.Config) (backtest.DriftFunc, error) {
	var inputs []string
	for _, c := range cfg.Schema.Columns {
		if c.Name != cfg.Label.Column {
			inputs = append(inputs, c.Name)
		}
	}
	var mu sync.Mutex
	baselines := map[arrow.Table]*monitor.Baseline{}
	return func(ctx context.Context, train, window arrow.Table, proba []float64) (bool, string, error) {
		mu.Lock()
		b, ok := baselines[train]
		mu.Unlock()
		if !ok {
			var err error
			if b, err = monitor.NewBaseline(ctx, train, inputs, nil, monitor.DefaultReferenceRows, cfg.Seed); err != nil {
				return false, "", err
			}
			mu.Lock()
			baselines[train] = b
			mu.Unlock()
		}
		r, err := monitor.CompareTable(b, window, proba, thresholds(cfg))
		if err != nil {
			return false, "", err
		}
		return r.Retrain, strings.Join(r.Reasons, "; "), nil
	}, nil
}
