package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mlpipe/mlpipe/bundle"
	"github.com/mlpipe/mlpipe/pipeline"
	"github.com/mlpipe/mlpipe/registry"
	"github.com/mlpipe/mlpipe/train"
)

// The end-to-end tests drive run, the whole CLI without the process,
// against the fixtures in testdata/ and a temporary output directory.

const fixtureConfig = "../../testdata/flights-10k.yaml"

func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), exitCode(err)
}

func TestIngest(t *testing.T) {
	outDir := filepath.Join(t.TempDir(), "out")
	stdout, stderr, code := runCLI(t, "ingest", "--config", fixtureConfig, "--out", outDir)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	// Split sizes of the fixture: Jan–Apr, May and June rows (testdata/README.md).
	for _, want := range []string{
		"10,000 rows, 5 columns",
		"validate   ok: 0 errors, 0 warnings",
		"train       6,597 rows",
		"validation  1,729 rows",
		"test        1,674 rows",
		"fingerprint sha256:",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "stage done") {
		t.Errorf("stderr has no stage logs:\n%s", stderr)
	}
	for _, f := range []string{"summary.json", "validation.json", "profile.json"} {
		if _, err := os.Stat(filepath.Join(outDir, f)); err != nil {
			t.Errorf("output %s: %v", f, err)
		}
	}
}

func TestIngestJSON(t *testing.T) {
	stdout, _, code := runCLI(t, "ingest", "--config", fixtureConfig, "--out", "", "--json", "--log-level", "error")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	var sum pipeline.Summary
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, stdout)
	}
	if sum.Rows != 10_000 || len(sum.Splits) != 3 || sum.Status != "ok" || sum.Profile == nil {
		t.Errorf("summary: rows %d, splits %d, status %q", sum.Rows, len(sum.Splits), sum.Status)
	}
	// 1,397 of 6,597 training rows are delayed (see ingest's TestSplitTime).
	if r := sum.Splits[0].PositiveRate; r == nil || *r != 1397.0/6597 {
		t.Errorf("train positive rate = %v", r)
	}
}

func TestCLIErrors(t *testing.T) {
	badConfig := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(badConfig, []byte("name: x\nnmae: y\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // substring expected on stdout
	}{
		{"OK/help", []string{"help"}, exitOK, "Commands:"},
		{"OK/ingest-help", []string{"ingest", "--help"}, exitOK, "-config"},
		{"OK/run-help", []string{"run", "-h"}, exitOK, "Exit codes:"},
		{"ErrNoCommand", nil, exitUsage, "Commands:"},
		{"ErrUnknownCommand", []string{"nope"}, exitUsage, ""},
		{"ErrNoConfig", []string{"ingest"}, exitUsage, ""},
		{"ErrBadFlag", []string{"ingest", "--nope"}, exitUsage, ""},
		{"ErrBadConfig", []string{"ingest", "--config", badConfig}, exitInvalid, ""},
		{"ErrBadData", []string{"ingest", "--config", fixtureConfig, "--out", "", "--data", "../../testdata/bad/nonnumeric.csv"},
			exitInvalid, `line 7, column "delay": "abc" is not an int64`},
		{"ErrInvalidValues", []string{"ingest", "--config", fixtureConfig, "--out", "", "--data", "../../testdata/bad/out-of-range.csv"},
			exitInvalid, `row 5, column "distance": value 99999 is above the maximum 6000`},
		{"ErrNoFiles", []string{"ingest", "--config", fixtureConfig, "--out", "", "--data", "../../testdata/none-*.csv"}, exitNoData, ""},
		{"ErrUnknownModelFlag", []string{"train", "--config", fixtureConfig, "--out", "", "--models", "xgboost"}, exitUsage, ""},
		{"ErrEmptySplit", []string{"ingest", "--config", fixtureConfig, "--out", "", "--data", "../../testdata/monthly/2001-01.parquet"},
			exitInvalid, "status     invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			if !strings.Contains(stdout, tt.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tt.stdout, stdout)
			}
			if strings.Contains(stdout+stderr, "panic") || strings.Contains(stdout+stderr, "goroutine ") {
				t.Errorf("output has a stack trace:\n%s%s", stdout, stderr)
			}
		})
	}
}

// TestIngestBadFiles runs `mlpipe ingest` on every broken fixture: each
// must exit non-zero with a message that names the file, and no panic.
func TestIngestBadFiles(t *testing.T) {
	files, err := filepath.Glob("../../testdata/bad/*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad fixtures: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			stdout, stderr, code := runCLI(t, "ingest", "--config", fixtureConfig, "--out", "", "--log-level", "error", "--data", f)
			// int32-delay.parquet has a compatible type and loads, but its
			// 20 January rows leave the validation split empty: also exit 3.
			want := exitInvalid
			if code != want {
				t.Errorf("exit %d, want %d\n%s%s", code, want, stdout, stderr)
			}
			if !strings.Contains(stdout+stderr, f) && filepath.Base(f) != "int32-delay.parquet" {
				t.Errorf("output does not name %s:\n%s%s", f, stdout, stderr)
			}
			if strings.Contains(stdout+stderr, "goroutine ") {
				t.Errorf("stack trace:\n%s%s", stdout, stderr)
			}
		})
	}
}

// TestTrainEvaluate trains on the fixture, then evaluates the saved
// model: the two must agree, and --json carries the test metrics.
func TestTrainEvaluate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "model")
	stdout, stderr, code := runCLI(t, "train", "--config", fixtureConfig, "--out", dir, "--log-level", "warn")
	if code != exitOK {
		t.Fatalf("train: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, f := range []string{"features.json", "model.json", "leaderboard.json", "training.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("train wrote no %s: %v", f, err)
		}
	}
	// The signature's example, decoded as a JSON request is, scores
	// exactly as recorded: the single-row path serving uses.
	sigFile, err := os.Open(filepath.Join(dir, bundle.SignatureFile))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(sigFile)
	dec.UseNumber()
	var sig bundle.Signature
	if err := dec.Decode(&sig); err != nil {
		t.Fatal(err)
	}
	sigFile.Close()
	trained, err := bundle.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	row, err := trained.Features.TransformRow(sig.Example, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, trained.Model.Outputs())
	trained.Model.PredictRow(row, out)
	if len(sig.ExampleOutput) != len(out) || out[0] != sig.ExampleOutput[0] {
		t.Errorf("example scores %v, signature says %v", out, sig.ExampleOutput)
	}
	// The fixture config has one gbdt and two logreg candidates.
	if n := strings.Count(stdout, "roc_auc 0."); n != 3 {
		t.Errorf("leaderboard shows %d scored candidates, want 3:\n%s", n, stdout)
	}
	var fromRun, fromEval pipeline.Summary
	stdout, stderr, code = runCLI(t, "run", "--config", fixtureConfig, "--out", "", "--json", "--log-level", "error")
	if code != exitOK {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	if err := json.Unmarshal([]byte(stdout), &fromRun); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code = runCLI(t, "evaluate", "--config", fixtureConfig, "--model", dir, "--json", "--log-level", "error")
	if code != exitOK {
		t.Fatalf("evaluate: exit %d\n%s", code, stderr)
	}
	if err := json.Unmarshal([]byte(stdout), &fromEval); err != nil {
		t.Fatal(err)
	}
	if fromEval.Evaluation == nil || fromEval.Evaluation.BinaryMetrics == nil {
		t.Fatalf("evaluate --json has no binary evaluation:\n%s", stdout)
	}
	// Training is deterministic for the config's seed, so the model that
	// run selects scores exactly as the saved one.
	if a, b := fromRun.Evaluation.ROCAUC, fromEval.Evaluation.ROCAUC; a != b || a < 0.55 {
		t.Errorf("roc_auc: run %v, evaluate %v (want equal and above chance)", a, b)
	}
	for _, f := range []string{"evaluation.json", "roc.svg", "pr.svg", "calibration.svg", "summary.json"} {
		if _, err := os.Stat(filepath.Join(dir, "evaluation", f)); err != nil {
			t.Errorf("evaluate wrote no %s: %v", f, err)
		}
	}
	// A directory that holds no model is a clear error.
	_, _, code = runCLI(t, "evaluate", "--config", fixtureConfig, "--model", t.TempDir())
	if code != exitError {
		t.Errorf("evaluate with no model: exit %d, want %d", code, exitError)
	}
}

// TestPenguins runs the multiclass example end to end.
func TestPenguins(t *testing.T) {
	stdout, stderr, code := runCLI(t, "run", "--config", "../../configs/penguins.yaml", "--out", t.TempDir(), "--json", "--log-level", "error")
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	var sum pipeline.Summary
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatal(err)
	}
	m := sum.Evaluation.MulticlassMetrics
	// Species are well separated by beak and flipper size: published
	// models reach over 95% accuracy; 0.9 leaves room for a 65-row test set.
	if m == nil || m.Classes != 3 || sum.Evaluation.Accuracy < 0.9 {
		t.Errorf("penguins: %+v accuracy %v", m, sum.Evaluation.Accuracy)
	}
}

// TestRunRegistry runs the pipeline against one registry: the first
// model is promoted (there is no production model yet); the second run,
// with the same seed on the same data and no step cache, trains the same
// bytes, which are not stored again: the summary names version 1. A run
// of other candidates is registered as version 2 and, scoring the same,
// not promoted. A held writer lock stops a run with an error naming the
// holder.
func TestRunRegistry(t *testing.T) {
	reg := t.TempDir()
	run := func(args ...string) (pipeline.Summary, string) {
		t.Helper()
		stdout, stderr, code := runCLI(t, append([]string{"run", "--config", fixtureConfig, "--out", "", "--registry", reg, "--json", "--log-level", "error"}, args...)...)
		if code != exitOK {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		var sum pipeline.Summary
		if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
			t.Fatal(err)
		}
		text, _, _ := runCLI(t, "runs", "show", sum.RunID, "--registry", reg)
		return sum, text
	}
	first, _ := run()
	if g, o := first.Gate, first.Registry; g == nil || !g.Promote || g.Version != 1 || g.Production != nil || o == nil || !o.Registered || !o.Promoted || o.Version != 1 {
		t.Fatalf("first run: gate %+v registry %+v, want promoted as version 1", first.Gate, first.Registry)
	}
	same, text := run()
	if o := same.Registry; o == nil || !o.Existing || o.Registered || o.Version != 1 || o.Digest != first.Registry.Digest {
		t.Errorf("identical run: registry %+v, want version 1, existing, digest %s", same.Registry, first.Registry.Digest)
	}
	if want := "unchanged: the candidate is version 1 (identical bytes"; !strings.Contains(text, want) {
		t.Errorf("identical run's summary lacks %q:\n%s", want, text)
	}
	second, _ := run("--models", "logreg")
	if g := second.Gate; g == nil || g.Promote || g.Version != 2 || g.ProductionVersion != 1 || *g.Production != g.Candidate {
		t.Fatalf("second run: gate %+v, want version 2 kept out of production", second.Gate)
	}
	store, err := registry.Open(reg)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := store.Alias("flights-delay", pipeline.AliasProduction); v != 1 || err != nil {
		t.Errorf("production = %d, %v; want 1", v, err)
	}
	// Every run is recorded; compare marks the gate row, which differs.
	ids, err := store.Runs()
	if err != nil || len(ids) != 3 {
		t.Fatalf("runs = %v, %v; want 3", ids, err)
	}
	stdout, _, code := runCLI(t, "runs", "compare", ids[0], ids[2], "--registry", reg)
	// Parameters as JSON, as the summary shows them, not a Go map.
	if code != exitOK || !strings.Contains(stdout, "* gate") || !strings.Contains(stdout, "  test roc_auc") ||
		!regexp.MustCompile(`params +\{`).MatchString(stdout) || strings.Contains(stdout, "map[") {
		t.Errorf("runs compare: exit %d\n%s", code, stdout)
	}
	if stdout, _, code := runCLI(t, "runs", "list", "--registry", reg); code != exitOK || strings.Count(stdout, "\n") != 4 {
		t.Errorf("runs list: exit %d\n%s", code, stdout)
	}
	if _, _, code := runCLI(t, "runs", "show", "nope", "--registry", reg); code == exitOK {
		t.Error("runs show of an unknown id succeeded")
	}

	// Promote version 2 by hand, then roll back to version 1.
	for _, step := range []struct {
		args []string
		prod int
	}{
		{[]string{"models", "promote", "flights-delay@2", "--registry", reg}, 2},
		{[]string{"models", "rollback", "--registry", reg, "flights-delay"}, 1},
	} {
		if stdout, stderr, code := runCLI(t, step.args...); code != exitOK {
			t.Fatalf("%v: exit %d\n%s%s", step.args, code, stdout, stderr)
		}
		if v, _ := store.Alias("flights-delay", pipeline.AliasProduction); v != step.prod {
			t.Errorf("after %v: production = %d, want %d", step.args, v, step.prod)
		}
	}
	if stdout, _, code := runCLI(t, "models", "list", "--registry", reg); code != exitOK || !strings.Contains(stdout, "production=v1") {
		t.Errorf("models list: exit %d\n%s", code, stdout)
	}
	if stdout, _, code := runCLI(t, "models", "show", "flights-delay@2", "--registry", reg, "--json"); code != exitOK || !strings.Contains(stdout, `"roc_auc"`) || !strings.Contains(stdout, `"digest": "sha256:`) || !strings.Contains(stdout, `"run_id": "`+ids[2]+`"`) {
		t.Errorf("models show: exit %d\n%s", code, stdout)
	}
	if _, _, code := runCLI(t, "models", "promote", "flights-delay@9", "--registry", reg); code == exitOK {
		t.Error("promoting a missing version succeeded")
	}
	// A crash leftover: check finds it (exit 3), --repair removes it.
	if err := os.Mkdir(filepath.Join(reg, "models", "flights-delay", ".tmp-v3-1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, _, code := runCLI(t, "registry", "check", "--registry", reg); code != exitInvalid {
		t.Errorf("registry check with a leftover: exit %d, want %d", code, exitInvalid)
	}
	if _, _, code := runCLI(t, "registry", "check", "--repair", "--registry", reg); code != exitOK {
		t.Errorf("registry check --repair: exit %d", code)
	}

	unlock, err := store.Lock(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runCLI(t, "run", "--config", fixtureConfig, "--out", "", "--registry", reg, "--log-level", "error")
	if code != exitError || !strings.Contains(stderr, "registry is locked by pid") {
		t.Errorf("run with the registry locked: exit %d, stderr:\n%s", code, stderr)
	}
	if vs, _ := store.Versions("flights-delay"); len(vs) != 2 {
		t.Errorf("versions after a locked-out run: %v, want 2", vs)
	}
	// With --wait, a run waits for the other writer, then registers.
	done := make(chan int, 1)
	go func() {
		_, _, code := runCLI(t, "run", "--config", fixtureConfig, "--out", "", "--registry", reg, "--wait", "--models", "gbdt", "--log-level", "error")
		done <- code
	}()
	time.Sleep(300 * time.Millisecond)
	unlock()
	select {
	case code := <-done:
		if code != exitOK && code != exitRejected { // gbdt alone may score worse: registered all the same
			t.Errorf("run --wait: exit %d", code)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("run --wait never finished")
	}
	if vs, _ := store.Versions("flights-delay"); len(vs) != 3 {
		t.Errorf("versions after run --wait: %v, want 3", vs)
	}
}

// variantConfig writes a copy of the fixture config with its data path
// made absolute and the given text appended (later keys are not allowed
// to repeat, so callers append only sections the fixture lacks) or
// replacing the models section.
func variantConfig(t *testing.T, models, extra string) string {
	t.Helper()
	b, err := os.ReadFile(fixtureConfig)
	if err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs("../../testdata/flights-10k.parquet")
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(b), "path: flights-10k.parquet", "path: "+abs, 1)
	if models != "" {
		start := strings.Index(src, "\nmodels:") + 1
		end := strings.Index(src, "\nevaluate:") + 1
		src = src[:start] + models + "\n" + src[end:]
	}
	path := filepath.Join(t.TempDir(), "variant.yaml")
	if err := os.WriteFile(path, []byte(src+extra), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestGateRejects feeds the gate a deliberately worse candidate: a
// logistic regression so strongly regularised that every row gets the
// same score (ROC AUC 0.5). It is registered, rejected with exit code 5,
// and production is unchanged. A value threshold rejects a first model.
func TestGateRejects(t *testing.T) {
	reg := t.TempDir()
	if _, stderr, code := runCLI(t, "run", "--config", fixtureConfig, "--out", "", "--registry", reg, "--log-level", "error"); code != exitOK {
		t.Fatalf("first run: exit %d\n%s", code, stderr)
	}
	worse := variantConfig(t, "models:\n  - {name: logreg, params: {c: 1.0e-9}}", "")
	stdout, stderr, code := runCLI(t, "run", "--config", worse, "--out", "", "--registry", reg, "--log-level", "error")
	if code != exitRejected || !strings.Contains(stdout, "REJECTED") {
		t.Fatalf("worse candidate: exit %d, want %d\n%s%s", code, exitRejected, stdout, stderr)
	}
	store, _ := registry.Open(reg)
	if v, _ := store.Alias("flights-delay", pipeline.AliasProduction); v != 1 {
		t.Errorf("production = %d after a rejected candidate, want 1", v)
	}
	if vs, _ := store.Versions("flights-delay"); len(vs) != 2 {
		t.Errorf("versions = %v: the rejected candidate should still be registered for inspection", vs)
	}

	// The fixture's models score about 0.65 (see TestTrainEvaluate), below
	// a value threshold of 0.9: rejected, and the summary names the
	// production model it was not compared with (it said "vs production
	// none" while v1 was production).
	strict := variantConfig(t, "", "gate: {min_value: 0.9}\n")
	stdout, _, code = runCLI(t, "run", "--config", strict, "--out", "", "--registry", reg, "--log-level", "error")
	if code != exitRejected || !strings.Contains(stdout, "vs production v1 0.6") {
		t.Errorf("value threshold with v1 in production: exit %d, want %d naming production v1\n%s", code, exitRejected, stdout)
	}
	// Rejected even with no production model.
	fresh := t.TempDir()
	if _, _, code := runCLI(t, "run", "--config", strict, "--out", "", "--registry", fresh, "--log-level", "error"); code != exitRejected {
		t.Errorf("value threshold: exit %d, want %d", code, exitRejected)
	}
	if _, err := (func() (int, error) {
		s, _ := registry.Open(fresh)
		return s.Alias("flights-delay", pipeline.AliasProduction)
	})(); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("a rejected first model became production: %v", err)
	}
}

// TestConfigCheckedBeforeData runs `mlpipe run` with a registry on
// configs whose mistakes only a trained model used to reveal: a metric
// of another task, a mistyped or out-of-range trainer parameter, a time
// part of a non-time column. Each must exit 3 (invalid config) naming
// the key, before any data is read (the data path does not exist) and
// without a run record in the registry.
func TestConfigCheckedBeforeData(t *testing.T) {
	for _, tc := range []struct {
		name, models, extra, want string
	}{
		{"selection metric", "", "selection: {metric: accuracy}\n",
			`selection.metric: "accuracy" does not apply to a binary label (want roc_auc, pr_auc, log_loss, brier)`},
		{"selection metric typo", "", "selection: {metric: roc_acu}\n", `selection.metric: unknown metric "roc_acu" (did you mean roc_auc?)`},
		{"gate metric", "", "gate: {metric: rmse}\n", `gate.metric: "rmse" is a regression metric; a binary label is judged by roc_auc, pr_auc, log_loss, brier`},
		{"param typo", "models:\n  - {name: gbdt, params: {learning_rat: 0.1}}", "", `models[0].params: gbdt: unknown parameter "learning_rat" (did you mean learning_rate?)`},
		{"param range", "models:\n  - {name: logreg, params: {c: 0.0001, tol: -1}}", "", `models[0].params: logreg: tol is -1, want > 0`},
		{"param type", "models:\n  - {name: gbdt, params: {max_leaves: many}}", "", `models[0].params: gbdt: max_leaves: want a whole number, got "many"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := variantConfig(t, tc.models, tc.extra)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			// No such data: any read would fail with another error.
			src := regexp.MustCompile(`path: .*flights-10k\.parquet`).ReplaceAllString(string(b), "path: /nonexistent/flights.parquet")
			if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			reg := t.TempDir()
			stdout, stderr, code := executeCLI(t, "run", "--config", path, "--out", "", "--registry", reg)
			if code != exitInvalid || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, want %d; stderr:\n%s\nwant it to contain %q\nstdout:\n%s", code, exitInvalid, stderr, tc.want, stdout)
			}
			if runs, _ := filepath.Glob(filepath.Join(reg, "runs", "*")); len(runs) > 0 {
				t.Errorf("the registry records a run: %v", runs)
			}
		})
	}
}

// TestSummaryTraining: the text summary of a run shows what issue 16
// added to training: the cross-validated mean ± sd of each candidate,
// the selected model's class weights (named, for a binary label) and its
// own importance by input (gbdt's gain, logreg's standardised
// coefficients), on seattle-weather.
func TestSummaryTraining(t *testing.T) {
	b, err := os.ReadFile("../../configs/seattle-weather.yaml")
	if err != nil {
		t.Fatal(err)
	}
	data, err := filepath.Abs("../../data/seattle-weather.csv")
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(b), "path: ../data/seattle-weather.csv", "path: "+data, 1)
	start, end := strings.Index(src, "\nmodels:")+1, strings.Index(src, "\nselection:")+1
	src = src[:start] + "models:\n  - {name: logreg, params: {class_weight: balanced}}\n  - {name: gbdt, params: {rounds: 30, class_weight: {positive: 2}}}\n" + src[end:]
	path := filepath.Join(t.TempDir(), "weather.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		models, kind string   // kind: the selected model's importance kind
		want         []string // regular expressions, each matching somewhere
	}{
		// gbdt wins by 0.03 in cross-validated ROC AUC (0.858 ± 0.021
		// against 0.828 ± 0.033 at 2872457).
		{"logreg,gbdt", train.ImportanceGain, []string{
			`(?m)^models +ranked by 5-fold cross-validation on the training split \(mean ± sd\)`,
			`(?m)^ +logreg +roc_auc 0\.\d{4} ± 0\.\d{4} +- `,
			`(?m)^ +\* gbdt +roc_auc 0\.\d{4} ± 0\.\d{4} +roc_auc 0\.\d{4} `,
			`(?m)^selected +gbdt, 6 features.*\n +class weights: negative \(0\) 1, positive \(1\) 2\n +gain by input: temp_max \d+%, temp_min \d+%, wind \d+%, date \d+%\n`,
		}},
		// 1,096 training rows, 45.3% rain: balanced weights are
		// 1096/(2·599) and 1096/(2·497).
		{"logreg", train.ImportanceCoefficient, []string{
			`(?m)^selected +logreg, 6 features.*\n +class weights: negative \(0\) 0\.9149, positive \(1\) 1\.103\n +standardised coefficients by input: \w+ \d+%, \w+ \d+%, \w+ \d+%, \w+ \d+%\n`,
		}},
	} {
		stdout, stderr, code := runCLI(t, "run", "--config", path, "--models", tc.models, "--out", "", "--log-level", "error")
		if code != exitOK {
			t.Fatalf("%s: exit %d\n%s%s", tc.models, code, stdout, stderr)
		}
		for _, want := range tc.want {
			if !regexp.MustCompile(want).MatchString(stdout) {
				t.Errorf("%s: the summary has no line matching %s:\n%s", tc.models, want, stdout)
			}
		}
		// --json: model.importance, per feature and per input.
		stdout, stderr, code = runCLI(t, "run", "--config", path, "--models", tc.models, "--out", "", "--log-level", "error", "--json")
		var sum pipeline.Summary
		if err := json.Unmarshal([]byte(stdout), &sum); code != exitOK || err != nil {
			t.Fatalf("%s --json: exit %d, %v\n%s", tc.models, code, err, stderr)
		}
		imp := sum.Model.Importance
		if imp == nil || imp.Kind != tc.kind || len(imp.Features) != 6 || len(imp.Inputs) != 4 {
			t.Fatalf("%s --json: model.importance %+v, want %s for 6 features of 4 inputs", tc.models, imp, tc.kind)
		}
		var total float64
		for _, c := range imp.Inputs {
			total += c.Share
		}
		if math.Abs(total-1) > 1e-9 {
			t.Errorf("%s --json: the inputs' shares sum to %v", tc.models, total)
		}
	}
}
