package main

import (
	"strings"
	"testing"
)

// TestRegressionCommands: a regression run through the commands that
// print a run or a model: run, runs list and show, models show.
func TestRegressionCommands(t *testing.T) {
	reg := t.TempDir()
	stdout, stderr, code := runCLI(t, "run", "--config", "../../configs/penguins-body-mass.yaml", "--registry", reg, "--out", "", "--log-level", "error")
	if code != exitOK {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"2 rows dropped without a label", "body_mass_g mean", "predicts body_mass_g", "model            rmse ", "training mean    rmse ", "registered as version 1"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("run's summary lacks %q:\n%s", want, stdout)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"runs", "list", "--registry", reg}, "rmse 264.8"},
		{[]string{"models", "show", "penguins-body-mass", "--registry", reg}, "task               regression"},
		{[]string{"models", "show", "penguins-body-mass", "--registry", reg}, "rmse               264.8306"},
	} {
		out, stderr, code := runCLI(t, c.args...)
		if code != exitOK || !strings.Contains(out, c.want) {
			t.Errorf("%s: exit %d, want %q in\n%s%s", strings.Join(c.args, " "), code, c.want, out, stderr)
		}
	}
	ids, _, _ := runCLI(t, "runs", "list", "--registry", reg)
	id := strings.Fields(strings.Split(ids, "\n")[1])[0]
	out, stderr, code := runCLI(t, "runs", "show", id, "--registry", reg)
	if code != exitOK || !strings.Contains(out, "rmse") {
		t.Errorf("runs show: exit %d\n%s%s", code, out, stderr)
	}
}
