package pipeline

import (
	"math"
	"slices"
	"time"

	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/evaluate"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/internal/rss"
	"github.com/mlpipe/mlpipe/train"
)

// Summary is what `mlpipe ingest` and `mlpipe run` report: the data, its
// validation, profile and splits, and the stage timings. It is printed as
// text, or as JSON with --json.
type Summary struct {
	// RunID identifies the run in the registry's runs/ (run only).
	RunID       string            `json:"run_id,omitempty"`
	ResumedFrom string            `json:"resumed_from,omitempty"` // the run --resume continued
	StartedAt   string            `json:"started_at,omitempty"`
	EndedAt     string            `json:"ended_at,omitempty"`
	CodeVersion string            `json:"code_version,omitempty"`
	Config      string            `json:"config"`
	Source      string            `json:"source"`
	Files       []ingest.Part     `json:"files,omitempty"`
	Rows        int64             `json:"rows"`
	Columns     int               `json:"columns"`
	Fingerprint string            `json:"fingerprint,omitempty"`
	Validation  *ingest.Report    `json:"validation,omitempty"`
	Profile     *ingest.Profile   `json:"profile,omitempty"`
	Label       string            `json:"label"`
	Splits      []SplitSummary    `json:"splits,omitempty"`
	Leaderboard []map[string]any  `json:"leaderboard,omitempty"`
	Selection   *SelectionSummary `json:"selection,omitempty"`
	Model       *ModelSummary     `json:"model,omitempty"`
	Evaluation  *evaluate.Report  `json:"evaluation,omitempty"` // on the test split
	Gate        *GateDecision     `json:"gate,omitempty"`
	Stages      []StageResult     `json:"stages"`
	// PeakRSS is the process's peak resident memory so far, in bytes (its
	// VmHWM; 0: unknown). Each stage's is in Stages.
	PeakRSS int64             `json:"peak_rss_bytes,omitempty"`
	Status  string            `json:"status"` // "running", "ok", "invalid", "failed", "cancelled" or "interrupted" (pipeline/record.go)
	Error   string            `json:"error,omitempty"`
	Outputs map[string]string `json:"outputs,omitempty"` // artifact name → path
	// Registry is what the run did to the registry (a run with a
	// registry that reached its register stage).
	Registry *RegistryOutcome `json:"registry,omitempty"`
	// Report is the run's HTML report (a run with a registry).
	Report string `json:"report,omitempty"`
	// Dashboard is the command that serves the registry's dashboard.
	Dashboard string `json:"dashboard,omitempty"`
	// Serve is the command that serves the registry's production model
	// (a run with a registry that finished).
	Serve string `json:"serve,omitempty"`
}

// ModelSummary names the selected model.
type ModelSummary struct {
	Kind string `json:"kind"`
	// Task is binary, multiclass or regression (Classes is then 0).
	Task      string  `json:"task"`
	Classes   int     `json:"classes"`
	Features  int     `json:"features"`
	Threshold float64 `json:"threshold"`
	Dir       string  `json:"dir,omitempty"` // where it was saved
	// ClassWeights are the weights of the classes in the training loss,
	// by class name, when the model was fitted with a class_weight.
	ClassWeights map[string]float64 `json:"class_weights,omitempty"`
	// Importance is the model's own importance of its inputs: gbdt's
	// split gain, the golearn baselines' information gain, logreg's and
	// ridge's standardised coefficients (nil for a model that reports
	// none).
	Importance *train.Importance `json:"importance,omitempty"`
}

// SelectionSummary says how model selection ran.
type SelectionSummary struct {
	// Candidates is the number of candidates: the config's models and
	// grids, and the random-search trials.
	Candidates int `json:"candidates"`
	// Folds is the number of cross-validation folds the candidates were
	// ranked by (0: ranked by their validation score).
	Folds int `json:"folds,omitempty"`
	// GroupedBy, with folds, is the column whose groups each fold keeps
	// whole (split.group).
	GroupedBy string `json:"grouped_by,omitempty"`
	// Skipped is the number of random-search trials that the time
	// budget left out.
	Skipped int `json:"skipped,omitempty"`
}

// SplitSummary is one split's size, time range and label balance.
type SplitSummary struct {
	Name string `json:"name"`
	Rows int64  `json:"rows"`
	// From and To are the first and last time in the split column
	// (empty for a random split).
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Groups, for a split by group (split.group), is the number of
	// values of the group column in the split, GroupedBy the column.
	Groups    int    `json:"groups,omitempty"`
	GroupedBy string `json:"grouped_by,omitempty"`
	// Classes is the share of labelled rows in each class; for a binary
	// label PositiveRate is the share of class "1".
	PositiveRate *float64           `json:"positive_rate,omitempty"`
	Classes      map[string]float64 `json:"classes,omitempty"`
	// MeanTarget and StdTarget are a regression's mean target and its
	// standard deviation, over the rows that have one.
	MeanTarget *float64 `json:"mean_target,omitempty"`
	StdTarget  *float64 `json:"std_target,omitempty"`
}

// Summarize builds the summary of a state after the stages in results
// ran.
func Summarize(s *State, results []StageResult) *Summary {
	sum := &Summary{
		Config:  s.Config.Path,
		Source:  s.Config.Data.Path,
		Label:   s.Config.Label.Name,
		Stages:  results,
		PeakRSS: rss.Peak(),
	}
	if s.Data != nil {
		sum.Files = s.Data.Parts
		sum.Rows, sum.Columns = s.loaded[0], int(s.loaded[1])
		if t := s.Data.Table; t != nil { // not yet released by the split
			sum.Rows, sum.Columns = t.NumRows(), int(t.NumCols())
		}
	}
	if len(s.Leaderboard) > 0 {
		sum.Leaderboard = leaderboardJSON(s.Leaderboard, true)
	}
	sum.Selection = s.Selection
	if s.Model != nil {
		sum.Model = &ModelSummary{Kind: s.Model.Kind(), Task: string(s.Model.Task()), Features: s.Features.Width(), Threshold: s.Threshold,
			ClassWeights: s.ClassWeights, Importance: train.Importances(s.Model, s.Features)}
		if s.TestSet != nil {
			sum.Model.Classes = s.TestSet.Classes
		}
	}
	sum.Evaluation = s.Evaluation
	sum.Gate = s.Gate
	sum.Registry = s.Registry
	sum.Validation = s.Report
	sum.Fingerprint = s.Fingerprint
	sum.Profile = s.Profile
	for _, ss := range s.spans {
		if l := s.Labels[ss.Name]; l != nil {
			if l.Values != nil {
				ss.MeanTarget, ss.StdTarget = meanStd(l.Values)
			} else if len(l.Classes) == 2 && l.Classes[1] == "1" {
				r := l.Rate(1)
				ss.PositiveRate = &r
			} else {
				ss.Classes = map[string]float64{}
				for k, c := range l.Classes {
					ss.Classes[c] = l.Rate(int32(k))
				}
			}
		}
		sum.Splits = append(sum.Splits, ss)
	}
	return sum
}

// splitSpans are the rows and, for a split by time, the time range of
// each split, as the summary shows them.
func splitSpans(cfg *config.Config, sp *ingest.Splits) []SplitSummary {
	var out []SplitSummary
	for _, nt := range sp.Tables() {
		if nt.Table == nil { // the training rows of a streamed run (streamedSpans)
			continue
		}
		ss := SplitSummary{Name: nt.Name, Rows: nt.Table.NumRows()}
		if cfg.Split.Method != "random" {
			ss.From, ss.To = timeRange(nt, cfg.Split.Column)
		}
		if g := cfg.Split.Group; g != "" {
			if ids, err := ingest.GroupIDs(nt.Table, g); err == nil { // the split stage read the column already
				ss.GroupedBy = g
				if len(ids) > 0 {
					ss.Groups = slices.Max(ids) + 1 // numbered from 0
				}
			}
		}
		out = append(out, ss)
	}
	return out
}

// meanStd returns the mean and the (population) standard deviation of
// the values that are not NaN, or nils if there are none.
func meanStd(v []float64) (mean, std *float64) {
	var n, s, ss float64
	for _, x := range v {
		if !math.IsNaN(x) {
			n, s = n+1, s+x
		}
	}
	if n == 0 {
		return nil, nil
	}
	m := s / n
	for _, x := range v {
		if !math.IsNaN(x) {
			ss += (x - m) * (x - m)
		}
	}
	sd := math.Sqrt(ss / n)
	return &m, &sd
}

// timeRange returns the first and last time of a split's time column,
// formatted as naive local time.
func timeRange(nt ingest.NamedTable, column string) (from, to string) {
	return formatRange(ingest.TimeBounds(nt.Table, column))
}

// formatRange formats a split's first and last time (none when not ok).
func formatRange(lo, hi time.Time, ok bool) (from, to string) {
	if !ok {
		return "", ""
	}
	const layout = "2006-01-02T15:04:05"
	return lo.Format(layout), hi.Format(layout)
}
