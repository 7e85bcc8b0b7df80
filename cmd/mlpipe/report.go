package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/mlpipe/mlpipe/internal/fsx"
	"github.com/mlpipe/mlpipe/report"
)

// runReport is `mlpipe report RUN_ID`: it writes the run's HTML report
// (package report) from the run record and the bundle of the version the
// run registered, and prints its path.
func runReport(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "report", "RUN_ID [--registry DIR | --config FILE] [flags]",
		"Write the HTML report of a run recorded by `mlpipe run`: data and validation, profile,\n"+
			"leaderboard, test metrics and curves, confusion matrix, slices, feature importance,\n"+
			"the gate's decision, stage timings and lineage. One self-contained file (no scripts,\n"+
			"no network). It goes to REGISTRY/runs/RUN_ID/report.html unless --out says otherwise;\n"+
			"the path is printed.\n\n"+exitCodesHelp)
	var dir, cfgPath, out string
	var open bool
	f.addRegistry(&dir, &cfgPath)
	f.StringVar(&out, "out", "", "write the report to this file instead of the run's directory")
	f.BoolVar(&open, "open", false, "open the report with xdg-open, if installed")
	f.addJSON()
	// Flags may come before or after the run id.
	var ids []string
	for {
		if err := f.parse(e, args); err != nil {
			return err
		}
		if f.NArg() == 0 {
			break
		}
		ids = append(ids, f.Arg(0))
		args = f.Args()[1:]
	}
	if len(ids) != 1 {
		return usageHint(fmt.Sprintf("want one run id, got %d", len(ids)), "mlpipe runs list lists them")
	}
	store, err := openRegistry(e, dir, cfgPath)
	if err != nil {
		return err
	}
	id := ids[0]
	if _, err := runDir(store, id); err != nil {
		return err
	}
	sum, b, err := report.Read(store, id)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := report.Write(&buf, sum, b); err != nil {
		return err
	}
	path := out
	if path == "" {
		runDir, err := store.RunDir(id)
		if err != nil {
			return err
		}
		path = filepath.Join(runDir, report.File)
		// The run's directory is the registry's: write under its lock.
		lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		unlock, err := store.Lock(lctx, true)
		if err != nil {
			return err
		}
		defer unlock()
	}
	if err := fsx.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return err
	}
	if open {
		// Said on stderr as an error line is, but the report is written:
		// the command succeeds.
		xdg, err := exec.LookPath("xdg-open")
		if err == nil {
			cmd := exec.Command(xdg, path)
			if err = cmd.Start(); err == nil {
				go cmd.Wait() // reap it; xdg-open hands the file to a viewer and exits
			}
		}
		if errors.Is(err, exec.ErrNotFound) {
			fmt.Fprintf(e.stderr, "mlpipe report: --open: xdg-open is not installed (open %s in a browser)\n", path)
		} else if err != nil {
			fmt.Fprintf(e.stderr, "mlpipe report: --open: %v (open %s in a browser)\n", err, path)
		}
	}
	if f.jsonOut {
		return writeJSON(e, map[string]any{"run_id": id, "path": path, "bytes": buf.Len()})
	}
	fmt.Fprintln(e.stdout, path)
	return nil
}
