package serve

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
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
type Server struct {
	opts    Options
	log     *slog.Logger
	sink    Sink
	mux     *http.ServeMux
	routes  []route
	metrics *metrics
	sem     chan struct{} // one token per work request in flight

	model    atomic.Pointer[Model]
	notReady atomic.Pointer[string] // set while draining; nil otherwise

	reloadMu sync.Mutex
	refused  string // "name@version" of the last bundle refused by polling
	lastErr  string // the last resolve error logged (not repeated)

	idPrefix string
	idSeq    atomic.Uint64
	writers  sync.Pool // *statusWriter
}

// A route is one pattern of the mux and its handler.
type route struct {
	pattern string
	api     string // apiNative, apiOIP, "ops" or "admin"
	work    bool   // counts against MaxInFlight
	h       http.HandlerFunc
}

// The APIs, as metrics label them.
const (
	apiNative = "native"
	apiOIP    = "oip"
)

// Route describes one route of the server.
type Route struct {
	// Pattern is the ServeMux pattern: "METHOD /path/{wildcard}". It is
	// also the route label of the metrics.
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
	s := &Server{opts: opts, log: opts.Log, sink: opts.Sink, mux: http.NewServeMux()}
	s.sem = make(chan struct{}, opts.MaxInFlight)
	var seed [6]byte
	_, _ = rand.Read(seed[:])
	s.idPrefix = hex.EncodeToString(seed[:]) + "-"
	s.writers.New = func() any { return new(statusWriter) }
	s.routes = []route{
		{pattern: "GET /healthz", api: "ops", h: s.healthz},
		{pattern: "GET /readyz", api: "ops", h: s.readyz},
		{pattern: "GET /openapi.json", api: "ops", h: s.openapi},
		{pattern: "GET /metrics", api: "ops"},
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
	for i, r := range s.routes {
		patterns[i] = r.pattern
	}
	s.metrics = newMetrics(patterns, opts.SinkStats)
	for _, c := range opts.Collectors {
		s.metrics.reg.MustRegister(c)
	}
	for i := range s.routes {
		r := &s.routes[i]
		var h http.Handler = r.h
		if r.pattern == "GET /metrics" {
			h = s.metrics.handler()
		}
		if r.work {
			h = s.limit(h)
		}
		if r.api == "admin" {
			h = s.admin(h)
		}
		s.mux.Handle(r.pattern, h)
	}
	s.mux.HandleFunc("/", s.unrouted)
	return s
}

// Handler returns the server's routes with their middleware: request
// ids, metrics, path checks, JSON errors for unknown routes, and panic
// recovery.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

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

// statusWriter records the status code, and carries the request id to
// the handlers.
type statusWriter struct {
	http.ResponseWriter
	code      int
	requestID string
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// requestIDOf returns the id the middleware gave the request.
func requestIDOf(w http.ResponseWriter) string {
	if sw, ok := w.(*statusWriter); ok {
		return sw.requestID
	}
	return w.Header().Get("X-Request-Id")
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	s.metrics.inFlight.Inc()
	sw := s.writers.Get().(*statusWriter)
	*sw = statusWriter{ResponseWriter: w, requestID: s.requestID(r.Header.Get("X-Request-Id"))}
	w.Header().Set("X-Request-Id", sw.requestID)
	route := ""
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.Error("panic serving a request", "method", r.Method, "route", route, "request_id", sw.requestID, "panic", p)
			if sw.code == 0 {
				s.fail(sw, fmt.Errorf("%w: the server failed on this request (request id %s)", ErrInternal, sw.requestID))
			}
		}
		s.metrics.inFlight.Dec()
		code := sw.code
		if code == 0 {
			code = http.StatusOK
		}
		if route == "" {
			route = r.Pattern
		}
		if route == "/" {
			route = routeUnmatched
		}
		s.metrics.observe(route, code, time.Since(start))
		sw.ResponseWriter = nil
		s.writers.Put(sw)
	}()
	if badPath(r.URL.EscapedPath()) {
		route = routeInvalid
		s.fail(sw, badf("path %q has an empty, '.' or '..' segment", r.URL.EscapedPath()))
		return
	}
	s.mux.ServeHTTP(sw, r)
}

// badPath reports whether p has an empty, "." or ".." segment, which the
// mux would answer with a redirect; we refuse them instead.
func badPath(p string) bool {
	if p == "" || p[0] != '/' {
		return true
	}
	for seg := range strings.SplitSeq(p[1:], "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return strings.Contains(p, "//")
}

// unrouted is the mux's catch-all ("/"): it answers a request that
// matches no route with 405 (and Allow) if the path has a route for
// another method, else 404; in JSON either way.
func (s *Server) unrouted(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		probe := *r
		probe.Method = method
		if _, pattern := s.mux.Handler(&probe); pattern != "/" {
			allow = append(allow, method)
			if method == http.MethodGet {
				allow = append(allow, http.MethodHead)
			}
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s is not allowed on %s (allowed: %s)", r.Method, r.URL.EscapedPath(), strings.Join(allow, ", ")))
		return
	}
	writeError(w, http.StatusNotFound, fmt.Sprintf("no route %s %s (see GET /openapi.json)", r.Method, r.URL.EscapedPath()))
}

// limit refuses a request with 503 when MaxInFlight work requests are
// being served already. It does not queue: a client told to retry does
// better than one held waiting while the server is saturated.
func (s *Server) limit(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case s.sem <- struct{}{}:
			defer func() { <-s.sem }()
			h.ServeHTTP(w, r)
		default:
			s.metrics.rejected.Inc()
			w.Header().Set("Retry-After", "1")
			s.fail(w, fmt.Errorf("%w (limit %d); retry later", ErrOverloaded, s.opts.MaxInFlight))
		}
	})
}

// maxRequestID is the longest incoming X-Request-Id the server adopts.
const maxRequestID = 128

// requestID returns the incoming id if it is sane (1 to 128 characters
// of letters, digits and -_.:/+=@), else a new one: a random per-process
// prefix and a sequence number.
func (s *Server) requestID(in string) string {
	if len(in) > 0 && len(in) <= maxRequestID {
		ok := true
		for i := 0; i < len(in) && ok; i++ {
			c := in[i]
			ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.:/+=@", c) >= 0
		}
		if ok {
			return in
		}
	}
	return s.idPrefix + strconv.FormatUint(s.idSeq.Add(1), 36)
}

// --- Responses -----------------------------------------------------------

// writeJSON writes v with encoding/json (for the small, cold responses).
func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"error":"internal error: encoding the response"}`)
	}
	writeRaw(w, code, append(b, '\n'))
}

// writeRaw writes a JSON body.
func writeRaw(w http.ResponseWriter, code int, b []byte) {
	h := w.Header()
	h["Content-Type"] = contentTypeJSON
	h["Content-Length"] = []string{strconv.Itoa(len(b))}
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

var contentTypeJSON = []string{"application/json"}

// writeError writes {"error": msg}.
func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, struct {
		Error string `json:"error"`
	}{msg})
}

// fail writes err with the status statusOf gives it. The message is the
// error's text; the errors of this package never hold server internals
// that a client must not see, except ErrInternal, whose text is generic.
func (s *Server) fail(w http.ResponseWriter, err error) {
	code := statusOf(err)
	if code >= 500 && !errors.Is(err, ErrNotReady) && !errors.Is(err, ErrOverloaded) {
		s.log.Error("request failed", "request_id", requestIDOf(w), "err", err)
	}
	writeError(w, code, err.Error())
}

// --- Request bodies ------------------------------------------------------

// readBody reads a JSON request body into sc.buf, enforcing the content
// type and MaxBodyBytes.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, sc *scratch) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" && !isJSON(ct) {
		return nil, fmt.Errorf("%w: Content-Type %q; send application/json", ErrMediaType, ct)
	}
	limit := s.opts.MaxBodyBytes
	if r.ContentLength > limit {
		return nil, fmt.Errorf("%w: the body is %d bytes, the limit is %d", ErrTooLarge, r.ContentLength, limit)
	}
	// MaxBytesReader tells the server, through the writer it wraps, to
	// close the connection after an over-long body: give it the real one.
	inner := w
	if sw, ok := w.(*statusWriter); ok {
		inner = sw.ResponseWriter
	}
	body := http.MaxBytesReader(inner, r.Body, limit)
	buf := sc.buf[:0]
	if r.ContentLength > 0 && int64(cap(buf)) < r.ContentLength+1 {
		buf = make([]byte, 0, r.ContentLength+1) // +1: room to see EOF without growing
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			sc.buf = buf
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, fmt.Errorf("%w: the body is over the limit of %d bytes", ErrTooLarge, limit)
			}
			return nil, badf("reading the body: %v", err)
		}
	}
	sc.buf = buf
	return buf, nil
}

// isJSON reports whether a Content-Type is application/json (any
// parameters, such as charset, are ignored).
func isJSON(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "application/json")
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

// Run serves on ln until ctx is cancelled, then stops accepting
// connections and waits up to the shutdown timeout for in-flight
// requests to finish. With a Registry and a positive PollInterval it
// also polls the model reference and swaps in new versions.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: s.opts.ReadHeaderTimeout, // a slow client cannot hold a connection open forever
		ReadTimeout:       s.opts.ReadTimeout,
		WriteTimeout:      s.opts.WriteTimeout,
		IdleTimeout:       s.opts.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	wctx, stopWatch := context.WithCancel(ctx)
	var watching sync.WaitGroup
	if s.opts.Registry != nil && s.opts.PollInterval > 0 {
		watching.Go(func() { s.watch(wctx) })
	}
	defer func() {
		stopWatch()
		watching.Wait()
	}()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
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
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
