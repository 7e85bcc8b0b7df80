// Command loadgen is an open-loop, constant-rate HTTP/1.1 load generator,
// light enough to share a 2-CPU machine with the server it measures
// (scripts/bench/serve.sh uses it for the latency at a fixed offered load).
//
//	go run ./scripts/bench/loadgen -url http://127.0.0.1:8080/v1/models/m/predict \
//		-body single.json -rate 16000 -duration 10s -warmup 1s -conns 64 -out result.json
//
// It works like wrk2. Request i is due at t_i = start + i/rate. Connection c
// of K (raw keep-alive TCP connections, TCP_NODELAY) sends the requests
// i ≡ c (mod K): it sleeps until t_i (if it is already late, it sends at
// once), writes the pre-built request bytes, reads the response (status
// line, headers and a Content-Length body; any other framing is an error)
// and records the latency as response complete − t_i. Timing from the
// intended send time, not the actual one, corrects coordinated omission:
// when a slow response holds up a connection, the requests queued behind it
// are charged for the wait. A connection that fails counts an error,
// reconnects and goes on.
//
// Two lateness figures tell the generator's share of the latency. Send
// lateness is write time − t_i: it includes the wait for the connection's
// previous response. Generator lateness is write time − max(t_i, previous
// response): the generator's own delay once a request was due and its
// connection free (timers, CPU). If that is large, the generator, not the
// server, limits the figures. Note that when the program is otherwise idle,
// Go's timers fire up to a millisecond late (the runtime's epoll_wait
// timeout is in whole milliseconds); under load they fire much closer.
//
// Requests due in the first -warmup are sent but not recorded. Results go to
// -out as JSON (times in ms, percentiles by nearest rank), a summary to
// stderr. The exit status is 1 when no recorded request completed.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"
)

// config is what to send, how fast and for how long.
type config struct {
	URL      string        // http://HOST:PORT/PATH
	Body     []byte        // POSTed as application/json; nil sends GET
	Rate     float64       // requests per second
	Duration time.Duration // recorded part of the schedule
	Warmup   time.Duration // sent before it, not recorded
	Conns    int           // keep-alive connections
	Timeout  time.Duration // dial timeout, and the wait for stragglers after the schedule ends
}

// result is the JSON output.
type result struct {
	URL          string             `json:"url"`
	Rate         float64            `json:"rate"`
	DurationS    float64            `json:"duration_s"`
	WarmupS      float64            `json:"warmup_s"`
	Conns        int                `json:"conns"`
	Scheduled    int                `json:"scheduled"`     // recorded requests in the schedule: rate × duration
	Sent         int                `json:"sent"`          // of those, written to a connection
	Completed    int                `json:"completed"`     // of those, answered in full (any status)
	Errors       int                `json:"errors"`        // dial, write, read or framing errors
	Non2xx       int                `json:"non2xx"`        // completed with a status outside 200–299
	Unsent       int                `json:"unsent"`        // not sent by the end of the schedule + timeout
	AchievedRate float64            `json:"achieved_rate"` // completed ÷ (last completion − first recorded t_i)
	Latency      map[string]float64 `json:"latency_ms"`    // response complete − t_i
	SendLate     map[string]float64 `json:"send_lateness_ms"`
	GenLate      map[string]float64 `json:"generator_lateness_ms"`
	FirstError   string             `json:"first_error,omitempty"`

	latencies []time.Duration // sorted, for tests
}

// plan is what every connection shares: the request and the schedule.
type plan struct {
	addr    string
	req     []byte
	timeout time.Duration
	rate    float64
	conns   int
	warm    int       // requests [0, warm) are sent, not recorded
	total   int       // requests [warm, total) are recorded
	start   time.Time // request i is due at start + i/rate
	stop    time.Time // end of the schedule + timeout: nothing is sent or awaited later
}

func (p *plan) due(i int) time.Time {
	return p.start.Add(time.Duration(float64(i) * float64(time.Second) / p.rate))
}

// worker is one connection's share of the schedule and what it recorded.
type worker struct {
	latency, sendLate, genLate   []time.Duration
	sent, errors, non2xx, unsent int
	lastDone                     time.Time
	firstErr                     error
}

// run sends the schedule of cfg and measures it.
func run(cfg config) (*result, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("-url %q: want http://HOST:PORT/PATH", cfg.URL)
	}
	if cfg.Rate <= 0 || cfg.Duration <= 0 || cfg.Conns <= 0 || cfg.Warmup < 0 {
		return nil, errors.New("-rate, -duration and -conns must be positive, -warmup not negative")
	}
	p := &plan{addr: u.Host, req: request(u, cfg.Body), timeout: cfg.Timeout, rate: cfg.Rate, conns: cfg.Conns,
		warm: int(math.Round(cfg.Rate * cfg.Warmup.Seconds()))}
	p.total = p.warm + int(math.Round(cfg.Rate*cfg.Duration.Seconds()))

	// Connect everything first, so dialling is outside the schedule.
	conns := make([]net.Conn, cfg.Conns)
	for c := range conns {
		if conns[c], err = dial(p.addr, p.timeout); err != nil {
			for _, conn := range conns[:c] {
				conn.Close()
			}
			return nil, err
		}
	}
	p.start = time.Now().Add(10 * time.Millisecond)
	p.stop = p.due(p.total).Add(cfg.Timeout)
	workers := make([]worker, cfg.Conns)
	var wg sync.WaitGroup
	for c := range workers {
		wg.Go(func() { workers[c].run(p, c, conns[c]) })
	}
	wg.Wait()

	res := &result{URL: cfg.URL, Rate: cfg.Rate, DurationS: cfg.Duration.Seconds(), WarmupS: cfg.Warmup.Seconds(),
		Conns: cfg.Conns, Scheduled: p.total - p.warm}
	var sendLate, genLate []time.Duration
	var last time.Time
	for _, w := range workers {
		res.Sent += w.sent
		res.Errors += w.errors
		res.Non2xx += w.non2xx
		res.Unsent += w.unsent
		res.latencies = append(res.latencies, w.latency...)
		sendLate = append(sendLate, w.sendLate...)
		genLate = append(genLate, w.genLate...)
		if w.firstErr != nil && res.FirstError == "" {
			res.FirstError = w.firstErr.Error()
		}
		last = later(last, w.lastDone)
	}
	res.Completed = len(res.latencies)
	if first := p.due(p.warm); last.After(first) {
		res.AchievedRate = math.Round(float64(res.Completed)/last.Sub(first).Seconds()*10) / 10
	}
	res.Latency = summary(res.latencies, "mean", "p50", "p90", "p99", "p99.9", "p99.99", "max")
	res.SendLate = summary(sendLate, "p50", "p99", "max")
	res.GenLate = summary(genLate, "p50", "p99", "max")
	return res, nil
}

// run sends requests c, c+K, c+2K, ... of p on conn (K = p.conns), each at
// its due time or, when late, as soon as the previous one is answered.
func (w *worker) run(p *plan, c int, conn net.Conn) {
	n := (p.total-p.warm)/p.conns + 1
	w.latency, w.sendLate, w.genLate = make([]time.Duration, 0, n), make([]time.Duration, 0, n), make([]time.Duration, 0, n)
	conn.SetDeadline(p.stop)
	br := bufio.NewReaderSize(conn, 4096)
	free := p.start // when conn finished its previous request
	for i := c; i < p.total; i += p.conns {
		rec := i >= p.warm
		t := p.due(i)
		if d := time.Until(t); d > 0 {
			time.Sleep(d)
		}
		if time.Now().After(p.stop) {
			for ; i < p.total; i += p.conns {
				if i >= p.warm {
					w.unsent++
				}
			}
			break
		}
		var err error
		if conn == nil {
			if conn, err = dial(p.addr, p.timeout); err != nil {
				w.fail(rec, err)
				continue
			}
			conn.SetDeadline(p.stop)
			br.Reset(conn)
		}
		sentAt := time.Now()
		status, closing := 0, false
		if _, err = conn.Write(p.req); err == nil {
			status, closing, err = readResponse(br)
		}
		done := time.Now()
		if rec {
			w.sent++
		}
		if err != nil || closing {
			conn.Close()
			conn = nil
		}
		if err != nil {
			w.fail(rec, err)
			free = done
			continue
		}
		if rec {
			w.latency = append(w.latency, done.Sub(t))
			w.sendLate = append(w.sendLate, sentAt.Sub(t))
			w.genLate = append(w.genLate, sentAt.Sub(later(t, free)))
			if status < 200 || status > 299 {
				w.non2xx++
			}
			w.lastDone = done
		}
		free = done
	}
	if conn != nil {
		conn.Close()
	}
}

// fail counts err against a recorded request and keeps the first one.
func (w *worker) fail(rec bool, err error) {
	if rec {
		w.errors++
		if w.firstErr == nil {
			w.firstErr = err
		}
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// request builds the bytes of the one request every connection sends.
func request(u *url.URL, body []byte) []byte {
	if body == nil {
		return fmt.Appendf(nil, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: mlpipe-loadgen\r\n\r\n", u.RequestURI(), u.Host)
	}
	req := fmt.Appendf(nil, "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: mlpipe-loadgen\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n", u.RequestURI(), u.Host, len(body))
	return append(req, body...)
}

func dial(addr string, timeout time.Duration) (net.Conn, error) {
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	conn.(*net.TCPConn).SetNoDelay(true)
	return conn, nil
}

var (
	hContentLength    = []byte("Content-Length")
	hTransferEncoding = []byte("Transfer-Encoding")
	hConnection       = []byte("Connection")
	vClose            = []byte("close")
)

// readResponse reads one response from br, discarding its body, and returns
// its status code and whether the server closes the connection after it.
// Only bodies framed by Content-Length are supported. It does not allocate.
func readResponse(br *bufio.Reader) (status int, closing bool, err error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, false, fmt.Errorf("bad status line %q", line)
	}
	for _, b := range line[9:12] {
		status = status*10 + int(b-'0')
	}
	length := -1
	for {
		if line, err = br.ReadSlice('\n'); err != nil {
			return 0, false, err
		}
		if len(bytes.TrimSpace(line)) == 0 {
			break
		}
		name, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, hContentLength):
			n, err := strconv.Atoi(string(value))
			if err != nil || n < 0 {
				return 0, false, fmt.Errorf("bad Content-Length %q", value)
			}
			length = n
		case bytes.EqualFold(name, hTransferEncoding):
			return 0, false, fmt.Errorf("response has Transfer-Encoding %q: only Content-Length bodies are supported", value)
		case bytes.EqualFold(name, hConnection):
			closing = bytes.EqualFold(value, vClose)
		}
	}
	if length < 0 {
		if status/100 == 1 || status == 204 || status == 304 {
			return status, closing, nil
		}
		return 0, false, fmt.Errorf("response %d has no Content-Length: only Content-Length bodies are supported", status)
	}
	_, err = br.Discard(length)
	return status, closing, err
}

// summary sorts d and returns the named statistics in ms: "mean", "max"
// and percentiles "pQ" by nearest rank (the ⌈Q/100 × n⌉-th smallest value).
func summary(d []time.Duration, names ...string) map[string]float64 {
	slices.Sort(d)
	out := make(map[string]float64, len(names))
	if len(d) == 0 {
		return out
	}
	ms := func(v time.Duration) float64 { return math.Round(float64(v)/1e3) / 1e3 }
	for _, name := range names {
		switch name {
		case "mean":
			var sum time.Duration
			for _, v := range d {
				sum += v
			}
			out[name] = ms(sum / time.Duration(len(d)))
		case "max":
			out[name] = ms(d[len(d)-1])
		default:
			q, _ := strconv.ParseFloat(name[1:], 64)
			k := int(math.Ceil(q*float64(len(d))/100 - 1e-9)) // 1e-9 absorbs float error in q
			out[name] = ms(d[min(max(k, 1), len(d))-1])
		}
	}
	return out
}

func main() {
	var cfg config
	flag.StringVar(&cfg.URL, "url", "", "target, http://HOST:PORT/PATH")
	body := flag.String("body", "", "file POSTed as application/json (default: GET without a body)")
	flag.Float64Var(&cfg.Rate, "rate", 1000, "requests per second")
	flag.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long to send and record")
	flag.DurationVar(&cfg.Warmup, "warmup", time.Second, "how long to send before recording")
	flag.IntVar(&cfg.Conns, "conns", 64, "keep-alive connections")
	flag.DurationVar(&cfg.Timeout, "timeout", 5*time.Second, "dial timeout, and how long to wait for responses after the schedule ends")
	out := flag.String("out", "", "write the JSON results to this file (default: stdout)")
	flag.Usage = func() {
		fmt.Fprint(os.Stderr, "Usage: loadgen -url URL [-body FILE] -rate N -duration D [flags]\n\n"+
			"Send requests at a constant rate over keep-alive connections; report their latency\n"+
			"from the intended send time (coordinated omission corrected).\n\nFlags:\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 || cfg.URL == "" {
		flag.Usage()
		os.Exit(2)
	}
	res, err := func() (*result, error) {
		if *body != "" {
			b, err := os.ReadFile(*body)
			if err != nil {
				return nil, err
			}
			cfg.Body = b
		}
		res, err := run(cfg)
		if err != nil {
			return nil, err
		}
		js, _ := json.MarshalIndent(res, "", "  ")
		if *out == "" {
			_, err = fmt.Printf("%s\n", js)
		} else {
			err = os.WriteFile(*out, append(js, '\n'), 0o644)
		}
		return res, err
	}()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	l, g, s := res.Latency, res.GenLate, res.SendLate
	fmt.Fprintf(os.Stderr, "loadgen: %g req/s for %s (+%s warm-up), %d connections, %s\n"+
		"  scheduled %d, sent %d, completed %d (%.0f req/s), errors %d, non-2xx %d, unsent %d\n"+
		"  latency ms: mean %.3f  p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  p99.99 %.3f  max %.3f\n"+
		"  generator lateness ms: p50 %.3f  p99 %.3f  max %.3f; send lateness ms: p99 %.3f  max %.3f\n",
		cfg.Rate, cfg.Duration, cfg.Warmup, cfg.Conns, cfg.URL,
		res.Scheduled, res.Sent, res.Completed, res.AchievedRate, res.Errors, res.Non2xx, res.Unsent,
		l["mean"], l["p50"], l["p90"], l["p99"], l["p99.9"], l["p99.99"], l["max"],
		g["p50"], g["p99"], g["max"], s["p99"], s["max"])
	if res.FirstError != "" {
		fmt.Fprintln(os.Stderr, "  first error:", res.FirstError)
	}
	if res.Completed == 0 {
		os.Exit(1)
	}
}
