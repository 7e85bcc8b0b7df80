// Command mlserve is mlpipe's serving binary: it loads one model bundle
// (the fitted features, the model and its signature) and serves it over
// HTTP.
//
//	mlserve --registry DIR --model NAME[@ALIAS|@VERSION] [--addr 127.0.0.1:8080]
//	mlserve --bundle DIR [--addr 127.0.0.1:8080]
//
// With --registry it serves the version the reference names (a bare NAME
// means NAME@production), polls the alias every --poll and hot-swaps a
// new version when `mlpipe models promote` or `rollback` moves it; a
// bundle that fails its checks is refused and the old one keeps serving.
// With --bundle it serves a bundle directory as it is (exported binaries
// do that). It binds to loopback unless told otherwise, and shuts down
// gracefully on SIGINT or SIGTERM, draining requests in flight.
//
// The routes (the native JSON API, the Open Inference Protocol, health,
// /metrics, /openapi.json and /admin/reload) are listed in
// docs/serving.md and in the package serve documentation.
//
// main only wires signals to cancellation; execute prints an error as one
// line ("mlserve: what went wrong (hint)") and picks the exit code; run
// does the work and is what tests call.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mlpipe/mlpipe/export"
	"github.com/mlpipe/mlpipe/internal/flagerr"
	"github.com/mlpipe/mlpipe/internal/redact"
	"github.com/mlpipe/mlpipe/internal/version"
	"github.com/mlpipe/mlpipe/registry"
	"github.com/mlpipe/mlpipe/serve"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// execute runs mlserve, prints its error as one line and returns the exit
// code: 0 ok, 1 error, 2 usage (docs/cli.md).
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	err := run(ctx, args, stdout, stderr, nil)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(*usageError)):
		fmt.Fprintf(stderr, "mlserve: %v\n", err)
		return 2
	default:
		fmt.Fprintf(stderr, "mlserve: %v\n", err)
		return 1
	}
}

// usageError is a mistake in the command line (exit 2), with a hint.
type usageError struct{ msg, hint string }

func (e *usageError) Error() string {
	if e.hint == "" {
		return e.msg
	}
	return e.msg + " (" + e.hint + ")"
}

// hintedError is an error with a hint for the reader.
type hintedError struct {
	err  error
	hint string
}

func (e *hintedError) Error() string {
	if e.hint == "" {
		return e.err.Error()
	}
	return e.err.Error() + " (" + e.hint + ")"
}
func (e *hintedError) Unwrap() error { return e.err }

// adminTokenEnv is the environment variable that can hold the admin
// token instead of --admin-token (so it does not show in ps).
const adminTokenEnv = "MLSERVE_ADMIN_TOKEN"

// run parses flags, loads the model, listens and serves until ctx is
// cancelled. If ready is not nil, it receives the listening address once
// the model is loaded and the listener is open (tests use it with
// --addr 127.0.0.1:0).
func run(ctx context.Context, args []string, stdout, stderr io.Writer, ready chan<- string) error {
	fs := flag.NewFlagSet("mlserve", flag.ContinueOnError)
	// Asked-for help goes to stdout; a flag error is one line (flagerr),
	// not the error, the whole usage and the error again.
	fs.SetOutput(io.Discard)
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
			fs.SetOutput(stdout)
		}
	}
	var (
		addr        = fs.String("addr", "127.0.0.1:8080", "listen address (loopback by default; 0.0.0.0:8080 listens on every interface, and then /admin needs --admin-token)")
		regDir      = fs.String("registry", "", "model registry directory; serve --model from it and follow its alias")
		ref         = fs.String("model", "", "model to serve from --registry: NAME, NAME@ALIAS or NAME@VERSION (a bare NAME means NAME@production)")
		bundleDir   = fs.String("bundle", "", "serve this bundle directory instead of a registry model (no hot reload)")
		poll        = fs.Duration("poll", serve.DefaultPollInterval, "how often to check whether the --model alias moved (0 disables polling; POST /admin/reload still works)")
		adminToken  = fs.String("admin-token", "", "bearer token for /admin/* (default $"+adminTokenEnv+"); without one, /admin is open on loopback and disabled otherwise")
		maxBody     = fs.Int64("max-body", serve.DefaultMaxBodyBytes, "largest request body in bytes (413 above)")
		maxBatch    = fs.Int("max-batch", serve.DefaultMaxBatch, "most instances in one request (413 above)")
		maxInFlight = fs.Int("max-inflight", serve.DefaultMaxInFlight, "most predict, infer and labels requests served at once (503 with Retry-After above)")
		maxConns    = fs.Int("max-conns", serve.DefaultMaxConns, "most open connections (a connection above gets 503 with Retry-After and is closed)")
		maxBytes    = fs.Int64("max-bytes-in-flight", serve.DefaultMaxBytesInFlight, "budget of memory for the requests being read or served: their bodies and their rows' working memory, in bytes (503 with Retry-After above; at least three times --max-body)")
		memLimit    = fs.Int64("memory-limit", defaultMemoryLimit, "soft limit of the Go runtime's memory in bytes (GOMEMLIMIT; the environment variable wins; 0: none). With the other defaults, resident memory stays under 512 MB: docs/operations.md")
		maxExplain  = fs.Int("max-explain", serve.DefaultMaxExplain, "most instances one request may explain (413 above): explaining a row costs thousands of predictions")
		readHeader  = fs.Duration("read-header-timeout", 5*time.Second, "time to read a request's headers")
		readTimeout = fs.Duration("read-timeout", 30*time.Second, "time to read a whole request")
		writeTO     = fs.Duration("write-timeout", 30*time.Second, "time to write a response")
		idleTO      = fs.Duration("idle-timeout", 120*time.Second, "how long an idle keep-alive connection stays open")
		shutdown    = fs.Duration("shutdown-timeout", serve.DefaultShutdownTimeout, "how long to wait for in-flight requests on SIGTERM")
		logFormat   = fs.String("log-format", "text", "log format on stderr: text or json")
		logLevel    = fs.String("log-level", "info", "log level: debug, info, warn or error")
		showVersion = fs.Bool("version", false, "print the code version (and an exported binary's model) and exit")
		logDir      = fs.String("log-dir", "", "prediction log directory or s3://BUCKET/PREFIX URL, read by mlpipe monitor (default with --registry: REGISTRY/predictions/NAME; else none)")
		noLog       = fs.Bool("no-log", false, "do not log predictions")
		replica     = fs.String("replica", "", "this replica's prediction-log stream, when several mlserve log to one place: files go to LOG/REPLICA/ (default on s3://: the host name; on disk: none, LOG itself)")
		logRotate   = fs.Duration("log-rotate", 0, "start a new prediction-log file once one is this old (default 1h on disk; 1m on s3://, where a file is uploaded whole when it rotates and at drain, so a crash loses at most this much)")
		driftWindow = fs.Int("drift-window", 10000, "live drift gauges on /metrics (mlserve_drift_psi) over this many recent requests; 0 disables them")
	)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `Usage: mlserve --registry DIR --model NAME[@ALIAS|@VERSION] [flags]
       mlserve --bundle DIR [flags]

Serve an mlpipe model over HTTP: a native JSON API (POST /v1/models/NAME/predict,
/v1/models/NAME/labels), the Open Inference Protocol (KServe v2: /v2/...), health
probes (/healthz, /readyz), Prometheus metrics (/metrics), the OpenAPI document
(/openapi.json) and POST /admin/reload. See docs/serving.md.

With --registry, the alias is polled and a new version hot-swapped when it moves.

Exit codes: 0 ok, 1 error, 2 usage.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		msg, hint := flagerr.Describe(fs, err, "see mlserve --help")
		return &usageError{msg, hint}
	}
	// An exported binary (`mlpipe export`) carries its bundle.
	payload, err := embedded()
	if err != nil {
		return err
	}
	if *showVersion {
		if payload != nil {
			m := payload.Meta
			fmt.Fprintf(stdout, "%s v%d (bundle %s, data %s, config %s, code %s, run %s, exported %s), served by mlserve %s\n",
				m.Model, m.Version, m.Digest, m.DataFingerprint, short(m.ConfigHash), m.CodeVersion, m.RunID, m.ExportedAt.Format(time.RFC3339), version.Get())
			return nil
		}
		fmt.Fprintln(stdout, version.Get())
		return nil
	}
	embeddedVersion := 0
	if payload != nil && *regDir == "" && *bundleDir == "" {
		dir, err := os.MkdirTemp("", "mlserve-bundle-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if err := payload.ExtractTo(dir); err != nil {
			return err
		}
		*bundleDir, embeddedVersion = dir, payload.Meta.Version
	}
	if fs.NArg() > 0 {
		return &usageError{msg: fmt.Sprintf("unexpected argument %q", fs.Arg(0)), hint: "see mlserve --help"}
	}
	switch {
	case payload == nil && (*regDir == "") == (*bundleDir == ""), *regDir != "" && *bundleDir != "":
		return &usageError{msg: "give --registry DIR with --model REF, or --bundle DIR", hint: "see mlserve --help"}
	case *regDir != "" && *ref == "":
		return &usageError{msg: "--model is required with --registry", hint: "for example --model flights-delay@production"}
	case *bundleDir != "" && *ref != "":
		return &usageError{msg: "--model applies to --registry, not to --bundle"}
	case *maxBody <= 0 || *maxBatch <= 0 || *maxInFlight <= 0 || *maxExplain <= 0 || *maxConns <= 0 || *maxBytes <= 0:
		return &usageError{msg: "--max-body, --max-batch, --max-inflight, --max-explain, --max-conns and --max-bytes-in-flight must be positive"}
	case *maxBytes < 2**maxBody:
		return &usageError{msg: fmt.Sprintf("--max-bytes-in-flight %d must be at least twice --max-body %d", *maxBytes, *maxBody), hint: "one largest request must fit"}
	case *memLimit < 0:
		return &usageError{msg: "--memory-limit must be >= 0"}
	case *poll < 0:
		return &usageError{msg: "--poll must be >= 0"}
	}
	if *adminToken == "" {
		*adminToken = os.Getenv(adminTokenEnv)
	}
	log, err := newLogger(stderr, *logFormat, *logLevel, *adminToken)
	if err != nil {
		return err
	}
	if os.Getenv("GOMEMLIMIT") == "" && *memLimit > 0 {
		// The runtime collects harder as the heap nears the limit, and
		// returns the memory it frees to the operating system.
		debug.SetMemoryLimit(*memLimit)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	opts := serve.Options{
		Log:               log,
		ShutdownTimeout:   *shutdown,
		PollInterval:      *poll,
		MaxBodyBytes:      *maxBody,
		MaxBatch:          *maxBatch,
		MaxInFlight:       *maxInFlight,
		MaxConns:          *maxConns,
		MaxBytesInFlight:  *maxBytes,
		MaxExplain:        *maxExplain,
		AdminToken:        *adminToken,
		AdminOpen:         isLoopback(ln.Addr()),
		ReadHeaderTimeout: *readHeader,
		ReadTimeout:       *readTimeout,
		WriteTimeout:      *writeTO,
		IdleTimeout:       *idleTO,
		ServerVersion:     version.Get(),
	}
	if *poll == 0 {
		opts.PollInterval = -1 // serve.Options: negative disables polling
	}
	if *regDir != "" {
		store, err := registry.Open(*regDir)
		if err != nil {
			return err
		}
		if _, _, err := store.Resolve(*ref); errors.Is(err, registry.ErrNotFound) {
			// Said once, with what there is, before anything starts.
			return &hintedError{fmt.Errorf("model %s: %w in %s", *ref, registry.ErrNotFound, *regDir), store.Hint(*ref)}
		}
		opts.Registry, opts.Ref = store, *ref
		if *logDir == "" {
			name, _, _ := strings.Cut(*ref, "@")
			if *logDir, err = store.PredictionLog(name); err != nil {
				return &usageError{msg: fmt.Sprintf("--model %q: %v", *ref, err)}
			}
		}
	}
	if *noLog {
		*logDir = "" // and the start line says so
	}
	var logs *logSink
	if *logDir != "" {
		if logs, err = openLogSink(*logDir, *replica, *logRotate, log); err != nil {
			return err
		}
		defer func() {
			if err := logs.close(10 * time.Second); err != nil {
				log.Error("prediction log: close", "err", err)
			}
		}()
		opts.Sink, opts.SinkStats = logs, logs.stats
	}
	var s *serve.Server
	var drift *serve.LiveDrift
	if *driftWindow > 0 {
		drift = serve.NewLiveDrift(func() *serve.Model { return s.Model() }, *driftWindow, log)
		opts.Sink, opts.Collectors = teeSink{log: logs, drift: drift}, append(opts.Collectors, drift)
	}
	predLog := *logDir
	if predLog == "" {
		predLog = "off"
	}
	log.Info("mlserve start", "version", version.Get(), "addr", ln.Addr().String(),
		"registry", *regDir, "model", *ref, "bundle", *bundleDir, "poll", *poll,
		"prediction_log", predLog, "max_body", opts.MaxBodyBytes, "max_batch", opts.MaxBatch, "max_inflight", opts.MaxInFlight,
		"max_conns", opts.MaxConns, "max_bytes_in_flight", opts.MaxBytesInFlight, "memory_limit", debug.SetMemoryLimit(-1),
		"admin", adminMode(opts))
	s = serve.New(opts)
	if opts.Registry != nil {
		if _, err := s.Reload(ctx); err != nil {
			return fmt.Errorf("load %s: %w", *ref, err)
		}
	} else {
		v := bundleVersion(*bundleDir)
		if embeddedVersion > 0 {
			v = embeddedVersion
		}
		m, err := serve.LoadModel(*bundleDir, v)
		if err != nil {
			return err
		}
		s.SetModel(m)
	}
	if drift != nil {
		dctx, stop := context.WithCancel(ctx)
		defer stop()
		go drift.Run(dctx, time.Second)
	}
	if ready != nil {
		ready <- ln.Addr().String()
	}
	return s.Run(ctx, ln)
}

// newLogger makes the process's logger. Every line goes through
// redact.Handler: Authorization and Cookie headers, bearer credentials
// and the secrets given (the admin token) never reach the log.
func newLogger(w io.Writer, format, level string, secrets ...string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, &usageError{msg: fmt.Sprintf("--log-level: want debug, info, warn or error, got %q", level)}
	}
	ho := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(redact.Handler(slog.NewTextHandler(w, ho), secrets...)), nil
	case "json":
		return slog.New(redact.Handler(slog.NewJSONHandler(w, ho), secrets...)), nil
	}
	return nil, &usageError{msg: fmt.Sprintf("--log-format: want text or json, got %q", format)}
}

// defaultMemoryLimit is --memory-limit's default: 448 MiB, which leaves
// the rest of 512 MB for what the Go runtime does not count (the
// binary's text, thread stacks of the C side: none here) and its slack.
const defaultMemoryLimit = 448 << 20

// isLoopback reports whether a listener accepts loopback connections
// only.
func isLoopback(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

func adminMode(o serve.Options) string {
	switch {
	case o.AdminToken != "":
		return "token"
	case o.AdminOpen:
		return "open (loopback)"
	}
	return "disabled"
}

// embedded returns the bundle payload of an exported binary, or nil for
// a plain mlserve.
func embedded() (*export.Payload, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, nil // cannot tell; serve what the flags say
	}
	p, err := export.Open(exe)
	if errors.Is(err, export.ErrNoPayload) {
		return nil, nil
	}
	return p, err
}

// short abbreviates a hash for the --version line.
func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// bundleVersion reads a registry version from a bundle directory named
// like one ("v3"); 0 (unversioned) otherwise.
func bundleVersion(dir string) int {
	base := filepath.Base(filepath.Clean(dir))
	if v, err := strconv.Atoi(strings.TrimPrefix(base, "v")); err == nil && strings.HasPrefix(base, "v") && v > 0 {
		return v
	}
	return 0
}
