package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/ingest"
)

// The tests below run real processes: the mlpipe and mlserve binaries,
// built once into a temporary directory, and (TestPrometheus) Debian's
// Prometheus server. They listen on 127.0.0.1 only and stop by
// themselves. -short skips them.

var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

// binaries builds bin/mlpipe and bin/mlserve once per test binary.
func binaries(t testing.TB) (mlpipe, mlserve string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the mlpipe and mlserve binaries")
	}
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "mlserve-process-test-")
		if binErr != nil {
			return
		}
		for _, pkg := range []string{"mlpipe", "mlserve"} {
			out, err := exec.Command("go", "build", "-o", filepath.Join(binDir, pkg), "../"+pkg).CombinedOutput()
			if err != nil {
				binErr = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
				return
			}
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return filepath.Join(binDir, "mlpipe"), filepath.Join(binDir, "mlserve")
}

// fixtureRegistry runs the pipeline on the fixture twice into a new
// registry: version 1 in production, version 2 registered beside it
// (kept out of production by the gate, or identical to it).
func fixtureRegistry(t *testing.T, mlpipe string) string {
	t.Helper()
	reg := t.TempDir()
	cfg := filepath.Join(t.TempDir(), "fixture.yaml")
	b, err := os.ReadFile("../../testdata/flights-10k.yaml")
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs("../../testdata/flights-10k.parquet")
	src := strings.Replace(string(b), "path: flights-10k.parquet", "path: "+abs, 1)
	if err := os.WriteFile(cfg, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	for i, models := range []string{"logreg", "gbdt"} {
		cmd := exec.Command(mlpipe, "run", "--config", cfg, "--registry", reg, "--out", "", "--models", models, "--log-level", "warn")
		if out, err := cmd.CombinedOutput(); err != nil && !strings.Contains(string(out), "REJECTED") {
			t.Fatalf("run %d: %v\n%s", i+1, err, out)
		}
	}
	return reg
}

// proc is a running process listening on 127.0.0.1.
type proc struct {
	cmd  *exec.Cmd
	addr string
	logs *bytes.Buffer
}

// start runs bin with args plus --addr 127.0.0.1:0-like port, and waits
// until GET /readyz answers 200.
func start(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := &proc{addr: addr, logs: &bytes.Buffer{}}
	s.cmd = exec.Command(bin, append(args, "--addr", addr)...)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = s.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = s.cmd.Process.Kill()
		}
	})
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never became ready:\n%s", bin, s.logs.String())
		}
	}
}

// flights are real fixture rows (June), as requests.
var flights = []string{
	`{"date":"2001-06-13T08:02:00","distance":329,"origin":"CLT","destination":"JAX"}`,
	`{"date":"2001-06-15T08:30:00","distance":1250,"origin":"ATL","destination":"LAX"}`,
	`{"date":"2001-06-15T18:05:00","distance":337,"origin":"SFO","destination":"LAX"}`,
	`{"date":"2001-06-20T06:45:00","distance":733,"origin":"ORD","destination":"DFW"}`,
	`{"date":"2001-06-30T21:10:00","distance":2475,"origin":"JFK","destination":"LAX"}`,
}

type prediction struct {
	Version     int     `json:"version"`
	Probability float64 `json:"probability"`
	Label       string  `json:"label"`
}

func postPredict(client *http.Client, addr, body string) (prediction, int, error) {
	resp, err := client.Post("http://"+addr+"/v1/models/flights-delay/predict", "application/json", strings.NewReader(body))
	if err != nil {
		return prediction{}, 0, err
	}
	defer resp.Body.Close()
	var p prediction
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		err = json.Unmarshal(b, &p)
	}
	return p, resp.StatusCode, err
}

// TestPromoteUnderLoad sends a bounded load to a real mlserve process,
// promotes version 2 in the middle of it with `mlpipe models promote`,
// and checks that not one request failed and that version 2 answers
// once the swap is done.
func TestPromoteUnderLoad(t *testing.T) {
	mlpipe, mlserve := binaries(t)
	reg := fixtureRegistry(t, mlpipe)
	srv := start(t, mlserve, "--registry", reg, "--model", "flights-delay", "--poll", "100ms")

	const workers, perWorker = 8, 250 // 2,000 requests in all
	var sent, failed, sawV2 atomic.Int64
	var firstErr atomic.Value
	promoted := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				p, code, err := postPredict(client, srv.addr, flights[(w+i)%len(flights)])
				sent.Add(1)
				if err != nil || code != http.StatusOK {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("status %d, %v", code, err))
					continue
				}
				if p.Version == 2 {
					sawV2.Add(1)
				}
				if w == 0 && i == perWorker/4 {
					close(promoted) // a quarter of the way in
				}
			}
		}()
	}
	<-promoted
	if out, err := exec.Command(mlpipe, "models", "promote", "flights-delay@2", "--registry", reg).CombinedOutput(); err != nil {
		t.Fatalf("promote: %v\n%s", err, out)
	}
	wg.Wait()
	if n := failed.Load(); n != 0 {
		t.Errorf("%d of %d requests failed during the swap; first: %v", n, sent.Load(), firstErr.Load())
	}
	// After the swap (polled every 100 ms), version 2 answers.
	deadline := time.Now().Add(10 * time.Second)
	for {
		p, code, err := postPredict(client, srv.addr, flights[0])
		if err == nil && code == http.StatusOK && p.Version == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("version 2 never answered: %+v %d %v\n%s", p, code, err, srv.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("%d requests, %d answered by version 2 during the load, 0 failed", sent.Load(), sawV2.Load())
}

// TestExportedBinary exports the production model to one executable,
// runs it with no registry, and compares its answers with mlserve's.
func TestExportedBinary(t *testing.T) {
	mlpipe, mlserve := binaries(t)
	reg := fixtureRegistry(t, mlpipe)
	exe := filepath.Join(t.TempDir(), "flights-delay-server")
	if out, err := exec.Command(mlpipe, "export", "--model", "flights-delay@production", "-o", exe,
		"--registry", reg, "--server", mlserve).CombinedOutput(); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	ver, err := exec.Command(exe, "--version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(ver), "flights-delay v1 (bundle sha256:") || !strings.Contains(string(ver), "data sha256:") {
		t.Fatalf("--version: %v\n%s", err, ver)
	}
	// One bit of the embedded features.json changed ("ORD" becomes "ORE"):
	// the exported binary refuses to start, naming the file, as mlserve
	// refuses such a bundle in a registry (the same manifest check).
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	server, _ := os.Stat(mlserve)
	at := server.Size() + int64(bytes.Index(b[server.Size():], []byte("bundle/features.json")))
	i := bytes.Index(b[at:], []byte(`"ORD"`))
	if at < server.Size() || i < 0 {
		t.Fatal(`no "ORD" in the exported features.json`)
	}
	b[at+int64(i)+3] ^= 1
	damaged := filepath.Join(t.TempDir(), "damaged-server")
	if err := os.WriteFile(damaged, b, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(damaged, "--addr", "127.0.0.1:0").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "features.json has sha256") {
		t.Errorf("a damaged export: %v\n%s", err, out)
	}
	// The exported binary runs from an empty directory: no registry, no data.
	exported := start(t, exe, "--no-log")
	served := start(t, mlserve, "--registry", reg, "--model", "flights-delay@1", "--no-log")
	client := &http.Client{Timeout: 10 * time.Second}
	for _, body := range flights {
		a, codeA, errA := postPredict(client, exported.addr, body)
		b, codeB, errB := postPredict(client, served.addr, body)
		if errA != nil || errB != nil || codeA != 200 || codeB != 200 {
			t.Fatalf("%s: exported %d %v, mlserve %d %v", body, codeA, errA, codeB, errB)
		}
		if a != b {
			t.Errorf("%s: exported %+v, mlserve %+v", body, a, b)
		}
	}
}

// TestPrometheus starts Debian's Prometheus server on loopback, has it
// scrape a real mlserve, and asks it for the request count in PromQL.
func TestPrometheus(t *testing.T) {
	mlpipe, mlserve := binaries(t)
	prom, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatal("prometheus is not installed (Debian package prometheus; .ci/run installs it)")
	}
	reg := fixtureRegistry(t, mlpipe)
	srv := start(t, mlserve, "--registry", reg, "--model", "flights-delay", "--no-log")
	client := &http.Client{Timeout: 10 * time.Second}
	const requests = 20
	for i := range requests {
		if _, code, err := postPredict(client, srv.addr, flights[i%len(flights)]); err != nil || code != 200 {
			t.Fatalf("predict: %d %v", code, err)
		}
	}
	dir := t.TempDir()
	config := fmt.Sprintf("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: mlserve\n    static_configs:\n      - targets: ['%s']\n", srv.addr)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	promAddr := ln.Addr().String()
	ln.Close()
	var logs bytes.Buffer
	cmd := exec.Command(prom, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+promAddr)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	query := `sum(mlserve_http_requests_total{route="POST /v1/models/{name}/predict",code="200"})`
	deadline := time.Now().Add(60 * time.Second)
	for {
		v, err := promQuery(client, promAddr, query)
		if err == nil && v == requests {
			t.Logf("Prometheus answered %s = %v", query, v)
			dashboardQueries(t, client, promAddr)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answer %d from Prometheus within 60 s (last: %v, %v)\n%s", requests, v, err, tail(logs.String()))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// dashboardQueries runs every query of the Grafana dashboard in
// deploy/kubernetes against the Prometheus that scrapes mlserve: each
// must be valid PromQL, and those on request metrics must return data.
func dashboardQueries(t *testing.T, client *http.Client, addr string) {
	b, err := os.ReadFile("../../deploy/kubernetes/mlserve-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			// A rate needs two scrapes of a series: wait for them.
			for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Second) {
				if v, err := promQuery(client, addr, "count_over_time(mlserve_http_requests_in_flight[5m])"); err == nil && v >= 2 || time.Now().After(deadline) {
					break
				}
			}
			resp, err := client.Get("http://" + addr + "/api/v1/query?query=" + url.QueryEscape(tg.Expr))
			if err != nil {
				t.Fatal(err)
			}
			var r struct {
				Status string `json:"status"`
				Error  string `json:"error"`
				Data   struct {
					Result []json.RawMessage `json:"result"`
				} `json:"data"`
			}
			err = json.NewDecoder(resp.Body).Decode(&r)
			resp.Body.Close()
			if err != nil || r.Status != "success" {
				t.Errorf("dashboard panel %q: %s: %s %s %v", p.Title, tg.Expr, r.Status, r.Error, err)
				continue
			}
			if strings.Contains(tg.Expr, "mlserve_http_requests_total") && len(r.Data.Result) == 0 {
				t.Errorf("dashboard panel %q: %s: no data", p.Title, tg.Expr)
			}
			n++
		}
	}
	t.Logf("the dashboard's %d queries ran", n)
}

// promQuery runs an instant PromQL query and returns its single value.
func promQuery(client *http.Client, addr, q string) (float64, error) {
	resp, err := client.Get("http://" + addr + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return 0, err
	}
	if r.Status != "success" || len(r.Data.Result) != 1 {
		return 0, fmt.Errorf("status %s, %d results", r.Status, len(r.Data.Result))
	}
	var v float64
	_, err = fmt.Sscan(fmt.Sprint(r.Data.Result[0].Value[1]), &v)
	return v, err
}

func tail(s string) string {
	sc := bufio.NewScanner(strings.NewReader(s))
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return strings.Join(lines[max(0, len(lines)-15):], "\n")
}

// TestMonitorReplay replays a week of June flights from the fixture
// through a real mlserve (batches of 50, each flight's true label sent
// afterwards as a delayed label), stops it so that the prediction log is
// flushed, and runs `mlpipe monitor` on that log: every prediction and
// label is there, and the report covers drift and performance.
func TestMonitorReplay(t *testing.T) {
	mlpipe, mlserve := binaries(t)
	reg := fixtureRegistry(t, mlpipe)
	// Live drift gauges over the last 300 requests: fewer than the week.
	srv := start(t, mlserve, "--registry", reg, "--model", "flights-delay", "--drift-window", "300")
	cfg, err := config.Load("../../testdata/flights-10k.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ds, err := ingest.Load(context.Background(), cfg.Data, cfg.Schema, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Release()
	week, err := ingest.TimeSlice(context.Background(), ds.Table, "date",
		time.Date(2001, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(2001, 6, 8, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	defer week.Release()
	labels, err := cfg.Label.Derive(week)
	if err != nil {
		t.Fatal(err)
	}
	dates, dist := column(t, week, "date"), column(t, week, "distance")
	orig, dest := column(t, week, "origin"), column(t, week, "destination")
	n := int(week.NumRows())
	client := &http.Client{Timeout: 10 * time.Second}
	post := func(path, id string, body any) {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, "http://"+srv.addr+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Request-Id", id)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			msg, _ := io.ReadAll(resp.Body)
			t.Fatalf("POST %s: %d %s", path, resp.StatusCode, msg)
		}
	}
	const batch = 50
	for lo := 0; lo < n; lo += batch {
		hi := min(lo+batch, n)
		var instances, truth []map[string]any
		id := fmt.Sprintf("replay-%d", lo)
		for i := lo; i < hi; i++ {
			instances = append(instances, map[string]any{"date": dates[i], "distance": dist[i], "origin": orig[i], "destination": dest[i]})
			truth = append(truth, map[string]any{"id": fmt.Sprintf("%s#%d", id, i-lo), "label": labels.Y[i] == 1})
		}
		post("/v1/models/flights-delay/predict", id, map[string]any{"instances": instances})
		post("/v1/models/flights-delay/labels", id+"-labels", map[string]any{"labels": truth})
	}
	// The live gauges (refreshed every second, off the request path).
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		resp, err := client.Get("http://" + srv.addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		// A binary model with a calibration map: the estimated AUC too.
		if bytes.Contains(b, []byte(`mlserve_drift_psi{series="distance"}`)) && bytes.Contains(b, []byte(`mlserve_estimated_roc_auc{bound="estimate"}`)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no live drift gauge or estimated ROC AUC on /metrics after 15 s")
		}
	}
	// SIGINT: mlserve drains and closes the log.
	_ = srv.cmd.Process.Signal(os.Interrupt)
	if err := srv.cmd.Wait(); err != nil {
		t.Fatalf("mlserve exit: %v\n%s", err, srv.logs.String())
	}
	out, err := exec.Command(mlpipe, "monitor", "--registry", reg, "--model", "flights-delay",
		"--from", "2000-01-01T00:00:00Z", "--to", time.Now().Add(time.Hour).UTC().Format(time.RFC3339), "--json").Output()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() != 6 { // 6: retrain recommended, also a report
		t.Fatalf("monitor: %v\n%s%s", err, out, ee.Stderr)
	}
	var r struct {
		Status      string `json:"status"`
		Predictions int    `json:"predictions"`
		Features    []struct {
			Name   string `json:"name"`
			Status string `json:"status"`
		} `json:"features"`
		Performance *struct {
			Labelled int      `json:"labelled"`
			ROCAUC   *float64 `json:"roc_auc"`
		} `json:"performance"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("monitor --json: %v\n%s", err, out)
	}
	if r.Predictions != n || r.Performance == nil || r.Performance.Labelled != n || r.Performance.ROCAUC == nil {
		t.Errorf("monitor saw %d predictions, performance %+v; want %d predictions, all labelled, an AUC", r.Predictions, r.Performance, n)
	}
	var names []string
	for _, f := range r.Features {
		names = append(names, f.Name)
	}
	// The timestamp is watched as its hour of day and day of week
	// (docs/monitoring.md).
	if got, want := strings.Join(names, ","), "date:hour,date:day_of_week,distance,origin,destination"; got != want {
		t.Errorf("features in the report: %s, want %s", got, want)
	}
	t.Logf("replayed %d June flights: status %s, AUC %.4f", n, r.Status, *r.Performance.ROCAUC)
}

// column returns a column's values as JSON request values: timestamps
// as "2001-06-15T08:30:00", the rest as they are.
func column(t *testing.T, tbl arrow.Table, name string) []any {
	t.Helper()
	j := tbl.Schema().FieldIndices(name)[0]
	var out []any
	for _, ch := range tbl.Column(j).Data().Chunks() {
		for i := range ch.Len() {
			switch a := ch.(type) {
			case *array.Timestamp:
				out = append(out, time.UnixMicro(int64(a.Value(i))).UTC().Format("2006-01-02T15:04:05"))
			case *array.Int64:
				out = append(out, a.Value(i))
			case *array.String:
				out = append(out, a.Value(i))
			default:
				t.Fatalf("column %s: unexpected type %s", name, ch.DataType())
			}
		}
	}
	return out
}
