package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/mlpipe/mlpipe/bundle"
	"github.com/mlpipe/mlpipe/evaluate"
	"github.com/mlpipe/mlpipe/evaluate/plots"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/internal/numfmt"
	"github.com/mlpipe/mlpipe/pipeline"
	"github.com/mlpipe/mlpipe/train"
)

// Options tune WriteWith. The zero value gives the standalone report.
type Options struct {
	// Links are shown in a bar at the top of the page: the dashboard's
	// navigation when it serves the report (none in the standalone file).
	// They should be relative, so the page makes no request elsewhere.
	Links []Link
	// Now is the generation time printed at the bottom (default
	// time.Now).
	Now time.Time
}

// Link is a link of Options.Links.
type Link struct {
	Text, Href string
}

// Sections are the ids of the report's sections, in page order. Every
// report has all of them.
var Sections = []string{"overview", "data", "validation", "profile", "leaderboard", "metrics",
	"curves", "confusion", "slices", "importance", "gate", "stages", "lineage"}

// Write writes the standalone HTML report of a run: sum is its summary,
// b the bundle of the model version it registered (nil if none).
func Write(w io.Writer, sum *pipeline.Summary, b *bundle.Bundle) error {
	return WriteWith(w, sum, b, Options{})
}

// WriteWith is Write with options.
func WriteWith(w io.Writer, sum *pipeline.Summary, b *bundle.Bundle, opts Options) error {
	if sum == nil {
		return fmt.Errorf("write report: no run summary")
	}
	v, err := build(sum, b, opts)
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	var buf bytes.Buffer
	if err := pageTmpl.Execute(&buf, v); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// view is what the template reads.
type view struct {
	S        *pipeline.Summary
	Links    []Link
	Sections []section
	Title    string
	Duration time.Duration
	Now      string

	Headline []fact
	Issues   []ingest.Issue
	Warnings int
	Profile  []profileColumn

	Leaderboard []leaderRow
	Metrics     []fact
	Binary      *evaluate.BinaryMetrics
	Multi       *evaluate.MulticlassMetrics
	Regression  *evaluate.RegressionMetrics
	Confusion   *confusionView
	Plots       []figure

	Importance, ImportanceByInput []Importance
	ImportanceNote                string
	// ImportanceKind is what the importance measures: "gain" (trees) or
	// "coefficient" (linear models' standardised coefficients).
	ImportanceKind string
	Explain        *evaluate.Explanations
	ExplainPlots   []figure

	Gate     *gateView
	Stages   []stageRow
	Lineage  []fact
	Bundle   *bundle.Bundle
	HasSlice bool
}

type section struct{ ID, Title string }

var sectionTitles = map[string]string{
	"overview": "Overview", "data": "Data", "validation": "Validation", "profile": "Profile",
	"leaderboard": "Leaderboard", "metrics": "Test metrics", "curves": "Curves",
	"confusion": "Confusion matrix", "slices": "Slices", "importance": "Feature importance",
	"gate": "Promotion gate", "stages": "Stages", "lineage": "Lineage",
}

type fact struct {
	Name, Value string
	Class       string // an extra CSS class for the value
}

type figure struct {
	Caption string
	SVG     template.HTML
}

type profileColumn struct {
	ingest.ColumnProfile
	Min, Mean, Max, Std, Distinct string
	Histogram                     template.HTML
	Top                           []ingest.Frequency
	TopMax                        float64
}

type leaderRow struct {
	Model, Params, Metric, Valid, Fit, Heap, Note, Error string
	// CV is the cross-validated score, "0.8123 ± 0.0150", when selection
	// cross-validated.
	CV   string
	Best bool
}

type confusionView struct {
	Threshold, Method, ChosenOn string
	// Binary: the 2×2 table, actual by predicted.
	TN, FP, FN, TP         int
	TNR, FPR, FNR, TPR     float64
	PredNeg, PredPos, Rows int
	// Multiclass: rows are actual classes, columns predicted ones.
	Classes []string
	Matrix  [][]int
}

type gateView struct {
	*pipeline.GateDecision
	Decision, Class string
}

type stageRow struct {
	pipeline.StageResult
	Share float64
}

func build(sum *pipeline.Summary, b *bundle.Bundle, opts Options) (*view, error) {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	v := &view{S: sum, Links: opts.Links, Now: now.UTC().Format(time.RFC3339), Bundle: b}
	for _, id := range Sections {
		v.Sections = append(v.Sections, section{id, sectionTitles[id]})
	}
	v.Title = "Run " + sum.RunID
	if sum.RunID == "" {
		v.Title = "Pipeline run"
	}
	for _, st := range sum.Stages {
		v.Duration += st.Duration
	}
	if r := sum.Validation; r != nil {
		v.Issues = r.Issues
		v.Warnings = len(r.Issues) - r.Errors
	}
	var err error
	if v.Profile, err = profileColumns(sum.Profile); err != nil {
		return nil, err
	}
	v.Leaderboard = leaderboard(sum.Leaderboard)
	if r := sum.Evaluation; r != nil {
		v.Binary, v.Multi, v.Regression = r.BinaryMetrics, r.MulticlassMetrics, r.RegressionMetrics
		v.Metrics = metrics(r)
		if m := v.Regression; m != nil {
			v.HasSlice = m.SliceErrors != nil
			imgs, err := plots.Of(r, plots.SVG)
			if err != nil {
				return nil, err
			}
			v.Plots = []figure{
				{"Residuals (target − prediction) of the test rows; the dashed line is 0", InlineSVG(imgs.Residuals)},
				{"Predicted against actual: the shade of a cell is the log of its rows; the dashed line is a perfect prediction", InlineSVG(imgs.PredictedVsActual)},
				{"Deciles of the prediction: each tenth's mean target against its mean prediction", InlineSVG(imgs.Deciles)},
			}
		}
		if v.Binary != nil {
			v.HasSlice = v.Binary.Slices != nil
			imgs, err := plots.Of(r, plots.SVG)
			if err != nil {
				return nil, err
			}
			v.Plots = []figure{
				{"ROC curve: true against false positive rate at every threshold", InlineSVG(imgs.ROC)},
				{"Precision–recall curve; the dashed line is the positive rate", InlineSVG(imgs.PR)},
				{"Calibration: observed positive rate against the mean predicted probability, per bin", InlineSVG(imgs.Calibration)},
			}
		}
		v.Confusion = confusion(r, b)
	}
	v.Headline = headline(sum, v.Duration)
	if r := sum.Evaluation; r != nil && r.Explanations != nil {
		v.Explain = r.Explanations
		for _, p := range r.Explanations.Inputs {
			svg, err := plots.PlotContributions(p, r.Explanations.Margin, plots.SVG)
			if err != nil {
				return nil, err
			}
			v.ExplainPlots = append(v.ExplainPlots, figure{Caption: p.Input, SVG: InlineSVG(svg)})
		}
	}
	v.Importance = Importances(b)
	v.ImportanceByInput = byInput(v.Importance)
	if b != nil {
		if im, ok := b.Model.(train.Importancer); ok {
			v.ImportanceKind = im.ImportanceKind()
		}
	}
	switch {
	case v.Importance != nil:
	case b == nil:
		v.ImportanceNote = "No model bundle: the run registered no model version, or the version is no longer in the registry."
	default:
		v.ImportanceNote = fmt.Sprintf("The %s model does not report feature importance.", b.Model.Kind())
	}
	if g := sum.Gate; g != nil {
		gv := &gateView{GateDecision: g, Decision: "kept out of production", Class: "kept"}
		switch {
		case g.Identical:
			gv.Decision, gv.Class = "identical to production", "kept"
		case g.Promote:
			gv.Decision, gv.Class = "promoted to production", "good"
		case g.Rejected:
			gv.Decision, gv.Class = "rejected", "bad"
		}
		v.Gate = gv
	}
	for _, st := range sum.Stages {
		row := stageRow{StageResult: st}
		if v.Duration > 0 {
			row.Share = float64(st.Duration) / float64(v.Duration)
		}
		v.Stages = append(v.Stages, row)
	}
	v.Lineage = lineage(sum, b)
	return v, nil
}

func headline(s *pipeline.Summary, d time.Duration) []fact {
	out := []fact{{"status", s.Status, "status-" + s.Status}, {"duration", duration(d), ""}}
	if s.Model != nil {
		out = append(out, fact{"model", s.Model.Kind, ""})
	}
	if r := s.Evaluation; r != nil {
		switch {
		case r.RegressionMetrics != nil:
			m := r.RegressionMetrics
			out = append(out, fact{"test RMSE", g4(m.RMSE), ""}, fact{"test MAE", g4(m.MAE), ""}, fact{"test R²", f4(m.R2), ""})
		case r.BinaryMetrics != nil:
			b := r.BinaryMetrics
			out = append(out, fact{"test ROC AUC", f4(b.ROCAUC), ""}, fact{"test PR AUC", f4(b.PRAUC), ""}, fact{"test log loss", f4(r.LogLoss), ""})
		case r.MulticlassMetrics != nil:
			out = append(out, fact{"test macro F1", f4(r.MulticlassMetrics.MacroF1), ""}, fact{"test log loss", f4(r.LogLoss), ""})
		}
	}
	if g := s.Gate; g != nil {
		d, c := "kept out", "kept"
		switch {
		case g.Identical:
			d = "identical"
		case g.Promote:
			d, c = "promoted", "good"
		case g.Rejected:
			d, c = "rejected", "bad"
		}
		if g.Version > 0 {
			d += fmt.Sprintf(" (v%d)", g.Version)
		}
		out = append(out, fact{"gate", d, c})
	}
	return out
}

func metrics(r *evaluate.Report) []fact {
	if m := r.RegressionMetrics; m != nil {
		mape := m.MAPENote
		if m.MAPE != nil {
			mape = pct(*m.MAPE)
		}
		return []fact{{"rows", numfmt.Thousands(r.Rows), ""},
			{"RMSE (root mean squared error)", g4(m.RMSE), ""}, {"MAE (mean absolute error)", g4(m.MAE), ""},
			{"R² (share of the variance explained)", f4(m.R2), ""}, {"median absolute error", g4(m.MedianAE), ""},
			{"MAPE (mean absolute percentage error)", mape, ""},
			{"mean target", g4(m.MeanTarget), ""}, {"mean prediction", g4(m.MeanPrediction), ""}}
	}
	out := []fact{{"rows", numfmt.Thousands(r.Rows), ""}, {"accuracy", f4(r.Accuracy), ""}, {"log loss", f4(r.LogLoss), ""}}
	if b := r.BinaryMetrics; b != nil {
		out = append(out,
			fact{"ROC AUC", f4(b.ROCAUC), ""}, fact{"PR AUC (average precision)", f4(b.PRAUC), ""},
			fact{"Brier score", f4(b.Brier), ""}, fact{"ECE (calibration error)", f4(b.ECE), ""},
			fact{"positive rate", pct(b.PositiveRate), ""},
			fact{"precision at the threshold", f4(b.Precision), ""}, fact{"recall at the threshold", f4(b.Recall), ""},
			fact{"F1 at the threshold", f4(b.F1), ""})
	}
	if m := r.MulticlassMetrics; m != nil {
		out = append(out, fact{"classes", fmt.Sprint(m.Classes), ""}, fact{"macro F1", f4(m.MacroF1), ""}, fact{"weighted F1", f4(m.WeightedF1), ""})
	}
	return out
}

func confusion(r *evaluate.Report, b *bundle.Bundle) *confusionView {
	if bm := r.BinaryMetrics; bm != nil {
		c := bm.Confusion
		cv := &confusionView{
			Threshold: fmt.Sprintf("%.4f", bm.Threshold.Value), Method: string(bm.Threshold.Method), ChosenOn: bm.Threshold.ChosenOn,
			TN: c.TN, FP: c.FP, FN: c.FN, TP: c.TP,
			PredNeg: c.TN + c.FN, PredPos: c.FP + c.TP, Rows: c.TN + c.FP + c.FN + c.TP,
		}
		cv.TNR, cv.FPR = ratio(c.TN, c.TN+c.FP), ratio(c.FP, c.TN+c.FP)
		cv.FNR, cv.TPR = ratio(c.FN, c.FN+c.TP), ratio(c.TP, c.FN+c.TP)
		return cv
	}
	if m := r.MulticlassMetrics; m != nil {
		cv := &confusionView{Matrix: m.ConfusionMatrix}
		for i := range m.Classes {
			name := fmt.Sprint(i)
			if i < len(m.PerClass) && m.PerClass[i].Name != "" {
				name = m.PerClass[i].Name
			} else if b != nil && i < len(b.Classes) {
				name = b.Classes[i]
			}
			cv.Classes = append(cv.Classes, name)
		}
		return cv
	}
	return nil
}

func leaderboard(entries []map[string]any) []leaderRow {
	var out []leaderRow
	for _, e := range entries {
		row := leaderRow{
			Model: str(e["model"]), Params: params(e["params"]), Metric: str(e["metric"]),
			Note: str(e["note"]), Error: str(e["error"]),
		}
		row.Best, _ = e["best"].(bool)
		if x, ok := num(e["valid"]); ok {
			row.Valid = f4(x)
		}
		if x, ok := num(e["cv_mean"]); ok {
			sd, _ := num(e["cv_sd"])
			row.CV = f4(x) + " ± " + f4(sd)
		}
		if x, ok := num(e["trial"]); ok {
			row.Model += fmt.Sprintf(" #%d", int(x))
		}
		if x, ok := num(e["fit_seconds"]); ok {
			row.Fit = fmt.Sprintf("%.1f s", x)
		}
		if x, ok := num(e["peak_heap_mb"]); ok && x > 0 {
			row.Heap = fmt.Sprintf("%.0f MB", x)
		}
		out = append(out, row)
	}
	return out
}

// params formats a leaderboard entry's parameters as "k=v, ..." in key
// order, whatever their Go type (a map from the pipeline, or decoded
// JSON).
func params(p any) string {
	if p == nil {
		return ""
	}
	data, err := json.Marshal(p)
	if err != nil {
		return fmt.Sprint(p)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return string(data)
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		val, _ := json.Marshal(m[k])
		parts = append(parts, k+"="+string(val))
	}
	return strings.Join(parts, ", ")
}

func lineage(s *pipeline.Summary, b *bundle.Bundle) []fact {
	out := []fact{{"run id", s.RunID, "mono"}}
	if s.ResumedFrom != "" {
		out = append(out, fact{"resumed from", s.ResumedFrom, "mono"})
	}
	out = append(out,
		fact{"started", s.StartedAt, ""}, fact{"ended", s.EndedAt, ""},
		fact{"config", s.Config, "mono"}, fact{"data", s.Source, "mono"},
		fact{"data fingerprint", s.Fingerprint, "mono"}, fact{"code version", s.CodeVersion, "mono"})
	if b != nil {
		ver := b.Name
		if s.Gate != nil && s.Gate.Version > 0 {
			ver = fmt.Sprintf("%s@%d", b.Name, s.Gate.Version)
		}
		out = append(out,
			fact{"model version", ver, "mono"},
			fact{"trained by run", b.RunID, "mono"},
			fact{"config hash", b.ConfigHash, "mono"},
			fact{"bundle created", b.CreatedAt.UTC().Format(time.RFC3339), ""})
		if b.InputsKey != "" {
			out = append(out, fact{"training inputs key", b.InputsKey, "mono"})
		}
	}
	if s.Serve != "" {
		out = append(out, fact{"serve with", s.Serve, "mono"})
	}
	return out
}

// --- formatting --------------------------------------------------------

func str(x any) string {
	if x == nil {
		return ""
	}
	if s, ok := x.(string); ok {
		return s
	}
	return fmt.Sprint(x)
}

func num(x any) (float64, bool) {
	switch v := x.(type) {
	case float64:
		return v, true
	case float32:
		return float64(v), true
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	}
	return 0, false
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func f4(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "—"
	}
	return fmt.Sprintf("%.4f", x)
}

func pct(x float64) string { return fmt.Sprintf("%.1f%%", 100*x) }

// g4 formats a number in the target's units to 4 significant digits.
func g4(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "—"
	}
	return fmt.Sprintf("%.4g", x)
}

// duration rounds d for reading: ms below a second, then 0.1 s.
func duration(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return d.Round(time.Second).String()
}

// short keeps the head of a long identifier (a hash).
func short(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// number formats a profile statistic: integers as integers, others with
// 4 significant digits.
func number(x float64) string {
	switch {
	case math.IsNaN(x) || math.IsInf(x, 0):
		return "—"
	case x == math.Trunc(x) && math.Abs(x) < 1e15:
		return numfmt.Thousands(int64(x))
	}
	return fmt.Sprintf("%.4g", x)
}
