package ui

import (
	"bytes"
	"container/list"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/mlpipe/mlpipe/registry"
	"github.com/mlpipe/mlpipe/report"
)

// ErrNotLoopback means an address to listen on is not a loopback one.
var ErrNotLoopback = errors.New("not a loopback address")

// CheckAddr checks that addr (host:port) listens on loopback only:
// 127.0.0.0/8, ::1 or "localhost". The dashboard has no authentication,
// so anything else (":8090" listens on every interface) needs
// allowRemote. It returns an error wrapping ErrNotLoopback otherwise.
func CheckAddr(addr string, allowRemote bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", addr, err)
	}
	if allowRemote || host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("address %q: %w", addr, ErrNotLoopback)
}

// Options configure the dashboard. The zero value is a read-only
// dashboard.
type Options struct {
	// AllowActions shows the promote and rollback buttons of the models
	// page and accepts their POSTs; without it they are absent and a
	// POST is refused with 403.
	AllowActions bool
	// Backtests are backtest.json files (`mlpipe simulate` writes
	// out/simulate/backtest.json) shown on the monitoring page beside
	// those under REGISTRY/backtests/; the newest is drawn.
	Backtests []string
	// Log receives a line per action and per server error; nil means no
	// logging.
	Log *slog.Logger
	// Reports is how many rendered run reports are kept in memory
	// (default 16).
	Reports int
	// Prefix is the path the handler is mounted at, without a trailing
	// slash ("/ui"), when another server strips it before calling the
	// handler (http.StripPrefix); links and redirects get it. Empty
	// means the root.
	Prefix string
}

// Server is the dashboard: an http.Handler over a registry.
type Server struct {
	store   *registry.Store
	opts    Options
	log     *slog.Logger
	mux     *http.ServeMux
	csrf    string
	runs    runCache
	reports reportCache
	models  versionCache
}

// Handler returns the dashboard of store as an http.Handler, to serve
// alone (`mlpipe ui`) or mounted in another server.
func Handler(store *registry.Store, opts Options) http.Handler { return New(store, opts) }

// New returns the dashboard of store.
func New(store *registry.Store, opts Options) *Server {
	if opts.Reports <= 0 {
		opts.Reports = 16
	}
	s := &Server{store: store, opts: opts, log: opts.Log, mux: http.NewServeMux()}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.reports.max = opts.Reports
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on Linux
	s.csrf = hex.EncodeToString(b[:])
	s.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, s.opts.Prefix+"/runs", http.StatusSeeOther)
	})
	s.mux.HandleFunc("GET /runs", s.handleRuns)
	s.mux.HandleFunc("GET /runs/{id}", s.handleRun)
	s.mux.HandleFunc("GET /compare", s.handleCompare)
	s.mux.HandleFunc("GET /models", s.handleModels)
	s.mux.HandleFunc("GET /models/{name}", s.handleModel)
	s.mux.HandleFunc("POST /models/{name}/promote", s.handleAction)
	s.mux.HandleFunc("POST /models/{name}/rollback", s.handleAction)
	s.mux.HandleFunc("GET /monitoring", s.handleMonitoring)
	s.mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent) // no icon, and no 404 in the browser's console
	})
	// Other GETs get a page saying so; other methods the mux's 404 or
	// 405.
	s.mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusNotFound, "no such page")
	})
	return s
}

// csp allows nothing but the page's own inline styles and forms posting
// back to it: no script runs, nothing is fetched.
const csp = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// ServeHTTP serves the dashboard's pages.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	defer func() {
		// A bug must not take the server down; the client gets a 500.
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("ui: panic", "path", r.URL.Path, "panic", v)
			http.Error(w, "internal error", http.StatusInternalServerError)
		}
	}()
	s.mux.ServeHTTP(w, r)
}

// nav is the bar at the top of every page.
func (s *Server) nav() []report.Link {
	p := s.opts.Prefix
	return []report.Link{{Text: "Runs", Href: p + "/runs"}, {Text: "Models", Href: p + "/models"}, {Text: "Monitoring", Href: p + "/monitoring"}}
}

// page is what every page template gets.
type page struct {
	Title, Here string
	Nav         []report.Link
	// P is Options.Prefix, for the pages' links.
	P       string
	CSRF    string
	Actions bool
	D       any
}

// render executes t into a buffer first, so that a template error is a
// clean 500 rather than half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, t *template.Template, here, title string, data any) {
	var buf bytes.Buffer
	p := page{Title: title, Here: here, Nav: s.nav(), P: s.opts.Prefix, CSRF: s.csrf, Actions: s.opts.AllowActions, D: data}
	if err := t.ExecuteTemplate(&buf, "page", p); err != nil {
		s.internal(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}

// fail answers a client's mistake (or a missing page) with code and a
// short page saying why.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, code int, msg string) {
	var buf bytes.Buffer
	p := page{Title: http.StatusText(code), Nav: s.nav(), P: s.opts.Prefix, D: errorPage{Code: code, Message: msg}}
	if err := errorTmpl.ExecuteTemplate(&buf, "page", p); err != nil {
		http.Error(w, msg, code)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

type errorPage struct {
	Code    int
	Message string
}

// internal answers a server-side failure (an unreadable file) with 500
// and logs it.
func (s *Server) internal(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("ui: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	s.fail(w, r, http.StatusInternalServerError, "internal error: "+err.Error())
}

// handleRun serves a run's report, rendered once and kept.
func (s *Server) handleRun(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := s.store.RunDir(id); err != nil {
		s.fail(w, r, http.StatusNotFound, fmt.Sprintf("no run %q in this registry", id))
		return
	}
	page, ok := s.reports.get(id)
	if !ok {
		sum, b, err := report.Read(s.store, id)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		var buf bytes.Buffer
		if err := report.WriteWith(&buf, sum, b, report.Options{Links: s.nav()}); err != nil {
			s.internal(w, r, err)
			return
		}
		page = buf.Bytes()
		s.reports.put(id, page)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(page)
}

// reportCache keeps the most recently used rendered reports: a run's
// record and its model version never change, so neither does its page
// (but for the generation time it prints).
type reportCache struct {
	mu    sync.Mutex
	max   int
	order list.List // of string ids, most recent first
	pages map[string]reportEntry
}

type reportEntry struct {
	page []byte
	elem *list.Element
}

func (c *reportCache) get(id string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.pages[id]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e.elem)
	return e.page, true
}

func (c *reportCache) put(id string, page []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pages == nil {
		c.pages = map[string]reportEntry{}
	}
	if e, ok := c.pages[id]; ok {
		c.order.MoveToFront(e.elem)
		return
	}
	c.pages[id] = reportEntry{page: page, elem: c.order.PushFront(id)}
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.pages, last.Value.(string))
	}
}

func fmtDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "—"
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return d.Round(time.Second).String()
}

func short(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
