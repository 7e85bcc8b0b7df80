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
// policy, the drift one through the real monitor, and checks the table
// and the files it writes.
func TestSimulate(t *testing.T) {
	out := t.TempDir()
	stdout, stderr, code := runCLI(t, "simulate", "--config", fixtureConfig, "--model", "logreg",
		"--steps", "3", "--train-days", "28", "--out", out, "--log-level", "warn")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"never", "scheduled", "drift", "performance", "2001-02-19", "mean ROC AUC"} {
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
			Name string     `json:"name"`
			AUC  []*float64 `json:"auc"`
			Why  []string   `json:"why"`
		} `json:"policies"`
	}
	if err := json.Unmarshal(b, &res); err != nil || len(res.Periods) != 3 || len(res.Policies) != 4 {
		t.Fatalf("backtest.json: %v, %d periods, %d policies", err, len(res.Periods), len(res.Policies))
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
