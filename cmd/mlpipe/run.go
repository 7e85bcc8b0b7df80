package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mlpipe/mlpipe/bundle"
	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/evaluate/plots"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/internal/fsx"
	"github.com/mlpipe/mlpipe/internal/progress"
	"github.com/mlpipe/mlpipe/internal/suggest"
	"github.com/mlpipe/mlpipe/internal/version"
	"github.com/mlpipe/mlpipe/pipeline"
	"github.com/mlpipe/mlpipe/registry"
	"github.com/mlpipe/mlpipe/report"
	"github.com/mlpipe/mlpipe/train"
)

func runIngest(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "ingest", "--config FILE [flags]",
		"Load, validate, profile and split the data of a pipeline config, print a summary,\n"+
			"and save the validation report, the profile and the summary as JSON under --out.\n\n"+
			exitCodesHelp)
	return runStages(ctx, e, f, args, "ingest", pipeline.IngestStages)
}

func runPipeline(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "run", "--config FILE [flags]",
		"Run the whole pipeline on a config's data and print a summary: load → validate →\n"+
			"profile → split → features → train (model selection) → evaluate. The trained model\n"+
			"(features.json, model.json, leaderboard.json, training.json), the evaluation\n"+
			"(evaluation.json and ROC/PR/calibration plots) and the summary go under --out.\n"+
			"With a registry (registry.path or --registry) the gate compares the candidate with\n"+
			"the production model on the same test rows, the model is registered, promoted if\n"+
			"the gate passes, and the run is recorded under runs/. Stages whose inputs are\n"+
			"unchanged are restored from the step cache (cache.path or --cache).\n\n"+
			exitCodesHelp)
	return runStages(ctx, e, f, args, "run", pipeline.AllStages)
}

func runTrain(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "train", "--config FILE --out DIR [flags]",
		"Fit the features on the training split, fit every candidate model of the config\n"+
			"(grids and random-search trials included), pick the best on the validation split\n"+
			"(or by k-fold cross-validation below 5,000 training rows: selection.cv_folds), and\n"+
			"save it under --out: features.json, model.json, leaderboard.json and training.json.\n"+
			"Prints the leaderboard. Every config key: docs/config.md.\n\n"+
			exitCodesHelp)
	return runStages(ctx, e, f, args, "train", pipeline.TrainStages)
}

func runEvaluate(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "evaluate", "--config FILE --model DIR [flags]",
		"Evaluate a model saved by `mlpipe train` on the test split of the config's data:\n"+
			"ROC AUC, PR AUC, log loss, Brier, the confusion matrix at the threshold chosen on\n"+
			"validation, calibration, slices. Writes evaluation.json and SVG plots under --out\n"+
			"(default: DIR/evaluation). With --json the metrics are under \"evaluation\".\n\n"+
			exitCodesHelp)
	return runStages(ctx, e, f, args, "evaluate", nil)
}

// runStages is the body of `mlpipe ingest`, `train`, `evaluate` and
// `run`. stages is nil for evaluate, whose stages need the model.
func runStages(ctx context.Context, e *env, f *flags, args []string, name string, stages func(*ingest.Options) []pipeline.Stage) error {
	var cfgPath, out, data, modelDir, models, registryDir, resume, cacheDir string
	var parallelism int
	var wait, noCache bool
	var now timeFlag
	if name == "evaluate" {
		f.StringVar(&modelDir, "model", "", "directory written by mlpipe train --out (required)")
	}
	f.StringVar(&cfgPath, "config", "", "pipeline config file (required), e.g. configs/flights.yaml")
	// The default output directory is the config's own, so that two
	// configs (flights, penguins) do not overwrite each other's outputs;
	// it is set once the config is read.
	f.StringVar(&out, "out", "", "output directory (default out/NAME/"+name+", NAME the config's name; evaluate: MODEL/evaluation); --out \"\" writes nothing")
	f.StringVar(&data, "data", "", "read this file, glob or directory instead of the config's data.path")
	if name == "run" {
		f.BoolVar(&wait, "wait", false, "if another process is writing to the registry, wait for it instead of failing")
		f.StringVar(&registryDir, "registry", "", "model registry directory (default: the config's registry.path); the run registers its model there and promotes it if the gate passes")
		f.StringVar(&resume, "resume", "", "resume the failed or cancelled run RUN_ID of the registry: run again with its recorded config; the stages it completed are restored from the step cache")
	}
	if name == "train" || name == "run" {
		f.StringVar(&models, "models", "", "fit only these of the config's models, by name (comma-separated, e.g. logreg,gbdt)")
		f.StringVar(&cacheDir, "cache", "", "step cache directory or s3://BUCKET/PREFIX (default: the config's cache.path; none if neither is set)")
		f.BoolVar(&noCache, "no-cache", false, "run every stage even if the step cache (the config's cache.path) has its outputs; outputs are still stored")
	}
	f.Var(&now, "now", "evaluate the config's data.window (last_days) as of this time (RFC 3339) instead of now; the scheduler passes its tick")
	f.IntVar(&parallelism, "parallelism", 0, "files, row groups or columns processed at once (0: one per CPU)")
	f.addJSON()
	if err := f.parse(e, args); err != nil {
		return err
	}
	if f.NArg() > 0 {
		return usageError(fmt.Sprintf("unexpected argument %q", f.Arg(0)))
	}
	var cfg *config.Config
	var err error
	if resume != "" {
		cfg, err = resumeConfig(ctx, e, resume, cfgPath, registryDir)
	} else {
		cfg, err = loadConfig(cfgPath)
	}
	if err != nil {
		return err
	}
	if data != "" {
		cfg.Data.Path, cfg.Data.ConfigDir = data, "" // a flag's path is relative to the working directory
	}
	if !f.changed("out") && name != "evaluate" {
		out = filepath.Join("out", cfg.Name, name)
	}
	if cacheDir != "" {
		cfg.Cache.Path = cacheDir
	}
	if models != "" {
		if err := keepModels(cfg, models); err != nil {
			return err
		}
	}
	e.log.Info(name+" start", "config", cfg.Path, "source", cfg.Data.Path)
	opts := &ingest.Options{Parallelism: parallelism, Now: time.Time(now)}
	var list []pipeline.Stage
	if name == "evaluate" {
		if modelDir == "" {
			return usageHint("--model is required", "a directory written by mlpipe train --out")
		}
		trained, err := bundle.Load(modelDir)
		if err != nil {
			return err
		}
		if !f.changed("out") {
			out = filepath.Join(modelDir, "evaluation")
		}
		list = pipeline.EvaluateStages(opts, trained)
	} else {
		list = stages(opts)
	}
	var store *registry.Store
	if name == "run" {
		if registryDir != "" {
			cfg.Registry.Path = registryDir
		}
		if cfg.Registry.Path != "" {
			list = pipeline.PromoteStages(opts, wait)
			// One training run per registry at a time, whoever starts it
			// (a person, the scheduler, a crontab line).
			if store, err = registry.Open(cfg.Registry.Path); err != nil {
				return err
			}
			unlock, err := store.TrainingLock(ctx, wait)
			if err != nil {
				return err
			}
			defer unlock()
			if resume != "" {
				// A killed run's record still says running: it is
				// finished now, as interrupted, with what it did to the
				// registry (pipeline.CheckRuns).
				if err := pipeline.MarkInterrupted(store, resume); err != nil {
					return fmt.Errorf("resume: %w", err)
				}
			}
		}
	}
	started := time.Now().UTC()
	state := &pipeline.State{Config: cfg}
	defer state.Release()
	recorded := store != nil
	// With a registry, the --out files are written before the gate, so
	// that a full disk there fails the run before the registry changes;
	// summary.json follows at the end.
	var outputs *outputsStage
	if recorded && out != "" {
		outputs = &outputsStage{dir: out, command: name}
		list = insertBefore(list, "gate", outputs)
	}
	if recorded {
		// Every run is recorded, whatever its outcome, cancelled and
		// killed included: the record is created now, as running, and
		// saved after every stage. Ids sort by start time (to the
		// microsecond), then a random part.
		state.RunID = fmt.Sprintf("%s%06d-%s", started.Format("20060102T150405"), started.Nanosecond()/1000, fsx.RandomID(3))
		files, err := runConfigFiles(cfg)
		if err != nil {
			return err
		}
		base := pipeline.Summary{RunID: state.RunID, ResumedFrom: resume, StartedAt: started.Format(time.RFC3339), CodeVersion: version.Get()}
		if state.Recorder, err = pipeline.NewRecorder(store, state, base, files); err != nil {
			return fmt.Errorf("run: nothing was done: %w", err)
		}
	}
	runner := &pipeline.Runner{Stages: list, Log: e.log}
	if tty, ok := e.stdout.(*os.File); ok && progress.IsTerminal(tty) && !f.jsonOut {
		// A live status line on the terminal; logs clear it as they pass.
		line := progress.New(tty)
		defer line.Close()
		runner.Progress = line
		runner.Log = slog.New(line.Handler(e.log.Handler()))
	}
	if cfg.Cache.Path != "" && name != "evaluate" && name != "ingest" {
		runner.Cache = &pipeline.Cache{Dir: cfg.Cache.Path, NoRead: noCache}
	}
	results, runErr := runner.Run(ctx, state)
	if line, ok := runner.Progress.(*progress.Line); ok {
		line.Close()
	}

	sum := pipeline.Summarize(state, results)
	sum.StartedAt, sum.EndedAt = started.Format(time.RFC3339), time.Now().UTC().Format(time.RFC3339)
	sum.CodeVersion = version.Get()
	if recorded {
		sum.RunID, sum.ResumedFrom = state.RunID, resume
		sum.Dashboard = dashboardCommand(cfg)
	}
	if out != "" && !errors.Is(runErr, context.Canceled) {
		var err error
		if outputs != nil {
			sum.Outputs, sum.Model = outputs.written, outputs.model(sum.Model)
			err = writeSummary(out, sum)
		} else {
			err = writeOutputs(out, state, sum, name)
		}
		switch {
		case err != nil && !recorded:
			return err
		case err != nil && runErr == nil:
			// After the registry changed: the run fails, and its summary
			// and record say what the registry holds (the registry line).
			runErr = fmt.Errorf("outputs: %w", err)
		case err != nil:
			e.log.Error("outputs not written", "err", err)
		}
	}
	setStatus(sum, runErr)
	if runErr == nil && recorded {
		sum.Serve = serveCommand(cfg)
	}
	if recorded {
		if err := saveRunReport(store, sum, state); err != nil {
			e.log.Error("run report not written", "err", err)
		}
		if err := state.Recorder.Finish(sum); err != nil {
			// The record stays as last saved (running): `registry check`
			// reports the run as interrupted, and --repair finalizes it.
			e.log.Error("run record not finalized", "run", state.RunID, "err", err)
			if runErr == nil {
				runErr = err
				setStatus(sum, runErr)
			}
		}
	}
	if f.jsonOut {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(sum); err != nil {
			return err
		}
	} else {
		printSummary(e.stdout, sum)
	}
	if runErr == nil && state.Gate != nil && state.Gate.Rejected {
		return &reportedErr{fmt.Errorf("gate: %w: %s", errRejected, state.Gate.Reason)}
	}
	if runErr != nil && sum.Validation != nil && !sum.Validation.OK() {
		// The issues are in the summary just printed; main adds nothing.
		return &reportedErr{runErr}
	}
	return runErr
}

// setStatus sets a summary's final status and error from the run's error.
func setStatus(sum *pipeline.Summary, runErr error) {
	switch {
	case runErr == nil:
		sum.Status = pipeline.StatusOK
	case errors.Is(runErr, context.Canceled):
		sum.Status = pipeline.StatusCancelled
	case errors.Is(runErr, ingest.ErrInvalid):
		sum.Status = pipeline.StatusInvalid
	default:
		sum.Status = pipeline.StatusFailed
	}
	sum.Error = ""
	if runErr != nil {
		sum.Error = runErr.Error()
	}
}

// insertBefore returns list with st inserted before the stage named
// name (at the end if there is none).
func insertBefore(list []pipeline.Stage, name string, st pipeline.Stage) []pipeline.Stage {
	for i, s := range list {
		if s.Name() == name {
			return append(list[:i:i], append([]pipeline.Stage{st}, list[i:]...)...)
		}
	}
	return append(list, st)
}

// outputsStage writes a run's --out files (the model, the evaluation and
// its plots, the validation report and the profile): with a registry it
// runs before the gate, so that a full disk there fails the run before
// the registry changes.
type outputsStage struct {
	dir, command string
	written      map[string]string
	modelDir     string
}

func (o *outputsStage) Name() string { return "outputs" }

func (o *outputsStage) Run(ctx context.Context, s *pipeline.State) error {
	written, modelDir, err := writeArtifacts(o.dir, s, o.command)
	o.written, o.modelDir = written, modelDir
	return err
}

// model returns m with the directory the model was written to.
func (o *outputsStage) model(m *pipeline.ModelSummary) *pipeline.ModelSummary {
	if m != nil && o.modelDir != "" {
		m.Dir = o.modelDir
	}
	return m
}

// runConfigFiles are the run record's copies of the config: the resolved
// config as JSON, and as YAML with absolute paths (what --resume runs).
func runConfigFiles(cfg *config.Config) (map[string]any, error) {
	resolved, err := cfg.JSON()
	if err != nil {
		return nil, err
	}
	yml, err := cfg.YAML()
	if err != nil {
		return nil, err
	}
	return map[string]any{"config.json": json.RawMessage(resolved), runConfigFile: yml}, nil
}

// timeFlag is a flag holding an RFC 3339 time.
type timeFlag time.Time

func (t *timeFlag) String() string {
	if time.Time(*t).IsZero() {
		return ""
	}
	return time.Time(*t).Format(time.RFC3339)
}

func (t *timeFlag) Set(s string) error {
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return fmt.Errorf("want an RFC 3339 time such as 2001-06-08T03:00:00Z: %v", err)
	}
	*t = timeFlag(v)
	return nil
}

// serveCommand is the command that serves the config's production model:
// mlserve next to this binary, paths relative to the working directory
// when they are below it.
func serveCommand(cfg *config.Config) string {
	server := "mlserve"
	if exe, err := os.Executable(); err == nil {
		server = relPath(filepath.Join(filepath.Dir(exe), "mlserve"))
	}
	return fmt.Sprintf("%s --registry %s --model %s@production --addr 127.0.0.1:8080", server, relPath(cfg.Registry.Path), cfg.Name)
}

// dashboardCommand is the command that serves the dashboard of the
// config's registry.
func dashboardCommand(cfg *config.Config) string {
	self := "mlpipe"
	if exe, err := os.Executable(); err == nil {
		self = relPath(exe)
	}
	return fmt.Sprintf("%s ui --registry %s   (then open http://127.0.0.1:8090)", self, relPath(cfg.Registry.Path))
}

// relPath returns p relative to the working directory if it lies below
// it, else p made absolute.
func relPath(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	if wd, err := os.Getwd(); err == nil {
		if r, err := filepath.Rel(wd, abs); err == nil && !strings.HasPrefix(r, "..") {
			if !strings.Contains(r, string(filepath.Separator)) {
				r = "." + string(filepath.Separator) + r
			}
			return r
		}
	}
	return abs
}

// runConfigFile is the run record's config as YAML with absolute paths,
// which --resume runs again.
const runConfigFile = "config.yaml"

// resumeConfig returns the recorded config of a run to resume. The
// registry is --registry, else that of --config, else out/registry. A
// run can be resumed unless it finished ok; one whose record still says
// running is resumed only if no run is training (it was killed).
func resumeConfig(ctx context.Context, e *env, id, cfgPath, registryDir string) (*config.Config, error) {
	if registryDir == "" && cfgPath != "" {
		cfg, err := loadConfig(cfgPath)
		if err != nil {
			return nil, err
		}
		registryDir = cfg.Registry.Path
	}
	if registryDir == "" {
		registryDir = filepath.Join("out", "registry")
	}
	store, err := registry.Open(registryDir)
	if err != nil {
		return nil, err
	}
	dir, err := runDir(store, id)
	if err != nil {
		return nil, fmt.Errorf("--resume: %w", err)
	}
	sum, err := pipeline.ReadRun(store, id)
	if err != nil {
		return nil, fmt.Errorf("--resume: %w", err)
	}
	switch sum.Status {
	case pipeline.StatusOK:
		return nil, usageHint(fmt.Sprintf("--resume: run %s finished ok; there is nothing to resume", id), "start a new run")
	case pipeline.StatusRunning:
		unlock, idle, err := store.TrainingIdle(ctx)
		if err != nil {
			return nil, fmt.Errorf("--resume: %w", err)
		}
		if !idle {
			return nil, fmt.Errorf("--resume: run %s: its record says running, and a run is training against this registry now: %w", id, registry.ErrTraining)
		}
		unlock()
	}
	b, err := os.ReadFile(filepath.Join(dir, runConfigFile))
	if err != nil {
		return nil, fmt.Errorf("--resume: run %s has no recorded %s: %w", id, runConfigFile, err)
	}
	cfg, err := config.Parse(b, filepath.Join(dir, runConfigFile))
	if err != nil {
		return nil, fmt.Errorf("--resume: %w", err)
	}
	if cfg.Cache.Path == "" {
		return nil, usageHint(fmt.Sprintf("--resume: run %s's config has no cache.path: without the step cache there is nothing to resume from", id), "start a new run")
	}
	cfg.Registry.Path = registryDir
	failed := ""
	if n := len(sum.Stages); n > 0 {
		failed = sum.Stages[n-1].Name
	}
	e.log.Info("resuming run", "run", id, "status", sum.Status, "stopped_at", failed)
	return cfg, nil
}

// saveRunReport writes the run's HTML report (package report) into its
// run record. A version's bundle is immutable: the report stays with the
// run (the dashboard links a version to its run).
func saveRunReport(store *registry.Store, sum *pipeline.Summary, s *pipeline.State) error {
	var b *bundle.Bundle
	if s.Model != nil && s.Features != nil {
		b = &bundle.Bundle{Features: s.Features, Model: s.Model}
	}
	var page bytes.Buffer
	if err := report.Write(&page, sum, b); err != nil {
		return err
	}
	dir, err := store.RunDir(sum.RunID)
	if err != nil {
		return err
	}
	if err := fsx.WriteFile(filepath.Join(dir, report.File), page.Bytes(), 0o644); err != nil {
		return err
	}
	sum.Report = relPath(filepath.Join(dir, report.File))
	return nil
}

// keepModels narrows the config's candidate models to the names listed.
func keepModels(cfg *config.Config, list string) error {
	want := map[string]bool{}
	for _, n := range strings.Split(list, ",") {
		want[strings.TrimSpace(n)] = true
	}
	var kept []train.ModelSpec
	var names []string
	for _, m := range cfg.Models {
		names = append(names, m.Name)
		if want[m.Name] {
			kept = append(kept, m)
			delete(want, m.Name)
		}
	}
	for _, n := range slices.Sorted(maps.Keys(want)) {
		return usageHint(fmt.Sprintf("--models: %q is not among the config's models", n),
			hint(suggest.DidYouMean(n, names, nil), "the config's models: "+strings.Join(names, ", ")))
	}
	cfg.Models = kept
	return nil
}

// writeOutputs saves the summary and its large parts as JSON files, the
// trained model if there is one, and the evaluation's plots; each file
// is written atomically.
func writeOutputs(dir string, s *pipeline.State, sum *pipeline.Summary, command string) error {
	written, modelDir, err := writeArtifacts(dir, s, command)
	if err != nil {
		return err
	}
	sum.Outputs = written
	if modelDir != "" && sum.Model != nil {
		sum.Model.Dir = modelDir
	}
	return writeSummary(dir, sum)
}

// writeSummary writes sum as DIR/summary.json, listing it in sum.Outputs.
func writeSummary(dir string, sum *pipeline.Summary) error {
	if sum.Outputs == nil {
		sum.Outputs = map[string]string{}
	}
	sum.Outputs["summary"] = filepath.Join(dir, "summary.json")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write outputs: %w", err)
	}
	return fsx.WriteJSON(sum.Outputs["summary"], sum)
}

// writeArtifacts writes the trained model, the evaluation and its plots,
// the validation report and the profile under dir, and returns their
// paths by name and the model's directory ("" if none).
func writeArtifacts(dir string, s *pipeline.State, command string) (map[string]string, string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", fmt.Errorf("write outputs: %w", err)
	}
	written := map[string]string{}
	modelDir := ""
	// The data's profile first: the model saved beside it lists it in its
	// manifest, and serving it (mlserve --bundle, mlpipe predict) bounds
	// the inputs by it.
	if s.Profile != nil {
		p := filepath.Join(dir, bundle.ProfileFile)
		if err := fsx.WriteJSON(p, s.Profile); err != nil {
			return written, modelDir, err
		}
		written["profile"] = p
	}
	if s.Model != nil && command != "evaluate" {
		var also []string
		if s.Profile != nil {
			also = append(also, bundle.ProfileFile)
		}
		if _, err := pipeline.SaveTrained(dir, s, nil, also...); err != nil {
			return written, "", err
		}
		written["model"] = filepath.Join(dir, bundle.ModelFile)
		modelDir = dir
	}
	if r := s.Evaluation; r != nil {
		p := filepath.Join(dir, "evaluation.json")
		if err := fsx.WriteJSON(p, r); err != nil {
			return written, modelDir, err
		}
		written["evaluation"] = p
		if imgs, err := plots.Of(r, plots.SVG); err == nil && imgs != nil {
			files := imgs.Files(plots.SVG)
			var names []string
			for name, b := range files {
				if err := fsx.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
					return written, modelDir, err
				}
				names = append(names, strings.TrimSuffix(name, ".svg"))
			}
			slices.Sort(names)
			written["plots"] = filepath.Join(dir, "{"+strings.Join(names, ",")+"}.svg")
		}
	}
	if s.Report != nil {
		p := filepath.Join(dir, "validation.json")
		if err := fsx.WriteJSON(p, s.Report); err != nil {
			return written, modelDir, err
		}
		written["validation"] = p
	}
	return written, modelDir, nil
}
