package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/internal/fsx"
	"github.com/mlpipe/mlpipe/internal/suggest"
	"github.com/mlpipe/mlpipe/monitor"
	"github.com/mlpipe/mlpipe/monitor/domaingbdt"
	"github.com/mlpipe/mlpipe/registry"
	"github.com/mlpipe/mlpipe/ui"
)

// exitRetrain is `mlpipe monitor`'s exit code when it recommends
// retraining: distinct from the error codes, so that cron can chain
// `mlpipe monitor ... || [ $? -eq 6 ] && mlpipe run ...`.
const exitRetrain = 6

// errRetrain means the monitor recommends retraining; the report has
// been printed, and exitCode maps it to exitRetrain.
var errRetrain = errors.New("retrain recommended")

const monitorAbout = "Compare a window of the prediction log with the production model's training data\n" +
	"(drift) and, for predictions whose labels have arrived, its test metrics (decay);\n" +
	"print a summary (--json: the report) and say whether to retrain. The model is\n" +
	"--bundle DIR, or --model NAME[@ALIAS|@VERSION] (default the config's name@production)\n" +
	"in --registry (default the config's registry.path); the config is --config, else\n" +
	defaultConfig + " when it exists (in the repository). The prediction log is --log (a\n" +
	"directory or s3://BUCKET/PREFIX), else the registry's (where mlserve --registry writes\n" +
	"it); every replica's stream in it (LOG/REPLICA/) is read, merged by time, and labels\n" +
	"join predictions whichever replica logged them. The window is [--from, --to),\n" +
	"or the --last DURATION before --to (default now), or the config's monitor.window\n" +
	"(default 7d); times are RFC 3339, or 2006-01-02[T15:04:05] in UTC. Each feature is judged\n" +
	"by the thresholds calibrated on the training data (the bundle's thresholds.json) unless\n" +
	"the config's monitor: section says otherwise; a binary model's ROC AUC is also estimated\n" +
	"without labels (CBPE), and a domain classifier tells the window from the training data\n" +
	"(docs/monitoring.md). --policy (default the config's monitor.policy, else drift) says\n" +
	"which rule decides: drift (the share of drifted features) or estimated (the estimated\n" +
	"AUC, the domain classifier); labelled predictions that score too low decide under both.\n\n" +
	exitCodesHelp + "\n" +
	"monitor exits 6 when it recommends retraining; a window without enough data exits 0."

func runMonitor(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "monitor", "[--config FILE] [--registry DIR] [--model NAME@production | --bundle DIR --log DIR] [--from T --to T | --last 7d]", monitorAbout)
	var cfgPath, regDir, ref, bundleDir, logDir, fromS, toS, lastS, out, policy string
	f.StringVar(&cfgPath, "config", "", "pipeline config: thresholds (monitor:), registry.path and the model name (default "+defaultConfig+" when it exists, unless --bundle)")
	f.StringVar(&regDir, "registry", "", "model registry directory (default: the config's registry.path)")
	f.StringVar(&ref, "model", "", "model in the registry: NAME, NAME@ALIAS or NAME@VERSION (default: the config's name@production)")
	f.StringVar(&bundleDir, "bundle", "", "a model bundle directory to use instead of the registry")
	f.StringVar(&logDir, "log", "", "the prediction log directory or s3://BUCKET/PREFIX mlserve writes, with every replica's stream in it (default with a registry: REGISTRY/predictions/NAME, where mlserve --registry writes it; required with --bundle)")
	f.StringVar(&fromS, "from", "", "window start, inclusive")
	f.StringVar(&toS, "to", "", "window end, exclusive (default now with --last)")
	f.StringVar(&lastS, "last", "", "window length back from --to, e.g. 7d, 36h, 1d12h")
	f.StringVar(&out, "out", "", "also write the JSON report to this file")
	f.StringVar(&policy, "policy", "", "the rule the exit code follows: drift or estimated (default the config's monitor.policy, else drift)")
	f.addJSON()
	if err := f.parse(e, args); err != nil {
		return err
	}
	if f.NArg() > 0 {
		return usageError(fmt.Sprintf("unexpected argument %q", f.Arg(0)))
	}
	if policy != "" && policy != monitor.PolicyDrift && policy != monitor.PolicyEstimated {
		return usageHint(fmt.Sprintf("--policy: unknown policy %q", policy), hint(suggest.DidYouMean(policy, []string{monitor.PolicyDrift, monitor.PolicyEstimated}, nil), "want drift or estimated"))
	}
	if cfgPath == "" && regDir == "" && bundleDir == "" {
		if _, err := os.Stat(defaultConfig); err == nil {
			cfgPath = defaultConfig
			e.log.Info("no --config: using the default config", "config", defaultConfig)
		}
	}
	var cfg *config.Config
	if cfgPath != "" {
		var err error
		if cfg, err = loadConfig(cfgPath); err != nil {
			return err
		}
	}
	from, to, err := monitorWindow(cfg, fromS, toS, lastS, time.Now())
	if err != nil {
		return err
	}
	store, name, version, dir, err := monitorBundle(e, cfg, cfgPath, regDir, ref, bundleDir)
	if err != nil {
		return err
	}
	if logDir == "" && store != nil {
		if logDir, err = store.PredictionLog(name); err != nil { // where mlserve --registry logs
			return err
		}
	}
	if logDir == "" {
		return usageHint("--log DIR is required with --bundle", "the prediction log directory mlserve writes")
	}
	b, err := monitor.LoadBaseline(dir)
	if err != nil {
		return err
	}
	b.Version, b.DomainFit = version, domaingbdt.Fit
	t := thresholds(cfg)
	if policy != "" {
		t.Policy = policy
	}
	r, err := monitor.Run(ctx, b, logDir, from, to, &monitor.Options{Thresholds: t, Log: e.log})
	if err != nil {
		return err
	}
	if out != "" {
		if err := fsx.WriteJSON(out, r); err != nil {
			return err
		}
		e.log.Info("monitor: report written", "file", out)
	}
	if store != nil {
		// Kept in the registry for the dashboard's monitoring page:
		// REGISTRY/monitoring/NAME/TIME.json.
		kept := filepath.Join(store.Root(), ui.MonitoringDir, name, time.Now().UTC().Format("20060102T150405.000000Z")+".json")
		if err := os.MkdirAll(filepath.Dir(kept), 0o755); err != nil {
			return err
		}
		if err := fsx.WriteJSON(kept, r); err != nil {
			return err
		}
		e.log.Info("monitor: report kept in the registry", "file", kept)
	}
	if f.jsonOut {
		err = writeJSON(e, r)
	} else {
		err = r.WriteText(e.stdout)
	}
	if err != nil {
		return err
	}
	if r.Retrain {
		return &reportedErr{errRetrain}
	}
	return nil
}

// monitorWindow turns the window flags into [from, to); a zero end is
// open.
func monitorWindow(cfg *config.Config, fromS, toS, lastS string, now time.Time) (from, to time.Time, err error) {
	if lastS != "" && fromS != "" {
		return from, to, usageError("give --from or --last, not both")
	}
	if fromS != "" {
		if from, err = parseWhen(fromS); err != nil {
			return from, to, usageError("--from: " + err.Error())
		}
	}
	if toS != "" {
		if to, err = parseWhen(toS); err != nil {
			return from, to, usageError("--to: " + err.Error())
		}
	}
	if fromS != "" || (toS != "" && lastS == "") {
		if !from.IsZero() && !to.IsZero() && !from.Before(to) {
			return from, to, usageError("--to must be after --from")
		}
		return from, to, nil
	}
	// --last, or the config's window, or 7 days, back from --to or now.
	window := lastS
	if window == "" && cfg != nil {
		window = cfg.Monitor.Window
	}
	if window == "" {
		window = config.DefaultMonitorWindow
	}
	d, err := config.ParseWindow(window)
	if err != nil {
		if lastS != "" {
			return from, to, usageError("--last: " + err.Error())
		}
		return from, to, err // the config was validated: unreachable
	}
	if to.IsZero() {
		to = now.UTC()
	}
	return to.Add(-d), to, nil
}

// parseWhen reads a time: RFC 3339, or a date or date and time in UTC.
func parseWhen(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time (2026-11-25, 2026-11-25T10:00:00 or RFC 3339)", s)
}

// monitorBundle finds the bundle directory: --bundle, or the registry's
// version of --model (default the config's name@production), with its
// store and model name (nil and "" for a bundle directory; version is
// then 0).
func monitorBundle(e *env, cfg *config.Config, cfgPath, regDir, ref, bundleDir string) (store *registry.Store, name string, version int, dir string, err error) {
	if bundleDir != "" {
		if ref != "" || regDir != "" {
			return nil, "", 0, "", usageHint("--bundle names the model itself", "drop --model and --registry")
		}
		return nil, "", 0, bundleDir, nil
	}
	if ref == "" {
		if cfg == nil {
			return nil, "", 0, "", usageHint("no model given", "pass --model NAME@production with --registry, --config FILE for its name and registry, or --bundle DIR")
		}
		ref = cfg.Name + "@production"
	}
	if !strings.Contains(ref, "@") {
		ref += "@production"
	}
	store, err = openRegistry(e, regDir, cfgPath)
	if err != nil {
		return nil, "", 0, "", err
	}
	name, version, err = resolve(store, ref)
	if err != nil {
		return nil, "", 0, "", err
	}
	dir, err = store.VersionDir(name, version)
	if err != nil {
		return nil, "", 0, "", err
	}
	return store, name, version, dir, nil
}
