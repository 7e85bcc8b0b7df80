package ui

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mlpipe/mlpipe/internal/numfmt"
	"github.com/mlpipe/mlpipe/pipeline"
	"github.com/mlpipe/mlpipe/report"
)

// runRow is what the runs list and the comparison show of a run: a few
// hundred bytes out of its summary's hundred kilobytes.
type runRow struct {
	ID, Status, Error, Started, Ended, Code, Config, Fingerprint, Source string
	StartedAt                                                            time.Time
	Duration                                                             time.Duration
	Stages                                                               []pipeline.StageResult
	Rows                                                                 int64
	Model                                                                string
	Threshold                                                            *float64
	Params                                                               map[string]string // the selected model's
	ValidMetric                                                          string
	Valid                                                                *float64
	// Test metrics; nil when not computed (a binary metric of a
	// multiclass run, a classification metric of a regression, a run
	// that failed).
	AUC, PRAUC, LogLoss, Accuracy, Brier, ECE, F1, MacroF1 *float64
	RMSE, MAE, R2                                          *float64
	Gate                                                   string // promoted, kept, rejected, identical or ""
	GateReason                                             string
	Version                                                int
}

// lightSummary is the part of pipeline.Summary that runRow needs;
// decoding into it skips the profile, the validation issues and the
// curves.
type lightSummary struct {
	RunID       string                 `json:"run_id"`
	StartedAt   string                 `json:"started_at"`
	EndedAt     string                 `json:"ended_at"`
	CodeVersion string                 `json:"code_version"`
	Config      string                 `json:"config"`
	Source      string                 `json:"source"`
	Rows        int64                  `json:"rows"`
	Fingerprint string                 `json:"fingerprint"`
	Leaderboard []map[string]any       `json:"leaderboard"`
	Model       *pipeline.ModelSummary `json:"model"`
	Gate        *pipeline.GateDecision `json:"gate"`
	Stages      []pipeline.StageResult `json:"stages"`
	Status      string                 `json:"status"`
	Error       string                 `json:"error"`
	Evaluation  *struct {
		Accuracy *float64 `json:"accuracy"`
		LogLoss  *float64 `json:"log_loss"`
		ROCAUC   *float64 `json:"roc_auc"`
		PRAUC    *float64 `json:"pr_auc"`
		Brier    *float64 `json:"brier"`
		ECE      *float64 `json:"ece"`
		F1       *float64 `json:"f1"`
		MacroF1  *float64 `json:"macro_f1"`
		RMSE     *float64 `json:"rmse"`
		MAE      *float64 `json:"mae"`
		R2       *float64 `json:"r2"`
	} `json:"evaluation"`
}

func newRunRow(id string, data []byte) *runRow {
	var s lightSummary
	if err := json.Unmarshal(data, &s); err != nil {
		return &runRow{ID: id, Status: "unreadable", Error: "summary.json: " + err.Error()}
	}
	r := &runRow{
		ID: id, Status: s.Status, Error: s.Error, Started: s.StartedAt, Ended: s.EndedAt, Code: s.CodeVersion,
		Config: s.Config, Fingerprint: s.Fingerprint, Source: s.Source, Rows: s.Rows, Stages: s.Stages,
	}
	r.StartedAt, _ = time.Parse(time.RFC3339, s.StartedAt)
	for _, st := range s.Stages {
		r.Duration += st.Duration
	}
	if s.Model != nil {
		r.Model = s.Model.Kind
		th := s.Model.Threshold
		r.Threshold = &th
	}
	for _, l := range s.Leaderboard {
		if best, _ := l["best"].(bool); !best {
			continue
		}
		r.ValidMetric, _ = l["metric"].(string)
		if v, ok := l["valid"].(float64); ok {
			r.Valid = &v
		}
		if p, ok := l["params"].(map[string]any); ok {
			r.Params = map[string]string{}
			for k, v := range p {
				b, _ := json.Marshal(v)
				r.Params[k] = string(b)
			}
		}
	}
	if e := s.Evaluation; e != nil {
		r.AUC, r.PRAUC, r.LogLoss, r.Accuracy = e.ROCAUC, e.PRAUC, e.LogLoss, e.Accuracy
		r.Brier, r.ECE, r.F1, r.MacroF1 = e.Brier, e.ECE, e.F1, e.MacroF1
		r.RMSE, r.MAE, r.R2 = e.RMSE, e.MAE, e.R2
	}
	if g := s.Gate; g != nil {
		r.Gate, r.GateReason, r.Version = gateDecision(g), g.Reason, g.Version
	}
	return r
}

func gateDecision(g *pipeline.GateDecision) string {
	switch {
	case g.Identical:
		return "identical"
	case g.Promote:
		return "promoted"
	case g.Rejected:
		return "rejected"
	}
	return "kept"
}

// runCache keeps the rows of the runs read so far, by run id. A run
// record is immutable once written (it appears whole, by a rename), so
// an entry never goes stale; entries of deleted runs are dropped when
// the list no longer has them.
type runCache struct {
	mu   sync.Mutex
	rows map[string]*runRow
}

// load returns the rows of ids, reading the summaries it has not cached
// yet, several at a time.
func (c *runCache) load(ctx context.Context, runsDir string, ids []string) ([]*runRow, error) {
	c.mu.Lock()
	if c.rows == nil {
		c.rows = map[string]*runRow{}
	}
	out := make([]*runRow, len(ids))
	var missing []int
	for i, id := range ids {
		if r, ok := c.rows[id]; ok {
			out[i] = r
		} else {
			missing = append(missing, i)
		}
	}
	if len(c.rows) > len(ids) {
		keep := make(map[string]bool, len(ids))
		for _, id := range ids {
			keep[id] = true
		}
		for id := range c.rows {
			if !keep[id] {
				delete(c.rows, id)
			}
		}
	}
	c.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for _, i := range missing {
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			data, err := os.ReadFile(filepath.Join(runsDir, ids[i], report.SummaryFile))
			if err != nil {
				out[i] = &runRow{ID: ids[i], Status: "unreadable", Error: err.Error()}
				return nil // not cached: it may be readable next time
			}
			out[i] = newRunRow(ids[i], data)
			c.mu.Lock()
			c.rows[ids[i]] = out[i]
			c.mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// rows returns the rows of every run of the registry, oldest first.
func (s *Server) rows(ctx context.Context) ([]*runRow, error) {
	ids, err := s.store.Runs()
	if err != nil {
		return nil, err
	}
	return s.runs.load(ctx, filepath.Join(s.store.Root(), "runs"), ids)
}

// listQuery is the runs list's sorting and filtering, from the URL.
type listQuery struct {
	prefix                     string // Options.Prefix
	Sort, Order                string
	Status, Gate, Model, Query string
	MinAUC                     *float64
	Limit                      int
}

// sortKeys are the runs list's sort keys and how they compare two rows.
var sortKeys = map[string]func(a, b *runRow) int{
	"started":  func(a, b *runRow) int { return cmp.Or(a.StartedAt.Compare(b.StartedAt), strings.Compare(a.ID, b.ID)) },
	"id":       func(a, b *runRow) int { return strings.Compare(a.ID, b.ID) },
	"status":   func(a, b *runRow) int { return strings.Compare(a.Status, b.Status) },
	"duration": func(a, b *runRow) int { return cmp.Compare(a.Duration, b.Duration) },
	"model":    func(a, b *runRow) int { return strings.Compare(a.Model, b.Model) },
	"auc":      func(a, b *runRow) int { return cmpPtr(a.AUC, b.AUC) },
	"logloss":  func(a, b *runRow) int { return cmpPtr(a.LogLoss, b.LogLoss) },
	"rmse":     func(a, b *runRow) int { return cmpPtr(a.RMSE, b.RMSE) },
	"gate":     func(a, b *runRow) int { return strings.Compare(a.Gate, b.Gate) },
}

// cmpPtr orders missing values first.
func cmpPtr(a, b *float64) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return cmp.Compare(*a, *b)
}

// parseListQuery reads the list's parameters; a bad one is an error for
// a 400.
func parseListQuery(v url.Values) (listQuery, error) {
	q := listQuery{
		Sort: cmp.Or(v.Get("sort"), "started"), Order: v.Get("order"),
		Status: v.Get("status"), Gate: v.Get("gate"), Model: v.Get("model"), Query: strings.TrimSpace(v.Get("q")),
	}
	if _, ok := sortKeys[q.Sort]; !ok {
		return q, fmt.Errorf("sort: unknown key %q (want one of %s)", q.Sort, strings.Join(slices.Sorted(maps.Keys(sortKeys)), ", "))
	}
	switch q.Order {
	case "":
		q.Order = "desc"
		if q.Sort == "id" || q.Sort == "model" || q.Sort == "status" || q.Sort == "gate" || q.Sort == "logloss" {
			q.Order = "asc"
		}
	case "asc", "desc":
	default:
		return q, fmt.Errorf("order: want asc or desc, got %q", q.Order)
	}
	if s := v.Get("min_auc"); s != "" {
		x, err := strconv.ParseFloat(s, 64)
		if err != nil || x < 0 || x > 1 {
			return q, fmt.Errorf("min_auc: want a number in [0, 1], got %q", s)
		}
		q.MinAUC = &x
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return q, fmt.Errorf("limit: want a positive integer, got %q", s)
		}
		q.Limit = n
	}
	return q, nil
}

// apply filters and sorts rows (which it does not modify).
func (q listQuery) apply(rows []*runRow) []*runRow {
	out := make([]*runRow, 0, len(rows))
	query := strings.ToLower(q.Query)
	for _, r := range rows {
		switch {
		case q.Status != "" && r.Status != q.Status,
			q.Gate != "" && r.Gate != q.Gate && !(q.Gate == "none" && r.Gate == ""),
			q.Model != "" && r.Model != q.Model,
			q.MinAUC != nil && (r.AUC == nil || *r.AUC < *q.MinAUC),
			query != "" && !strings.Contains(strings.ToLower(r.ID+" "+r.Model+" "+r.Config+" "+r.Code+" "+r.Status), query):
			continue
		}
		out = append(out, r)
	}
	less := sortKeys[q.Sort]
	slices.SortStableFunc(out, func(a, b *runRow) int {
		c := less(a, b)
		if c == 0 {
			c = strings.Compare(a.ID, b.ID)
		}
		if q.Order == "desc" {
			return -c
		}
		return c
	})
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out
}

// with returns the list's URL with the given parameters changed (an
// empty value removes one).
func (q listQuery) with(kv ...string) string {
	v := url.Values{}
	set := func(k, x string) {
		if x != "" {
			v.Set(k, x)
		}
	}
	set("sort", q.Sort)
	set("order", q.Order)
	set("status", q.Status)
	set("gate", q.Gate)
	set("model", q.Model)
	set("q", q.Query)
	if q.MinAUC != nil {
		set("min_auc", strconv.FormatFloat(*q.MinAUC, 'g', -1, 64))
	}
	if q.Limit > 0 {
		set("limit", strconv.Itoa(q.Limit))
	}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Del(kv[i])
		set(kv[i], kv[i+1])
	}
	return q.prefix + "/runs?" + v.Encode()
}

// column is a sortable header of the runs table.
type column struct {
	Title, Key, Href, Arrow string
	Num                     bool
}

type runsPage struct {
	Q                       listQuery
	Rows                    []*runRow
	Total                   int
	Columns                 []column
	Statuses, Gates, Models []string
	MinAUC                  string
}

func (s *Server) handleRuns(w http.ResponseWriter, r *http.Request) {
	q, err := parseListQuery(r.URL.Query())
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	q.prefix = s.opts.Prefix
	all, err := s.rows(r.Context())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	p := runsPage{Q: q, Rows: q.apply(all), Total: len(all)}
	if q.MinAUC != nil {
		p.MinAUC = strconv.FormatFloat(*q.MinAUC, 'g', -1, 64)
	}
	statuses, gates, models := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, row := range all {
		statuses[row.Status] = true
		gates[row.Gate] = true
		models[row.Model] = true
	}
	// The filters' choices: the values present, "" (any) apart.
	choices := func(m map[string]bool) []string {
		delete(m, "")
		return slices.Sorted(maps.Keys(m))
	}
	p.Statuses, p.Gates, p.Models = choices(statuses), choices(gates), choices(models)
	for _, c := range []column{
		{Title: "run", Key: "id"}, {Title: "started", Key: "started"}, {Title: "status", Key: "status"},
		{Title: "duration", Key: "duration", Num: true}, {Title: "model", Key: "model"},
		{Title: "test ROC AUC", Key: "auc", Num: true}, {Title: "test log loss", Key: "logloss", Num: true},
		{Title: "test RMSE", Key: "rmse", Num: true}, {Title: "gate", Key: "gate"},
	} {
		order := "asc"
		if c.Key == q.Sort {
			if q.Order == "asc" {
				order, c.Arrow = "desc", " ▲"
			} else {
				c.Arrow = " ▼"
			}
		} else if c.Num || c.Key == "started" {
			order = "desc"
			if c.Key == "logloss" || c.Key == "rmse" {
				order = "asc"
			}
		}
		c.Href = q.with("sort", c.Key, "order", order)
		p.Columns = append(p.Columns, c)
	}
	s.render(w, r, runsTmpl, "runs", "Runs", p)
}

// compareRow is one fact of the comparison, per run.
type compareRow struct {
	Name   string
	Values []string
	Differ bool
}

type comparePage struct {
	Runs []*runRow
	Rows []compareRow
}

func (s *Server) handleCompare(w http.ResponseWriter, r *http.Request) {
	var ids []string
	for _, id := range r.URL.Query()["run"] {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) < 2 {
		s.fail(w, r, http.StatusBadRequest, "compare: pick two or more runs (the checkboxes of the runs list)")
		return
	}
	const maxCompare = 20
	if len(ids) > maxCompare {
		s.fail(w, r, http.StatusBadRequest, fmt.Sprintf("compare: at most %d runs at once, got %d", maxCompare, len(ids)))
		return
	}
	for _, id := range ids {
		if _, err := s.store.RunDir(id); err != nil {
			s.fail(w, r, http.StatusNotFound, fmt.Sprintf("no run %q in this registry", id))
			return
		}
	}
	rows, err := s.runs.load(r.Context(), filepath.Join(s.store.Root(), "runs"), ids)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	s.render(w, r, compareTmpl, "runs", "Compare runs", comparePage{Runs: rows, Rows: compareFacts(rows)})
}

// compareFacts lays the runs side by side: one row per fact, marked when
// the runs differ on it.
func compareFacts(runs []*runRow) []compareRow {
	var out []compareRow
	// Timings always differ; only the other facts are highlighted.
	timing := map[string]bool{"started": true, "duration": true}
	add := func(name string, f func(r *runRow) string) {
		row := compareRow{Name: name}
		for _, r := range runs {
			row.Values = append(row.Values, f(r))
		}
		for _, v := range row.Values[1:] {
			if v != row.Values[0] && !timing[name] && !strings.HasPrefix(name, "stage ") {
				row.Differ = true
			}
		}
		out = append(out, row)
	}
	metric := func(p *float64) string {
		if p == nil {
			return "—"
		}
		return fmt.Sprintf("%.4f", *p)
	}
	add("status", func(r *runRow) string { return r.Status })
	add("started", func(r *runRow) string { return r.Started })
	add("duration", func(r *runRow) string { return fmtDuration(r.Duration) })
	add("code version", func(r *runRow) string { return r.Code })
	add("config", func(r *runRow) string { return r.Config })
	add("data", func(r *runRow) string { return r.Source })
	add("data fingerprint", func(r *runRow) string { return short(r.Fingerprint, 19) })
	add("rows", func(r *runRow) string { return numfmt.Thousands(r.Rows) })
	add("model", func(r *runRow) string { return r.Model })
	var params []string
	for _, r := range runs {
		for k := range r.Params {
			if !slices.Contains(params, k) {
				params = append(params, k)
			}
		}
	}
	slices.Sort(params)
	for _, k := range params {
		add("param "+k, func(r *runRow) string { return r.Params[k] })
	}
	add("validation score", func(r *runRow) string {
		if r.Valid == nil {
			return "—"
		}
		return r.ValidMetric + " " + metric(r.Valid)
	})
	add("threshold", func(r *runRow) string { return metric(r.Threshold) })
	add("test ROC AUC", func(r *runRow) string { return metric(r.AUC) })
	add("test PR AUC", func(r *runRow) string { return metric(r.PRAUC) })
	add("test log loss", func(r *runRow) string { return metric(r.LogLoss) })
	add("test accuracy", func(r *runRow) string { return metric(r.Accuracy) })
	add("test Brier", func(r *runRow) string { return metric(r.Brier) })
	add("test ECE", func(r *runRow) string { return metric(r.ECE) })
	add("test F1", func(r *runRow) string { return metric(r.F1) })
	add("test macro F1", func(r *runRow) string { return metric(r.MacroF1) })
	add("test RMSE", func(r *runRow) string { return metric(r.RMSE) })
	add("test MAE", func(r *runRow) string { return metric(r.MAE) })
	add("test R²", func(r *runRow) string { return metric(r.R2) })
	add("gate", func(r *runRow) string {
		if r.Gate == "" {
			return "—"
		}
		return fmt.Sprintf("%s (v%d)", r.Gate, r.Version)
	})
	add("gate reason", func(r *runRow) string { return r.GateReason })
	var stages []string
	for _, r := range runs {
		for _, st := range r.Stages {
			if !slices.Contains(stages, st.Name) {
				stages = append(stages, st.Name)
			}
		}
	}
	for _, name := range stages {
		add("stage "+name, func(r *runRow) string {
			for _, st := range r.Stages {
				if st.Name == name {
					v := fmtDuration(st.Duration)
					if st.Cache != "" {
						v += " (cache " + st.Cache + ")"
					}
					return v
				}
			}
			return "—"
		})
	}
	// Drop the rows that say nothing for any run.
	return slices.DeleteFunc(out, func(c compareRow) bool {
		for _, v := range c.Values {
			if v != "" && v != "—" {
				return false
			}
		}
		return true
	})
}
