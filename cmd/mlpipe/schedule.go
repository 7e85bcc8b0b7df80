package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mlpipe/mlpipe/config"
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
			"a 02:30 job does not run on the spring-forward day.\n\n"+exitCodesHelp)
	var cfgPath, spec, tz, registryDir, cacheDir, out string
	var grace time.Duration
	f.StringVar(&cfgPath, "config", "", "pipeline config file (required)")
	f.StringVar(&spec, "cron", "", `schedule: a 5-field cron spec ("0 3 * * *") or a descriptor ("@daily", "@every 6h"); default the config's schedule.cron`)
	f.StringVar(&tz, "timezone", "", "IANA time zone of the schedule (default the config's schedule.timezone, else UTC)")
	f.StringVar(&registryDir, "registry", "", "model registry (default the config's registry.path; required one way or the other)")
	f.StringVar(&cacheDir, "cache", "", "step cache directory (default the config's cache.path)")
	f.StringVar(&out, "out", "", `output directory of each run ("" writes nothing beside the registry's run record)`)
	f.DurationVar(&grace, "grace", time.Minute, "on SIGTERM, how long to wait for a running job to reach a safe point")
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
		return usageError("no schedule: pass --cron or set schedule.cron in the config")
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
	if registryDir == "" {
		return usageError("a schedule needs a registry: pass --registry or set registry.path in the config")
	}
	runArgs := []string{"--config", cfgPath, "--registry", registryDir, "--out", out,
		"--log-format", f.logFormat, "--log-level", f.logLevel}
	if cacheDir != "" {
		runArgs = append(runArgs, "--cache", cacheDir)
	}
	s := &pipeline.Scheduler{
		Spec: spec, Location: loc, Grace: grace, Log: e.log,
		Job: func(jctx context.Context, tick time.Time) error {
			args := append(append([]string(nil), runArgs...), "--now", tick.UTC().Format(time.RFC3339))
			err := runPipeline(jctx, e, args)
			switch {
			case err == nil:
				e.log.Info("schedule: run finished")
			case errors.Is(err, registry.ErrTraining):
				e.log.Warn("schedule: tick skipped: another process is training against this registry", "err", err)
				return nil
			case errors.Is(err, errRejected):
				e.log.Warn("schedule: the gate rejected the candidate; production is unchanged", "err", err)
				return nil
			}
			return err
		},
	}
	if err := s.Run(ctx); err != nil {
		return err
	}
	ran, skipped, panicked := s.Stats()
	e.log.Info("schedule: stopped", "ran", ran, "skipped", skipped, "panicked", panicked)
	return nil
}
