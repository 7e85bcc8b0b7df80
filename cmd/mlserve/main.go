// Command mlserve is mlpipe's serving binary.
//
// Today it answers the health probes (GET /healthz, GET /readyz) and
// shuts down gracefully on SIGINT or SIGTERM; /readyz reports 503 until a
// model is loaded, which arrives with the model registry (see
// docs/architecture.md). It binds to loopback unless told otherwise.
//
// main only wires signals to cancellation; run does the work and is what
// tests call.
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
	"syscall"
	"time"

	"github.com/mlpipe/mlpipe/internal/version"
	"github.com/mlpipe/mlpipe/serve"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.As(err, new(*usageError)):
		fmt.Fprintf(os.Stderr, "mlserve: %v\n", err)
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "mlserve: %v\n", err)
		os.Exit(1)
	}
}

type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// run parses flags, listens and serves until ctx is cancelled.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mlserve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address (loopback by default; use 0.0.0.0:8080 to listen on every interface)")
	shutdown := fs.Duration("shutdown-timeout", 10*time.Second, "how long to wait for in-flight requests on SIGTERM")
	logFormat := fs.String("log-format", "text", "log format on stderr: text or json")
	showVersion := fs.Bool("version", false, "print the code version and exit")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: mlserve [flags]\n\n"+
			"Serve mlpipe models over HTTP. Endpoints today: GET /healthz (liveness) and\n"+
			"GET /readyz (readiness: 503 until a model is loaded; model loading arrives\n"+
			"with the registry).\n\nExit codes: 0 ok, 1 error, 2 usage.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageError{err.Error()}
	}
	if *showVersion {
		fmt.Fprintln(stdout, version.Get())
		return nil
	}
	var h slog.Handler
	switch *logFormat {
	case "text":
		h = slog.NewTextHandler(stderr, nil)
	case "json":
		h = slog.NewJSONHandler(stderr, nil)
	default:
		return &usageError{fmt.Sprintf("--log-format: want text or json, got %q", *logFormat)}
	}
	log := slog.New(h)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	log.Info("mlserve start", "version", version.Get())
	return serve.New(serve.Options{Log: log, ShutdownTimeout: *shutdown}).Run(ctx, ln)
}
