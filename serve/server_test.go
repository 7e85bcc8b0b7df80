package serve_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlpipe/mlpipe/serve"
)

func TestHealth(t *testing.T) {
	loaded := newServer(t, serve.Options{})
	draining := newServer(t, serve.Options{})
	draining.SetNotReady("draining")
	empty := serve.New(serve.Options{})
	tests := []struct {
		name     string
		s        *serve.Server
		path     string
		wantCode int
		wantBody string
	}{
		{"OK/live", empty, "/healthz", 200, `"status":"ok"`},
		{"ErrNotReady", empty, "/readyz", 503, `"error":"no model is loaded"`},
		{"OK/ready", loaded, "/readyz", 200, `"status":"ready"`},
		{"ErrDraining", draining, "/readyz", 503, `draining`},
		{"ErrPredictNotReady", empty, "/v1/models/flights-delay", 503, `"error":"no model is loaded"`},
		{"OK/openapi", empty, "/openapi.json", 200, `"openapi"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := do(tt.s.Handler(), "GET", tt.path, "")
			if rec.Code != tt.wantCode {
				t.Errorf("code = %d, want %d", rec.Code, tt.wantCode)
			}
			if !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("body = %q, want it to contain %q", rec.Body.String(), tt.wantBody)
			}
		})
	}
}

// TestOpenAPI checks that /openapi.json is an OpenAPI 3 document that
// documents every route of the native API (and the operational ones).
// TestRouting: a method and path find their route (GET also answers
// HEAD); a path with routes for other methods only gets 405 with those
// methods in Allow; an unknown path 404.
func TestRouting(t *testing.T) {
	s := newServer(t, serve.Options{})
	tests := []struct {
		method, path string
		code         int
		allow        string
	}{
		{"GET", "/healthz", 200, ""},
		{"HEAD", "/healthz", 200, ""},
		{"GET", "/v2", 200, ""},
		{"GET", "/v2/", 200, ""},
		{"GET", "/v2/models/flights-delay/versions/1/ready", 200, ""},
		{"GET", predictPath, 405, "POST"},
		{"DELETE", "/v2", 405, "GET, HEAD"},
		{"POST", "/v1/models/flights-delay", 405, "GET, HEAD"},
		{"PUT", "/v2/models/flights-delay/infer", 405, "POST"},
		{"GET", "/v3", 404, ""},
		{"POST", "/v1/models/flights-delay/predict/more", 404, ""},
	}
	for _, tt := range tests {
		rec := do(s.Handler(), tt.method, tt.path, "")
		if rec.Code != tt.code || rec.Header().Get("Allow") != tt.allow {
			t.Errorf("%s %s: %d, Allow %q; want %d, Allow %q", tt.method, tt.path, rec.Code, rec.Header().Get("Allow"), tt.code, tt.allow)
		}
	}
}

func TestOpenAPI(t *testing.T) {
	s := serve.New(serve.Options{})
	rec := do(s.Handler(), "GET", "/openapi.json", "")
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	decodeBody(t, rec, &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi = %q, want 3.x", doc.OpenAPI)
	}
	for _, r := range s.Routes() {
		if r.API == "oip" {
			continue // documented by the OIP specification
		}
		method, path, _ := strings.Cut(r.Pattern, " ")
		if _, ok := doc.Paths[path][strings.ToLower(method)]; !ok {
			t.Errorf("openapi.json lacks %s %s", method, path)
		}
	}
}

func TestRequestID(t *testing.T) {
	s := newServer(t, serve.Options{})
	tests := []struct {
		name, in string
		keep     bool
	}{
		{"OK/kept", "abc-123_x.y:z", true},
		{"OK/uuid", "0b5a3c1e-8f1d-4e6b-9a7c-2d4e6f8a0b1c", true},
		{"Replaced/space", "a b", false},
		{"Replaced/quote", `a"b`, false},
		{"Replaced/long", strings.Repeat("a", 129), false}, // over the 128-character limit of requestID
		{"Replaced/empty", "", false},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := do(s.Handler(), "POST", predictPath, good, "X-Request-Id", tt.in)
			got := rec.Header().Get("X-Request-Id")
			var resp nativeResponse
			decodeBody(t, rec, &resp)
			if resp.ID != got {
				t.Errorf("body id %q, header %q", resp.ID, got)
			}
			if (got == tt.in) != tt.keep || got == "" || seen[got] {
				t.Errorf("X-Request-Id %q -> %q", tt.in, got)
			}
			seen[got] = true
		})
	}
}

func TestAdmin(t *testing.T) {
	tests := []struct {
		name  string
		token string
		open  bool
		auth  string
		code  int
	}{
		{"OK/loopbackNoToken", "", true, "", 200},
		{"ErrDisabled", "", false, "", 403},
		{"ErrDisabledEvenWithHeader", "", false, "Bearer x", 403},
		{"OK/token", "s3cret", false, "Bearer s3cret", 200},
		{"OK/tokenOnLoopback", "s3cret", true, "Bearer s3cret", 200},
		{"ErrNoHeader", "s3cret", false, "", 401},
		{"ErrNoHeaderOnLoopback", "s3cret", true, "", 401},
		{"ErrWrongToken", "s3cret", false, "Bearer s3cre", 401},
		{"ErrBasic", "s3cret", false, "Basic czNjcmV0", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, serve.Options{AdminToken: tt.token, AdminOpen: tt.open})
			rec := do(s.Handler(), "POST", "/admin/reload", "", "Authorization", tt.auth)
			if rec.Code != tt.code {
				t.Errorf("code %d, want %d: %s", rec.Code, tt.code, rec.Body)
			}
			if tt.code == 200 && !strings.Contains(rec.Body.String(), `"changed":false`) {
				t.Errorf("body %s", rec.Body)
			}
			if tt.code == 401 && rec.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
	// A bundle served from a directory has nothing to reload.
	m, err := serve.LoadModel(penguinsDir, 0)
	if err != nil {
		t.Fatal(err)
	}
	s := serve.New(serve.Options{AdminOpen: true})
	s.SetModel(m)
	if rec := do(s.Handler(), "POST", "/admin/reload", ""); rec.Code != 400 {
		t.Errorf("reload without a registry: %d %s", rec.Code, rec.Body)
	}
}

// holdSink holds the first prediction (and so its request, inside the
// handler) until release is closed.
type holdSink struct {
	first   sync.Once
	started chan struct{}
	release chan struct{}
}

func (h *holdSink) Prediction(serve.PredictionEvent) {
	h.first.Do(func() {
		close(h.started)
		<-h.release
	})
}

func (h *holdSink) Label(serve.LabelEvent) {}

// TestInFlightLimit holds one request inside the handler and checks that
// the next gets 503 with Retry-After, while health probes still answer.
func TestInFlightLimit(t *testing.T) {
	hold := &holdSink{started: make(chan struct{}), release: make(chan struct{})}
	s := newServer(t, serve.Options{MaxInFlight: 1, Sink: hold})
	done := make(chan int)
	go func() { done <- do(s.Handler(), "POST", predictPath, good).Code }()
	<-hold.started
	rec := do(s.Handler(), "POST", predictPath, good)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Errorf("over the limit: %d (Retry-After %q) %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	if rec := do(s.Handler(), "GET", "/readyz", ""); rec.Code != 200 {
		t.Errorf("readyz under load: %d", rec.Code)
	}
	close(hold.release)
	if code := <-done; code != 200 {
		t.Errorf("the held request: %d", code)
	}
	if rec := do(s.Handler(), "POST", predictPath, good); rec.Code != 200 {
		t.Errorf("after the held request: %d", rec.Code)
	}
}

// TestMetrics checks the metric names and that routes are labelled by
// pattern, never by raw path.
func TestMetrics(t *testing.T) {
	s := newServer(t, serve.Options{SinkStats: func() (uint64, uint64) { return 7, 2 }})
	h := s.Handler()
	do(h, "POST", predictPath, good)
	do(h, "POST", predictPath, `{"instances":[`+good+`,`+good+`]}`)
	do(h, "POST", "/v1/models/nope/predict", good)
	do(h, "GET", "/no/such/path/12345", "")
	do(h, "POST", inferPath, oipWith("", "", ""))
	do(h, "POST", "/v1/models/flights-delay/labels", `{"id":"x","label":true}`)
	rec := do(h, "GET", "/metrics", "")
	body := rec.Body.String()
	for _, want := range []string{
		`mlserve_http_requests_total{code="200",route="POST /v1/models/{name}/predict"} 2`,
		`mlserve_http_requests_total{code="404",route="POST /v1/models/{name}/predict"} 1`,
		`mlserve_http_requests_total{code="404",route="unmatched"} 1`,
		`mlserve_http_requests_total{code="200",route="POST /v2/models/{name}/infer"} 1`,
		`mlserve_http_request_duration_seconds_bucket{route="POST /v1/models/{name}/predict",le="+Inf"} 3`,
		`mlserve_http_requests_in_flight 1`, // the /metrics request itself
		`mlserve_batch_size_count{api="native"} 2`,
		`mlserve_batch_size_sum{api="native"} 3`,
		`mlserve_predictions_total{api="oip"} 1`,
		`mlserve_predicted_probability_count 4`,
		`mlserve_model_info{loaded_at="`,
		`name="flights-delay",version="1"} 1`,
		`mlserve_model_reloads_total{result="failure"} 0`,
		`mlserve_labels_total 1`,
		`mlserve_prediction_log_written_total 7`,
		`mlserve_prediction_log_dropped_total 2`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, raw := range []string{"/v1/models/nope", "/no/such/path"} {
		if strings.Contains(body, raw) {
			t.Errorf("/metrics has the raw path %s as a label", raw)
		}
	}
}

// TestRunShutdown starts a real server on 127.0.0.1, holds a request in
// flight, cancels, and checks that the request completes (drain), Run
// returns and the port is closed.
func TestRunShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hold := &holdSink{started: make(chan struct{}), release: make(chan struct{})}
	s := newServer(t, serve.Options{ShutdownTimeout: 5 * time.Second, Sink: hold})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, ln) }()
	base := "http://" + ln.Addr().String()
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status = %d", resp.StatusCode)
	}

	held := make(chan int, 1)
	go func() {
		resp, err := http.Post(base+predictPath, "application/json", strings.NewReader(good))
		if err != nil {
			t.Log(err)
			held <- -1
			return
		}
		var r nativeResponse
		json.NewDecoder(resp.Body).Decode(&r)
		resp.Body.Close()
		held <- resp.StatusCode
	}()
	// The request is in the handler when two are in flight: it and the
	// /metrics request that looks.
	waitFor(t, "the held request", func() bool { return metricValue(t, base, "mlserve_http_requests_in_flight") == 2 })
	cancel()
	time.Sleep(100 * time.Millisecond) // let Shutdown close the listener first
	close(hold.release)
	if code := <-held; code != 200 {
		t.Errorf("the request in flight during shutdown got %d", code)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("server still answers after shutdown")
	}
}

// TestRunLimits sends what a slow, broken or greedy client sends to a
// real server on 127.0.0.1, over raw TCP, and checks that each gets its
// 4xx (in JSON) or has its connection closed, well before the default
// timeouts would.
func TestRunLimits(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := newServer(t, serve.Options{
		ReadHeaderTimeout: 300 * time.Millisecond, // the defaults (5s, 30s) would outlast the test's wait
		ReadTimeout:       600 * time.Millisecond,
		MaxBodyBytes:      1024,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	head := "POST " + predictPath + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
	tests := []struct {
		name string
		send string
		want int // 0: the server closes the connection (or answers 408)
	}{
		{"ErrSlowHeaders", head, 0},
		{"ErrSlowBody", head + "Content-Length: 100\r\n\r\n{\"date\":", 0},
		// Refused on its declared length, once its first bytes arrive
		// (fasthttp reads up to 8 KiB before a streamed body's handler).
		{"ErrBodyOverLimit", head + "Content-Length: 5000\r\n\r\n" + strings.Repeat(" ", 2000), 413},
		{"ErrChunkedOverLimit", head + "Transfer-Encoding: chunked\r\n\r\n800\r\n" + strings.Repeat(" ", 0x800) + "\r\n0\r\n\r\n", 413},
		{"ErrHeadersOverLimit", head + "X-Big: " + strings.Repeat("a", 20<<10) + "\r\n\r\n", 431},
		{"ErrMalformed", "GARBAGE\r\n\r\n", 400},
		{"OK", head + "Content-Length: " + strconv.Itoa(len(good)) + "\r\n\r\n" + good, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.WriteString(conn, tt.send); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if tt.want == 0 {
				switch {
				case err == nil && resp.StatusCode != http.StatusRequestTimeout:
					t.Errorf("got %d; want the connection closed or 408", resp.StatusCode)
				case err != nil && errors.Is(err, os.ErrDeadlineExceeded):
					t.Errorf("the server held the connection for 5 s")
				}
				return
			}
			if err != nil {
				t.Fatalf("no response: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want || !strings.Contains(string(body), `"`) {
				t.Errorf("got %d %s; want %d with a JSON body", resp.StatusCode, body, tt.want)
			}
			if tt.want != 200 && !strings.Contains(string(body), `"error"`) {
				t.Errorf("body %s has no \"error\"", body)
			}
		})
	}
}
