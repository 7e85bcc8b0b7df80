package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mlpipe/mlpipe/draft"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/internal/fsx"
	"github.com/mlpipe/mlpipe/internal/progress"
)

func runInit(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "init", "--data PATH --label COLUMN [--out FILE] [flags]",
		"Draft a pipeline config for a data file: the schema (each column's type, from the\n"+
			"file's own types or from the values of its first rows), the label and its kind, a\n"+
			"split (by time when there is a timestamp column, else at random), the features\n"+
			"(numeric, categorical, time parts; columns that cannot help left out, with the\n"+
			"reason) and the models. Every choice the data made has a comment. Check it, then\n"+
			"`mlpipe ingest --config FILE` checks every row and `mlpipe run --config FILE` trains.\n"+
			"The data is anything `mlpipe ingest` reads; a CSV delimiter is guessed from the\n"+
			"header line unless --delimiter gives it (docs/cli.md).\n\n"+exitCodesHelp)
	var data, dataFormat, label, kind, out, delimiter, sheet string
	var rows, skipRows int
	var header, force bool
	f.StringVar(&data, "data", "", "the data: a file, a glob or a directory (required)")
	f.StringVar(&dataFormat, "data-format", "auto", "format of the data: auto (by extension), "+strings.Join(ingest.Formats, ", "))
	f.StringVar(&label, "label", "", "the column to predict (required)")
	f.StringVar(&kind, "kind", "", "the label's kind: binary, multiclass or regression (default: from its values)")
	f.StringVar(&out, "out", "", "write the config to this file (default: standard output); data.path is written relative to it")
	f.BoolVar(&force, "force", false, "with --out, replace a file that exists")
	f.IntVar(&rows, "rows", draft.DefaultRows, "how many of the first rows the types and roles are inferred from")
	f.StringVar(&delimiter, "delimiter", "", `CSV field delimiter: one byte such as ";" or "|", or "tab" (default: guessed from the header line)`)
	f.BoolVar(&header, "header", true, "the first CSV line (after --skip-rows) names the columns; with --header=false they are named column_1, column_2, ...")
	f.IntVar(&skipRows, "skip-rows", 0, "lines at the top of a CSV file before the header (or the first row)")
	f.StringVar(&sheet, "sheet", "", "the worksheet of an Excel workbook (default: its first)")
	if err := f.parse(e, args); err != nil {
		return err
	}
	switch {
	case f.NArg() > 0:
		return usageHint(fmt.Sprintf("unexpected argument %q", f.Arg(0)), "the data goes in --data")
	case data == "":
		return usageHint("--data is required", "see mlpipe init --help")
	case label == "":
		return usageHint("--label is required: the column to predict", "see mlpipe init --help")
	case rows < 1:
		return usageError(fmt.Sprintf("--rows %d: want 1 or more", rows))
	case skipRows < 0:
		return usageError(fmt.Sprintf("--skip-rows %d: want 0 or more", skipRows))
	case dataFormat != "auto" && !slices.Contains(ingest.Formats, dataFormat):
		return usageHint(fmt.Sprintf("--data-format %q", dataFormat), "want auto, "+strings.Join(ingest.Formats, ", "))
	}
	if _, err := ingest.Delimiter(delimiter); err != nil {
		return usageError("--delimiter: " + err.Error())
	}
	if out != "" && !force {
		if _, err := os.Stat(out); err == nil {
			return usageHint(fmt.Sprintf("--out %s exists", out), "--force replaces it")
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	src := ingest.Source{Path: data, Format: dataFormat, Delimiter: delimiter, SkipRows: skipRows, Sheet: sheet}
	if sheet != "" && !ingest.Workbook(src) {
		return usageHint("--sheet applies to an Excel workbook", "name it .xlsx, or give --data-format xlsx")
	}
	if !header {
		src.Header = &header
	}
	opt := draft.Options{Label: label, Kind: kind, Rows: rows, Path: data}
	if out != "" {
		rel, err := relativeTo(filepath.Dir(out), data)
		if err != nil {
			return err
		}
		opt.Path = rel
	}
	if tty, ok := e.stderr.(*os.File); ok && progress.IsTerminal(tty) {
		line := progress.New(tty)
		defer line.Close()
		line.Start("init")
		opt.Progress = func(done float64) { line.Set(fmt.Sprintf("reading the time column: %.0f%%", 100*done)) }
	}
	b, err := draft.Write(ctx, src, opt)
	if err != nil {
		return err
	}
	if out == "" {
		_, err := e.stdout.Write(b)
		return err
	}
	if err := fsx.WriteFile(out, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	fmt.Fprintf(e.stdout, "wrote %s\nnext: mlpipe ingest --config %s   (checks every row against the schema)\n      mlpipe run --config %s\n", out, out, out)
	return nil
}

// relativeTo is path relative to dir, as config.Load resolves a
// config's relative paths against its directory. A URL stays as it is.
func relativeTo(dir, path string) (string, error) {
	if strings.Contains(path, "://") || filepath.IsAbs(path) {
		return path, nil
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	absPath, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(absDir, absPath)
	if err != nil {
		return absPath, nil
	}
	return rel, nil
}
