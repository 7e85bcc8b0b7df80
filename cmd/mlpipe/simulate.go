package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mlpipe/mlpipe/backtest"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/internal/fsx"
	"github.com/mlpipe/mlpipe/internal/suggest"
	"github.com/mlpipe/mlpipe/ui"
)

func runSimulate(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "simulate", "--config FILE [flags]",
		"Backtest retraining policies on the real history of the config's data: step a simulated\n"+
			"clock by --period; at each step the policy decides whether to retrain on the trailing\n"+
			"window (--train-days, then --valid-days for validation and the gate), and the period's\n"+
			"rows are scored by the production model and judged with their true labels: ROC AUC\n"+
			"for a binary label, RMSE for a regression target.\n"+
			"Policies: never; scheduled (every period); drift (the monitor's drift rule fires on the\n"+
			"previous period, with thresholds calibrated on the model's training window);\n"+
			"estimated (its ROC AUC estimated without labels fell more than the config's\n"+
			"monitor.estimated_auc_drop below its validation AUC, or the domain classifier fired);\n"+
			"performance (the labelled AUC fell more than --performance-drop below the model's\n"+
			"first period in service; for a regression, its RMSE rose more than --rmse-rise).\n"+
			"With --max-age (default the config's schedule.max_age), drift and estimated also retrain\n"+
			"once the production model has served that long, as the scheduler does.\n"+
			"Each period also gets the production model's ROC AUC estimated without labels beside\n"+
			"the realized one (docs/monitoring.md).\n\n"+
			"Prints the comparison and writes backtest.json, backtest.svg, backtest.png and\n"+
			"backtest.html under --out.\n\n"+exitCodesHelp)
	var cfgPath, model, policies, out, data string
	var start timeFlag
	var period, maxAge time.Duration
	var steps, trainDays, validDays int
	var drop, rise float64
	f.StringVar(&cfgPath, "config", "", "pipeline config file (required)")
	f.StringVar(&data, "data", "", "read this file, glob or directory instead of the config's data.path")
	f.StringVar(&model, "model", "", "which of the config's models to train (default: the first)")
	f.StringVar(&policies, "policies", strings.Join(backtest.Policies, ","), "policies to compare, comma-separated")
	f.Var(&start, "start", "when the first period starts, RFC 3339 (default: --train-days + --valid-days after the data's first day)")
	f.DurationVar(&period, "period", 7*24*time.Hour, "the simulated clock's step")
	f.IntVar(&steps, "steps", 0, "at most this many periods (0: until the data ends)")
	f.IntVar(&trainDays, "train-days", 42, "days of training data in a retrain's trailing window")
	f.IntVar(&validDays, "valid-days", 7, "days of validation data after them (early stopping, threshold, gate)")
	f.Float64Var(&drop, "performance-drop", 0.02, "performance policy: retrain when the last period's AUC is this far below the AUC of the first period the model served")
	f.Float64Var(&rise, "rmse-rise", 0.2, "performance policy of a regression: retrain when the last period's RMSE is this share above the RMSE of the first period the model served")
	f.DurationVar(&maxAge, "max-age", 0, "drift and estimated policies: retrain anyway once the production model has served this long (default the config's schedule.max_age; 0: no limit)")
	f.StringVar(&out, "out", filepath.Join("out", "simulate"), `output directory ("" to write nothing)`)
	f.addJSON()
	if err := f.parse(e, args); err != nil {
		return err
	}
	if f.NArg() > 0 {
		return usageError(fmt.Sprintf("unexpected argument %q", f.Arg(0)))
	}
	for _, p := range strings.Split(policies, ",") {
		if !slices.Contains(backtest.Policies, p) {
			return usageHint(fmt.Sprintf("--policies: unknown policy %q", p),
				hint(suggest.DidYouMean(p, backtest.Policies, nil), "want some of "+strings.Join(backtest.Policies, ", ")))
		}
	}
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		return err
	}
	if model != "" {
		// Checked here, before the data is loaded, to say so at once.
		if err := keepModels(cfg, model); err != nil {
			return err
		}
	}
	if maxAge < 0 {
		return usageError(fmt.Sprintf("--max-age %s: must be >= 0", maxAge))
	}
	if !f.changed("max-age") {
		maxAge = cfg.Schedule.MaxAge
	}
	if data != "" {
		cfg.Data.Path, cfg.Data.ConfigDir = data, "" // a flag's path is relative to the working directory
	}
	ds, err := ingest.Load(ctx, cfg.Data, cfg.Schema, nil)
	if err != nil {
		return err
	}
	defer ds.Release()
	opts := backtest.Options{
		Config: cfg, Model: model, Start: time.Time(start), Period: period, Steps: steps,
		TrainDays: trainDays, ValidDays: validDays, Policies: strings.Split(policies, ","),
		PerformanceDrop: drop, RMSERise: rise, MaxAge: maxAge, Thresholds: thresholds(cfg), Log: e.log,
	}
	e.log.Info("simulate start", "config", cfg.Path, "rows", ds.Table.NumRows())
	res, err := backtest.Run(ctx, ds.Table, opts)
	if err != nil {
		return err
	}
	if out != "" {
		if err := writeBacktest(out, res); err != nil {
			return err
		}
	}
	if cfg.Registry.Path != "" {
		// The dashboard shows the latest backtest of the registry:
		// REGISTRY/backtests/NAME/backtest.json.
		dir := filepath.Join(cfg.Registry.Path, ui.BacktestsDir, cfg.Name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := fsx.WriteJSON(filepath.Join(dir, "backtest.json"), res); err != nil {
			return err
		}
	}
	if f.jsonOut {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	if err := res.WriteTable(e.stdout); err != nil {
		return err
	}
	if out != "" {
		fmt.Fprintf(e.stdout, "wrote      %s/backtest.{json,svg,png,html}\n", out)
	}
	return nil
}

// writeBacktest saves the result, its chart and its HTML report.
func writeBacktest(dir string, res *backtest.Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write backtest: %w", err)
	}
	if err := fsx.WriteJSON(filepath.Join(dir, "backtest.json"), res); err != nil {
		return err
	}
	for _, format := range []string{"svg", "png"} {
		b, err := res.Chart(format)
		if err != nil {
			return err
		}
		if err := fsx.WriteFile(filepath.Join(dir, "backtest."+format), b, 0o644); err != nil {
			return err
		}
	}
	var page strings.Builder
	if err := res.HTML(&page); err != nil {
		return err
	}
	return fsx.WriteFile(filepath.Join(dir, "backtest.html"), []byte(page.String()), 0o644)
}
