package main

import (
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
	t := monitor.Thresholds{Policy: m.Policy, PSI: m.PSIThreshold, KS: m.KSThreshold, JS: m.JSThreshold, Wasserstein: m.WassersteinThreshold,
		FalseAlarmRate: m.FalseAlarmRate, Fixed: m.Thresholds == "fixed", DriftShare: m.DriftShare, AUCDrop: m.AUCDrop, RMSERise: m.RMSERise,
		EstimatedAUCDrop: m.EstimatedAUCDrop, DomainAUC: m.DomainAUC, MinSamples: m.MinSamples}
	for name, o := range m.Series {
		if t.Series == nil {
			t.Series = map[string]monitor.SeriesOverride{}
		}
		t.Series[name] = monitor.SeriesOverride{PSI: o.PSIThreshold, KS: o.KSThreshold, JS: o.JSThreshold, Wasserstein: o.WassersteinThreshold}
	}
	return t
}
