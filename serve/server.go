package serve

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"
)

// Options configure a Server. The zero value is usable: every zero field
// takes its default.
type Options struct {
	// Log receives server events. Nil means no logging.
	Log *slog.Logger
	// ShutdownTimeout bounds how long Run waits for in-flight requests
	// after ctx is cancelled (default 10s).
	ShutdownTimeout time.Duration

	// Registry and Ref name the model to serve and follow: Reload loads
	// Ref ("NAME", "NAME@ALIAS" or "NAME@VERSION") from Registry, and Run
	// polls it every PollInterval. Without a Registry, SetModel sets the
	// model once (a bundle served from a directory).
	Registry Registry
	Ref      string
	// PollInterval is how often Run checks whether Ref moved (default
	// 2s; negative disables polling, leaving POST /admin/reload).
	PollInterval time.Duration

	// MaxEventField caps each string of an instance given to the Sink
	// (default 1024 bytes): a longer one is cut and marked with its
	// length, so a client's 8 MB string is not queued for the log.
	MaxEventField int

	// Sink receives every prediction and label (nil: none). SinkStats,
	// if set, reports the sink's written and dropped counts for /metrics.
	Sink      Sink
	SinkStats func() (written, dropped uint64)
	// Collectors are more metrics for /metrics (such as live drift
	// gauges); they are collected at scrape time, off the request path.
	Collectors []prometheus.Collector

	// MaxBodyBytes limits a request body (default 8 MiB; larger: 413).
	MaxBodyBytes int64
	// MaxBatch limits the instances of one request (default 10,000;
	// more: 413).
	MaxBatch int
	// MaxInFlight limits the predict, infer and labels requests served
	// at once (default 256); more get 503 with Retry-After.
	MaxInFlight int
	// MaxConns limits open connections (default 1024); a connection past
	// it gets 503 with Retry-After and is closed.
	MaxConns int
	// MaxBytesInFlight is the budget of memory for the work requests
	// being read or served: their bodies and the working memory of their
	// rows (default 128 MiB; at least 3 × MaxBodyBytes). A request that would
	// go past it gets 503 with Retry-After. See admission.go.
	MaxBytesInFlight int64
	// ReleaseAfter: after a burst, once no request has been charged to
	// the budget for this long, free memory goes back to the operating
	// system (default 2s; negative: never, the runtime's scavenger does
	// it in its own time).
	ReleaseAfter time.Duration
	// MaxExplain limits the instances one request may explain (default
	// 100; more: 413): one explanation of the default model costs
	// thousands of predictions (BenchmarkExplainRow).
	MaxExplain int

	// AdminToken, if set, is the bearer token /admin/* requires. Without
	// one, /admin/* is open if AdminOpen (the caller sets it when the
	// server listens on loopback only) and disabled (403) otherwise.
	AdminToken string
	AdminOpen  bool

	// Timeouts of the HTTP server (defaults 5s, 30s, 30s, 120s).
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration

	// ServerVersion is reported by GET /v2 (default "devel").
	ServerVersion string
}

// Defaults of Options.
const (
	DefaultShutdownTimeout = 10 * time.Second
	DefaultPollInterval    = 2 * time.Second
	DefaultMaxBodyBytes    = 8 << 20
	DefaultMaxBatch        = 10_000
	DefaultMaxInFlight     = 256
	DefaultMaxExplain      = 100
	DefaultMaxConns        = 1024
	// DefaultMaxBytesInFlight with the other defaults keeps mlserve's
	// resident memory under 512 MB (docs/operations.md).
	DefaultMaxBytesInFlight = 128 << 20
	DefaultReleaseAfter     = 2 * time.Second
	// DefaultMaxEventField is the cap of a logged field, as
	// predlog.DefaultMaxFieldBytes.
	DefaultMaxEventField = 1024
)

func (o *Options) defaults() {
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	set(&o.ShutdownTimeout, DefaultShutdownTimeout)
	set(&o.ReadHeaderTimeout, 5*time.Second)
	set(&o.ReadTimeout, 30*time.Second)
	set(&o.WriteTimeout, 30*time.Second)
	set(&o.IdleTimeout, 120*time.Second)
	if o.PollInterval == 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = DefaultMaxInFlight
	}
	if o.MaxExplain <= 0 {
		o.MaxExplain = DefaultMaxExplain
	}
	if o.MaxConns <= 0 {
		o.MaxConns = DefaultMaxConns
	}
	if o.MaxEventField <= 0 {
		o.MaxEventField = DefaultMaxEventField
	}
	if o.MaxBytesInFlight <= 0 {
		o.MaxBytesInFlight = DefaultMaxBytesInFlight
	}
	// One body of the largest size must fit, with the buffers it
	// outgrew (as much again) and its rows.
	o.MaxBytesInFlight = max(o.MaxBytesInFlight, 3*o.MaxBodyBytes)
	if o.ReleaseAfter == 0 {
		o.ReleaseAfter = DefaultReleaseAfter
	}
	if o.ServerVersion == "" {
		o.ServerVersion = "devel"
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
}

// Server serves one model over HTTP: the native JSON API, the Open
// Inference Protocol, health, metrics and admin routes. Its model is
// swapped atomically by SetModel and Reload; each request reads it once,
// so a request is scored, start to end, by one model.
//
// It speaks HTTP through fasthttp (github.com/valyala/fasthttp), not
// net/http: on the 2-core machine of BENCHMARKS.md a net/http server that
// only decodes the body and answers a fixed reply already misses a 2 ms
// p99 at half its own throughput, while the same server on fasthttp,
// which reuses its request objects instead of allocating them, keeps
// under it (docs/serving.md has the figures).
type Server struct {
	opts    Options
	log     *slog.Logger
	sink    Sink
	routes  []route
	metrics *metrics
	scrape  fasthttp.RequestHandler // GET /metrics
	sem     chan struct{}           // one token per work request in flight
	budget  budget                  // request bytes in flight (admission.go)

	model    atomic.Pointer[Model]
	notReady atomic.Pointer[string] // set while draining; nil otherwise

	reloadMu sync.Mutex
	refused  string // "name@version" of the last bundle refused by polling
	lastErr  string // the last resolve error logged (not repeated)

	idPrefix string
	idSeq    atomic.Uint64
}

// A call is one request as a handler sees it: the fasthttp context (the
// request, and the response being built), the route's wildcards and the
// request id.
type call struct {
	*fasthttp.RequestCtx
	name, version string // {name} and {version}, if the route has them
	id            string // X-Request-Id of the response
	body          []byte // a work request's body, read by limit
	hasBody       bool
	adm           *admitted // what limit charged a work request (settle)
}

// A route is one pattern and its handler.
type route struct {
	pattern string   // "METHOD /path/{wildcard}", also the metrics' route label
	method  string   // GET also answers HEAD
	segs    []string // the path's segments: "{name}" and "{version}" are wildcards, "" a trailing slash
	api     string   // apiNative, apiOIP, "ops" or "admin"
	work    bool     // counts against MaxInFlight
	h       func(c call)
}

// The APIs, as metrics label them.
const (
	apiNative = "native"
	apiOIP    = "oip"
)

// Route describes one route of the server.
type Route struct {
	// Pattern is "METHOD /path/{wildcard}" ({$} marks a trailing slash,
	// as in net/http's ServeMux). It is also the route label of the
	// metrics.
	Pattern string
	// API is "native", "oip", "ops" (health, metrics, documentation) or
	// "admin".
	API string
}

// Routes lists the server's routes.
func (s *Server) Routes() []Route {
	out := make([]Route, len(s.routes))
	for i, r := range s.routes {
		out[i] = Route{Pattern: r.pattern, API: r.api}
	}
	return out
}

// New returns a server that is live but not ready: it has no model until
// SetModel or Reload gives it one.
func New(opts Options) *Server {
	opts.defaults()
	s := &Server{opts: opts, log: opts.Log, sink: opts.Sink}
	s.sem = make(chan struct{}, opts.MaxInFlight)
	s.budget.max = opts.MaxBytesInFlight
	var seed [6]byte
	_, _ = rand.Read(seed[:])
	s.idPrefix = hex.EncodeToString(seed[:]) + "-"
	s.routes = []route{
		{pattern: "GET /healthz", api: "ops", h: s.healthz},
		{pattern: "GET /readyz", api: "ops", h: s.readyz},
		{pattern: "GET /openapi.json", api: "ops", h: s.openapi},
		{pattern: "GET /metrics", api: "ops", h: func(c call) { s.scrape(c.RequestCtx) }},
		{pattern: "POST /admin/reload", api: "admin", h: s.adminReload},

		{pattern: "GET /v1/models/{name}", api: apiNative, h: s.modelInfo},
		{pattern: "POST /v1/models/{name}/predict", api: apiNative, work: true, h: s.predict},
		{pattern: "POST /v1/models/{name}/labels", api: apiNative, work: true, h: s.labels},

		{pattern: "GET /v2", api: apiOIP, h: s.oipServerMetadata},
		{pattern: "GET /v2/{$}", api: apiOIP, h: s.oipServerMetadata},
		{pattern: "GET /v2/health/live", api: apiOIP, h: s.oipLive},
		{pattern: "GET /v2/health/ready", api: apiOIP, h: s.oipReady},
		{pattern: "GET /v2/models/{name}", api: apiOIP, h: s.oipModelMetadata},
		{pattern: "GET /v2/models/{name}/versions/{version}", api: apiOIP, h: s.oipModelMetadata},
		{pattern: "GET /v2/models/{name}/ready", api: apiOIP, h: s.oipModelReady},
		{pattern: "GET /v2/models/{name}/versions/{version}/ready", api: apiOIP, h: s.oipModelReady},
		{pattern: "POST /v2/models/{name}/infer", api: apiOIP, work: true, h: s.oipInfer},
		{pattern: "POST /v2/models/{name}/versions/{version}/infer", api: apiOIP, work: true, h: s.oipInfer},
	}
	patterns := make([]string, len(s.routes))
	for i := range s.routes {
		r := &s.routes[i]
		patterns[i] = r.pattern
		method, path, _ := strings.Cut(r.pattern, " ")
		r.method = method
		for seg := range strings.SplitSeq(strings.TrimPrefix(path, "/"), "/") {
			if seg == "{$}" {
				seg = ""
			}
			r.segs = append(r.segs, seg)
		}
	}
	s.metrics = newMetrics(patterns, opts.SinkStats, s.budget.used.Load)
	for _, c := range opts.Collectors {
		s.metrics.reg.MustRegister(c)
	}
	s.scrape = s.metrics.handler()
	return s
}

// Handler returns the server's routes with their middleware: request
// ids, metrics, path checks, the in-flight limit, the admin guard, JSON
// errors for unknown routes, and panic recovery. Run serves it; tests
// call it with a fasthttp.RequestCtx of their own.
func (s *Server) Handler() fasthttp.RequestHandler { return s.serve }

// SetModel makes m the served model (the server becomes ready).
func (s *Server) SetModel(m *Model) {
	s.model.Store(m)
	s.metrics.setModel(m)
	s.log.Info("model serving", "model", m.Name, "version", m.Version, "dir", m.Dir)
}

// Model returns the served model, or nil before one is loaded.
func (s *Server) Model() *Model { return s.model.Load() }

// SetNotReady marks the server not ready (e.g. while draining), with the
// reason /readyz gives; SetReady clears it. Without a model the server is
// not ready either way.
func (s *Server) SetNotReady(reason string) { s.notReady.Store(&reason) }

// SetReady clears SetNotReady.
func (s *Server) SetReady() { s.notReady.Store(nil) }

// ready returns nil when the server can serve predictions, or why not.
func (s *Server) ready() error {
	if why := s.notReady.Load(); why != nil {
		return fmt.Errorf("%w: %s", ErrNotReady, *why)
	}
	if s.model.Load() == nil {
		return ErrNotReady
	}
	return nil
}

// --- Middleware ----------------------------------------------------------

func (s *Server) serve(ctx *fasthttp.RequestCtx) {
	start := time.Now()
	s.metrics.inFlight.Inc()
	c := call{RequestCtx: ctx, id: s.requestID(ctx.Request.Header.Peek("X-Request-Id"))}
	ctx.Response.Header.Set("X-Request-Id", c.id)
	label := routeUnmatched
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic serving a request", "method", string(ctx.Method()), "route", label, "request_id", c.id, "panic", p)
			// Nothing is sent before the handler returns: the
			// half-built response is replaced.
			ctx.Response.Reset()
			ctx.Response.Header.Set("X-Request-Id", c.id)
			s.fail(c, fmt.Errorf("%w: the server failed on this request (request id %s)", ErrInternal, c.id))
		}
		s.metrics.inFlight.Dec()
		s.metrics.observe(label, ctx.Response.StatusCode(), time.Since(start))
	}()
	if raw := ctx.Request.URI().PathOriginal(); badPath(raw) {
		label = routeInvalid
		s.fail(c, badf("path %q has an empty, '.' or '..' segment", raw))
		return
	}
	r, allow := s.match(&c)
	if r == nil {
		s.unrouted(c, allow)
		return
	}
	label = r.pattern
	switch {
	case r.api == "admin":
		s.admin(c, r.h)
	case r.work:
		s.limit(c, r.api, r.h)
	default:
		r.h(c)
	}
}

// match finds the route of c's method and path and fills c's wildcards.
// Without one, allow lists the methods the path has routes for. Only the
// routes of the request's method are matched against its path first (a
// predict request tries two paths, not seven); the others only when none
// of those matches, for the Allow list.
func (s *Server) match(c *call) (r *route, allow []string) {
	method := string(c.Method()) // no allocation: a comparison only
	path := c.Request.URI().PathOriginal()
	for i := range s.routes {
		r := &s.routes[i]
		if method != r.method && (method != fasthttp.MethodHead || r.method != fasthttp.MethodGet) {
			continue
		}
		if name, version, ok := r.matchPath(path); ok {
			c.name, c.version = name, version
			return r, nil
		}
	}
	for i := range s.routes {
		r := &s.routes[i]
		if _, _, ok := r.matchPath(path); !ok {
			continue
		}
		if !slices.Contains(allow, r.method) {
			allow = append(allow, r.method)
			if r.method == fasthttp.MethodGet {
				allow = append(allow, fasthttp.MethodHead)
			}
		}
	}
	return nil, allow
}

// matchPath reports whether path (as sent, escaped) has r's segments, and
// returns its wildcards. Like net/http's ServeMux, it splits the path
// before unescaping each segment, so "%2F" stays inside a segment.
func (r *route) matchPath(path []byte) (name, version string, ok bool) {
	rest, ok := bytes.CutPrefix(path, []byte("/"))
	if !ok {
		return "", "", false
	}
	var nameB, versionB []byte // made strings only on a match
	for i, want := range r.segs {
		raw, tail, more := bytes.Cut(rest, []byte("/"))
		if more != (i < len(r.segs)-1) {
			return "", "", false
		}
		seg, ok := unescape(raw)
		switch {
		case !ok:
			return "", "", false
		case want == "{name}" && len(seg) > 0:
			nameB = seg
		case want == "{version}" && len(seg) > 0:
			versionB = seg
		case string(seg) != want:
			return "", "", false
		}
		rest = tail
	}
	return string(nameB), string(versionB), true
}

// unescape returns a path segment with its %XX escapes decoded (without
// copying when it has none), or false if an escape is malformed.
func unescape(seg []byte) ([]byte, bool) {
	if bytes.IndexByte(seg, '%') < 0 {
		return seg, true
	}
	u, err := url.PathUnescape(string(seg))
	return []byte(u), err == nil
}

// badPath reports whether p (as sent, escaped) has an empty, "." or ".."
// segment, which a client or proxy may resolve differently from us; we
// refuse them.
func badPath(p []byte) bool {
	if len(p) == 0 || p[0] != '/' {
		return true
	}
	for seg := range bytes.SplitSeq(p[1:], []byte("/")) {
		if string(seg) == "." || string(seg) == ".." {
			return true
		}
	}
	return bytes.Contains(p, []byte("//"))
}

// unrouted answers a request that matches no route: 405 (and Allow) if
// the path has a route for another method, else 404; in JSON either way.
func (s *Server) unrouted(c call, allow []string) {
	path := c.Request.URI().PathOriginal()
	if len(allow) > 0 {
		list := strings.Join(allow, ", ")
		c.Response.Header.Set("Allow", list)
		writeError(c, fasthttp.StatusMethodNotAllowed, fmt.Sprintf("method %s is not allowed on %s (allowed: %s)", c.Method(), path, list))
		return
	}
	writeError(c, fasthttp.StatusNotFound, fmt.Sprintf("no route %s %s (see GET /openapi.json)", c.Method(), path))
}

// limit admits a work request (admission.go): it reads the body within
// the budget of bytes in flight, charges the working memory of the rows
// the body can hold, and takes one of the MaxInFlight slots, refusing
// with 503 and Retry-After when any of them is spent. It does not queue:
// a client told to retry does better than one held waiting while the
// server is saturated.
func (s *Server) limit(c call, api string, h func(call)) {
	var a admitted
	defer s.release(&a)
	err := s.readBody(&c, &a)
	if err == nil {
		a.work = s.workBytes(a.body, api)
		if !s.charge(&a, a.work) {
			a.work, err = 0, ErrBudget
		}
	}
	if err != nil {
		if errors.Is(err, ErrOverloaded) {
			s.metrics.rejected.Inc()
			c.Response.Header.Set("Retry-After", "1")
			// Read the rest of the body, without keeping it, so that the
			// client gets its 503 rather than a reset connection.
			if c.Request.IsBodyStream() {
				_, _ = io.Copy(io.Discard, io.LimitReader(c.RequestBodyStream(), s.opts.MaxBodyBytes))
			}
		}
		s.fail(c, err)
		return
	}
	c.body, c.hasBody, c.adm = a.body, true, &a
	select {
	case s.sem <- struct{}{}:
		defer func() { <-s.sem }()
		h(c)
	default:
		s.metrics.rejected.Inc()
		c.Response.Header.Set("Retry-After", "1")
		s.fail(c, fmt.Errorf("%w (limit %d); retry later", ErrOverloaded, s.opts.MaxInFlight))
	}
}

// maxRequestID is the longest incoming X-Request-Id the server adopts.
const maxRequestID = 128

// requestID returns the incoming id if it is sane (1 to 128 characters
// of letters, digits and -_.:/+=@), else a new one: a random per-process
// prefix and a sequence number.
func (s *Server) requestID(in []byte) string {
	if len(in) > 0 && len(in) <= maxRequestID {
		ok := true
		for i := 0; i < len(in) && ok; i++ {
			c := in[i]
			ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.:/+=@", c) >= 0
		}
		if ok {
			return string(in)
		}
	}
	var b [64]byte // the prefix (13 bytes) and a base-36 uint64 (at most 13)
	return string(strconv.AppendUint(append(b[:0], s.idPrefix...), s.idSeq.Add(1), 36))
}

// --- Responses -----------------------------------------------------------

// writeJSON writes v with encoding/json (for the small, cold responses).
func writeJSON(c call, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code, b = fasthttp.StatusInternalServerError, []byte(`{"error":"internal error: encoding the response"}`)
	}
	writeRaw(c, code, append(b, '\n'))
}

// writeRaw writes a JSON body. It copies b: fasthttp sends the response
// after the handler returns, when b's buffer may be reused.
func writeRaw(c call, code int, b []byte) {
	c.SetStatusCode(code)
	c.SetContentTypeBytes(contentTypeJSON)
	c.SetBody(b)
}

var contentTypeJSON = []byte("application/json")

// writeError writes {"error": msg}.
func writeError(c call, code int, msg string) {
	writeJSON(c, code, struct {
		Error string `json:"error"`
	}{msg})
}

// fail writes err with the status statusOf gives it. The message is the
// error's text; the errors of this package never hold server internals
// that a client must not see, except ErrInternal, whose text is generic.
func (s *Server) fail(c call, err error) {
	code := statusOf(err)
	if code >= 500 && !errors.Is(err, ErrNotReady) && !errors.Is(err, ErrOverloaded) {
		s.log.Error("request failed", "request_id", c.id, "err", err)
	}
	writeError(c, code, err.Error())
}

// unreadable is fasthttp's ErrorHandler: it answers a request the server
// could not read (malformed, over the body limit, headers over
// maxHeaderBytes, too slow) before any route sees it, in JSON like the
// rest. The answer and the log line never carry the library's error
// text, which can quote the raw request with its Authorization header.
func (s *Server) unreadable(ctx *fasthttp.RequestCtx, err error) {
	s.log.Debug("request unreadable", "remote", ctx.RemoteAddr().String(), "err", safeError(err))
	code, msg := fasthttp.StatusBadRequest, "the request cannot be read: malformed HTTP (request line, headers or framing)"
	var small *fasthttp.ErrSmallBuffer
	var timeout interface{ Timeout() bool }
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		code, msg = fasthttp.StatusRequestEntityTooLarge, fmt.Sprintf("%v: the body is over the limit of %d bytes", ErrTooLarge, s.opts.MaxBodyBytes)
	case errors.As(err, &small):
		code, msg = fasthttp.StatusRequestHeaderFieldsTooLarge, fmt.Sprintf("the request's headers are over the limit of %d bytes", maxHeaderBytes)
	case errors.As(err, &timeout) && timeout.Timeout():
		code, msg = fasthttp.StatusRequestTimeout, "the request was not read in time"
	}
	s.metrics.observe(routeUnread, code, 0)
	writeError(call{RequestCtx: ctx}, code, msg)
}

// --- Request bodies ------------------------------------------------------

// body returns a JSON request body, checking the content type, the
// content encoding and MaxBodyBytes. A work route's body was read by
// limit (within the budget, refused over the limit); the checks here
// hold for a handler called directly.
func (s *Server) body(c call) ([]byte, error) {
	if ct := c.Request.Header.ContentType(); len(ct) > 0 && !isJSON(ct) {
		return nil, fmt.Errorf("%w: Content-Type %q; send application/json", ErrMediaType, ct)
	}
	if c.hasBody {
		return c.body, nil
	}
	if err := checkEncoding(&c); err != nil {
		return nil, err
	}
	b := c.PostBody()
	if int64(len(b)) > s.opts.MaxBodyBytes {
		return nil, fmt.Errorf("%w: the body is %d bytes, the limit is %d", ErrTooLarge, len(b), s.opts.MaxBodyBytes)
	}
	return b, nil
}

// isJSON reports whether a Content-Type is application/json (any
// parameters, such as charset, are ignored).
func isJSON(ct []byte) bool {
	mt, _, _ := bytes.Cut(ct, []byte(";"))
	return bytes.EqualFold(bytes.TrimSpace(mt), contentTypeJSON)
}

// --- Model lookup --------------------------------------------------------

// modelFor returns the served model if it has this name (and version,
// if one is given: "N" or "vN"), or an error for the client.
func (s *Server) modelFor(name, version string) (*Model, error) {
	m := s.model.Load()
	if m == nil {
		return nil, ErrNotReady
	}
	if name != m.Name {
		return nil, fmt.Errorf("%w: model %q is not served here (this server serves %q)", ErrNotFound, name, m.Name)
	}
	if version != "" {
		v, err := strconv.Atoi(strings.TrimPrefix(version, "v"))
		if err != nil || v != m.Version || v <= 0 {
			return nil, fmt.Errorf("%w: version %q of model %q is not served here (serving %s)", ErrNotFound, version, name, m.describeVersion())
		}
	}
	return m, nil
}

func (m *Model) describeVersion() string {
	if m.Version == 0 {
		return "an unversioned bundle"
	}
	return "version " + m.versionS
}

// --- Running -------------------------------------------------------------

// maxHeaderBytes limits a request's headers (fasthttp's read buffer:
// larger get 431).
const maxHeaderBytes = 16 << 10

// Run serves on ln until ctx is cancelled, then stops accepting
// connections and waits up to the shutdown timeout for in-flight
// requests to finish. With a Registry and a positive PollInterval it
// also polls the model reference and swaps in new versions.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	srv := &fasthttp.Server{
		Handler:      s.serve,
		ErrorHandler: s.unreadable,
		// A connection gets ReadHeaderTimeout for its headers (a slow
		// client cannot hold it open forever), then ReadTimeout for
		// the body.
		ReadTimeout: s.opts.ReadHeaderTimeout,
		HeaderReceived: func(*fasthttp.RequestHeader) fasthttp.RequestConfig {
			return fasthttp.RequestConfig{ReadTimeout: s.opts.ReadTimeout}
		},
		WriteTimeout: s.opts.WriteTimeout,
		IdleTimeout:  s.opts.IdleTimeout,
		// Bodies over eagerBodyBytes are streamed: the work routes read
		// them within the budget (limit); the others take none.
		StreamRequestBody:     true,
		MaxRequestBodySize:    int(min(eagerBodyBytes, s.opts.MaxBodyBytes)),
		ReadBufferSize:        maxHeaderBytes,
		NoDefaultServerHeader: true,
		CloseOnShutdown:       true,
		// fasthttp's errors then carry no dump of the request (its
		// headers, with an Authorization); safeError cuts one anyway.
		SecureErrorLogMessage:        true,
		DisablePreParseMultipartForm: true,
		Logger:                       printfLogger{s.log},
	}
	wctx, stopWatch := context.WithCancel(ctx)
	var watching sync.WaitGroup
	if s.opts.Registry != nil && s.opts.PollInterval > 0 {
		watching.Go(func() { s.watch(wctx) })
	}
	if s.opts.ReleaseAfter > 0 {
		watching.Go(func() { s.releaseMemory(wctx, s.opts.ReleaseAfter, s.log) })
	}
	defer func() {
		stopWatch()
		watching.Wait()
	}()
	errc := make(chan error, 1)
	// At most MaxConns connections (admission.go).
	conns := newLimitListener(ln, s.opts.MaxConns, s.metrics.refusedConns.Inc)
	go func() { errc <- srv.Serve(conns) }()
	s.log.Info("serving", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.SetNotReady("shutting down")
	s.log.Info("shutting down", "timeout", s.opts.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
	defer cancel()
	if err := srv.ShutdownWithContext(sctx); err != nil {
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	if err := <-errc; err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// printfLogger passes fasthttp's log lines (connections it gave up on)
// to the server's logger, cut before any dump of a request.
type printfLogger struct{ log *slog.Logger }

func (l printfLogger) Printf(format string, args ...any) {
	l.log.Warn(safeText(fmt.Sprintf(format, args...)))
}
