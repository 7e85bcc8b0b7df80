package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlpipe/mlpipe/bundle"
	"github.com/mlpipe/mlpipe/internal/fsx"
	"github.com/mlpipe/mlpipe/pipeline"
	"github.com/mlpipe/mlpipe/registry"
)

// TestRunCache runs the pipeline on the fixture with a step cache: a
// second run with nothing changed restores every cached stage and
// registers nothing new; a changed config key reruns exactly the stages
// that depend on it, and the log names the key; --no-cache runs all.
func TestRunCache(t *testing.T) {
	reg, cache := t.TempDir(), t.TempDir()
	// Any regression passes the gate: the changed config below makes a
	// slightly worse model, and this test is about the cache.
	cfg := variantConfig(t, "", "cache: {path: "+cache+"}\ngate: {max_regression: 1}\n")
	run := func(t *testing.T, config string, args ...string) (pipeline.Summary, string) {
		t.Helper()
		args = append([]string{"run", "--config", config, "--out", "", "--registry", reg, "--json"}, args...)
		stdout, stderr, code := runCLI(t, args...)
		if code != exitOK {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		var sum pipeline.Summary
		if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
			t.Fatal(err)
		}
		return sum, stderr
	}
	decisions := func(sum pipeline.Summary) map[string]string {
		d := map[string]string{}
		for _, st := range sum.Stages {
			d[st.Name] = st.Cache
			if st.Reason != "" && st.Cache != pipeline.CacheHit {
				d[st.Name] += ": " + st.Reason
			}
		}
		return d
	}
	check := func(t *testing.T, got map[string]string, want map[string]string) {
		t.Helper()
		for stage, w := range want {
			if got[stage] != w {
				t.Errorf("%s: %q, want %q", stage, got[stage], w)
			}
		}
	}

	first, _ := run(t, cfg)
	check(t, decisions(first), map[string]string{
		"load": "", "profile": "miss: no cached output", "features": "miss: no cached output",
		"train": "miss: no cached output", "evaluate": "miss: no cached output", "gate": ""})
	if g := first.Gate; g == nil || !g.Promote || g.Version != 1 {
		t.Fatalf("first run: gate %+v, want version 1 promoted", first.Gate)
	}

	second, _ := run(t, cfg)
	check(t, decisions(second), map[string]string{"profile": "hit", "features": "hit", "train": "hit", "evaluate": "hit"})
	if g := second.Gate; g == nil || !g.Identical || g.Version != 1 || g.Promote || g.Rejected {
		t.Errorf("second run: gate %+v, want the candidate identified as version 1", second.Gate)
	}
	// The restored model evaluates exactly as the one that was fitted.
	if a, b := first.Evaluation.ROCAUC, second.Evaluation.ROCAUC; a != b {
		t.Errorf("test roc_auc %v after the cache, %v before", b, a)
	}
	store, err := registry.Open(reg)
	if err != nil {
		t.Fatal(err)
	}
	if vs, _ := store.Versions("flights-delay"); len(vs) != 1 {
		t.Errorf("versions %v after an unchanged run, want [1]", vs)
	}

	// One feature key changes: profile is reused, features reruns and
	// says which key changed, train and evaluate rerun because their
	// upstream output changed.
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	changed := filepath.Join(t.TempDir(), "changed.yaml")
	src := strings.Replace(string(b), "{column: origin, transform: categorical, min_frequency: 5", "{column: origin, transform: categorical, min_frequency: 6", 1)
	if err := os.WriteFile(changed, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	third, stderr := run(t, changed)
	check(t, decisions(third), map[string]string{
		"profile":  "hit",
		"features": "miss: config features[2].min_frequency changed",
		"train":    "miss: features output changed",
		"evaluate": "miss: train output changed"})
	if !strings.Contains(stderr, `reason="rerun, config features[2].min_frequency changed"`) {
		t.Errorf("the log does not say why features reran:\n%s", stderr)
	}

	all, _ := run(t, cfg, "--no-cache")
	check(t, decisions(all), map[string]string{"profile": "off: --no-cache", "features": "off: --no-cache", "train": "off: --no-cache"})
}

// TestResume makes a run fail after the expensive stages (the production
// bundle it must be compared with is damaged), repairs the bundle, and
// resumes the run: the completed stages come from the cache and the
// run finishes.
func TestResume(t *testing.T) {
	reg, cache := t.TempDir(), t.TempDir()
	// Version 1 comes from a different model, so the gate has to score it.
	first := variantConfig(t, "models:\n  - {name: logreg, params: {c: 1.0}}", "cache: {path: "+cache+"}\n")
	if _, stderr, code := runCLI(t, "run", "--config", first, "--out", "", "--registry", reg); code != exitOK {
		t.Fatalf("first run: exit %d\n%s", code, stderr)
	}
	store, err := registry.Open(reg)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := store.VersionDir("flights-delay", 1)
	if err != nil {
		t.Fatal(err)
	}
	modelFile := filepath.Join(dir, bundle.ModelFile)
	good, err := os.ReadFile(modelFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(modelFile, []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := variantConfig(t, "", "cache: {path: "+cache+"}\n")
	if _, _, code := runCLI(t, "run", "--config", cfg, "--out", "", "--registry", reg); code != exitError {
		t.Fatalf("run against a damaged production bundle: exit %d, want %d", code, exitError)
	}
	ids, err := store.Runs()
	if err != nil || len(ids) != 2 {
		t.Fatalf("runs %v, %v", ids, err)
	}
	failed := ids[1]
	if _, stderr, code := runCLI(t, "run", "--resume", failed, "--registry", reg, "--out", ""); code != exitError || !strings.Contains(stderr, "gate: production model v1") {
		t.Errorf("resume with the bundle still damaged: exit %d\n%s", code, stderr)
	}
	if err := os.WriteFile(modelFile, good, 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runCLI(t, "run", "--resume", failed, "--registry", reg, "--out", "", "--json")
	if code != exitOK {
		t.Fatalf("resume: exit %d\n%s", code, stderr)
	}
	var sum pipeline.Summary
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.ResumedFrom != failed || sum.Status != "ok" {
		t.Errorf("resumed run: from %q, status %q", sum.ResumedFrom, sum.Status)
	}
	for _, st := range sum.Stages {
		if (st.Name == "features" || st.Name == "train" || st.Name == "evaluate") && st.Cache != pipeline.CacheHit {
			t.Errorf("resumed run: %s %s (%s), want restored from the cache", st.Name, st.Cache, st.Reason)
		}
	}
	if sum.Gate == nil || sum.Gate.Version != 2 {
		t.Errorf("resumed run: gate %+v, want version 2 registered", sum.Gate)
	}
	// A run that finished cannot be resumed.
	ids, _ = store.Runs()
	if _, _, code := runCLI(t, "run", "--resume", ids[len(ids)-1], "--registry", reg, "--out", ""); code != exitUsage {
		t.Errorf("resuming a finished run: exit %d, want %d", code, exitUsage)
	}
}

// cancelOn is a log writer that cancels a context when a line contains
// a marker: a deterministic Ctrl-C at a chosen point of a run.
type cancelOn struct {
	marker string
	cancel context.CancelFunc
	buf    bytes.Buffer
}

func (c *cancelOn) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte(c.marker)) {
		c.cancel()
	}
	return c.buf.Write(p)
}

// TestCancelledRun cancels a run as training starts (what Ctrl-C and
// SIGTERM do through main's signal context): it exits 130, is recorded as
// cancelled, registers nothing and leaves no half-written cache entry;
// it can then be resumed.
func TestCancelledRun(t *testing.T) {
	reg, cache := t.TempDir(), t.TempDir()
	cfg := variantConfig(t, "", "cache: {path: "+cache+"}\n")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logw := &cancelOn{marker: "stage=train", cancel: cancel}
	var stdout bytes.Buffer
	err := run(ctx, []string{"run", "--config", cfg, "--out", "", "--registry", reg}, &stdout, logw)
	if code := exitCode(err); code != exitCancelled {
		t.Fatalf("exit %d (%v), want %d\n%s", code, err, exitCancelled, logw.buf.String())
	}
	store, err := registry.Open(reg)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := store.Runs()
	if err != nil || len(ids) != 1 {
		t.Fatalf("runs %v, %v; want the cancelled run recorded", ids, err)
	}
	dir, _ := store.RunDir(ids[0])
	var sum pipeline.Summary
	if err := fsx.ReadJSON(filepath.Join(dir, "summary.json"), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Status != "cancelled" {
		t.Errorf("recorded status %q, want cancelled", sum.Status)
	}
	if vs, _ := store.Versions("flights-delay"); len(vs) != 0 {
		t.Errorf("a cancelled run registered versions %v", vs)
	}
	// Nothing of train was cached: no entry, no temporary leftovers.
	if des, err := os.ReadDir(filepath.Join(cache, "train")); err == nil && len(des) > 0 {
		t.Errorf("the cancelled train stage left %d cache entries", len(des))
	}
	stdout2, stderr, code := runCLI(t, "run", "--resume", ids[0], "--registry", reg, "--out", "", "--json")
	if code != exitOK {
		t.Fatalf("resume after cancel: exit %d\n%s", code, stderr)
	}
	var resumed pipeline.Summary
	if err := json.Unmarshal([]byte(stdout2), &resumed); err != nil {
		t.Fatal(err)
	}
	for _, st := range resumed.Stages {
		if st.Name == "features" && st.Cache != pipeline.CacheHit {
			t.Errorf("resumed: features %s, want restored", st.Cache)
		}
	}
}

// TestConcurrentRuns: while one run holds the training lock, a second
// fails at once naming the holder (exit 1) and writes nothing; with
// --wait it would wait (TestRunRegistry covers waiting for the writer
// lock).
func TestConcurrentRuns(t *testing.T) {
	reg := t.TempDir()
	store, err := registry.Open(reg)
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := store.TrainingLock(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err = run(context.Background(), []string{"run", "--config", fixtureConfig, "--out", "", "--registry", reg}, &stdout, &stderr)
	unlock()
	if code := exitCode(err); code != exitError || err == nil || !strings.Contains(err.Error(), "training is locked by pid") {
		t.Fatalf("second run: exit %d (%v), want %d naming the holder", code, err, exitError)
	}
	if ids, _ := store.Runs(); len(ids) != 0 {
		t.Errorf("a run that never started was recorded: %v", ids)
	}
}
