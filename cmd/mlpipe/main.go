// Command mlpipe runs the pipeline and its stages, and manages runs and
// models. `mlpipe help` lists the commands; `mlpipe CMD --help` explains
// one.
//
// main only wires signals to cancellation; execute prints a command's
// error as one line ("mlpipe COMMAND: what went wrong (hint)") and maps
// it to an exit code (see exitCode); everything else happens in run,
// which the end-to-end tests call directly.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
