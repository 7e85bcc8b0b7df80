package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/mlpipe/mlpipe/bundle"
	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/monitor"
	"github.com/mlpipe/mlpipe/predlog"
	"github.com/mlpipe/mlpipe/registry"
)

// runMonitorCLI runs `mlpipe monitor args...` as main does and returns
// its output and exit code.
func runMonitorCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return executeCLI(t, append([]string{"monitor"}, args...)...)
}

// monitorFixture is a registry with the fixture's model in production,
// a copy of that version with the reference files added (as the
// register stage will write them), and the test split's rows as
// requests with the model's probabilities and their labels.
type monitorFixture struct {
	registry, bundle string
	requests         []map[string]any
	proba            []float64
	labels           []bool
}

func newMonitorFixture(t *testing.T) *monitorFixture {
	t.Helper()
	fx := &monitorFixture{registry: t.TempDir()}
	if _, stderr, code := runCLI(t, "run", "--config", fixtureConfig, "--out", "", "--registry", fx.registry, "--log-level", "error"); code != exitOK {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	store, err := registry.Open(fx.registry)
	if err != nil {
		t.Fatal(err)
	}
	name, v, err := store.Resolve("flights-delay@production")
	if err != nil {
		t.Fatal(err)
	}
	vdir, err := store.VersionDir(name, v)
	if err != nil {
		t.Fatal(err)
	}
	fx.bundle = filepath.Join(t.TempDir(), "bundle")
	if err := os.MkdirAll(fx.bundle, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(vdir)
	if err != nil {
		t.Fatal(err)
	}
	for _, ent := range entries {
		b, err := os.ReadFile(filepath.Join(vdir, ent.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(fx.bundle, ent.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// The fixture's splits, as the pipeline made them.
	cfg, err := config.Load(fixtureConfig)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ds, err := ingest.Load(ctx, cfg.Data, cfg.Schema, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ds.Release)
	sp, err := ingest.Split(ctx, ds.Table, cfg.Split)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sp.Release)
	b, err := bundle.Load(fx.bundle)
	if err != nil {
		t.Fatal(err)
	}
	score := func(tbl arrow.Table) []float64 {
		x, err := b.Features.Transform(tbl)
		if err != nil {
			t.Fatal(err)
		}
		return b.Model.Predict(x)
	}
	var names []string
	for _, in := range b.Features.Inputs {
		names = append(names, in.Name)
	}
	if err := monitor.WriteReference(fx.bundle, sp.Train, names, score(sp.Valid), 0, cfg.Seed); err != nil {
		t.Fatal(err)
	}

	// The test split (June) as mlserve would log it.
	fx.proba = score(sp.Test)
	lab, err := cfg.Label.Derive(sp.Test)
	if err != nil {
		t.Fatal(err)
	}
	for _, y := range lab.Y {
		fx.labels = append(fx.labels, y == 1)
	}
	rows := int(sp.Test.NumRows())
	fx.requests = make([]map[string]any, rows)
	for i := range fx.requests {
		fx.requests[i] = map[string]any{}
	}
	for j, f := range sp.Test.Schema().Fields() {
		if !slicesContains(names, f.Name) {
			continue
		}
		i := 0
		for _, ch := range sp.Test.Column(j).Data().Chunks() {
			for k := 0; k < ch.Len(); k, i = k+1, i+1 {
				switch a := ch.(type) {
				case *array.Timestamp:
					fx.requests[i][f.Name] = a.Value(k).ToTime(arrow.Microsecond).UTC().Format("2006-01-02T15:04:05")
				case *array.Int64:
					fx.requests[i][f.Name] = float64(a.Value(k))
				case *array.String:
					fx.requests[i][f.Name] = a.Value(k)
				default:
					t.Fatalf("column %s: %T", f.Name, ch)
				}
			}
		}
	}
	return fx
}

func slicesContains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

// served is when the fixture's log was written.
var served = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

// writeLog writes the requests (edited by edit, if not nil) and their
// labels as a prediction log, one request a second from served.
func (fx *monitorFixture) writeLog(t *testing.T, edit func(map[string]any)) string {
	t.Helper()
	dir := t.TempDir()
	fx.writeLogTo(t, dir, edit, nil, true)
	return dir
}

// writeLogTo writes the requests (edited by edit), their probabilities
// (mapped by proba, if not nil) and, if labelled, their labels as a
// prediction log in dir.
func (fx *monitorFixture) writeLogTo(t *testing.T, dir string, edit func(map[string]any), proba func(float64) float64, labelled bool) {
	t.Helper()
	opts := predlog.Options{Now: func() time.Time { return served }}
	w, err := predlog.NewWriter(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	lw, err := predlog.NewLabelWriter(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i, req := range fx.requests {
		in := map[string]any{}
		for k, v := range req {
			in[k] = v
		}
		if edit != nil {
			edit(in)
		}
		id := fmt.Sprintf("req-%d", i)
		at := served.Add(time.Duration(i) * time.Second)
		p := fx.proba[i]
		if proba != nil {
			p = proba(p)
		}
		w.Log(predlog.Record{ID: id, Time: at, Model: "flights-delay", Version: 1, Inputs: in, Probability: p, Predicted: "0"})
		if labelled {
			lw.Log(predlog.Label{ID: id, Time: at.Add(time.Hour), Label: fx.labels[i]})
		}
	}
	ctx := context.Background()
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := lw.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestMonitor(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the fixture's models")
	}
	fx := newMonitorFixture(t)
	window := []string{"--from", "2026-11-20", "--to", "2026-11-21"}

	t.Run("OK/Undrifted", func(t *testing.T) {
		logDir := fx.writeLog(t, nil)
		out := filepath.Join(t.TempDir(), "report.json")
		args := append([]string{"--bundle", fx.bundle, "--log", logDir, "--out", out, "--json"}, window...)
		stdout, stderr, code := runMonitorCLI(t, args...)
		if code != exitOK {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
		var r monitor.Report
		if err := json.Unmarshal([]byte(stdout), &r); err != nil {
			t.Fatalf("stdout is not one JSON report: %v\n%s", err, stdout)
		}
		written, err := os.ReadFile(out)
		if err != nil || !bytes.Equal(bytes.TrimSpace(written), bytes.TrimSpace([]byte(stdout))) {
			t.Errorf("--out %s differs from --json (%v)", out, err)
		}
		// The fixture's June rows (testdata/README.md), all labelled.
		if r.Predictions != 1674 || r.Baseline != monitor.BaselineReference || r.Status != monitor.StatusOK || r.Drifted != 0 {
			t.Errorf("predictions %d, baseline %s, status %s, drifted %d; reasons %v", r.Predictions, r.Baseline, r.Status, r.Drifted, r.Reasons)
		}
		// June against January–April: the hour, the weekday and the
		// distance hold still. The ~200 airports need more than 1,674
		// rows (PSI's noise floor).
		for _, f := range r.Features {
			want := monitor.StatusOK
			if f.Name == "origin" || f.Name == "destination" {
				want = monitor.StatusNotEnoughData
			}
			if f.Status != want {
				t.Errorf("%s: %s (%s), want %s", f.Name, f.Status, f.Reason, want)
			}
		}
		// The window is the test split: its ROC AUC is evaluation.json's.
		p := r.Performance
		if p == nil || p.Labelled != 1674 || p.AUCDrop == nil || *p.AUCDrop > 1e-12 || *p.AUCDrop < -1e-12 {
			t.Errorf("performance %+v", p)
		}
	})

	t.Run("Retrain/Shifted", func(t *testing.T) {
		// Three times the distance, every departure seven hours later and
		// on the next Saturday: the three features with enough data all
		// drift (flights spread almost evenly over the weekdays, so a
		// shift by whole days would change nothing).
		logDir := fx.writeLog(t, func(in map[string]any) {
			in["distance"] = in["distance"].(float64) * 3
			d, _ := time.Parse("2006-01-02T15:04:05", in["date"].(string))
			toSaturday := (int(time.Saturday) - int(d.Weekday()) + 7) % 7
			in["date"] = d.AddDate(0, 0, toSaturday).Add(7 * time.Hour).Format("2006-01-02T15:04:05")
		})
		stdout, stderr, code := runMonitorCLI(t, append([]string{"--bundle", fx.bundle, "--log", logDir}, window...)...)
		if code != exitRetrain {
			t.Fatalf("exit %d, want %d\n%s%s", code, exitRetrain, stdout, stderr)
		}
		for _, s := range []string{"decision   RETRAIN RECOMMENDED: 3 of 3 features drift", "date:hour", "distance"} {
			if !strings.Contains(stdout, s) {
				t.Errorf("stdout lacks %q:\n%s", s, stdout)
			}
		}
	})

	t.Run("OK/Registry", func(t *testing.T) {
		// mlpipe run writes the reference sample into every version.
		logDir := fx.writeLog(t, nil)
		stdout, stderr, code := runMonitorCLI(t, append([]string{"--config", fixtureConfig, "--registry", fx.registry, "--log", logDir}, window...)...)
		if code != exitOK {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
		for _, s := range []string{"monitor    flights-delay v1", "training profile and reference sample"} {
			if !strings.Contains(stdout, s) {
				t.Errorf("stdout lacks %q:\n%s", s, stdout)
			}
		}
	})

	t.Run("OK/ProfileOnly", func(t *testing.T) {
		// A bundle without the reference files (made before they existed):
		// PSI from the profile, and the summary says so.
		store, err := registry.Open(fx.registry)
		if err != nil {
			t.Fatal(err)
		}
		src, err := store.VersionDir("flights-delay", 1)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		des, _ := os.ReadDir(src)
		for _, de := range des {
			if strings.HasPrefix(de.Name(), "reference") {
				continue
			}
			b, err := os.ReadFile(filepath.Join(src, de.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, de.Name()), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		logDir := fx.writeLog(t, nil)
		stdout, stderr, code := runMonitorCLI(t, append([]string{"--config", fixtureConfig, "--bundle", dir, "--log", logDir}, window...)...)
		if code != exitOK {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
		for _, s := range []string{"training profile only", "has no reference.arrow"} {
			if !strings.Contains(stdout, s) {
				t.Errorf("stdout lacks %q:\n%s", s, stdout)
			}
		}
	})

	t.Run("OK/EmptyWindow", func(t *testing.T) {
		logDir := fx.writeLog(t, nil)
		stdout, stderr, code := runMonitorCLI(t, "--bundle", fx.bundle, "--log", logDir, "--last", "7d", "--to", "2026-11-01")
		if code != exitOK || !strings.Contains(stdout, "decision   not enough data: no predictions in the window") {
			t.Errorf("exit %d\n%s%s", code, stdout, stderr)
		}
	})

	t.Run("Policies", func(t *testing.T) {
		// The scheduler's decision at a tick (a fake clock) against the
		// fixture's registry, before and after mlserve logged a day of
		// traffic without labels in the registry's prediction log.
		cfg, err := config.Load(fixtureConfig)
		if err != nil {
			t.Fatal(err)
		}
		store, err := registry.Open(fx.registry)
		if err != nil {
			t.Fatal(err)
		}
		logDir, err := store.PredictionLog("flights-delay")
		if err != nil {
			t.Fatal(err)
		}
		e := &env{stdout: io.Discard, stderr: io.Discard, log: slog.New(slog.DiscardHandler)}
		tick := served.Add(24 * time.Hour)
		decide := func(reg, policy string, tick time.Time, maxAge time.Duration) (bool, string) {
			t.Helper()
			retrain, why, err := shouldRetrain(context.Background(), cfg, reg, policy, tick, maxAge, e)
			if err != nil {
				t.Fatalf("%s at %s: %v", policy, tick, err)
			}
			return retrain, why
		}
		for _, policy := range []string{monitor.PolicyDrift, monitor.PolicyEstimated} {
			if retrain, why := decide(t.TempDir(), policy, tick, 0); !retrain || why != "no production model yet" {
				t.Errorf("%s, empty registry: %v %q", policy, retrain, why)
			}
			if retrain, why := decide(fx.registry, policy, tick, 0); retrain || !strings.Contains(why, "no prediction log") {
				t.Errorf("%s, no log yet: %v %q", policy, retrain, why)
			}
		}
		info, err := bundle.ReadInfo(mustVersionDir(t, store, 1))
		if err != nil {
			t.Fatal(err)
		}
		if retrain, why := decide(fx.registry, monitor.PolicyDrift, info.CreatedAt.Add(49*time.Hour), 48*time.Hour); !retrain || !strings.Contains(why, "old (max_age 48h") {
			t.Errorf("a model past max_age: %v %q", retrain, why)
		}
		// The day's requests as they were, but every probability pulled
		// halfway to 0.2: no input drifts, and the model ranks its rows
		// as before, but its calibrated probabilities are less spread, so
		// it is expected to rank them worse. The drift policy keeps it;
		// the estimated policy retrains on the estimate (the domain
		// classifier, which reads the inputs alone, may fire as well: June
		// against January–April).
		fx.writeLogTo(t, logDir, nil, func(p float64) float64 { return 0.2 + 0.5*(p-0.2) }, false)
		if retrain, why := decide(fx.registry, monitor.PolicyDrift, tick, 0); retrain {
			t.Errorf("drift: retrain: %q", why)
		}
		if retrain, why := decide(fx.registry, monitor.PolicyEstimated, tick, 0); !retrain || !strings.Contains(why, "estimated ROC AUC") {
			t.Errorf("estimated: %v %q", retrain, why)
		}
		// mlpipe monitor's exit code follows --policy on the same log.
		for policy, want := range map[string]int{monitor.PolicyDrift: exitOK, monitor.PolicyEstimated: exitRetrain} {
			stdout, stderr, code := runMonitorCLI(t, "--config", fixtureConfig, "--registry", fx.registry, "--policy", policy, "--from", "2026-11-20", "--to", "2026-11-21")
			if code != want || !strings.Contains(stdout, "policy     "+policy+": ") {
				t.Errorf("--policy %s: exit %d, want %d\n%s%s", policy, code, want, stdout, stderr)
			}
		}
		// A week later the day is out of the window: nothing to judge.
		if retrain, why := decide(fx.registry, monitor.PolicyEstimated, tick.AddDate(0, 0, 8), 0); retrain || !strings.Contains(why, "over 0 predictions") {
			t.Errorf("estimated, a week later: %v %q", retrain, why)
		}
	})

	badMonitor := filepath.Join(t.TempDir(), "bad.yaml")
	cfgBytes, err := os.ReadFile(fixtureConfig)
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(filepath.Dir(fixtureConfig))
	cfgText := strings.Replace(string(cfgBytes), "path: flights-10k.parquet", "path: "+filepath.Join(abs, "flights-10k.parquet"), 1)
	if err := os.WriteFile(badMonitor, []byte(cfgText+"monitor: {window: 7x}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	noProfile := t.TempDir()
	for _, f := range []string{bundle.InfoFile, bundle.FeaturesFile, bundle.ModelFile} {
		b, _ := os.ReadFile(filepath.Join(fx.bundle, f))
		if err := os.WriteFile(filepath.Join(noProfile, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	missingLog := filepath.Join(t.TempDir(), "no-log")
	tests := []struct {
		name   string
		args   []string
		code   int
		output string // substring of stdout+stderr
	}{
		{"ErrNoLog", []string{"--bundle", fx.bundle}, exitUsage, "--log DIR is required"},
		{"ErrNoModel", []string{"--log", missingLog}, exitUsage, "mlpipe monitor: no model given (pass --model"},
		{"ErrFromAndLast", []string{"--bundle", fx.bundle, "--log", missingLog, "--from", "2026-11-01", "--last", "7d"}, exitUsage, "not both"},
		{"ErrBadTime", []string{"--bundle", fx.bundle, "--log", missingLog, "--from", "yesterday"}, exitUsage, `"yesterday" is not a time`},
		{"ErrBadLast", []string{"--bundle", fx.bundle, "--log", missingLog, "--last", "7x"}, exitUsage, "--last"},
		{"ErrBadConfig", []string{"--config", badMonitor, "--bundle", fx.bundle, "--log", missingLog}, exitInvalid, "monitor.window"},
		{"ErrMissingLog", []string{"--bundle", fx.bundle, "--log", missingLog}, exitError, missingLog},
		{"ErrNoProfile", []string{"--bundle", noProfile, "--log", missingLog}, exitError, filepath.Join(noProfile, bundle.ProfileFile)},
		{"ErrNotBundle", []string{"--bundle", t.TempDir(), "--log", missingLog}, exitError, "not a model bundle"},
		{"OK/Help", []string{"--help"}, exitOK, "exits 6 when it recommends retraining"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runMonitorCLI(t, tt.args...)
			if code != tt.code || !strings.Contains(stdout+stderr, tt.output) {
				t.Errorf("exit %d, want %d; output lacks %q?\n%s%s", code, tt.code, tt.output, stdout, stderr)
			}
			if strings.Contains(stdout+stderr, "goroutine ") {
				t.Errorf("stack trace:\n%s%s", stdout, stderr)
			}
		})
	}
}

func mustVersionDir(t *testing.T, store *registry.Store, v int) string {
	t.Helper()
	dir, err := store.VersionDir("flights-delay", v)
	if err != nil {
		t.Fatal(err)
	}
	return dir
}
