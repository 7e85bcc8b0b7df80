package serve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/mlpipe/mlpipe/features"
)

// Admission: what bounds the server's memory under any load the options
// allow (docs/operations.md has the arithmetic).
//
//   - MaxConns caps open connections. Past it, a new connection gets a
//     503 with Retry-After and is closed, before any of its bytes are
//     read (limitListener).
//   - fasthttp reads a body of up to eagerBodyBytes before the handler
//     runs; a larger one is streamed, and the work routes read it
//     themselves (readBody), in buffers charged to the budget as they
//     grow. A declared length over MaxBodyBytes is refused (413) unread.
//   - MaxBytesInFlight is a budget for the memory of the work requests
//     being read or served: each one's body, and the working memory its
//     rows can need (Model.rowBytes for each row its body can hold, up to
//     MaxBatch). A request that would take the total past the budget gets
//     503 with Retry-After; it is never queued.
//   - MaxInFlight caps the work requests in their handlers.
//
// After a burst (more than releaseBurst bytes charged since the last
// release), once the budget has been idle for ReleaseAfter, the server
// returns free memory to the operating system (debug.FreeOSMemory)
// instead of waiting minutes for the runtime's background scavenger.

// eagerBodyBytes is the largest body fasthttp reads before the handler
// runs; larger ones are streamed. A single-instance request is a few
// hundred bytes, so nearly every request takes the fast path, and an
// idle or slow connection never holds more than this much body.
const eagerBodyBytes = 16 << 10

// releaseBurst is the bytes charged to the budget since the last release
// that make an idle spell worth a debug.FreeOSMemory (a full collection
// and a madvise of the free pages: milliseconds on this heap).
const releaseBurst = 32 << 20

// ErrBudget means the server's budget of bytes in flight is spent (503,
// with Retry-After).
var ErrBudget = fmt.Errorf("%w: the server's budget of request bytes in flight is spent", ErrOverloaded)

// budget is the global count of request bytes in flight
// (Options.MaxBytesInFlight).
type budget struct {
	max     int64
	used    atomic.Int64
	charged atomic.Int64 // total ever charged: tells a burst from quiet
}

// take charges n bytes, or refuses when they would take the total past
// the maximum. Charges of at least burstUnit also count towards a burst
// (releaseMemory); the small ones of single-row requests, which cost one
// atomic add, do not.
func (b *budget) take(n int64) bool {
	if n <= 0 {
		return true
	}
	if b.used.Add(n) > b.max {
		b.used.Add(-n)
		return false
	}
	if n >= burstUnit {
		b.charged.Add(n)
	}
	return true
}

// burstUnit is the smallest charge that counts towards a burst.
const burstUnit = 64 << 10

func (b *budget) give(n int64) { b.used.Add(-n) }

// valueBytes is the size of one decoded input value.
const valueBytes = int64(unsafe.Sizeof(features.Value{}))

// rowCost computes the memory one row of a request can make the server
// allocate, and the fewest body bytes a row can take in each API, for
// the budget: the decoded values and their unknown-bucket flags, the
// feature matrix, the outputs, the response (built in the scratch and
// copied into fasthttp's buffer) and, with a sink, the event (its
// struct, its id, a copy of the probabilities and of the row's text).
// It counts what is allocated, garbage included, which is more than
// what is live at once: the decoded values grow with the rows, a
// quarter at a time (grow), so they are allocated about five times over
// (1 + 0.8 + 0.64 + ... = 5); the rest half as much again covers its
// growth. TestRowBytes checks the estimate against what a batch of
// 5,000 rows allocates through each API.
func (m *Model) rowCost() (rowBytes int64, minNative, minOIP int) {
	nIn, width, k := int64(len(m.inputs)), int64(m.enc.Width()), int64(m.outputs)
	var names, classes int64
	for _, in := range m.inputs {
		names += int64(len(in.name)) + 3
	}
	for _, c := range m.classJSON {
		classes = max(classes, int64(len(c)))
	}
	resp := 64 + k*(classes+28) + names
	const event = int64(unsafe.Sizeof(PredictionEvent{})) + 48 // and its batch id, "REQUESTID#i"
	rest := nIn + 8*width + 8*k + 2*resp + 24 + event + 8*k + 16*nIn
	rowBytes = 5*nIn*valueBytes + rest + rest/2
	// A native instance has every input: `"name":v` and a separator
	// each, and its braces. A row of an OIP request (columns) can be as
	// short as one digit and a comma per input.
	minNative = 2
	for _, in := range m.inputs {
		minNative += len(in.name) + 4
	}
	return rowBytes, minNative, max(2*len(m.inputs), 2)
}

// workBytes is what a request of an API with body is charged for its
// rows: as many as the body can hold, up to MaxBatch; and, when it may
// ask for explanations (it says "explain"), as much again for up to
// MaxExplain rows (an explanation's contributions and its response
// allocate about what a row's prediction does: TestRowBytes).
func (s *Server) workBytes(body []byte, api string) int64 {
	m := s.model.Load()
	if m == nil {
		return 0
	}
	minRow := m.minNative
	if api == apiOIP {
		minRow = m.minOIP
	}
	rows := min(len(body)/minRow+1, s.opts.MaxBatch)
	charge := int64(rows)*m.rowBytes + int64(len(body)) // and the events' copy of the rows' text
	if bytes.Contains(body, explainKey) {
		charge += int64(min(rows, s.opts.MaxExplain)) * m.rowBytes
	}
	return charge
}

var explainKey = []byte("explain")

// bodyPool holds the buffers that a body starts in (a body that outgrows
// one gets a buffer of its own, not pooled).
var bodyPool = sync.Pool{New: func() any { b := make([]byte, 0, eagerBodyBytes); return &b }}

const pooledBody = eagerBodyBytes

// admitted is what limit holds for a work request: its body, the bytes
// charged to the budget for it, and the pooled buffer the body is in.
type admitted struct {
	body    []byte
	charged int64
	work    int64   // the part of charged that is workBytes (settle lowers it)
	buf     *[]byte // from bodyPool; nil when the body is fasthttp's
}

// settle gives back, once a work request's rows are decoded, what
// workBytes charged for rows its body could have held but does not: from
// then on the request holds the working memory of its real rows. The
// bound up front has to assume the shortest rows the API allows (an OIP
// row can be two bytes an input), several times the rows real requests
// carry; held for the whole request, it had 16 concurrent 1,000-row OIP
// batches refused with 503 under the default budget (scripts/bench/serve.sh).
// The decoded rows cannot outnumber those charged for: the decoders
// read no more rows than the body holds.
func (s *Server) settle(c call, m *Model, rows int) {
	a := c.adm
	if a == nil {
		return
	}
	need := int64(rows)*m.rowBytes + int64(len(c.body))
	if bytes.Contains(c.body, explainKey) {
		need += int64(min(rows, s.opts.MaxExplain)) * m.rowBytes
	}
	if need < a.work {
		s.budget.give(a.work - need)
		a.charged -= a.work - need
		a.work = need
	}
}

// charge takes n more bytes from the budget for the request.
func (s *Server) charge(a *admitted, n int64) bool {
	if !s.budget.take(n) {
		return false
	}
	a.charged += n
	return true
}

// release gives back what a request was charged, and its buffer.
func (s *Server) release(a *admitted) {
	s.budget.give(a.charged)
	if a.buf != nil && cap(*a.buf) <= pooledBody {
		*a.buf = (*a.buf)[:0]
		bodyPool.Put(a.buf)
	}
}

// readBody reads the body of a work request into a.body, in a buffer
// charged to the budget as it grows (release gives it back), refusing a
// body over MaxBodyBytes (ErrTooLarge) or one the budget cannot hold
// (ErrBudget). A Content-Encoding is refused (ErrMediaType): the decoders
// read JSON only.
func (s *Server) readBody(c *call, a *admitted) error {
	if err := checkEncoding(c); err != nil {
		return err
	}
	if !c.Request.IsBodyStream() {
		// A handler called directly (tests): fasthttp has the body.
		a.body = c.PostBody()
		if int64(len(a.body)) > s.opts.MaxBodyBytes {
			return fmt.Errorf("%w: the body is %d bytes, the limit is %d", ErrTooLarge, len(a.body), s.opts.MaxBodyBytes)
		}
		return nil
	}
	declared := c.Request.Header.ContentLength() // -1: chunked
	if int64(declared) > s.opts.MaxBodyBytes {
		return fmt.Errorf("%w: the body is %d bytes, the limit is %d", ErrTooLarge, declared, s.opts.MaxBodyBytes)
	}
	a.buf = bodyPool.Get().(*[]byte)
	buf := (*a.buf)[:0]
	if !s.charge(a, int64(cap(buf))) {
		return ErrBudget
	}
	r := c.RequestBodyStream()
	for {
		if len(buf) == cap(buf) {
			// Grow by doubling, to the declared length if known, charging
			// the new buffer before it is allocated; the pooled one goes
			// back to the pool. The outgrown buffers stay charged until
			// the request ends: they are garbage the collector has not
			// taken yet, as much again as the body (32 clients of 7 MiB
			// bodies took mlserve to 498 MB when they were given back at
			// once).
			want := min(2*cap(buf), int(s.opts.MaxBodyBytes)+1)
			if declared >= 0 {
				want = min(want, declared+1)
			}
			if !s.charge(a, int64(want)) {
				return ErrBudget
			}
			grown := make([]byte, len(buf), want)
			copy(grown, buf)
			buf = grown
			if a.buf != nil {
				*a.buf = (*a.buf)[:0]
				bodyPool.Put(a.buf)
				a.buf = nil
			}
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > s.opts.MaxBodyBytes {
			return fmt.Errorf("%w: the body is over the limit of %d bytes", ErrTooLarge, s.opts.MaxBodyBytes)
		}
		if err == io.EOF {
			a.body = buf
			if a.buf != nil {
				*a.buf = buf
			}
			return nil
		}
		var timeout interface{ Timeout() bool }
		if errors.As(err, &timeout) && timeout.Timeout() {
			return fmt.Errorf("%w: the body did not arrive within the read timeout (%d bytes of it did)", ErrTimeout, len(buf))
		}
		if err != nil {
			return fmt.Errorf("%w: the body cannot be read: %v", ErrBadRequest, safeError(err))
		}
	}
}

// checkEncoding refuses a body with a Content-Encoding other than
// identity: gzip (or anything else) is not decoded, so that a small
// compressed body cannot expand past the limits.
func checkEncoding(c *call) error {
	if ce := c.Request.Header.ContentEncoding(); len(ce) > 0 && string(ce) != "identity" {
		return fmt.Errorf("%w: Content-Encoding %q is not supported; send the body uncompressed", ErrMediaType, ce)
	}
	return nil
}

// --- Connections -----------------------------------------------------------

// limitListener accepts at most max connections at once. Past it, a new
// connection is answered 503 with Retry-After and closed (by at most
// maxRefusing goroutines at once; past that, closed without an answer).
type limitListener struct {
	net.Listener
	sem      chan struct{}
	refusing atomic.Int64
	refused  func()
}

// maxRefusing bounds the goroutines answering refused connections.
const maxRefusing = 64

// refusal is the whole answer to a connection over the cap.
var refusal = []byte("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: 71\r\n\r\n" +
	`{"error":"too many connections: the server is at its cap; retry later"}`)

func newLimitListener(ln net.Listener, max int, refused func()) *limitListener {
	return &limitListener{Listener: ln, sem: make(chan struct{}, max), refused: refused}
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.sem <- struct{}{}:
			return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
		default:
		}
		l.refused()
		if l.refusing.Add(1) > maxRefusing {
			l.refusing.Add(-1)
			c.Close()
			continue
		}
		go func() {
			defer l.refusing.Add(-1)
			refuse(c)
		}()
	}
}

// refuse answers a connection over the cap and closes it, after reading
// (and dropping) what the client sends for a moment, so that the close
// does not reset the connection before the client reads the answer.
func refuse(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := c.Write(refusal); err != nil {
		return
	}
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	_, _ = io.CopyN(io.Discard, c, 64<<10)
}

// limitConn gives its slot back when closed.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// --- Memory ------------------------------------------------------------------

// releaseMemory returns free memory to the operating system after a
// burst: once the budget has been idle (nothing charged, nothing in
// flight) for after, if more than releaseBurst bytes were charged since
// the last release. It runs until ctx is done.
func (s *Server) releaseMemory(ctx context.Context, after time.Duration, log *slog.Logger) {
	tick := time.NewTicker(after / 4)
	defer tick.Stop()
	var lastCharged int64
	var idleSince time.Time
	var seen int64
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			charged := s.budget.charged.Load()
			if charged != seen || s.budget.used.Load() > 0 {
				seen, idleSince = charged, now
				continue
			}
			if charged-lastCharged < releaseBurst || now.Sub(idleSince) < after {
				continue
			}
			start := time.Now()
			debug.FreeOSMemory()
			lastCharged = charged
			log.Debug("returned free memory to the operating system after a burst", "took", time.Since(start).Round(time.Millisecond))
		}
	}
}

// safeError is err's text cut before any dump of the request that an
// HTTP library appends to it ("buffer size=..., contents: ..."): the
// dump can hold an Authorization header.
func safeError(err error) string { return safeText(err.Error()) }

// safeText is safeError on a message.
func safeText(msg string) string {
	for _, cut := range []string{"buffer size=", "Buffer size=", "contents:", "\n"} {
		if i := strings.Index(msg, cut); i >= 0 {
			msg = msg[:i]
		}
	}
	return strings.TrimRight(msg, " :,")
}
