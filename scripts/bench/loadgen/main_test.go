//go:build linux

package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The runs below send 1,000 requests at 2,000 req/s over 4 connections:
// 500 req/s, one every 2 ms, per connection. Assertions are on counts and
// lower bounds only, so a slow or busy machine cannot make them fail.
const (
	testRate     = 2000
	testDuration = 500 * time.Millisecond
	testConns    = 4
	testStall    = 50 * time.Millisecond
)

// testServer answers 200 on /ok, 500 on /fail, 200 and closes the
// connection on /close, closes it without an answer on /drop, and on
// /stall holds the first request of each connection for testStall.
func testServer(t *testing.T) *httptest.Server {
	var seen sync.Map // remote address → struct{}
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"ok":true}`)) })
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusInternalServerError) })
	mux.HandleFunc("/close", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		w.Write([]byte(`{"ok":true}`))
	})
	mux.HandleFunc("/drop", func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close() // no response at all
		}
	})
	mux.HandleFunc("/stall", func(w http.ResponseWriter, r *http.Request) {
		if _, loaded := seen.LoadOrStore(r.RemoteAddr, struct{}{}); !loaded {
			time.Sleep(testStall)
		}
		w.Write([]byte(`{"ok":true}`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func testRun(t *testing.T, url string) *result {
	t.Helper()
	res, err := run(config{URL: url, Body: []byte(`{"x":1}`), Rate: testRate, Duration: testDuration,
		Conns: testConns, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sent %d, completed %d, errors %d, non-2xx %d; latency ms %v", res.Sent, res.Completed, res.Errors, res.Non2xx, res.Latency)
	return res
}

func TestRun(t *testing.T) {
	srv := testServer(t)
	want := int(testRate * testDuration.Seconds())

	t.Run("OK", func(t *testing.T) {
		res := testRun(t, srv.URL+"/ok")
		if res.Scheduled != want || res.Sent != want || res.Completed != want {
			t.Errorf("scheduled %d, sent %d, completed %d; want %d each", res.Scheduled, res.Sent, res.Completed, want)
		}
		if res.Errors != 0 || res.Non2xx != 0 || res.Unsent != 0 {
			t.Errorf("errors %d, non-2xx %d, unsent %d (%s); want none", res.Errors, res.Non2xx, res.Unsent, res.FirstError)
		}
		if res.Latency["p50"] <= 0 || res.Latency["max"] < res.Latency["p99"] {
			t.Errorf("latency %v: want 0 < p50 and p99 <= max", res.Latency)
		}
	})

	t.Run("Non2xx", func(t *testing.T) {
		res := testRun(t, srv.URL+"/fail")
		if res.Completed != want || res.Non2xx != want || res.Errors != 0 {
			t.Errorf("completed %d, non-2xx %d, errors %d; want %d, %d, 0", res.Completed, res.Non2xx, res.Errors, want, want)
		}
	})

	// A server that closes every connection after its response costs a
	// reconnection, not an error; one that closes it unanswered costs an
	// error per request, and the run goes on.
	t.Run("Reconnect", func(t *testing.T) {
		res := testRun(t, srv.URL+"/close")
		if res.Completed != want || res.Errors != 0 {
			t.Errorf("completed %d, errors %d (%s); want %d, 0", res.Completed, res.Errors, res.FirstError, want)
		}
		res = testRun(t, srv.URL+"/drop")
		if res.Completed != 0 || res.Errors != want || res.FirstError == "" {
			t.Errorf("completed %d, errors %d (%q); want 0, %d and the first error", res.Completed, res.Errors, res.FirstError, want)
		}
	})

	// A stall of 50 ms at the start of each connection holds up the ~25
	// requests due on it meanwhile. Timed from their intended send, the
	// requests due in the first 30 ms of each connection (15 of them, at
	// 2 ms apart) wait at least 20 ms; timed from the actual send, only the
	// stalled request itself would.
	t.Run("FromIntendedStart", func(t *testing.T) {
		res := testRun(t, srv.URL+"/stall")
		if res.Completed != want || res.Errors != 0 {
			t.Fatalf("completed %d, errors %d (%s); want %d, 0", res.Completed, res.Errors, res.FirstError, want)
		}
		slow := 0
		for _, d := range res.latencies {
			if d >= 20*time.Millisecond {
				slow++
			}
		}
		if min := testConns * 15; slow < min {
			t.Errorf("%d requests took >= 20 ms; want at least %d (latency from the intended start)", slow, min)
		}
		if res.Latency["max"] < float64(testStall/time.Millisecond) {
			t.Errorf("max latency %v ms; want at least the stall, %v", res.Latency["max"], testStall)
		}
		if res.SendLate["max"] < 40 {
			t.Errorf("send lateness max %v ms; want at least 40 (requests queued behind the stall)", res.SendLate["max"])
		}
	})
}

func TestRunDown(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	if _, err := run(config{URL: srv.URL, Rate: 1, Duration: time.Second, Conns: 1, Timeout: time.Second}); err == nil {
		t.Error("run against a closed port: no error")
	}
}

func TestParseResponse(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		complete bool // the whole of in is one response
		status   int
		closing  bool
		err      string
	}{
		{"OK", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", true, 200, false, ""},
		{"Close", "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nConnection: close\r\n\r\n", true, 503, true, ""},
		{"NoContent", "HTTP/1.1 204 No Content\r\n\r\n", true, 204, false, ""},
		{"Chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", false, 0, false, "only Content-Length"},
		{"NoLength", "HTTP/1.1 200 OK\r\n\r\n{}", false, 0, false, "no Content-Length"},
		{"BadStatus", "HTTP/2 200\r\n\r\n", false, 0, false, "bad status line"},
		{"PartialBody", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}", false, 200, false, ""},
		{"PartialHead", "HTTP/1.1 200 OK\r\nContent-Len", false, 0, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			size, status, closing, err := parseResponse([]byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v; want one containing %q", err, tc.err)
				}
				return
			}
			want := 0 // incomplete
			if tc.complete {
				want = len(tc.in)
			}
			if err != nil || size != want || status != tc.status || closing != tc.closing {
				t.Errorf("got %d, %d, %v, %v; want %d, %d, %v, nil", size, status, closing, err, want, tc.status, tc.closing)
			}
		})
	}
}

// Parsing a response must not allocate: the generator's cost per request
// is what it takes from the server it measures.
func TestParseResponseAllocs(t *testing.T) {
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}")
	allocs := testing.AllocsPerRun(100, func() {
		if size, _, _, err := parseResponse(resp); err != nil || size != len(resp) {
			t.Fatal(size, err)
		}
	})
	if allocs != 0 {
		t.Errorf("parseResponse: %v allocations per call; want 0", allocs)
	}
}

func TestSummary(t *testing.T) {
	d := make([]time.Duration, 1000)
	for i := range d {
		d[i] = time.Duration(1000-i) * time.Millisecond // 1000 ms .. 1 ms, unsorted
	}
	got := summary(d, "mean", "p50", "p99", "p99.9", "p99.99", "max")
	// Nearest rank: pQ is the ceil(Q/100 × n)-th smallest value.
	want := map[string]float64{"mean": 500.5, "p50": 500, "p99": 990, "p99.9": 999, "p99.99": 1000, "max": 1000}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v; want %v", k, got[k], v)
		}
	}
}

// TestMerge: two runs saved with -raw and pooled give the counts of both
// and the percentiles of all their samples together; runs of different
// rates do not pool.
func TestMerge(t *testing.T) {
	srv := testServer(t)
	dir := t.TempDir()
	var recs []*record
	for i := range 2 {
		r, err := measure(config{URL: srv.URL + "/ok", Body: []byte(`{"x":1}`), Rate: testRate, Duration: testDuration,
			Conns: testConns, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			r.Non2xx, r.FirstError = 3, "third" // as if some had failed
		}
		file := filepath.Join(dir, fmt.Sprint(i))
		if err := saveRecord(file, r); err != nil {
			t.Fatal(err)
		}
		back, err := loadRecord(file)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, r) {
			t.Fatalf("run %d: saved and read back, it differs", i)
		}
		recs = append(recs, back)
	}
	var all []time.Duration
	for _, r := range recs {
		all = append(all, r.Latency...)
	}
	want := summary(slices.Clone(all), "p50", "p99", "max")
	m, err := merge(recs)
	if err != nil {
		t.Fatal(err)
	}
	res := m.result()
	n := int(testRate * testDuration.Seconds())
	if res.Scheduled != 2*n || res.Sent != 2*n || res.Completed != 2*n || res.Non2xx != 3 || res.FirstError != "third" {
		t.Errorf("pooled: scheduled %d, sent %d, completed %d, non-2xx %d, first error %q; want %d, %d, %d, 3, \"third\"",
			res.Scheduled, res.Sent, res.Completed, res.Non2xx, res.FirstError, 2*n, 2*n, 2*n)
	}
	if res.DurationS != 2*testDuration.Seconds() {
		t.Errorf("pooled duration %v s; want %v", res.DurationS, 2*testDuration.Seconds())
	}
	for _, q := range []string{"p50", "p99", "max"} {
		if res.Latency[q] != want[q] {
			t.Errorf("pooled %s %v ms; want %v, that of all the samples", q, res.Latency[q], want[q])
		}
	}
	recs[1].Rate++
	if _, err := merge(recs); err == nil {
		t.Error("runs at different rates pooled without an error")
	}
	if _, err := loadRecord(filepath.Join(dir, "none")); err == nil {
		t.Error("a missing -raw file read without an error")
	}
}
