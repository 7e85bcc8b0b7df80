package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mlpipe/mlpipe/evaluate"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/internal/numfmt"
	"github.com/mlpipe/mlpipe/pipeline"
	"github.com/mlpipe/mlpipe/train"
)

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
		line("data", "%s: %s (%s), %s rows, %d columns", s.Source, plural(len(s.Files), "file"), strings.Join(sortedKeys(formats), ", "), numfmt.Thousands(s.Rows), s.Columns)
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
		dropped := ""
		if v.Dropped > 0 {
			dropped = fmt.Sprintf(", %s rows dropped without a label", numfmt.Thousands(v.Dropped))
		}
		line("validate", "%s: %s, %s%s", status, plural(v.Errors, "error"), plural(warnings, "warning"), dropped)
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
			if sp.GroupedBy != "" {
				rng = fmt.Sprintf("%s values of %s", numfmt.Thousands(sp.Groups), sp.GroupedBy)
			}
			if sp.MeanTarget != nil {
				rate = fmt.Sprintf("%s mean %.4g, sd %.4g", s.Label, *sp.MeanTarget, *sp.StdTarget)
			} else if sp.PositiveRate != nil {
				rate = fmt.Sprintf("%s %.1f%%", s.Label, 100**sp.PositiveRate)
			} else if len(sp.Classes) > 0 {
				var parts []string
				for _, c := range sortedKeys(sp.Classes) {
					parts = append(parts, fmt.Sprintf("%s %.1f%%", c, 100*sp.Classes[c]))
				}
				rate = strings.Join(parts, ", ")
			}
			fmt.Fprintf(tw, "  %s\t%s rows\t%s\t%s\n", sp.Name, numfmt.Thousands(sp.Rows), rng, rate)
		}
		tw.Flush()
	}
	if len(s.Leaderboard) > 0 {
		line("models", "%s", selectionLine(s.Selection))
		printLeaderboard(w, s.Leaderboard)
	}
	if m := s.Model; m != nil && m.Task == "regression" {
		line("selected", "%s, %d features, predicts %s", m.Kind, m.Features, s.Label)
	} else if m != nil && m.Classes == 2 {
		line("selected", "%s, %d features, threshold %.4f (chosen on validation)", m.Kind, m.Features, m.Threshold)
	} else if m != nil {
		line("selected", "%s, %d features, %d classes", m.Kind, m.Features, m.Classes)
	}
	if m := s.Model; m != nil && len(m.ClassWeights) > 0 {
		var parts []string
		for _, c := range sortedKeys(m.ClassWeights) {
			name := c
			if m.Classes == 2 { // classes 0 and 1: say which is which
				name = map[string]string{"0": "negative (0)", "1": "positive (1)"}[c]
			}
			parts = append(parts, fmt.Sprintf("%s %.4g", name, m.ClassWeights[c]))
		}
		line("", "class weights: %s", strings.Join(parts, ", "))
	}
	if m := s.Model; m != nil && m.Importance != nil {
		line("", "%s", importanceLine(m.Importance))
	}
	if r := s.Evaluation; r != nil {
		printEvaluation(w, r)
		printExplanations(w, r.Explanations)
	}
	if g := s.Gate; g != nil {
		verdict := "kept production"
		switch {
		case g.Promote && s.Registry != nil && s.Registry.Promoted:
			verdict = "promoted to production"
		case g.Promote:
			verdict = "passed, NOT promoted (see registry)"
		case g.Rejected:
			verdict = "REJECTED"
		}
		prod := "none"
		switch {
		case g.Production != nil:
			prod = fmt.Sprintf("v%d %.4f", g.ProductionVersion, *g.Production)
		case g.ProductionVersion > 0:
			prod = fmt.Sprintf("v%d", g.ProductionVersion)
		}
		line("gate", "%s: candidate %s %.4f vs production %s — %s", verdict, g.Metric, g.Candidate, prod, g.Reason)
		line("registry", "%s", registryLine(s))
	}
	var times []string
	var reruns []string
	for _, st := range s.Stages {
		t := fmt.Sprintf("%s %.2fs", st.Name, st.Duration.Seconds())
		if st.PeakRSS > 0 {
			t += " " + megabytes(st.PeakRSS)
		}
		switch st.Cache {
		case pipeline.CacheHit:
			t += " (cached)"
		case pipeline.CacheMiss, pipeline.CacheOff:
			reruns = append(reruns, st.Name+": "+st.Reason)
		}
		times = append(times, t)
	}
	line("stages", "%s", strings.Join(times, ", "))
	if s.PeakRSS > 0 {
		line("memory", "peak resident %s%s", megabytes(s.PeakRSS), peakStage(s.Stages))
	}
	if len(reruns) > 0 {
		line("cache", "ran %s", strings.Join(reruns, "; "))
	}
	if len(s.Outputs) > 0 {
		var paths []string
		for _, k := range []string{"summary", "validation", "profile", "model", "evaluation", "plots"} {
			if p, ok := s.Outputs[k]; ok {
				paths = append(paths, p)
			}
		}
		line("wrote", "%s", strings.Join(paths, ", "))
	}
	if s.Report != "" {
		line("report", "%s", s.Report)
	}
	if s.Dashboard != "" {
		line("dashboard", "%s", s.Dashboard)
	}
	if s.Serve != "" {
		line("serve", "%s", s.Serve)
	}
	if s.Status != "ok" {
		line("status", "%s", s.Status)
	}
}

// registryLine says what a run did to the registry, from its record's
// RegistryOutcome, whatever point the run stopped at.
func registryLine(s *pipeline.Summary) string {
	o := s.Registry
	if o == nil {
		if s.Status == pipeline.StatusRunning {
			return "nothing yet (the run is still running)"
		}
		return "unchanged: the run stopped before its register stage"
	}
	short := func(d string) string {
		if len(d) > 19 {
			return d[:19] + "…"
		}
		return d
	}
	var b strings.Builder
	switch {
	case o.Existing:
		fmt.Fprintf(&b, "unchanged: the candidate is version %d", o.Version)
		if o.Digest != "" {
			fmt.Fprintf(&b, " (identical bytes, %s)", short(o.Digest))
		}
	case o.Registered:
		fmt.Fprintf(&b, "registered as version %d (%s)", o.Version, short(o.Digest))
	case o.Pending == pipeline.PendingRegister:
		b.WriteString("the run stopped while registering its model: `mlpipe registry check` tells whether it did")
	default:
		b.WriteString("nothing registered")
	}
	switch {
	case o.Promoted && o.Previous > 0:
		fmt.Fprintf(&b, "; production v%d → v%d", o.Previous, o.Version)
	case o.Promoted:
		fmt.Fprintf(&b, "; production is v%d", o.Version)
	case o.Pending == pipeline.PendingPromote:
		fmt.Fprintf(&b, "; the run stopped while promoting it: `mlpipe registry check` tells whether it did")
	case o.Version > 0:
		b.WriteString("; production unchanged")
	}
	if o.Error != "" {
		fmt.Fprintf(&b, " — FAILED: %s", o.Error)
	}
	if o.Recovered != "" {
		fmt.Fprintf(&b, " (%s)", o.Recovered)
	}
	return b.String()
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
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", c.Name, c.Type, numfmt.Thousands(c.Nulls), n.MinTime, medianTime(n), n.MaxTime)
		case c.Numeric != nil:
			n := c.Numeric
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Name, c.Type, numfmt.Thousands(c.Nulls), num(n.Min), num(median(n)), num(n.Max), fixed2(n.Mean), fixed2(n.Std))
		case c.Categorical != nil:
			cat := c.Categorical
			var top []string
			for i, f := range cat.Top {
				if i == 3 {
					break
				}
				top = append(top, fmt.Sprintf("%s %.1f%%", f.Value, 100*f.Share))
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s distinct; top: %s\n", c.Name, c.Type, numfmt.Thousands(c.Nulls), numfmt.Thousands(cat.Distinct), strings.Join(top, ", "))
		}
	}
	tw.Flush()
}

// importanceMax is the most inputs the summary's importance line names.
const importanceMax = 6

// importanceLine is the model's importance by input, largest first:
// "gain by input: distance 41%, origin 22%, ... (3 more)".
func importanceLine(im *train.Importance) string {
	what := "gain"
	if im.Kind == train.ImportanceCoefficient {
		what = "standardised coefficients"
	}
	var parts []string
	for i, c := range im.Inputs {
		if i == importanceMax {
			parts = append(parts, fmt.Sprintf("(%d more)", len(im.Inputs)-i))
			break
		}
		parts = append(parts, fmt.Sprintf("%s %.0f%%", c.Input, 100*c.Share))
	}
	return what + " by input: " + strings.Join(parts, ", ")
}

// selectionLine says how the candidates were ranked: on validation or
// by cross-validation, and how many random-search trials the time
// budget skipped.
func selectionLine(sel *pipeline.SelectionSummary) string {
	if sel == nil {
		return ""
	}
	how := "ranked on the validation split"
	if sel.Folds > 0 {
		how = fmt.Sprintf("ranked by %d-fold cross-validation on the training split (mean ± sd), the best refitted on all of it", sel.Folds)
		if sel.GroupedBy != "" {
			how = fmt.Sprintf("ranked by %d-fold cross-validation on the training split, each %s's rows in one fold (mean ± sd), the best refitted on all of it", sel.Folds, sel.GroupedBy)
		}
	}
	if sel.Skipped > 0 {
		how += fmt.Sprintf("; %s skipped: the time budget ran out", plural(sel.Skipped, "random-search trial"))
	}
	return how
}

// printLeaderboard prints one line per candidate: its cross-validated
// score (mean ± sd) when selection cross-validated, its validation
// score, fit time and peak heap, the selected one marked with '*'.
func printLeaderboard(w io.Writer, rows []map[string]any) {
	cv := false
	for _, r := range rows {
		if _, ok := r["cv_mean"]; ok {
			cv = true
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if cv {
		fmt.Fprintf(tw, "    model\tcv\tvalid\tfit\theap\tparams\n")
	} else {
		fmt.Fprintf(tw, "    model\tvalid\tfit\theap\tparams\n")
	}
	for _, r := range rows {
		mark := " "
		if b, _ := r["best"].(bool); b {
			mark = "*"
		}
		name := fmt.Sprint(r["model"])
		if t, ok := r["trial"].(int); ok {
			name += fmt.Sprintf(" #%d", t)
		} else if t, ok := r["trial"].(float64); ok {
			name += fmt.Sprintf(" #%d", int(t))
		}
		score := ""
		if v, ok := r["valid"].(float64); ok {
			score = fmt.Sprintf("%s %.4f", r["metric"], v)
		}
		if e, ok := r["error"]; ok {
			score = fmt.Sprint(e)
		}
		if cv {
			cvs := ""
			if m, ok := r["cv_mean"].(float64); ok {
				cvs = fmt.Sprintf("%s %.4f ± %.4f", r["metric"], m, r["cv_sd"])
			}
			if score == "" {
				score = "-"
			}
			score = cvs + "\t" + score
		}
		params, _ := json.Marshal(r["params"])
		note := ""
		if n, ok := r["note"].(string); ok {
			note = "  (" + n + ")"
		}
		fmt.Fprintf(tw, "  %s %s\t%s\t%.1fs\t%.0f MB\t%s%s\n", mark, name, score, r["fit_seconds"], r["peak_heap_mb"], params, note)
	}
	tw.Flush()
}

// printEvaluation prints the test-split metrics.
func printEvaluation(w io.Writer, r *evaluate.Report) {
	if m := r.RegressionMetrics; m != nil {
		printRegression(w, r.Rows, m)
		return
	}
	if b := r.BinaryMetrics; b != nil {
		fmt.Fprintf(w, "%-10s %s rows, %.1f%% positive\n", "test", numfmt.Thousands(int64(r.Rows)), 100*b.PositiveRate)
		fmt.Fprintf(w, "  roc_auc %.4f  pr_auc %.4f  log_loss %.4f  brier %.4f  ece %.4f\n", b.ROCAUC, b.PRAUC, r.LogLoss, b.Brier, b.ECE)
		fmt.Fprintf(w, "  at threshold %.4f (%s on %s): accuracy %.4f  precision %.4f  recall %.4f  f1 %.4f\n",
			b.Threshold.Value, b.Threshold.Method, b.Threshold.ChosenOn, r.Accuracy, b.Precision, b.Recall, b.F1)
		c := b.Confusion
		fmt.Fprintf(w, "  confusion: TP %s  FP %s  FN %s  TN %s\n", numfmt.Thousands(int64(c.TP)), numfmt.Thousands(int64(c.FP)), numfmt.Thousands(int64(c.FN)), numfmt.Thousands(int64(c.TN)))
		if sl := b.Slices; sl != nil && len(sl.Worst) > 0 {
			var worst []string
			for _, m := range sl.Worst {
				if m.ROCAUC != nil {
					worst = append(worst, fmt.Sprintf("%s %.3f", m.Key, *m.ROCAUC))
				}
			}
			fmt.Fprintf(w, "  worst slices by roc_auc: %s\n", strings.Join(worst, ", "))
		}
		return
	}
	if m := r.MulticlassMetrics; m != nil {
		fmt.Fprintf(w, "%-10s %s rows, %d classes\n", "test", numfmt.Thousands(int64(r.Rows)), m.Classes)
		fmt.Fprintf(w, "  accuracy %.4f  macro_f1 %.4f  weighted_f1 %.4f  log_loss %.4f\n", r.Accuracy, m.MacroF1, m.WeightedF1, r.LogLoss)
	}
}

// printRegression prints a regression's test metrics beside its
// baselines, and its worst slices.
func printRegression(w io.Writer, rows int, m *evaluate.RegressionMetrics) {
	fmt.Fprintf(w, "%-10s %s rows, mean target %.4g\n", "test", numfmt.Thousands(int64(rows)), m.MeanTarget)
	mape := m.MAPENote
	if m.MAPE != nil {
		mape = fmt.Sprintf("%.4f", *m.MAPE)
	}
	fmt.Fprintf(w, "  %-16s rmse %.4g  mae %.4g  r2 %.4f  median_ae %.4g  mape %s\n", "model", m.RMSE, m.MAE, m.R2, m.MedianAE, mape)
	for _, b := range m.Baselines {
		fmt.Fprintf(w, "  %-16s rmse %.4g  mae %.4g  r2 %.4f  median_ae %.4g  (predicts %.4g)\n", b.Name, b.RMSE, b.MAE, b.R2, b.MedianAE, b.Value)
	}
	if sl := m.SliceErrors; sl != nil && len(sl.WorstRMSE) > 0 {
		var worst []string
		for _, s := range sl.WorstRMSE {
			worst = append(worst, fmt.Sprintf("%s %.4g", s.Key, s.RMSE))
		}
		fmt.Fprintf(w, "  worst slices by rmse: %s\n", strings.Join(worst, ", "))
	}
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
		return numfmt.Thousands(int64(x))
	}
	return fmt.Sprintf("%.4g", x)
}

// fixed2 formats a mean or a standard deviation with two decimals, or,
// from 1e15 on, with four significant digits: two decimals of 1e308
// print all 309 of its digits.
func fixed2(x float64) string {
	if math.Abs(x) >= 1e15 {
		return fmt.Sprintf("%.4g", x)
	}
	return fmt.Sprintf("%.2f", x)
}

// commas formats n with thousands separators: 3,000,000.
// megabytes formats a byte count as MB (10^6 bytes), as GNU time's and
// BENCHMARKS.md's figures are compared.
func megabytes(b int64) string { return fmt.Sprintf("%.0f MB", float64(b)/1e6) }

// peakStage names the stage that reached the run's peak memory.
func peakStage(stages []pipeline.StageResult) string {
	best := -1
	for i, st := range stages {
		if st.PeakRSS > 0 && (best < 0 || st.PeakRSS > stages[best].PeakRSS) {
			best = i
		}
	}
	if best < 0 {
		return ""
	}
	return " (in " + stages[best].Name + ")"
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%s %ss", numfmt.Thousands(int64(n)), word)
}

// printExplanations prints the global importance of each input: the mean
// magnitude of its contributions on the explained test rows.
func printExplanations(w io.Writer, x *evaluate.Explanations) {
	if x == nil {
		return
	}
	var parts []string
	for _, imp := range x.Importance {
		parts = append(parts, fmt.Sprintf("%s %.3g (%.0f%%)", imp.Input, imp.MeanAbs, 100*imp.Share))
	}
	fmt.Fprintf(w, "%-10s %s\n", "importance", strings.Join(parts, ", "))
	fmt.Fprintf(w, "  mean |contribution| to %s over %s test rows (%s)\n", x.Margin, numfmt.Thousands(int64(x.Rows)), x.Method)
}
