package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlpipe/mlpipe/backtest"
)

// TestSimulate backtests three weekly periods of the fixture with every
// policy, the drift and estimated ones through the real monitor, and
// checks the table and the files it writes.
func TestSimulate(t *testing.T) {
	out := t.TempDir()
	stdout, stderr, code := runCLI(t, "simulate", "--config", fixtureConfig, "--model", "logreg",
		"--steps", "3", "--train-days", "28", "--out", out, "--log-level", "warn")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"never", "scheduled", "drift", "estimated", "performance", "2001-02-19", "mean ROC AUC", "estimate MAE", "false alarms on the training windows"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the table lacks %q:\n%s", want, stdout)
		}
	}
	b, err := os.ReadFile(filepath.Join(out, "backtest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Periods  []backtest.Period `json:"periods"`
		Policies []struct {
			Name      string           `json:"name"`
			Score     []*float64       `json:"score"`
			Estimated []*backtest.Band `json:"estimated"`
			Why       []string         `json:"why"`
		} `json:"policies"`
		Calibrations []backtest.Calibration `json:"calibrations"`
	}
	if err := json.Unmarshal(b, &res); err != nil || len(res.Periods) != 3 || len(res.Policies) != 5 {
		t.Fatalf("backtest.json: %v, %d periods, %d policies", err, len(res.Periods), len(res.Policies))
	}
	for _, p := range res.Policies {
		if len(p.Estimated) != 3 || p.Estimated[0] == nil || !(p.Estimated[0].Low <= p.Estimated[0].Value && p.Estimated[0].Value <= p.Estimated[0].High) {
			t.Errorf("%s: estimates %v", p.Name, p.Estimated)
		}
	}
	// The label-free policies calibrated the monitor on the first model's
	// training window, and counted its false alarms there.
	if len(res.Calibrations) == 0 || res.Calibrations[0].Pairs == 0 || res.Calibrations[0].FalseAlarms == nil {
		t.Errorf("calibrations %+v", res.Calibrations)
	}
	for _, name := range []string{"backtest.svg", "backtest.png", "backtest.html"} {
		if fi, err := os.Stat(filepath.Join(out, name)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, _, code := runCLI(t, "simulate", "--config", fixtureConfig, "--policies", "sometimes", "--out", ""); code != exitUsage {
		t.Errorf("an unknown policy: exit %d, want %d", code, exitUsage)
	}
}
