package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/internal/progress"
	"github.com/mlpipe/mlpipe/score"
	"github.com/mlpipe/mlpipe/serve"
)

func runPredict(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "predict", "--model NAME@ALIAS|NAME@VERSION|DIR --data PATH --out FILE [flags]",
		"Score files in batch with a registered model (or a bundle directory) and write one file:\n"+
			"the kept columns, the probability (probability_CLASS per class for a multiclass model),\n"+
			"the label, the inputs that fell into the unknown bucket, the model's name and version,\n"+
			"and with --explain each row's base value and input contributions (docs/cli.md).\n"+
			"The numbers are mlserve's, bit for bit. The input is anything `mlpipe ingest` reads\n"+
			"(a file, a glob or a directory), read a chunk at a time, so memory does not grow\n"+
			"with it. Every row is checked as mlserve checks a request: a bad row stops the run\n"+
			"(exit 3, naming its file, row and column), or with --on-error skip is left out and\n"+
			"written with the reason to the rejects file.\n\n"+exitCodesHelp)
	var dir, cfgPath, ref, data, dataFormat, out, format, keep, onError, rejects string
	var explainRows bool
	var top int
	f.StringVar(&ref, "model", "", "the model: NAME@ALIAS or NAME@VERSION in the registry, or a bundle directory (required)")
	f.StringVar(&dir, "registry", "", "model registry directory (for NAME@...)")
	f.StringVar(&cfgPath, "config", "", "pipeline config whose registry.path is the registry (if --registry is not given)")
	f.StringVar(&data, "data", "", "the rows to score: a file, a glob or a directory (required)")
	f.StringVar(&dataFormat, "data-format", "auto", "format of the data: auto (by extension), parquet, arrow, arrows, csv or jsonl")
	f.StringVar(&out, "out", "", "the file to write (required); it appears only when the run succeeds")
	f.StringVar(&format, "format", "", "output format: parquet, csv or jsonl (default: by --out's extension, else parquet)")
	f.StringVar(&keep, "keep", "", "comma-separated input columns to copy to the output, first (for example an id)")
	f.BoolVar(&explainRows, "explain", false, "add each row's explanation: the base value and every input's contribution to the margin (log-odds) of the predicted class")
	f.IntVar(&top, "top", 0, "with --explain, write only the K largest contributions (top1_input, top1_contribution, ...)")
	f.StringVar(&onError, "on-error", "fail", "a bad row: fail (stop, exit 3) or skip (leave it out and write it to the rejects file)")
	f.StringVar(&rejects, "rejects", "", "the rejects file, JSON Lines (default OUT.rejects.jsonl)")
	f.addJSON()
	if err := f.parse(e, args); err != nil {
		return err
	}
	if f.NArg() > 0 {
		return usageError(fmt.Sprintf("unexpected argument %q", f.Arg(0)))
	}
	if ref == "" || data == "" || out == "" {
		return usageHint("--model, --data and --out are required", "for example --model flights-delay@production --data new.parquet --out scored.parquet")
	}
	if onError != "fail" && onError != "skip" {
		return usageHint(fmt.Sprintf("--on-error %q", onError), "want fail or skip")
	}
	if top != 0 && !explainRows {
		return usageHint("--top without --explain", "add --explain")
	}
	m, err := loadPredictModel(e, ref, dir, cfgPath)
	if err != nil {
		return err
	}
	opts := score.Options{Out: out, Format: format, Explain: explainRows, Top: top, Skip: onError == "skip", Rejects: rejects}
	if keep != "" {
		for _, k := range strings.Split(keep, ",") {
			opts.Keep = append(opts.Keep, strings.TrimSpace(k))
		}
	}
	if tty, ok := e.stderr.(*os.File); ok && progress.IsTerminal(tty) {
		line := progress.New(tty)
		defer line.Close()
		line.Start("predict")
		start := time.Now()
		opts.Progress = func(rows int64, read float64) {
			line.Set(progressBar(read, rows, time.Since(start)))
		}
	}
	start := time.Now()
	res, err := score.Run(ctx, m, ingest.Source{Path: data, Format: dataFormat}, opts)
	if errors.Is(err, score.ErrUsage) {
		return usageError(err.Error())
	}
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	e.log.Info("predict done", "model", m.Name, "version", m.Version, "rows", res.Rows, "scored", res.Scored,
		"rejected", res.Rejected, "seconds", elapsed.Seconds())
	if f.jsonOut {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{
			"model": m.Name, "version": m.Version, "rows": res.Rows, "scored": res.Scored, "rejected": res.Rejected,
			"unknown": res.Unknown, "out": res.Out, "rejects": res.Rejects, "columns": res.Columns, "seconds": elapsed.Seconds(),
		})
	}
	fmt.Fprintf(e.stdout, "model      %s\n", modelName(m))
	fmt.Fprintf(e.stdout, "scored     %s of %s rows in %.1fs (%s rows/s)\n", commas(res.Scored), commas(res.Rows), elapsed.Seconds(),
		commas(int64(float64(res.Scored)/max(elapsed.Seconds(), 1e-9))))
	if res.Unknown > 0 {
		verb := "have"
		if res.Unknown == 1 {
			verb = "has"
		}
		fmt.Fprintf(e.stdout, "unknown    %s %s an input the model never saw in training (column unknown)\n", plural(int(res.Unknown), "row"), verb)
	}
	if res.Rejected > 0 {
		fmt.Fprintf(e.stdout, "rejected   %s, written with the reason to %s\n", plural(int(res.Rejected), "row"), res.Rejects)
	}
	fmt.Fprintf(e.stdout, "wrote      %s (%s)\n", res.Out, strings.Join(res.Columns, ", "))
	return nil
}

// loadPredictModel loads the model that ref names: a bundle directory,
// or NAME@ALIAS / NAME@VERSION in the registry.
func loadPredictModel(e *env, ref, dir, cfgPath string) (*serve.Model, error) {
	if info, err := os.Stat(ref); err == nil && info.IsDir() {
		return serve.LoadModel(ref, 0)
	}
	store, err := openRegistry(e, dir, cfgPath)
	if err != nil {
		return nil, err
	}
	name, version, err := resolve(store, ref)
	if err != nil {
		return nil, err
	}
	vdir, err := store.VersionDir(name, version)
	if err != nil {
		return nil, err
	}
	return serve.LoadModel(vdir, version)
}

func modelName(m *serve.Model) string {
	if m.Version > 0 {
		return fmt.Sprintf("%s v%d (%s)", m.Name, m.Version, m.Bundle.Kind)
	}
	return fmt.Sprintf("%s (%s, %s)", m.Name, m.Bundle.Kind, m.Dir)
}

// progressBar draws the share read as a bar, with the rows written and
// their rate.
func progressBar(read float64, rows int64, elapsed time.Duration) string {
	const width = 24
	filled := int(read * width)
	bar := strings.Repeat("█", filled) + strings.Repeat("░", width-filled)
	return fmt.Sprintf("%s %3.0f%%  %s rows  %s rows/s", bar, 100*read, commas(rows), commas(int64(float64(rows)/max(elapsed.Seconds(), 1e-9))))
}
