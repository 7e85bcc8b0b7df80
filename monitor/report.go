package monitor

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mlpipe/mlpipe/internal/numfmt"
)

// Report is the monitor's verdict on one window of traffic. It marshals
// to the JSON that `mlpipe monitor --json` prints and --out writes
// (docs/monitoring.md describes every field). No field is ever NaN or
// infinite; a statistic that was not computed is left out.
type Report struct {
	// Model and Version name the model (Version 0: unknown); Bundle is
	// its directory.
	Model   string `json:"model"`
	Version int    `json:"version,omitempty"`
	Bundle  string `json:"bundle"`
	// From and To bound the window, [From, To); a zero end is open.
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`
	// Baseline is BaselineReference or BaselineProfile.
	Baseline string `json:"baseline"`
	// Predictions is the number of predictions in the window (of this
	// model); Versions counts them by model version; OtherModels counts
	// the window's predictions of other models, which are left out.
	Predictions int         `json:"predictions"`
	Versions    map[int]int `json:"versions,omitempty"`
	OtherModels int         `json:"other_models,omitempty"`
	// Log says what reading the prediction log skipped.
	Log *LogStats `json:"log,omitempty"`

	// Status is StatusRetrain, StatusOK or StatusNotEnoughData, and
	// Retrain is Status == StatusRetrain; Reasons say why.
	Status  string   `json:"status"`
	Retrain bool     `json:"retrain"`
	Reasons []string `json:"reasons"`
	// Policy is the rule that decided: PolicyDrift or PolicyEstimated.
	Policy string `json:"policy"`
	// Drifted of Evaluated features drift (the features with enough data
	// and a baseline); DriftedShare is their ratio, 0 when none is
	// evaluated.
	Drifted      int     `json:"drifted"`
	Evaluated    int     `json:"evaluated"`
	DriftedShare float64 `json:"drifted_share"`

	Features    []Feature    `json:"features"`
	Score       *Feature     `json:"score,omitempty"`
	Performance *Performance `json:"performance,omitempty"`
	// Estimate is the performance expected without labels (a binary
	// model with a calibration map); Domain the domain classifier's
	// verdict (with a reference sample).
	Estimate *Estimate     `json:"estimate,omitempty"`
	Domain   *DomainResult `json:"domain,omitempty"`

	Thresholds Thresholds `json:"thresholds"`
	Notes      []string   `json:"notes,omitempty"`
}

// Report statuses.
const (
	StatusOK            = "ok"
	StatusRetrain       = "retrain"
	StatusNotEnoughData = "not_enough_data"
)

// Feature statuses (besides StatusOK and StatusNotEnoughData).
const (
	StatusDrift      = "drift"
	StatusNoBaseline = "no_baseline"
)

// Baselines.
const (
	BaselineReference = "reference"
	BaselineProfile   = "profile"
)

// LogStats is what reading the prediction log found besides the
// window's records (predlog.Stats).
type LogStats struct {
	Files     int    `json:"files"`
	Lines     int    `json:"lines"`
	Bad       int    `json:"bad"`
	Truncated int    `json:"truncated"`
	FirstBad  string `json:"first_bad,omitempty"`
	// Labels is the number of labels read (from the window's start on).
	Labels int `json:"labels"`
}

// Feature is the drift of one series: an input, a part of a timestamp
// input, or the predicted probability.
type Feature struct {
	// Name is the input's name, "INPUT:hour" or "INPUT:day_of_week" for
	// a timestamp, or "probability".
	Name  string `json:"name"`
	Input string `json:"input,omitempty"`
	// Kind is KindNumeric or KindCategorical.
	Kind string `json:"kind"`
	// Status is StatusOK, StatusDrift, StatusNotEnoughData or
	// StatusNoBaseline; Reason says why (for all but StatusOK).
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
	// DriftedBy lists the statistics above their thresholds: "psi",
	// "ks", "wasserstein", "js".
	DriftedBy []string `json:"drifted_by,omitempty"`
	// Thresholds are the thresholds the series was judged by, scaled to
	// the window's size, and where they come from.
	Thresholds *SeriesThresholds `json:"thresholds,omitempty"`

	// Rows is the window's rows, Missing how many of them had no value
	// (null, absent, NaN) and Invalid how many had a value of the wrong
	// type; both are binned as "(missing)".
	Rows    int `json:"rows"`
	Missing int `json:"missing"`
	Invalid int `json:"invalid,omitempty"`
	// BaselineRows is the number of rows behind the expected shares:
	// the reference sample's, or the training split's.
	BaselineRows int `json:"baseline_rows"`

	// PSI is over Buckets bins; PSINoise is what PSI would be expected
	// to be on a window of this size with no drift at all,
	// (K−1)·(1/Rows + 1/BaselineRows) for the K bins that are not empty.
	PSI      *float64 `json:"psi,omitempty"`
	PSINoise float64  `json:"psi_noise,omitempty"`
	Buckets  int      `json:"buckets,omitempty"`
	// KS and Wasserstein: numeric series with a reference sample.
	KS          *KS               `json:"ks,omitempty"`
	Wasserstein *WassersteinDrift `json:"wasserstein,omitempty"`
	// JSDistance and ChiSquare: categorical series.
	JSDistance *float64   `json:"js_distance,omitempty"`
	ChiSquare  *ChiSquare `json:"chi_square,omitempty"`

	// Bins are the PSI bins: all of a numeric series', the ten with the
	// largest PSI terms of a categorical one.
	Bins []Bin `json:"bins,omitempty"`
	// Unseen are the most frequent window categories that training did
	// not have (at most five).
	Unseen []Count  `json:"unseen,omitempty"`
	Notes  []string `json:"notes,omitempty"`
}

// WassersteinDrift is the Wasserstein distance in the feature's unit and
// divided by Scale, the training standard deviation.
type WassersteinDrift struct {
	Distance   float64 `json:"distance"`
	Scale      float64 `json:"scale"`
	Normalised float64 `json:"normalised"`
}

// Bin is one PSI bin: its expected (baseline) and actual (window)
// shares, and its term of the PSI sum.
type Bin struct {
	Bin      string  `json:"bin"`
	Expected float64 `json:"expected"`
	Actual   float64 `json:"actual"`
	PSI      float64 `json:"psi"`
}

// Count is a value and how often it occurred.
type Count struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// Performance is how well the model did on the window's predictions
// whose labels have arrived, beside its test metrics.
type Performance struct {
	// Status is StatusOK or StatusNotEnoughData (then Reason says why,
	// and the metrics that could be computed are still given).
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
	// Labelled is the number of predictions with a usable label;
	// Positives how many of them are positive (binary models);
	// BadLabels the labels that name no class of the model (a
	// regression: that are no number within ±evaluate.MaxTarget);
	// OtherVersions the labelled predictions of other model versions,
	// left out.
	Labelled      int `json:"labelled"`
	Positives     int `json:"positives,omitempty"`
	BadLabels     int `json:"bad_labels,omitempty"`
	OtherVersions int `json:"other_versions,omitempty"`

	ROCAUC   *float64 `json:"roc_auc,omitempty"`
	LogLoss  *float64 `json:"log_loss,omitempty"`
	ECE      *float64 `json:"ece,omitempty"`
	Accuracy *float64 `json:"accuracy,omitempty"`
	// A regression's root mean squared and mean absolute errors.
	RMSE *float64 `json:"rmse,omitempty"`
	MAE  *float64 `json:"mae,omitempty"`

	// Test are the bundle's test metrics; AUCDrop is Test.ROCAUC − ROCAUC
	// and RMSERise is RMSE / Test.RMSE − 1 (0.25: 25% worse).
	Test     *TestMetrics `json:"test,omitempty"`
	AUCDrop  *float64     `json:"auc_drop,omitempty"`
	RMSERise *float64     `json:"rmse_rise,omitempty"`
}

// WriteText writes the report as a readable summary: the decision
// first, then a table of the features and the performance.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	model := r.Model
	if r.Version > 0 {
		model += " v" + strconv.Itoa(r.Version)
	}
	fmt.Fprintf(&b, "monitor    %s (%s)\n", model, r.Bundle)
	fmt.Fprintf(&b, "window     %s – %s: %s predictions", timeOrOpen(r.From), timeOrOpen(r.To), numfmt.Thousands(r.Predictions))
	if r.Log != nil {
		fmt.Fprintf(&b, "; log: %s prediction files read, %d bad and %d truncated lines skipped", numfmt.Thousands(r.Log.Files), r.Log.Bad, r.Log.Truncated)
	}
	b.WriteString("\n")
	switch r.Baseline {
	case BaselineReference:
		b.WriteString("baseline   training profile and reference sample\n")
	default:
		b.WriteString("baseline   training profile only (no reference sample: PSI alone)\n")
	}
	verdict := map[string]string{StatusRetrain: "RETRAIN RECOMMENDED", StatusOK: "ok", StatusNotEnoughData: "not enough data"}[r.Status]
	switch r.Policy {
	case PolicyDrift:
		fmt.Fprintf(&b, "policy     drift: retrain when at least drift_share of the features drift, or the labelled predictions score worse than auc_drop (rmse_rise) allows\n")
	case PolicyEstimated:
		fmt.Fprintf(&b, "policy     estimated: retrain when the ROC AUC estimated without labels falls by more than estimated_auc_drop, the domain classifier fires, or the labelled predictions score worse than auc_drop allows\n")
	}
	fmt.Fprintf(&b, "decision   %s", verdict)
	for i, reason := range r.Reasons {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(reason)
	}
	b.WriteString("\n\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "feature\tstatus\trows\tpsi\tks D\tks p\twass/sd\tjs\tchi2 p\tthresholds\t")
	rows := r.Features
	if r.Score != nil {
		rows = append(rows[:len(rows):len(rows)], *r.Score)
	}
	for _, f := range rows {
		status := strings.ReplaceAll(f.Status, "_", " ")
		if len(f.DriftedBy) > 0 {
			status += " (" + strings.Join(f.DriftedBy, ",") + ")"
		}
		cells := []string{f.Name, status, numfmt.Thousands(f.Rows), "-", "-", "-", "-", "-", "-", "-"}
		if th := f.Thresholds; th != nil && f.Status != StatusNoBaseline {
			cells[9] = th.Source
			if th.PSI > 0 {
				cells[9] += fmt.Sprintf(" psi %.4g", th.PSI)
			}
			if th.Alpha > 0 {
				cells[9] += fmt.Sprintf(" (α %.3g)", th.Alpha)
			}
		}
		if f.PSI != nil {
			cells[3] = fmt.Sprintf("%.4f", *f.PSI)
		}
		if f.KS != nil {
			cells[4] = fmt.Sprintf("%.4f", f.KS.D)
			cells[5] = fmt.Sprintf("%.2g", f.KS.PValue)
		}
		if f.Wasserstein != nil {
			cells[6] = fmt.Sprintf("%.4f", f.Wasserstein.Normalised)
		}
		if f.JSDistance != nil {
			cells[7] = fmt.Sprintf("%.4f", *f.JSDistance)
		}
		if f.ChiSquare != nil {
			cells[8] = fmt.Sprintf("%.2g", f.ChiSquare.PValue)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	tw.Flush()
	for _, f := range rows {
		if f.Reason != "" {
			fmt.Fprintf(&b, "  %s: %s\n", f.Name, f.Reason)
		}
	}
	if d := r.Domain; d != nil {
		fmt.Fprintf(&b, "\ndomain     %s", strings.ReplaceAll(d.Status, "_", " "))
		if d.Status == StatusOK || d.Status == StatusDrift {
			fmt.Fprintf(&b, ": a gbdt tells %s window rows from %s reference rows with cross-validated AUC %.4f (threshold %.4f, %s", numfmt.Thousands(d.Rows), numfmt.Thousands(d.Rows), d.AUC, d.Threshold, d.ThresholdSource)
			if d.Alpha > 0 {
				fmt.Fprintf(&b, ", α %.3g from %d pairs", d.Alpha, d.Pairs)
			}
			b.WriteString(")")
		} else if d.Reason != "" {
			fmt.Fprintf(&b, ": %s", d.Reason)
		}
		b.WriteString("\n")
	}
	if e := r.Estimate; e != nil {
		fmt.Fprintf(&b, "\nestimated  %s scored predictions, without labels (%s calibration)", numfmt.Thousands(e.Rows), e.Calibration)
		if e.Reason == "" || e.Status == StatusOK || e.ROCAUC.Value > 0 {
			fmt.Fprintf(&b, ": roc_auc %.4f [%.4f, %.4f]", e.ROCAUC.Value, e.ROCAUC.Low, e.ROCAUC.High)
			if e.TestROCAUC != nil {
				fmt.Fprintf(&b, " (%s test %.4f; retrain below %.4f)", signed(-*e.AUCDrop), *e.TestROCAUC, *e.TestROCAUC-r.Thresholds.EstimatedAUCDrop)
			}
			fmt.Fprintf(&b, ", log_loss %.4f [%.4f, %.4f], accuracy %.4f at threshold %.4g, positive rate %.4f",
				e.LogLoss.Value, e.LogLoss.Low, e.LogLoss.High, e.Accuracy.Value, e.Threshold, e.PositiveRate)
			if p := r.Performance; p != nil && p.ROCAUC != nil {
				in := "within"
				if !e.ROCAUC.Contains(*p.ROCAUC) {
					in = "outside"
				}
				fmt.Fprintf(&b, "\n           realized roc_auc %.4f on %s labelled predictions: %s the band", *p.ROCAUC, numfmt.Thousands(p.Labelled), in)
			}
		}
		if e.Reason != "" {
			fmt.Fprintf(&b, "\n           %s", e.Reason)
		}
		b.WriteString("\n")
	}
	if p := r.Performance; p != nil {
		fmt.Fprintf(&b, "\nperformance  %s labelled predictions", numfmt.Thousands(p.Labelled))
		if p.ROCAUC != nil {
			fmt.Fprintf(&b, ": roc_auc %.4f", *p.ROCAUC)
			if p.AUCDrop != nil {
				fmt.Fprintf(&b, " (%s test %.4f; retrain below %.4f)", signed(*p.ROCAUC-*p.Test.ROCAUC), *p.Test.ROCAUC, *p.Test.ROCAUC-r.Thresholds.AUCDrop)
			}
		}
		if p.RMSE != nil {
			fmt.Fprintf(&b, ": rmse %.4g, mae %.4g", *p.RMSE, *p.MAE)
			if p.RMSERise != nil {
				fmt.Fprintf(&b, " (test rmse %.4g, mae %s; retrain above rmse %.4g)", *p.Test.RMSE, optional(p.Test.MAE), *p.Test.RMSE*(1+r.Thresholds.RMSERise))
			}
		}
		if p.Accuracy != nil {
			fmt.Fprintf(&b, ", accuracy %.4f", *p.Accuracy)
		}
		if p.LogLoss != nil {
			fmt.Fprintf(&b, ", log_loss %.4f", *p.LogLoss)
		}
		if p.ECE != nil {
			fmt.Fprintf(&b, ", ece %.4f", *p.ECE)
		}
		if p.Reason != "" {
			fmt.Fprintf(&b, "\n             %s", p.Reason)
		}
		var out []string
		if p.BadLabels > 0 {
			out = append(out, numfmt.Thousands(p.BadLabels)+" unusable labels (bad_labels)")
		}
		if p.OtherVersions > 0 {
			out = append(out, numfmt.Thousands(p.OtherVersions)+" labelled predictions of other versions")
		}
		if len(out) > 0 {
			fmt.Fprintf(&b, "\n             left out: %s", strings.Join(out, ", "))
		}
		b.WriteString("\n")
	}
	if len(r.Notes) > 0 {
		b.WriteString("\nnotes\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "  - %s\n", n)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// optional formats a metric that may be missing.
func optional(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.4g", *v)
}

func timeOrOpen(t time.Time) string {
	if t.IsZero() {
		return "(open)"
	}
	return t.UTC().Format(time.RFC3339)
}
