// Command loadgen is an open-loop, constant-rate HTTP/1.1 load generator,
// light enough to share a 2-CPU machine with the server it measures
// (scripts/bench/serve.sh uses it for the latency at a fixed offered load).
//
//	go run ./scripts/bench/loadgen -url http://127.0.0.1:8080/v1/models/m/predict \
//		-body single.json -rate 16000 -duration 10s -warmup 1s -conns 64 -out result.json
//
// It works like wrk2. Request i is due at t_i = start + i/rate. Connection c
// of K (raw keep-alive TCP connections, TCP_NODELAY) sends the requests
// i ≡ c (mod K): at t_i, or as soon as its previous response is in if that
// is later. It writes the pre-built request bytes, reads the response
// (status line, headers and a Content-Length body; any other framing is an
// error) and records the latency as response complete − t_i. Timing from
// the intended send time, not the actual one, corrects coordinated
// omission: when a slow response holds up a connection, the requests queued
// behind it are charged for the wait. A connection that fails counts an
// error, reconnects and goes on.
//
// Like wrk, it is one event loop on one OS thread: it sleeps in
// epoll_pwait2 (a nanosecond timeout; Linux 5.11) until the next request
// is due or a response arrives, so a request costs it a write, a read and
// a share of one wait, with no goroutine or timer per request. That keeps
// its CPU, which it takes from the server it measures on a small machine,
// close to wrk's. It runs on Linux only.
//
// Two lateness figures tell the generator's share of the latency. Send
// lateness is write time − t_i: it includes the wait for the connection's
// previous response. Generator lateness is write time − max(t_i, previous
// response): the generator's own delay once a request was due and its
// connection free (a late wake-up, the CPU taken by the server).
//
// Requests due in the first -warmup are sent but not recorded. Results go to
// -out as JSON (times in ms, percentiles by nearest rank), a summary to
// stderr. The exit status is 1 when no recorded request completed.
//
// Runs can be pooled: -raw FILE also saves what a run recorded (its
// counts and every latency), and
//
//	loadgen -merge -out result.json run1.raw run2.raw ...
//
// writes the result of all of them together, as if one run had recorded
// every request. scripts/bench/serve.sh uses that to measure several
// servers in turns of a few seconds each, so that a slow spell of the
// machine falls on all of them alike, and then reports each server's
// pooled figures.
//go:build linux

package main

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"syscall"
	"time"
	"unsafe"
)

// config is what to send, how fast and for how long.
type config struct {
	URL      string        // http://HOST:PORT/PATH
	Body     []byte        // POSTed as application/json; nil sends GET
	Rate     float64       // requests per second
	Duration time.Duration // recorded part of the schedule
	Warmup   time.Duration // sent before it, not recorded
	Conns    int           // keep-alive connections
	Timeout  time.Duration // the wait for stragglers after the schedule ends
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

// record is what one run (or a pool of runs) recorded, before the
// summaries: what -raw saves and -merge reads.
type record struct {
	URL                                     string
	Rate                                    float64
	Duration, Warmup                        time.Duration
	Conns                                   int
	Scheduled, Sent, Errors, Non2xx, Unsent int
	Span                                    time.Duration // last completion − first recorded due time
	FirstError                              string
	Latency, SendLate, GenLate              []time.Duration
}

// result summarizes r.
func (r *record) result() *result {
	res := &result{URL: r.URL, Rate: r.Rate, DurationS: r.Duration.Seconds(), WarmupS: r.Warmup.Seconds(),
		Conns: r.Conns, Scheduled: r.Scheduled, Sent: r.Sent, Errors: r.Errors, Non2xx: r.Non2xx, Unsent: r.Unsent,
		FirstError: r.FirstError, latencies: r.Latency, Completed: len(r.Latency)}
	if r.Span > 0 {
		res.AchievedRate = math.Round(float64(res.Completed)/r.Span.Seconds()*10) / 10
	}
	res.Latency = summary(r.Latency, "mean", "p50", "p90", "p99", "p99.9", "p99.99", "max")
	res.SendLate = summary(r.SendLate, "p50", "p99", "max")
	res.GenLate = summary(r.GenLate, "p50", "p99", "max")
	return res
}

// merge pools runs of one target at one rate over the same number of
// connections: the counts, durations and spans add up, the samples
// join, and the first error is the first run's that had one.
func merge(recs []*record) (*record, error) {
	if len(recs) == 0 {
		return nil, errors.New("merge: no runs")
	}
	out := &record{URL: recs[0].URL, Rate: recs[0].Rate, Conns: recs[0].Conns}
	for i, r := range recs {
		if r.URL != out.URL || r.Rate != out.Rate || r.Conns != out.Conns {
			return nil, fmt.Errorf("merge: run %d is %s at %g req/s over %d connections, run 0 %s at %g over %d",
				i, r.URL, r.Rate, r.Conns, out.URL, out.Rate, out.Conns)
		}
		out.Duration += r.Duration
		out.Warmup += r.Warmup
		out.Scheduled += r.Scheduled
		out.Sent += r.Sent
		out.Errors += r.Errors
		out.Non2xx += r.Non2xx
		out.Unsent += r.Unsent
		out.Span += r.Span
		if out.FirstError == "" {
			out.FirstError = r.FirstError
		}
		out.Latency = append(out.Latency, r.Latency...)
		out.SendLate = append(out.SendLate, r.SendLate...)
		out.GenLate = append(out.GenLate, r.GenLate...)
	}
	return out, nil
}

// plan is the request and the schedule.
type plan struct {
	req   []byte
	rate  float64
	conns int
	warm  int       // requests [0, warm) are sent, not recorded
	total int       // requests [warm, total) are recorded
	start time.Time // request i is due at start + i/rate
	stop  time.Time // end of the schedule + timeout: nothing is sent or awaited later
}

func (p *plan) due(i int) time.Time {
	return p.start.Add(time.Duration(float64(i) * float64(time.Second) / p.rate))
}

// conn is one keep-alive connection and its share of the schedule: the
// requests next, next+K, next+2K, ...
type conn struct {
	fd     int // -1 when closed
	next   int // the request it sends next (or has in flight)
	busy   bool
	sentAt time.Time
	free   time.Time // when its previous response was complete
	buf    []byte    // the response read so far
}

// stats is what the loop records.
type stats struct {
	latency, sendLate, genLate   []time.Duration
	sent, errors, non2xx, unsent int
	lastDone                     time.Time
	firstErr                     error
}

// fail counts err against request i if it is recorded, and keeps the
// first one.
func (s *stats) fail(p *plan, i int, err error) {
	if i >= p.warm {
		s.errors++
		if s.firstErr == nil {
			s.firstErr = err
		}
	}
}

// run sends the schedule of cfg and summarizes what it measured.
func run(cfg config) (*result, error) {
	r, err := measure(cfg)
	if err != nil {
		return nil, err
	}
	return r.result(), nil
}

// measure sends the schedule of cfg and records it.
func measure(cfg config) (*record, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("-url %q: want http://HOST:PORT/PATH", cfg.URL)
	}
	if cfg.Rate <= 0 || cfg.Duration <= 0 || cfg.Conns <= 0 || cfg.Warmup < 0 {
		return nil, errors.New("-rate, -duration and -conns must be positive, -warmup not negative")
	}
	addr, err := net.ResolveTCPAddr("tcp4", u.Host)
	if err != nil {
		return nil, fmt.Errorf("-url %q: %w", cfg.URL, err)
	}
	sa := &syscall.SockaddrInet4{Port: addr.Port}
	copy(sa.Addr[:], addr.IP.To4())
	p := &plan{req: request(u, cfg.Body), rate: cfg.Rate, conns: cfg.Conns,
		warm: int(math.Round(cfg.Rate * cfg.Warmup.Seconds()))}
	p.total = p.warm + int(math.Round(cfg.Rate*cfg.Duration.Seconds()))

	// One OS thread does everything: it sleeps in epoll until the next
	// request is due or a response arrives.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll: %w", err)
	}
	defer syscall.Close(ep)
	conns := make([]conn, cfg.Conns)
	defer func() {
		for _, c := range conns {
			if c.fd >= 0 {
				syscall.Close(c.fd)
			}
		}
	}()
	// Connect everything first, so dialling is outside the schedule.
	for i := range conns {
		conns[i] = conn{fd: -1, next: i, buf: make([]byte, 0, 64<<10)}
		if err := connect(ep, &conns[i], i, sa); err != nil {
			return nil, fmt.Errorf("connect to %s: %w", u.Host, err)
		}
	}
	n := p.total - p.warm
	st := &stats{latency: make([]time.Duration, 0, n), sendLate: make([]time.Duration, 0, n), genLate: make([]time.Duration, 0, n)}
	p.start = time.Now().Add(10 * time.Millisecond)
	p.stop = p.due(p.total).Add(cfg.Timeout)
	events := make([]syscall.EpollEvent, len(conns))
	for {
		// Send every request that is due on a free connection, and find
		// when the next one will be.
		now := time.Now()
		wake, pending := p.stop, false
		for i := range conns {
			c := &conns[i]
			if c.next >= p.total {
				continue
			}
			pending = true
			if c.busy {
				continue
			}
			if due := p.due(c.next); due.After(now) {
				wake = earlier(wake, due)
				continue
			}
			if c.fd < 0 {
				if err := connect(ep, c, i, sa); err != nil {
					st.fail(p, c.next, err)
					c.next += p.conns
					continue
				}
			}
			c.sentAt = time.Now()
			if c.next >= p.warm {
				st.sent++
			}
			if err := send(c.fd, p.req); err != nil {
				st.fail(p, c.next, err)
				drop(c)
				c.next += p.conns
				continue
			}
			c.busy = true
		}
		if !pending || now.After(p.stop) {
			break
		}
		got, err := wait(ep, events, time.Until(wake))
		if err != nil {
			return nil, err
		}
		for _, ev := range events[:got] {
			c := &conns[ev.Fd] // Fd holds the connection's index (see connect)
			if c.fd < 0 || !c.busy {
				continue
			}
			if err := st.read(p, c); err != nil {
				st.fail(p, c.next, err)
				drop(c)
				c.busy, c.free = false, time.Now()
				c.next += p.conns
			}
		}
	}
	// Whatever is still in flight timed out; whatever is left was never sent.
	for _, c := range conns {
		for i := c.next; i < p.total; i += p.conns {
			switch {
			case i < p.warm:
			case c.busy && i == c.next:
				st.fail(p, i, errors.New("no response before the end of the schedule and -timeout"))
			default:
				st.unsent++
			}
		}
	}

	r := &record{URL: cfg.URL, Rate: cfg.Rate, Duration: cfg.Duration, Warmup: cfg.Warmup, Conns: cfg.Conns,
		Scheduled: n, Sent: st.sent, Errors: st.errors, Non2xx: st.non2xx, Unsent: st.unsent,
		Latency: st.latency, SendLate: st.sendLate, GenLate: st.genLate}
	if st.firstErr != nil {
		r.FirstError = st.firstErr.Error()
	}
	if first := p.due(p.warm); st.lastDone.After(first) {
		r.Span = st.lastDone.Sub(first)
	}
	return r, nil
}

// read reads what c's socket holds; when that completes the response to
// c's request, it records the request and frees c for the next.
func (st *stats) read(p *plan, c *conn) error {
	if len(c.buf) == cap(c.buf) {
		c.buf = append(c.buf, 0)[:len(c.buf)] // a response larger than the buffer
	}
	n, err := syscall.Read(c.fd, c.buf[len(c.buf):cap(c.buf)])
	switch {
	case err == syscall.EAGAIN || err == syscall.EINTR:
		return nil
	case err != nil:
		return err
	case n == 0:
		return io.ErrUnexpectedEOF
	}
	c.buf = c.buf[:len(c.buf)+n]
	size, status, closing, err := parseResponse(c.buf)
	if err != nil || size == 0 {
		return err
	}
	if size != len(c.buf) {
		return fmt.Errorf("%d bytes after the response", len(c.buf)-size)
	}
	done := time.Now()
	c.buf = c.buf[:0]
	if i := c.next; i >= p.warm {
		due := p.due(i)
		st.latency = append(st.latency, done.Sub(due))
		st.sendLate = append(st.sendLate, c.sentAt.Sub(due))
		st.genLate = append(st.genLate, c.sentAt.Sub(later(due, c.free)))
		if status < 200 || status > 299 {
			st.non2xx++
		}
		st.lastDone = done
	}
	c.busy, c.free = false, done
	c.next += p.conns
	if closing {
		drop(c)
	}
	return nil
}

// connect opens c's socket (a blocking connect, then non-blocking with
// TCP_NODELAY) and adds it to the epoll set ep, tagged with c's index.
func connect(ep int, c *conn, index int, sa *syscall.SockaddrInet4) error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	if err := syscall.Connect(fd, sa); err != nil {
		syscall.Close(fd)
		return err
	}
	syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
	syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_SNDBUF, sendBuffer)
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return err
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(index)}
	if err := syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		syscall.Close(fd)
		return err
	}
	c.fd, c.buf = fd, c.buf[:0]
	return nil
}

// sendBuffer is the socket send buffer asked for, so that one write takes
// a whole request.
const sendBuffer = 4 << 20

// send writes req in one write.
func send(fd int, req []byte) error {
	n, err := syscall.Write(fd, req)
	if err != nil {
		return err
	}
	if n < len(req) {
		return fmt.Errorf("wrote %d of the request's %d bytes: the request is larger than the socket's send buffer", n, len(req))
	}
	return nil
}

// drop closes c's socket (closing it also takes it out of the epoll set).
func drop(c *conn) {
	if c.fd >= 0 {
		syscall.Close(c.fd)
		c.fd = -1
	}
	c.buf = c.buf[:0]
}

// sysEpollPwait2 is epoll_pwait2(2) (Linux 5.11), whose timeout is in
// nanoseconds rather than epoll_wait's milliseconds. Its number is the same
// on amd64 and arm64.
const sysEpollPwait2 = 441

// wait waits up to d for events on ep.
func wait(ep int, events []syscall.EpollEvent, d time.Duration) (int, error) {
	ts := syscall.NsecToTimespec(max(int64(d), 0))
	n, _, errno := syscall.Syscall6(sysEpollPwait2, uintptr(ep), uintptr(unsafe.Pointer(&events[0])),
		uintptr(len(events)), uintptr(unsafe.Pointer(&ts)), 0, 0)
	switch errno {
	case 0:
		return int(n), nil
	case syscall.EINTR:
		return 0, nil
	case syscall.ENOSYS: // before Linux 5.11: whole milliseconds, rounded down
		n, err := syscall.EpollWait(ep, events, int(d/time.Millisecond))
		if err == syscall.EINTR {
			return 0, nil
		}
		return n, err
	default:
		return 0, fmt.Errorf("epoll_pwait2: %w", errno)
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
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

var (
	hContentLength    = []byte("Content-Length")
	hTransferEncoding = []byte("Transfer-Encoding")
	hConnection       = []byte("Connection")
	vClose            = []byte("close")
	crlf2             = []byte("\r\n\r\n")
)

// parseResponse parses the response at the start of buf. It returns its
// size in bytes, or 0 when buf does not hold all of it yet, its status
// code, and whether the server closes the connection after it. Only
// bodies framed by Content-Length are supported. It does not allocate.
func parseResponse(buf []byte) (size, status int, closing bool, err error) {
	end := bytes.Index(buf, crlf2)
	if end < 0 {
		return 0, 0, false, nil
	}
	head := buf[:end+2]
	line, rest, _ := bytes.Cut(head, []byte("\r\n"))
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, 0, false, fmt.Errorf("bad status line %q", line)
	}
	for _, b := range line[9:12] {
		status = status*10 + int(b-'0')
	}
	length := -1
	for len(rest) > 0 {
		line, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		name, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, hContentLength):
			n, err := strconv.Atoi(string(value))
			if err != nil || n < 0 {
				return 0, 0, false, fmt.Errorf("bad Content-Length %q", value)
			}
			length = n
		case bytes.EqualFold(name, hTransferEncoding):
			return 0, 0, false, fmt.Errorf("response has Transfer-Encoding %q: only Content-Length bodies are supported", value)
		case bytes.EqualFold(name, hConnection):
			closing = bytes.EqualFold(value, vClose)
		}
	}
	if length < 0 {
		if status/100 == 1 || status == 204 || status == 304 {
			length = 0
		} else {
			return 0, 0, false, fmt.Errorf("response %d has no Content-Length: only Content-Length bodies are supported", status)
		}
	}
	if size = end + 4 + length; len(buf) < size {
		return 0, status, closing, nil
	}
	return size, status, closing, nil
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

// saveRecord writes r to path (gob).
func saveRecord(path string, r *record) error {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(r); err != nil {
		return fmt.Errorf("-raw %s: %w", path, err)
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// loadRecord reads a record that saveRecord wrote.
func loadRecord(path string) (*record, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r record
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&r); err != nil {
		return nil, fmt.Errorf("%s: not a loadgen -raw file: %w", path, err)
	}
	return &r, nil
}

func main() {
	var cfg config
	flag.StringVar(&cfg.URL, "url", "", "target, http://HOST:PORT/PATH")
	body := flag.String("body", "", "file POSTed as application/json (default: GET without a body)")
	flag.Float64Var(&cfg.Rate, "rate", 1000, "requests per second")
	flag.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long to send and record")
	flag.DurationVar(&cfg.Warmup, "warmup", time.Second, "how long to send before recording")
	flag.IntVar(&cfg.Conns, "conns", 64, "keep-alive connections")
	flag.DurationVar(&cfg.Timeout, "timeout", 5*time.Second, "how long to wait for responses after the schedule ends")
	out := flag.String("out", "", "write the JSON results to this file (default: stdout)")
	raw := flag.String("raw", "", "also save what the run recorded to this file, for -merge")
	merging := flag.Bool("merge", false, "send nothing: pool the -raw files named as arguments (runs of one URL, rate and connection count) into one result")
	flag.Usage = func() {
		fmt.Fprint(os.Stderr, "Usage: loadgen -url URL [-body FILE] -rate N -duration D [flags]\n"+
			"       loadgen -merge [-out FILE] RAW...\n\n"+
			"Send requests at a constant rate over keep-alive connections; report their latency\n"+
			"from the intended send time (coordinated omission corrected). With -merge, pool\n"+
			"runs saved with -raw into one result.\n\nFlags:\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *merging != (flag.NArg() > 0) || (!*merging && cfg.URL == "") {
		flag.Usage()
		os.Exit(2)
	}
	rec, err := func() (*record, error) {
		if *merging {
			var recs []*record
			for _, path := range flag.Args() {
				r, err := loadRecord(path)
				if err != nil {
					return nil, err
				}
				recs = append(recs, r)
			}
			return merge(recs)
		}
		if *body != "" {
			b, err := os.ReadFile(*body)
			if err != nil {
				return nil, err
			}
			cfg.Body = b
		}
		r, err := measure(cfg)
		if err != nil {
			return nil, err
		}
		if *raw != "" {
			return r, saveRecord(*raw, r)
		}
		return r, nil
	}()
	var res *result
	if err == nil {
		res = rec.result()
		js, _ := json.MarshalIndent(res, "", "  ")
		if *out == "" {
			_, err = fmt.Printf("%s\n", js)
		} else {
			err = os.WriteFile(*out, append(js, '\n'), 0o644)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	l, g, s := res.Latency, res.GenLate, res.SendLate
	fmt.Fprintf(os.Stderr, "loadgen: %g req/s for %s (+%s warm-up), %d connections, %s\n"+
		"  scheduled %d, sent %d, completed %d (%.0f req/s), errors %d, non-2xx %d, unsent %d\n"+
		"  latency ms: mean %.3f  p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  p99.99 %.3f  max %.3f\n"+
		"  generator lateness ms: p50 %.3f  p99 %.3f  max %.3f; send lateness ms: p99 %.3f  max %.3f\n",
		rec.Rate, rec.Duration, rec.Warmup, rec.Conns, rec.URL,
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
