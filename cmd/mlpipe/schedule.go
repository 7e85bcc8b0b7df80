package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/internal/suggest"
	"github.com/mlpipe/mlpipe/monitor"
	"github.com/mlpipe/mlpipe/monitor/domaingbdt"
	"github.com/mlpipe/mlpipe/pipeline"
	"github.com/mlpipe/mlpipe/registry"
)

func runSchedule(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "schedule", "--config FILE [flags]",
		"Run the pipeline (`mlpipe run`) on a cron schedule until stopped. Each tick trains on the\n"+
			"config's data as of the tick (data.window moves with it), gates and registers. A tick\n"+
			"is skipped while the previous run still runs, and when another process (a crontab\n"+
			"line, a person) is training against the same registry. A panicking run is logged and\n"+
			"the next tick runs as usual. SIGTERM or Ctrl-C cancels a running job at its next safe\n"+
			"point (it is recorded as cancelled), waits up to --grace for it, and exits 0.\n\n"+
			"Times are UTC unless --timezone (or schedule.timezone) says otherwise: in local time\n"+
			"a 02:30 job does not run on the spring-forward day.\n\n"+
			"Each run prints one line (tick, run id, status, gate decision); the whole summary of\n"+
			"mlpipe run follows when the run fails, or always with --full-summary. The run records\n"+
			"in the registry keep every summary (mlpipe runs show RUN_ID).\n\n"+exitCodesHelp)
	var cfgPath, spec, tz, registryDir, cacheDir, out, policy string
	var grace, maxAge time.Duration
	var fullSummary bool
	f.StringVar(&cfgPath, "config", "", "pipeline config file (required)")
	f.StringVar(&spec, "cron", "", `schedule: a 5-field cron spec ("0 3 * * *") or a descriptor ("@daily", "@every 6h"); default the config's schedule.cron`)
	f.StringVar(&tz, "timezone", "", "IANA time zone of the schedule (default the config's schedule.timezone, else UTC)")
	f.StringVar(&registryDir, "registry", "", "model registry (default the config's registry.path; required one way or the other)")
	f.StringVar(&cacheDir, "cache", "", "step cache directory or s3://BUCKET/PREFIX (default the config's cache.path)")
	f.StringVar(&out, "out", "", `output directory of each run ("" writes nothing beside the registry's run record)`)
	f.StringVar(&policy, "policy", "", "always: retrain at every tick; drift or estimated: run the monitor on the prediction log first, under that policy, and retrain only if it recommends it (default the config's schedule.policy, else always)")
	f.DurationVar(&maxAge, "max-age", 0, "drift and estimated policies: retrain anyway once the production model is this old (default the config's schedule.max_age; 0: no limit)")
	f.DurationVar(&grace, "grace", time.Minute, "on SIGTERM, how long to wait for a running job to reach a safe point")
	f.BoolVar(&fullSummary, "full-summary", false, "print each run's whole summary, not only its line")
	if err := f.parse(e, args); err != nil {
		return err
	}
	if f.NArg() > 0 {
		return usageError(fmt.Sprintf("unexpected argument %q", f.Arg(0)))
	}
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		return err
	}
	if spec == "" {
		spec = cfg.Schedule.Cron
	}
	if spec == "" {
		return usageHint("no schedule", "pass --cron or set schedule.cron in the config")
	}
	if _, err := config.ParseCron(spec); err != nil {
		return usageError(fmt.Sprintf("--cron %q: %v", spec, err))
	}
	sc := cfg.Schedule
	if tz != "" {
		sc.Timezone = tz
	}
	loc, err := sc.Location()
	if err != nil {
		return usageError(fmt.Sprintf("--timezone: %v", err))
	}
	if registryDir == "" {
		registryDir = cfg.Registry.Path
	}
	if policy == "" {
		policy = cmp.Or(cfg.Schedule.Policy, "always")
	}
	if policy != "always" && policy != monitor.PolicyDrift && policy != monitor.PolicyEstimated {
		return usageHint(fmt.Sprintf("--policy: unknown policy %q", policy), hint(suggest.DidYouMean(policy, []string{"always", "drift", "estimated"}, nil), "want always, drift or estimated"))
	}
	if !f.changed("max-age") {
		maxAge = cfg.Schedule.MaxAge
	}
	if registryDir == "" {
		return usageHint("a schedule needs a registry", "pass --registry or set registry.path in the config")
	}
	runArgs := []string{"--config", cfgPath, "--registry", registryDir, "--out", out,
		"--log-format", f.logFormat, "--log-level", f.logLevel}
	if cacheDir != "" {
		runArgs = append(runArgs, "--cache", cacheDir)
	}
	s := &pipeline.Scheduler{
		Spec: spec, Location: loc, Grace: grace, Log: e.log,
		Job: func(jctx context.Context, tick time.Time) error {
			if policy != "always" {
				retrain, why, err := shouldRetrain(jctx, cfg, registryDir, policy, tick, maxAge, e)
				if err != nil {
					return err
				}
				if !retrain {
					e.log.Info("schedule: no retrain", "policy", policy, "why", why)
					return nil
				}
				e.log.Info("schedule: retrain", "policy", policy, "why", why)
			}
			args := append(append([]string(nil), runArgs...), "--now", tick.UTC().Format(time.RFC3339), "--json")
			var out bytes.Buffer
			err := runPipeline(jctx, &env{stdout: &out, stderr: e.stderr, log: e.log, cmd: "run"}, args)
			var sum pipeline.Summary
			if json.Unmarshal(out.Bytes(), &sum) == nil && sum.Status != "" {
				printTick(e.stdout, tick, &sum, fullSummary)
			}
			switch {
			case err == nil:
				e.log.Info("schedule: run finished")
			case errors.Is(err, registry.ErrTraining):
				e.log.Warn("schedule: tick skipped: another process is training against this registry", "err", err)
				return fmt.Errorf("%w: %w", pipeline.ErrSkipped, err)
			case errors.Is(err, errRejected):
				e.log.Warn("schedule: the gate rejected the candidate; production is unchanged", "err", err)
				return nil
			}
			return err
		},
	}
	e.log.Info("schedule: policy", "policy", policy, "max_age", maxAge)
	if err := s.Run(ctx); err != nil {
		return err
	}
	ran, skipped, panicked := s.Stats()
	e.log.Info("schedule: stopped", "ran", ran, "skipped", skipped, "panicked", panicked)
	return nil
}

// printTick prints a run's line, then its whole summary when full is set
// or the run did not end well. A run cancelled by the scheduler's own
// stop is not a failure: its line says so, and the record keeps the rest.
func printTick(w io.Writer, tick time.Time, s *pipeline.Summary, full bool) {
	fmt.Fprintln(w, tickLine(tick, s))
	if full || (s.Status != pipeline.StatusOK && s.Status != pipeline.StatusCancelled) {
		printSummary(w, s)
	}
}

// tickLine is what the scheduler prints for a run: when, which run, how
// it ended, and the gate's decision, on one line.
func tickLine(tick time.Time, s *pipeline.Summary) string {
	var secs float64
	for _, st := range s.Stages {
		secs += st.Duration.Seconds()
	}
	line := fmt.Sprintf("%s  run %s  %s in %.1fs", tick.UTC().Format(time.RFC3339), cmp.Or(s.RunID, "(not recorded)"), s.Status, secs)
	if s.Model != nil {
		line += ", " + s.Model.Kind
	}
	if g := s.Gate; g != nil {
		line += fmt.Sprintf(", %s %.4f", g.Metric, g.Candidate)
		// What the registry holds (the outcome), not only what the gate
		// decided: a promotion can fail after the gate said yes.
		o := s.Registry
		switch {
		case g.Identical:
			line += fmt.Sprintf(": unchanged, it is production v%d", g.ProductionVersion)
		case o != nil && o.Promoted:
			line += fmt.Sprintf(": promoted, production is v%d", o.Version)
		case g.Promote:
			line += ": not promoted: " + registryLine(s)
		case o != nil && o.Existing:
			line += fmt.Sprintf(": unchanged, it is v%d, production stays v%d", o.Version, g.ProductionVersion)
		case g.Rejected:
			line += fmt.Sprintf(": rejected as v%d, production stays v%d", g.Version, g.ProductionVersion)
		default:
			line += fmt.Sprintf(": kept out as v%d, production stays v%d", g.Version, g.ProductionVersion)
		}
	}
	if s.Error != "" {
		line += ": " + s.Error
	}
	return line
}

// shouldRetrain is the drift or estimated policy's decision at a tick:
// retrain when there is no production model yet, when it is older than
// maxAge (if set), or when the monitor, run under policy on the
// prediction log's window before the tick (monitor.window, default 7
// days), recommends it.
func shouldRetrain(ctx context.Context, cfg *config.Config, registryDir, policy string, tick time.Time, maxAge time.Duration, e *env) (bool, string, error) {
	store, err := registry.Open(registryDir)
	if err != nil {
		return false, "", err
	}
	name, version, err := store.Resolve(cfg.Name + "@production")
	if errors.Is(err, registry.ErrNotFound) {
		return true, "no production model yet", nil
	}
	if err != nil {
		return false, "", err
	}
	dir, err := store.VersionDir(name, version)
	if err != nil {
		return false, "", err
	}
	b, err := monitor.LoadBaseline(dir)
	if err != nil {
		return false, "", err
	}
	b.Version, b.DomainFit = version, domaingbdt.Fit
	if age := tick.Sub(b.Info.CreatedAt); maxAge > 0 && age > maxAge {
		return true, fmt.Sprintf("production v%d is %s old (max_age %s)", version, age.Round(time.Minute), maxAge), nil
	}
	window, err := config.ParseWindow(cmp.Or(cfg.Monitor.Window, config.DefaultMonitorWindow))
	if err != nil {
		return false, "", err
	}
	logDir, err := store.PredictionLog(name)
	if err != nil {
		return false, "", err
	}
	t := thresholds(cfg)
	t.Policy = policy
	r, err := monitor.Run(ctx, b, logDir, tick.Add(-window), tick, &monitor.Options{Thresholds: t, Log: e.log})
	if errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Sprintf("no prediction log at %s yet", logDir), nil
	}
	if err != nil {
		return false, "", err
	}
	if r.Retrain {
		return true, "monitor: " + strings.Join(r.Reasons, "; "), nil
	}
	return false, fmt.Sprintf("monitor: %s over %d predictions", r.Status, r.Predictions), nil
}
