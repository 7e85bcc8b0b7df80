package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/internal/numfmt"
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
			"written with the reason to the rejects file.\n\n"+
			"Files are read as the training data was when --config names the training config\n"+
			"(its data.format, delimiter, header, skip_rows, and each timestamp column's format\n"+
			"and timezone); the flags below override it.\n\n"+exitCodesHelp)
	var dir, cfgPath, ref, data, dataFormat, out, format, keep, onError, rejects string
	var explainRows bool
	var top int
	f.StringVar(&ref, "model", "", "the model: NAME@ALIAS or NAME@VERSION in the registry, or a bundle directory (required)")
	f.StringVar(&dir, "registry", "", "model registry directory (for NAME@...)")
	f.StringVar(&cfgPath, "config", "", "the training config: files are read as its data and schema say, and its registry.path is the registry (if --registry is not given)")
	f.StringVar(&data, "data", "", "the rows to score: a file, a glob or a directory (required)")
	f.StringVar(&dataFormat, "data-format", "auto", "format of the data: auto (by extension), "+strings.Join(ingest.Formats, ", ")+
		" (CSV, TSV, JSON Lines and JSON may be gzip- or zstd-compressed)")
	var delimiter, sheet string
	var skipRows int
	var header bool
	timeFormats, timezones := map[string]string{}, map[string]string{}
	f.StringVar(&delimiter, "delimiter", "", `CSV field delimiter: one byte such as ";" or "|", or "tab" (default "," and a tab for TSV)`)
	f.BoolVar(&header, "header", true, "the first CSV line (after --skip-rows) names the columns; with --header=false the fields are the training data's columns, in order")
	f.IntVar(&skipRows, "skip-rows", 0, "lines at the top of a CSV file before the header (or the first row)")
	f.StringVar(&sheet, "sheet", "", "the worksheet of an Excel workbook (default: its first)")
	f.Func("time-format", "how a timestamp column is written in text files, as COL=FORMAT: a strftime pattern such as date=%d/%m/%Y %H:%M, or epoch_s or epoch_ms (default ISO 8601; repeat for more columns)",
		keyValue("time-format", timeFormats))
	f.Func("timezone", "the IANA time zone of a timestamp column, as COL=ZONE (date=Europe/Paris; docs/config.md, schema.columns[].timezone; repeat for more columns)",
		keyValue("timezone", timezones))
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
	src := ingest.Source{Path: data, Format: dataFormat}
	var columns []ingest.ColumnSpec
	if cfgPath != "" {
		// Read new files as the training data was read.
		cfg, err := loadConfig(cfgPath)
		if err != nil {
			return err
		}
		if !f.changed("data-format") && cfg.Data.Format != "" {
			src.Format = cfg.Data.Format
		}
		src.Delimiter, src.Header, src.SkipRows = cfg.Data.Delimiter, cfg.Data.Header, cfg.Data.SkipRows
		if ingest.Workbook(src) { // the training data's worksheet, if these are workbooks too
			src.Sheet = cfg.Data.Sheet
		}
		columns = slices.Clone(cfg.Schema.Columns)
	}
	if f.changed("delimiter") {
		src.Delimiter = delimiter
	}
	if f.changed("header") {
		src.Header = &header
	}
	if f.changed("skip-rows") {
		src.SkipRows = skipRows
	}
	if f.changed("sheet") {
		src.Sheet = sheet
	}
	switch wb := ingest.Workbook(src); {
	case src.Sheet != "" && !wb:
		return usageHint("--sheet applies to an Excel workbook", "name it .xlsx, or give --data-format xlsx")
	case src.Delimiter != "" && wb && f.changed("delimiter"):
		return usageError("--delimiter does not apply to an Excel workbook")
	}
	if src.Format != "auto" && !slices.Contains(ingest.Formats, src.Format) {
		return usageHint(fmt.Sprintf("--data-format %q", src.Format), "want auto, "+strings.Join(ingest.Formats, ", "))
	}
	if _, err := ingest.Delimiter(src.Delimiter); err != nil {
		return usageError("--delimiter: " + err.Error())
	}
	if src.SkipRows < 0 {
		return usageError(fmt.Sprintf("--skip-rows %d: want 0 or more", src.SkipRows))
	}
	m, err := loadPredictModel(e, ref, dir, cfgPath)
	if err != nil {
		return err
	}
	if columns == nil && len(timeFormats)+len(timezones) > 0 {
		columns = score.TrainingColumns(m)
	}
	for _, kv := range []struct {
		values map[string]string
		set    func(*ingest.ColumnSpec, string)
	}{
		{timeFormats, func(c *ingest.ColumnSpec, v string) { c.Format = v }},
		{timezones, func(c *ingest.ColumnSpec, v string) { c.Timezone = v }},
	} {
		for col, v := range kv.values {
			k := slices.IndexFunc(columns, func(c ingest.ColumnSpec) bool { return c.Name == col })
			if k < 0 {
				return usageHint(fmt.Sprintf("column %q: no such column in the training data", col), "name a timestamp column of the model's inputs")
			}
			kv.set(&columns[k], v)
		}
	}
	for _, c := range columns {
		if err := ingest.CheckTimeFormat(c.Format, c.Timezone); err != nil {
			return usageError(fmt.Sprintf("column %q: %v", c.Name, err))
		}
	}
	opts := score.Options{Out: out, Format: format, Explain: explainRows, Top: top, Skip: onError == "skip", Rejects: rejects, Columns: columns}
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
	res, err := score.Run(ctx, m, src, opts)
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
	fmt.Fprintf(e.stdout, "scored     %s of %s rows in %.1fs (%s rows/s)\n", numfmt.Thousands(res.Scored), numfmt.Thousands(res.Rows), elapsed.Seconds(),
		numfmt.Thousands(int64(float64(res.Scored)/max(elapsed.Seconds(), 1e-9))))
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
// or NAME@ALIAS / NAME@VERSION in the registry. The serving explainer is
// not built: package score builds its own when --explain asks.
func loadPredictModel(e *env, ref, dir, cfgPath string) (*serve.Model, error) {
	lazy := serve.LoadOptions{LazyExplainer: true}
	if info, err := os.Stat(ref); err == nil && info.IsDir() {
		return serve.LoadModelWith(ref, 0, lazy)
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
	return serve.LoadModelWith(vdir, version, lazy)
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
	return fmt.Sprintf("%s %3.0f%%  %s rows  %s rows/s", bar, 100*read, numfmt.Thousands(rows), numfmt.Thousands(int64(float64(rows)/max(elapsed.Seconds(), 1e-9))))
}

// keyValue parses a repeatable COL=VALUE flag into values.
func keyValue(name string, values map[string]string) func(string) error {
	return func(s string) error {
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" || v == "" {
			return fmt.Errorf("want COL=VALUE, got %q", s)
		}
		if _, dup := values[k]; dup {
			return fmt.Errorf("column %q given twice", k)
		}
		values[k] = v
		return nil
	}
}
