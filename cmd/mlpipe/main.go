// Command mlpipe runs the pipeline and its stages, and manages runs and
// models. `mlpipe help` lists the commands; `mlpipe CMD --help` explains
// one.
//
// main only wires signals to cancellation and maps the error that run
// returns to an exit code (see exitCode); everything else happens in run,
// which the end-to-end tests call directly.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	code := exitCode(err)
	if err != nil && !isReported(err) {
		fmt.Fprintf(os.Stderr, "mlpipe: %v\n", err)
	}
	os.Exit(code)
}
