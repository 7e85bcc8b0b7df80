package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/internal/fsx"
	"github.com/mlpipe/mlpipe/pipeline"
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
		"Run the whole pipeline on a config's data and print a summary. Today the stages are\n"+
			"load → validate → profile → split; features, training, evaluation and the registry\n"+
			"are being built (see docs/architecture.md).\n\n"+
			exitCodesHelp)
	return runStages(ctx, e, f, args, "run", pipeline.AllStages)
}

// runStages is the body of `mlpipe ingest` and `mlpipe run`.
func runStages(ctx context.Context, e *env, f *flags, args []string, name string, stages func(*ingest.Options) []pipeline.Stage) error {
	var cfgPath, out, data string
	var parallelism int
	f.StringVar(&cfgPath, "config", "", "pipeline config file (required), e.g. configs/flights.yaml")
	f.StringVar(&out, "out", filepath.Join("out", name), "directory for summary.json, validation.json and profile.json (\"\" to write nothing)")
	f.StringVar(&data, "data", "", "read this file, glob or directory instead of the config's data.path")
	f.IntVar(&parallelism, "parallelism", 0, "files, row groups or columns processed at once (0: one per CPU)")
	f.addJSON()
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
	if data != "" {
		cfg.Data.Path = data
	}
	e.log.Info(name+" start", "config", cfg.Path, "source", cfg.Data.Path)
	state := &pipeline.State{Config: cfg}
	defer state.Release()
	runner := &pipeline.Runner{Stages: stages(&ingest.Options{Parallelism: parallelism}), Log: e.log}
	results, runErr := runner.Run(ctx, state)

	sum := pipeline.Summarize(state, results)
	switch {
	case runErr == nil:
		sum.Status = "ok"
	case errors.Is(runErr, context.Canceled):
		sum.Status = "cancelled"
	case errors.Is(runErr, ingest.ErrInvalid):
		sum.Status = "invalid"
	default:
		sum.Status = "failed"
	}
	if runErr != nil {
		sum.Error = runErr.Error()
	}
	if out != "" && !errors.Is(runErr, context.Canceled) {
		if err := writeOutputs(out, sum); err != nil {
			return err
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
	if runErr != nil && sum.Validation != nil && !sum.Validation.OK() {
		// The issues are in the summary just printed; main adds nothing.
		return &reportedErr{runErr}
	}
	return runErr
}

// writeOutputs saves the summary and its two large parts as JSON files,
// each written atomically.
func writeOutputs(dir string, sum *pipeline.Summary) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write outputs: %w", err)
	}
	sum.Outputs = map[string]string{"summary": filepath.Join(dir, "summary.json")}
	if sum.Validation != nil {
		p := filepath.Join(dir, "validation.json")
		if err := fsx.WriteJSON(p, sum.Validation); err != nil {
			return err
		}
		sum.Outputs["validation"] = p
	}
	if sum.Profile != nil {
		p := filepath.Join(dir, "profile.json")
		if err := fsx.WriteJSON(p, sum.Profile); err != nil {
			return err
		}
		sum.Outputs["profile"] = p
	}
	return fsx.WriteJSON(sum.Outputs["summary"], sum)
}

// printSummary writes the human-readable summary: a line or a block per
// section, names in the left column.
func printSummary(w io.Writer, s *pipeline.Summary) {
	line := func(name, format string, args ...any) {
		fmt.Fprintln(w, strings.TrimRight(fmt.Sprintf("%-10s %s", name, fmt.Sprintf(format, args...)), " "))
	}
	line("config", "%s", s.Config)
	if len(s.Files) > 0 {
		formats := map[string]bool{}
		for _, p := range s.Files {
			formats[p.Format] = true
		}
		line("data", "%s: %s (%s), %s rows, %d columns", s.Source, plural(len(s.Files), "file"), strings.Join(keys(formats), ", "), commas(s.Rows), s.Columns)
	}
	if s.Fingerprint != "" {
		line("", "fingerprint %s", s.Fingerprint)
	}
	if v := s.Validation; v != nil {
		warnings := len(v.Issues) - v.Errors
		status := "ok"
		if !v.OK() {
			status = "FAILED"
		}
		line("validate", "%s: %s, %s", status, plural(v.Errors, "error"), plural(warnings, "warning"))
		for _, is := range v.Issues {
			line("", "%-7s  %s", is.Severity, is)
		}
	}
	if p := s.Profile; p != nil {
		line("profile", "")
		printProfile(w, p)
	}
	if len(s.Splits) > 0 {
		line("split", "")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, sp := range s.Splits {
			rng, rate := "", ""
			if sp.From != "" {
				rng = sp.From + " .. " + sp.To
			}
			if sp.PositiveRate != nil {
				rate = fmt.Sprintf("%s %.1f%%", s.Label, 100**sp.PositiveRate)
			} else if len(sp.Classes) > 0 {
				var parts []string
				for _, c := range keysF(sp.Classes) {
					parts = append(parts, fmt.Sprintf("%s %.1f%%", c, 100*sp.Classes[c]))
				}
				rate = strings.Join(parts, ", ")
			}
			fmt.Fprintf(tw, "  %s\t%s rows\t%s\t%s\n", sp.Name, commas(sp.Rows), rng, rate)
		}
		tw.Flush()
	}
	var times []string
	for _, st := range s.Stages {
		times = append(times, fmt.Sprintf("%s %.2fs", st.Name, st.Duration.Seconds()))
	}
	line("stages", "%s", strings.Join(times, ", "))
	if len(s.Outputs) > 0 {
		var paths []string
		for _, k := range []string{"summary", "validation", "profile"} {
			if p, ok := s.Outputs[k]; ok {
				paths = append(paths, p)
			}
		}
		line("wrote", "%s", strings.Join(paths, ", "))
	}
	if s.Status != "ok" {
		line("status", "%s", s.Status)
	}
}

// printProfile prints one line per column: numeric columns with their
// range, median, mean and standard deviation; categorical ones with
// their top categories.
func printProfile(w io.Writer, p *ingest.Profile) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  column\ttype\tnulls\tmin\tmedian\tmax\tmean\tstd\n")
	for _, c := range p.Columns {
		switch {
		case c.Numeric != nil && c.Numeric.MinTime != "":
			n := c.Numeric
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t\t\n", c.Name, c.Type, commas(c.Nulls), n.MinTime, medianTime(n), n.MaxTime)
		case c.Numeric != nil:
			n := c.Numeric
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%.2f\t%.2f\n", c.Name, c.Type, commas(c.Nulls), num(n.Min), num(median(n)), num(n.Max), n.Mean, n.Std)
		case c.Categorical != nil:
			cat := c.Categorical
			var top []string
			for i, f := range cat.Top {
				if i == 3 {
					break
				}
				top = append(top, fmt.Sprintf("%s %.1f%%", f.Value, 100*f.Share))
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s distinct; top: %s\n", c.Name, c.Type, commas(c.Nulls), commas(cat.Distinct), strings.Join(top, ", "))
		}
	}
	tw.Flush()
}

func median(n *ingest.NumericProfile) float64 {
	for _, q := range n.Quantiles {
		if q.P == 0.5 {
			return q.Value
		}
	}
	return 0
}

func medianTime(n *ingest.NumericProfile) string {
	return time.Unix(int64(median(n)), 0).UTC().Format("2006-01-02T15:04:05")
}

func num(x float64) string {
	if x == float64(int64(x)) {
		return commas(int64(x))
	}
	return fmt.Sprintf("%.4g", x)
}

// commas formats n with thousands separators: 3,000,000.
func commas(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%s %ss", commas(int64(n)), word)
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sortStrings(out)
	return out
}

func keysF(m map[string]float64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sortStrings(out)
	return out
}
