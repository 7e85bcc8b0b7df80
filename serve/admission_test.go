package serve_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlpipe/mlpipe/serve"
)

// syncBuf is a log destination safe for the server's goroutines.
type syncBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// running starts a server on 127.0.0.1 with opts and its log in a
// buffer; it stops when the test ends.
func running(t *testing.T, opts serve.Options) (addr string, logs *syncBuf) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs = &syncBuf{}
	opts.Log = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := newServer(t, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return ln.Addr().String(), logs
}

// exchange sends raw bytes on a new connection and reads one response
// (nil if the server closed the connection without one).
func exchange(t *testing.T, addr, raw string) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return nil, ""
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

// TestNoSecretInAnswersOrLogs sends malformed requests that carry the
// admin token in an Authorization header and a cookie. fasthttp dumps the
// raw request into the errors of such requests; neither the answer nor
// any log line may carry it (issue 19, item 3).
func TestNoSecretInAnswersOrLogs(t *testing.T) {
	const token = "adm1n-t0ken-do-not-leak"
	addr, logs := running(t, serve.Options{AdminToken: token, ReadHeaderTimeout: time.Second, ReadTimeout: time.Second})
	creds := "Authorization: Bearer " + token + "\r\nCookie: sid=" + token + "\r\n"
	post := "POST " + predictPath + " HTTP/1.1\r\nHost: x\r\n" + creds
	tests := []struct{ name, raw string }{
		{"NoColon", post + "BadHeaderLine\r\n\r\n"},
		{"SpaceBeforeColon", post + "Foo : bar\r\n\r\n"},
		{"ControlInName", post + "Fo\x01o: bar\r\n\r\n"},
		{"LengthAndChunked", post + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
		{"TwoLengths", post + "Content-Length: 3\r\nContent-Length: 4\r\n\r\n{}}"},
		{"BadLength", post + "Content-Length: abc\r\n\r\n"},
		{"Folded", post + "X-A: a\r\n  folded\r\n\r\n"},
		{"NulInValue", post + "X-A: a\x00b\r\n\r\n"},
		{"BadChunk", post + "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"},
		{"BadVersion", "POST " + predictPath + " HTTP/9.9\r\nHost: x\r\n" + creds + "\r\n"},
		{"BadRequestLine", "POST" + "\r\n" + creds + "\r\n"},
		{"NoHost", "POST " + predictPath + " HTTP/1.1\r\n" + creds + "Content-Length: 2\r\n\r\n{}"},
		{"HeadersOverLimit", post + "X-Big: " + strings.Repeat("a", 20<<10) + "\r\n\r\n"},
		{"AdminBadToken", "POST /admin/reload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong-" + token + "\r\nContent-Length: 0\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := exchange(t, addr, tt.raw)
			if resp != nil && resp.StatusCode >= 500 {
				t.Errorf("%d %s: a client's mistake got a 5xx", resp.StatusCode, body)
			}
			if strings.Contains(body, token) || strings.Contains(body, "sid=") {
				t.Errorf("the answer carries the secret: %s", body)
			}
		})
	}
	time.Sleep(100 * time.Millisecond) // the last log lines
	if out := logs.String(); strings.Contains(out, token) || strings.Contains(out, "sid=") || strings.Contains(out, "contents:") {
		t.Errorf("a log line carries the secret or a request dump:\n%s", out)
	}
}

// TestConnectionCap: past MaxConns, a connection is answered 503 with
// Retry-After and closed; once connections close, new ones are served.
func TestConnectionCap(t *testing.T) {
	addr, _ := running(t, serve.Options{MaxConns: 4})
	var held []net.Conn
	for range 4 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	// The four are accepted (served: a request on each answers 200).
	for _, c := range held {
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("a connection under the cap: %v %v", resp, err)
		}
	}
	resp, body := exchange(t, addr, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp == nil || resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "too many connections") {
		t.Fatalf("a connection over the cap: %v %s; want 503 with Retry-After", resp, body)
	}
	for _, c := range held {
		c.Close()
	}
	waitFor(t, "a connection served again", func() bool {
		resp, _ := exchange(t, addr, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		return resp != nil && resp.StatusCode == 200
	})
	base := "http://" + addr
	if v := metricValue(t, base, "mlserve_connections_refused_total"); v < 1 {
		t.Errorf("mlserve_connections_refused_total = %v", v)
	}
}

// TestBytesInFlightBudget: bodies being read count against the budget;
// past it a request gets 503 with Retry-After, unread; once they are
// done the budget is whole again. A body over the limit is 413, and a
// compressed one 415.
func TestBytesInFlightBudget(t *testing.T) {
	const maxBody = 256 << 10
	addr, _ := running(t, serve.Options{MaxBodyBytes: maxBody, MaxBytesInFlight: 4 * maxBody, ReadTimeout: 5 * time.Second})
	head := "POST " + predictPath + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
	// Three clients each send most of a large body and stall: their
	// buffers hold three quarters of the budget.
	var stalled []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "%sContent-Length: %d\r\n\r\n[", head, maxBody-1)
		c.Write(bytes.Repeat([]byte(" "), maxBody*3/4))
		stalled = append(stalled, c)
	}
	base := "http://" + addr
	waitFor(t, "the stalled bodies in the budget", func() bool {
		return metricValue(t, base, "mlserve_request_bytes_in_flight") >= 3*maxBody
	})
	big := `{"instances":[` + strings.Repeat(good+",", 99) + good + `]}` // its rows need more than the quarter left
	resp, body := exchange(t, addr, head+"Content-Length: "+strconv.Itoa(len(big))+"\r\n\r\n"+big)
	if resp == nil || resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "budget") {
		t.Fatalf("a request past the budget: %v %s; want 503 with Retry-After", resp, body)
	}
	for _, c := range stalled {
		c.Close()
	}
	waitFor(t, "the budget back", func() bool { return metricValue(t, base, "mlserve_request_bytes_in_flight") == 0 })
	resp, body = exchange(t, addr, head+"Content-Length: "+strconv.Itoa(len(big))+"\r\n\r\n"+big)
	if resp == nil || resp.StatusCode != 200 {
		t.Fatalf("the same request with the budget free: %v %s", resp, body)
	}
	// Over the body limit: 413. Compressed: 415.
	if resp, body := exchange(t, addr, head+"Content-Length: "+strconv.Itoa(maxBody+1)+"\r\n\r\n"+strings.Repeat(" ", maxBody+1)); resp == nil || resp.StatusCode != 413 {
		t.Errorf("a body over the limit: %v %s", resp, body)
	}
	gz := "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
	if resp, body := exchange(t, addr, head+"Content-Encoding: gzip\r\nContent-Length: "+strconv.Itoa(len(gz))+"\r\n\r\n"+gz); resp == nil || resp.StatusCode != 415 || !strings.Contains(body, "Content-Encoding") {
		t.Errorf("a gzip body: %v %s; want 415 naming Content-Encoding", resp, body)
	}
}

// TestEventFieldCap: a client's long string reaches the sink cut to
// MaxEventField and marked, in both APIs, so that what the prediction log
// and the drift gauges queue stays small (issue 19, item 7).
func TestEventFieldCap(t *testing.T) {
	sink := &recorder{}
	s := newServer(t, serve.Options{Sink: sink, MaxEventField: 64})
	long := strings.Repeat("Z", 100_000)
	native := strings.Replace(good, `"ATL"`, `"`+long+`"`, 1)
	if rec := do(s.Handler(), "POST", predictPath, native); rec.Code != 200 {
		t.Fatalf("native: %d %s", rec.Code, rec.Body)
	}
	oip := oipWith("", "", "")
	oip = strings.Replace(oip, `"ATL"`, `"`+long+`"`, 1)
	if rec := do(s.Handler(), "POST", inferPath, oip); rec.Code != 200 {
		t.Fatalf("oip: %d %s", rec.Code, rec.Body)
	}
	// Padding between the members and a number of 100,000 digits: the
	// event's text is the members, compact.
	padded := strings.Replace(good, `"ATL"`, `"ATL"`+strings.Repeat(" \n", 50_000), 1)
	padded = strings.Replace(padded, `1250`, `1250.`+strings.Repeat("0", 100_000), 1)
	if rec := do(s.Handler(), "POST", predictPath, padded); rec.Code != 200 {
		t.Fatalf("padded: %d %s", rec.Code, rec.Body)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.predictions) != 3 {
		t.Fatalf("%d events, want 3", len(sink.predictions))
	}
	for _, ev := range sink.predictions {
		if len(ev.Input) > 300 || !strings.Contains(string(ev.Input), "LAX") || !strings.Contains(string(ev.Input), "…(100000 bytes)") && !strings.Contains(string(ev.Input), `"distance":1250,`) {
			t.Errorf("%s event input (%d bytes): %.200s", ev.API, len(ev.Input), ev.Input)
		}
	}
}

// TestSlowStreamedBody: a body over 16 KiB, read by the handler, that
// stops arriving gets 408 at the read timeout (not 400), and gives its
// bytes back to the budget.
func TestSlowStreamedBody(t *testing.T) {
	addr, _ := running(t, serve.Options{MaxBodyBytes: 64 << 10, ReadTimeout: 500 * time.Millisecond})
	head := "POST " + predictPath + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
	resp, body := exchange(t, addr, head+"Content-Length: 40000\r\n\r\n"+strings.Repeat(" ", 20000))
	if resp == nil || resp.StatusCode != 408 || !strings.Contains(body, "read timeout") {
		t.Fatalf("a stalled streamed body: %v %s; want 408", resp, body)
	}
	waitFor(t, "the budget back", func() bool { return metricValue(t, "http://"+addr, "mlserve_request_bytes_in_flight") == 0 })
}
