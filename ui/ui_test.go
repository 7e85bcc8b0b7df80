package ui_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlpipe/mlpipe/backtest"
	"github.com/mlpipe/mlpipe/monitor"
	"github.com/mlpipe/mlpipe/pipeline"
	"github.com/mlpipe/mlpipe/registry"
	"github.com/mlpipe/mlpipe/ui"
	"github.com/mlpipe/mlpipe/ui/uitest"
)

const fixtureConfig = "../testdata/flights-10k.yaml"

// fixture is a registry with two real runs of the fixture config: the
// first promoted as version 1, the second registered as version 2 and
// kept out (it scores the same). Tests that move aliases make their own.
var fixture struct {
	once sync.Once
	dir  string
	ids  []string
	err  error
}

func shared(t testing.TB) (*registry.Store, []string) {
	t.Helper()
	fixture.once.Do(func() {
		fixture.dir, fixture.err = os.MkdirTemp("", "ui-test-")
		for range 2 {
			if fixture.err != nil {
				return
			}
			var id string
			id, fixture.err = uitest.Run(t.Context(), fixtureConfig, fixture.dir)
			fixture.ids = append(fixture.ids, id)
		}
	})
	if fixture.err != nil {
		t.Fatalf("fixture: %v", fixture.err)
	}
	store, err := registry.Open(fixture.dir)
	if err != nil {
		t.Fatal(err)
	}
	return store, fixture.ids
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixture.dir != "" {
		os.RemoveAll(fixture.dir)
	}
	os.Exit(code)
}

// get serves one request and returns the status and body.
func do(t testing.TB, h http.Handler, method, target string, form url.Values) (int, string, http.Header) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String(), rec.Header()
}

// TestRoutes checks the status of every route, for good requests and
// for clients' mistakes (which are never a 500).
func TestRoutes(t *testing.T) {
	store, ids := shared(t)
	h := ui.Handler(store, ui.Options{})
	a, b := ids[0], ids[1]
	tests := []struct {
		name, method, target string
		code                 int
		want                 string // a substring of the body
	}{
		{"OK/root", "GET", "/", http.StatusSeeOther, ""},
		{"OK/runs", "GET", "/runs", http.StatusOK, `id="run-` + a + `"`},
		{"OK/runs-sorted", "GET", "/runs?sort=auc&order=asc", http.StatusOK, "test ROC AUC ▲"},
		{"OK/run", "GET", "/runs/" + a, http.StatusOK, `<section id="curves">`},
		{"OK/compare", "GET", "/compare?run=" + a + "&run=" + b, http.StatusOK, `id="compare-table"`},
		{"OK/models", "GET", "/models", http.StatusOK, `href="/models/flights-delay"`},
		{"OK/model", "GET", "/models/flights-delay", http.StatusOK, `id="v2"`},
		{"OK/monitoring", "GET", "/monitoring", http.StatusOK, `No monitor reports yet`},
		{"ErrUnknownRun", "GET", "/runs/20990101T000000000000-ffffff", http.StatusNotFound, "no run"},
		{"ErrTraversalRun", "GET", "/runs/..%2F..%2Fmodels", http.StatusNotFound, ""},
		// The mux cleans the path and redirects to it: "/".
		{"ErrTraversalRunDots", "GET", "/runs/..", http.StatusTemporaryRedirect, ""},
		{"ErrUnknownModel", "GET", "/models/nope", http.StatusNotFound, "no model"},
		{"ErrTraversalModel", "GET", "/models/..%2Fruns", http.StatusNotFound, ""},
		{"ErrUnknownPage", "GET", "/nope", http.StatusNotFound, ""},
		{"ErrBadSort", "GET", "/runs?sort=nope", http.StatusBadRequest, "sort"},
		{"ErrBadOrder", "GET", "/runs?order=up", http.StatusBadRequest, "order"},
		{"ErrBadMinAUC", "GET", "/runs?min_auc=2", http.StatusBadRequest, "min_auc"},
		{"ErrBadLimit", "GET", "/runs?limit=-1", http.StatusBadRequest, "limit"},
		{"ErrCompareOne", "GET", "/compare?run=" + a, http.StatusBadRequest, "two or more"},
		{"ErrCompareSame", "GET", "/compare?run=" + a + "&run=" + a, http.StatusBadRequest, "two or more"},
		{"ErrCompareUnknown", "GET", "/compare?run=" + a + "&run=nope", http.StatusNotFound, "nope"},
		{"ErrCompareTraversal", "GET", "/compare?run=" + a + "&run=../models", http.StatusNotFound, ""},
		{"ErrMethod", "POST", "/runs", http.StatusMethodNotAllowed, ""},
		{"ErrGetAction", "GET", "/models/flights-delay/promote", http.StatusNotFound, ""},
		{"ErrActionsDisabled", "POST", "/models/flights-delay/promote", http.StatusForbidden, "--allow-actions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body, hdr := do(t, h, tt.method, tt.target, nil)
			if code != tt.code {
				t.Errorf("%s %s: %d, want %d\n%.500s", tt.method, tt.target, code, tt.code, body)
			}
			if !strings.Contains(body, tt.want) {
				t.Errorf("%s %s: body lacks %q:\n%.2000s", tt.method, tt.target, tt.want, body)
			}
			if strings.Contains(strings.ToLower(body), "<script") {
				t.Errorf("%s %s: page has a script", tt.method, tt.target)
			}
			if code != http.StatusMethodNotAllowed && !strings.Contains(hdr.Get("Content-Security-Policy"), "default-src 'none'") {
				t.Errorf("%s %s: Content-Security-Policy %q", tt.method, tt.target, hdr.Get("Content-Security-Policy"))
			}
		})
	}
}

// TestReadOnly checks that without AllowActions the model page has no
// action buttons and no token.
func TestReadOnly(t *testing.T) {
	store, _ := shared(t)
	_, body, _ := do(t, ui.Handler(store, ui.Options{}), "GET", "/models/flights-delay", nil)
	for _, bad := range []string{"<button", `name="csrf"`, `method="post"`} {
		if strings.Contains(body, bad) {
			t.Errorf("read-only model page contains %q", bad)
		}
	}
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// TestActions promotes and rolls back through the dashboard, as `mlpipe
// models promote` and `rollback` would, and checks every refusal.
func TestActions(t *testing.T) {
	dir, _ := uitest.Registry(t, fixtureConfig, 2)
	store, err := registry.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	h := ui.Handler(store, ui.Options{AllowActions: true})
	_, page, _ := do(t, h, "GET", "/models/flights-delay", nil)
	m := csrfRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("model page has no CSRF token:\n%s", page)
	}
	token := m[1]
	if !strings.Contains(page, `id="promote-v2"`) || strings.Contains(page, `id="promote-v1"`) {
		t.Errorf("want a promote button for v2 only (v1 is production)")
	}
	if strings.Contains(page, `id="rollback"`) {
		t.Errorf("rollback button without a previous version")
	}
	prod := func() (int, int) {
		p, _ := store.Alias("flights-delay", pipeline.AliasProduction)
		q, _ := store.Alias("flights-delay", pipeline.AliasPrevious)
		return p, q
	}
	post := func(action string, form url.Values) (int, string) {
		code, body, _ := do(t, h, "POST", "/models/flights-delay/"+action, form)
		return code, body
	}
	for _, tt := range []struct {
		name, action string
		form         url.Values
		code         int
	}{
		{"ErrNoToken", "promote", url.Values{"version": {"2"}}, http.StatusForbidden},
		{"ErrWrongToken", "promote", url.Values{"version": {"2"}, "csrf": {strings.Repeat("0", len(token))}}, http.StatusForbidden},
		{"ErrBadVersion", "promote", url.Values{"version": {"two"}, "csrf": {token}}, http.StatusBadRequest},
		{"ErrUnknownVersion", "promote", url.Values{"version": {"9"}, "csrf": {token}}, http.StatusNotFound},
		{"ErrNothingToRollBack", "rollback", url.Values{"csrf": {token}}, http.StatusConflict},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if code, body := post(tt.action, tt.form); code != tt.code {
				t.Errorf("%d, want %d\n%.300s", code, tt.code, body)
			}
			if p, q := prod(); p != 1 || q != 0 {
				t.Errorf("aliases moved: production %d, previous %d", p, q)
			}
		})
	}
	t.Run("ErrLocked", func(t *testing.T) {
		unlock, err := store.Lock(t.Context(), false)
		if err != nil {
			t.Fatal(err)
		}
		defer unlock()
		if code, body := post("promote", url.Values{"version": {"2"}, "csrf": {token}}); code != http.StatusConflict || !strings.Contains(body, "locked") {
			t.Errorf("%d, want 409 naming the lock\n%.300s", code, body)
		}
	})
	t.Run("ErrVersionDoesNotLoad", func(t *testing.T) {
		// v2's model.json damaged: the promotion check refuses it (409,
		// naming the file) and production stays at v1.
		v2, _ := store.VersionDir("flights-delay", 2)
		p := filepath.Join(v2, "model.json")
		good, _ := os.ReadFile(p)
		os.Chmod(p, 0o644)
		if err := os.WriteFile(p, append([]byte(" "), good...), 0o644); err != nil {
			t.Fatal(err)
		}
		defer os.WriteFile(p, good, 0o644)
		code, body := post("promote", url.Values{"version": {"2"}, "csrf": {token}})
		if code != http.StatusConflict || !strings.Contains(body, "model.json") {
			t.Errorf("%d, want 409 naming model.json\n%.300s", code, body)
		}
		if p, q := prod(); p != 1 || q != 0 {
			t.Errorf("aliases moved: production %d, previous %d", p, q)
		}
	})
	t.Run("OK/promote", func(t *testing.T) {
		code, _ := post("promote", url.Values{"version": {"2"}, "csrf": {token}})
		if code != http.StatusSeeOther {
			t.Fatalf("%d, want 303", code)
		}
		if p, q := prod(); p != 2 || q != 1 {
			t.Errorf("production %d, previous %d; want 2, 1", p, q)
		}
		_, page, _ := do(t, h, "GET", "/models/flights-delay?production=2", nil)
		if !strings.Contains(page, `id="rollback"`) || !strings.Contains(page, "Production now points at version 2") {
			t.Errorf("after promote: no rollback button or notice")
		}
	})
	t.Run("OK/rollback", func(t *testing.T) {
		if code, _ := post("rollback", url.Values{"csrf": {token}}); code != http.StatusSeeOther {
			t.Fatalf("%d, want 303", code)
		}
		if p, q := prod(); p != 1 || q != 2 {
			t.Errorf("production %d, previous %d; want 1, 2", p, q)
		}
	})
}

// rowIDs returns the run ids of the runs table, in page order.
func rowIDs(page string) []string {
	var ids []string
	for _, m := range regexp.MustCompile(`<tr id="run-([^"]+)"`).FindAllStringSubmatch(page, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// generated returns a registry of n generated runs (copies of one real
// run with varied metrics) and the rows' facts, by id, read back from
// the summaries.
func generated(t testing.TB, n int) (*registry.Store, map[string]pipeline.Summary) {
	t.Helper()
	store, ids := shared(t)
	dir := t.TempDir()
	src := filepath.Join(store.Root(), "runs", ids[0])
	if err := os.MkdirAll(filepath.Join(dir, "runs", ids[0]), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"summary.json", "config.json"} {
		data, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "runs", ids[0], f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gen, err := uitest.Generate(dir, ids[0], n, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "runs", ids[0])); err != nil {
		t.Fatal(err)
	}
	out := map[string]pipeline.Summary{}
	for _, id := range gen {
		data, err := os.ReadFile(filepath.Join(dir, "runs", id, "summary.json"))
		if err != nil {
			t.Fatal(err)
		}
		var s pipeline.Summary
		if err := json.Unmarshal(data, &s); err != nil {
			t.Fatal(err)
		}
		out[id] = s
	}
	g, err := registry.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return g, out
}

// TestRunsList sorts and filters 60 generated runs on the server and
// checks the rows against the summaries.
func TestRunsList(t *testing.T) {
	store, sums := generated(t, 60)
	h := ui.Handler(store, ui.Options{})
	auc := func(id string) float64 { return sums[id].Evaluation.ROCAUC }
	tests := []struct {
		name  string
		query string
		check func(ids []string) error
	}{
		{"OK/default-newest-first", "", func(ids []string) error {
			if len(ids) != len(sums) {
				return fmt.Errorf("%d rows, want %d", len(ids), len(sums))
			}
			for i := 1; i < len(ids); i++ {
				if ids[i] > ids[i-1] {
					return fmt.Errorf("row %d %s after %s", i, ids[i], ids[i-1])
				}
			}
			return nil
		}},
		{"OK/auc-desc", "sort=auc", func(ids []string) error {
			for i := 1; i < len(ids); i++ {
				if auc(ids[i]) > auc(ids[i-1]) {
					return fmt.Errorf("row %d AUC %v after %v", i, auc(ids[i]), auc(ids[i-1]))
				}
			}
			return nil
		}},
		{"OK/auc-asc-limit", "sort=auc&order=asc&limit=5", func(ids []string) error {
			if len(ids) != 5 {
				return fmt.Errorf("%d rows, want 5", len(ids))
			}
			for id := range sums {
				if auc(id) < auc(ids[0]) {
					return fmt.Errorf("first row AUC %v, but %s has %v", auc(ids[0]), id, auc(id))
				}
			}
			return nil
		}},
		{"OK/status", "status=failed", func(ids []string) error {
			want := 0
			for _, s := range sums {
				if s.Status == "failed" {
					want++
				}
			}
			// The generator draws "failed" for 1 run in 8 (uitest.Generate).
			if want == 0 || len(ids) != want {
				return fmt.Errorf("%d rows, want %d (> 0)", len(ids), want)
			}
			for _, id := range ids {
				if sums[id].Status != "failed" {
					return fmt.Errorf("%s has status %s", id, sums[id].Status)
				}
			}
			return nil
		}},
		{"OK/min-auc-and-gate", "min_auc=0.7&gate=promoted", func(ids []string) error {
			for _, id := range ids {
				if s := sums[id]; s.Evaluation.ROCAUC < 0.7 || !s.Gate.Promote {
					return fmt.Errorf("%s: AUC %v, promote %v", id, s.Evaluation.ROCAUC, s.Gate.Promote)
				}
			}
			return nil
		}},
		{"OK/search", "q=20260101T05", func(ids []string) error {
			// One run per hour from 2026-01-01 00:00 (uitest.Generate).
			if len(ids) != 1 || !strings.HasPrefix(ids[0], "20260101T05") {
				return fmt.Errorf("rows %v, want the run of 05:00", ids)
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body, _ := do(t, h, "GET", "/runs?"+tt.query, nil)
			if code != http.StatusOK {
				t.Fatalf("%d\n%.300s", code, body)
			}
			if err := tt.check(rowIDs(body)); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestRunsCache checks that a run recorded after the list was first
// served shows up, and a removed one goes.
func TestRunsCache(t *testing.T) {
	store, sums := generated(t, 3)
	h := ui.Handler(store, ui.Options{})
	_, body, _ := do(t, h, "GET", "/runs", nil)
	if n := len(rowIDs(body)); n != 3 {
		t.Fatalf("%d rows, want 3", n)
	}
	if _, err := uitest.Run(t.Context(), fixtureConfig, store.Root()); err != nil {
		t.Fatal(err)
	}
	for id := range sums {
		if err := os.RemoveAll(filepath.Join(store.Root(), "runs", id)); err != nil {
			t.Fatal(err)
		}
		break
	}
	_, body, _ = do(t, h, "GET", "/runs", nil)
	if n := len(rowIDs(body)); n != 3 {
		t.Errorf("%d rows after one run added and one removed, want 3", n)
	}
}

// TestCompare checks that the facts where two runs differ are marked.
func TestCompare(t *testing.T) {
	store, ids := shared(t)
	_, body, _ := do(t, ui.Handler(store, ui.Options{}), "GET", "/compare?run="+ids[0]+"&run="+ids[1], nil)
	// The fixture's runs differ in their gate decision (promoted v1,
	// kept v2) and agree on the model and its test metrics.
	for _, tt := range []struct {
		row    string
		differ bool
	}{{"gate", true}, {"model", false}, {"test ROC AUC", false}, {"duration", false}} {
		re := regexp.MustCompile(`<tr( class="diff")?><th>` + regexp.QuoteMeta(tt.row) + `</th>`)
		m := re.FindStringSubmatch(body)
		if m == nil {
			t.Errorf("no row %q", tt.row)
			continue
		}
		if got := m[1] != ""; got != tt.differ {
			t.Errorf("row %q highlighted %v, want %v", tt.row, got, tt.differ)
		}
	}
}

// TestMonitoring serves the monitoring page of monitor reports and a
// backtest written into the registry.
func TestMonitoring(t *testing.T) {
	store, _ := shared(t)
	dir := t.TempDir()
	// A registry of its own: a copy of the models, with monitoring/ and
	// backtests/ beside them.
	if err := os.CopyFS(filepath.Join(dir, "models"), os.DirFS(filepath.Join(store.Root(), "models"))); err != nil {
		t.Fatal(err)
	}
	mdir := filepath.Join(dir, ui.MonitoringDir, "flights-delay")
	if err := os.MkdirAll(mdir, 0o755); err != nil {
		t.Fatal(err)
	}
	ptr := func(x float64) *float64 { return &x }
	day := time.Date(2001, 6, 1, 0, 0, 0, 0, time.UTC)
	for i, psi := range []float64{0.01, 0.31} { // 0.31 is above the PSI threshold of 0.2
		status := monitor.StatusOK
		if psi > 0.2 {
			status = monitor.StatusDrift
		}
		rep := monitor.Report{
			Model: "flights-delay", Version: 1, From: day.AddDate(0, 0, 7*i), To: day.AddDate(0, 0, 7*(i+1)),
			Predictions: 1000, Status: status, Retrain: status == monitor.StatusDrift,
			Drifted: i, Evaluated: 2, Reasons: []string{fmt.Sprintf("%d of 2 features drift", i)},
			Features: []monitor.Feature{
				{Name: "distance", Kind: "numeric", Status: status, PSI: ptr(psi)},
				{Name: "origin", Kind: "categorical", Status: monitor.StatusOK, PSI: ptr(0.02)},
			},
			Performance: &monitor.Performance{Status: monitor.StatusOK, Labelled: 900, ROCAUC: ptr(0.70 - 0.02*float64(i)),
				Test: &monitor.TestMetrics{ROCAUC: ptr(0.72)}},
			Thresholds: monitor.Thresholds{PSI: 0.2},
		}
		data, err := json.Marshal(rep)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(mdir, fmt.Sprintf("week-%d.json", i)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(mdir, "broken.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	bt := &backtest.Result{
		Model: "gbdt", Metric: "roc_auc", HigherIsBetter: true,
		Periods: []backtest.Period{
			{From: day, To: day.AddDate(0, 0, 7), Rows: 100}, {From: day.AddDate(0, 0, 7), To: day.AddDate(0, 0, 14), Rows: 100},
		},
		Policies: []backtest.PolicyResult{{
			Name: "never", Score: []float64{0.71, math.NaN()}, Version: []int{1, 1},
			Retrained: []bool{true, false}, Promoted: []bool{true, false}, Why: []string{"first", ""}, MeanScore: 0.71,
		}},
	}
	bdir := filepath.Join(dir, ui.BacktestsDir, "2001-06")
	if err := os.MkdirAll(bdir, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(bt)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bdir, "backtest.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := ui.ReadBacktest(filepath.Join(bdir, "backtest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(res.Policies[0].Score[1]) {
		t.Errorf("a null AUC reads back as %v, want NaN", res.Policies[0].Score[1])
	}
	mstore, err := registry.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	code, body, _ := do(t, ui.Handler(mstore, ui.Options{}), "GET", "/monitoring", nil)
	if code != http.StatusOK {
		t.Fatalf("%d\n%.500s", code, body)
	}
	for _, want := range []string{
		`id="drift-flights-delay"`, `<td class="cell drift" title="drift">0.310</td>`, `<td class="cell ok" title="ok">0.010</td>`,
		"Unreadable report: broken.json", `id="policies"`, "Drift: PSI per feature", "Performance: ROC AUC",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("monitoring page lacks %q", want)
		}
	}
	// The headline says how many features drift once, and counts with
	// thousands separators.
	headline := regexp.MustCompile(`<p id="headline-flights-delay">.*</p>`).FindString(body)
	if strings.Count(headline, "features drift") != 1 || !strings.Contains(headline, "1,000 predictions") {
		t.Errorf("headline: %s", headline)
	}
	// Two charts of the monitor reports and the backtest's.
	if n := strings.Count(body, "<svg"); n != 3 {
		t.Errorf("%d SVG charts, want 3", n)
	}
}

func TestCheckAddr(t *testing.T) {
	tests := []struct {
		addr   string
		remote bool
		err    error // nil, ui.ErrNotLoopback, or errAny
	}{
		{"127.0.0.1:8090", false, nil},
		{"127.0.0.1:0", false, nil},
		{"[::1]:8090", false, nil},
		{"localhost:8090", false, nil},
		{"0.0.0.0:8090", false, ui.ErrNotLoopback},
		{":8090", false, ui.ErrNotLoopback},
		{"192.168.1.10:8090", false, ui.ErrNotLoopback},
		{"example.com:80", false, ui.ErrNotLoopback},
		{"0.0.0.0:8090", true, nil},
		{"8090", false, errAny},
	}
	for _, tt := range tests {
		err := ui.CheckAddr(tt.addr, tt.remote)
		switch {
		case tt.err == nil && err != nil, tt.err != nil && err == nil:
			t.Errorf("CheckAddr(%q, %v) = %v, want %v", tt.addr, tt.remote, err, tt.err)
		case tt.err != nil && tt.err != errAny && !errors.Is(err, tt.err):
			t.Errorf("CheckAddr(%q, %v) = %v, want %v", tt.addr, tt.remote, err, tt.err)
		}
	}
}

var errAny = errors.New("any error")

// BenchmarkRunsList serves the runs list of a registry of 1,000 runs,
// sorted by test ROC AUC, from a warm cache (the steady state of a
// running dashboard). The target is under 100 ms.
func BenchmarkRunsList(b *testing.B) {
	store, _ := generated(b, 1000)
	h := ui.Handler(store, ui.Options{})
	if code, _, _ := do(b, h, "GET", "/runs", nil); code != http.StatusOK {
		b.Fatalf("status %d", code)
	}
	var bytes int
	for b.Loop() {
		_, body, _ := do(b, h, "GET", "/runs?sort=auc", nil)
		bytes = len(body)
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/page")
	b.ReportMetric(float64(bytes)/1e3, "page-KB")
}

// BenchmarkRunsListCold is the first request of a new dashboard on
// 1,000 runs: every summary.json is read and parsed once.
func BenchmarkRunsListCold(b *testing.B) {
	store, _ := generated(b, 1000)
	for b.Loop() {
		h := ui.Handler(store, ui.Options{})
		if code, _, _ := do(b, h, "GET", "/runs", nil); code != http.StatusOK {
			b.Fatalf("status %d", code)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/page")
}

// TestPrefix mounts the dashboard under /ui of another mux, as mlserve
// may: links and redirects carry the prefix.
func TestPrefix(t *testing.T) {
	store, ids := shared(t)
	mux := http.NewServeMux()
	mux.Handle("/ui/", http.StripPrefix("/ui", ui.Handler(store, ui.Options{Prefix: "/ui"})))
	code, _, hdr := do(t, mux, "GET", "/ui/", nil)
	if code != http.StatusSeeOther || hdr.Get("Location") != "/ui/runs" {
		t.Errorf("GET /ui/: %d to %q, want 303 to /ui/runs", code, hdr.Get("Location"))
	}
	code, body, _ := do(t, mux, "GET", "/ui/runs", nil)
	if code != http.StatusOK {
		t.Fatalf("GET /ui/runs: %d", code)
	}
	for _, want := range []string{`href="/ui/runs/` + ids[0] + `"`, `action="/ui/compare"`, `href="/ui/models"`, `href="/ui/runs?order=`} {
		if !strings.Contains(body, want) {
			t.Errorf("runs page lacks %q", want)
		}
	}
	if strings.Contains(body, `href="/runs`) || strings.Contains(body, `href="/models`) {
		t.Error("runs page has a link without the prefix")
	}
	if code, body, _ := do(t, mux, "GET", "/ui/runs/"+ids[0], nil); code != http.StatusOK || !strings.Contains(body, `href="/ui/models"`) {
		t.Errorf("GET /ui/runs/ID: %d; nav with the prefix: %v", code, strings.Contains(body, `href="/ui/models"`))
	}
}
