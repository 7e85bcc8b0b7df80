package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sort"

	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/internal/version"
	"github.com/mlpipe/mlpipe/registry"
)

// Exit codes. They are part of the interface for cron and CI; docs/cli.md
// lists them.
const (
	exitOK        = 0
	exitError     = 1 // anything not listed below
	exitUsage     = 2 // bad flags or arguments
	exitInvalid   = 3 // the config or the data failed validation
	exitNoData    = 4 // the data source matched no files
	exitRejected  = 5 // the promotion gate rejected the candidate
	exitCancelled = 130
)

// errRejected means the promotion gate rejected the candidate.
var errRejected = errors.New("candidate rejected")

// exitCodesHelp ends the --help of every pipeline command.
const exitCodesHelp = "Exit codes: 0 ok, 1 error (I/O, internal), 2 usage, 3 invalid config or data,\n" +
	"4 the data source matched no files, 5 the gate rejected the candidate (run),\n" +
	"6 retrain recommended (monitor), 130 cancelled (docs/cli.md)."

// command is one `mlpipe CMD`.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

func commands() []command {
	return []command{
		{"ingest", "load, validate, profile and split the data; print a summary", runIngest},
		{"run", "run the whole pipeline: ingest, features, train, evaluate", runPipeline},
		{"train", "fit features and every candidate model; save the best", runTrain},
		{"evaluate", "evaluate a saved model on the test split", runEvaluate},
		{"models", "list, show, promote or roll back registered models", runModels},
		{"runs", "list, show or compare the runs recorded in the registry", runRuns},
		{"registry", "check (and repair) the model registry after a crash", runRegistry},
		{"export", "write one self-contained serving executable for a model version", runExport},
		{"schedule", "run the pipeline on a cron schedule, one run at a time", runSchedule},
		{"simulate", "backtest retraining policies on the real history", runSimulate},
		{"monitor", "compare the prediction log with the training data; say whether to retrain", runMonitor},
		{"report", "write (or open) a run's self-contained HTML report", runReport},
		{"ui", "serve the dashboard of runs, models and monitoring", runUI},
		{"version", "print the code version", runVersion},
	}
}

// env is what every command gets: its output streams and the logger built
// from the global flags.
type env struct {
	stdout, stderr io.Writer
	log            *slog.Logger
}

// run is main without the process: it parses args, runs one command and
// returns its error. Tests call it directly.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			return run(ctx, []string{args[1], "--help"}, stdout, stderr)
		}
		usage(stdout)
		if len(args) == 0 {
			return usageError("no command given")
		}
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			e := &env{stdout: stdout, stderr: stderr, log: slog.New(slog.DiscardHandler)}
			return c.run(ctx, e, args[1:])
		}
	}
	usage(stderr)
	return usageError(fmt.Sprintf("unknown command %q", args[0]))
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "mlpipe: an end-to-end machine-learning pipeline")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: mlpipe COMMAND [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	cmds := commands()
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].name < cmds[j].name })
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'mlpipe COMMAND --help' for a command's flags. Exit codes: docs/cli.md.")
}

// flagSet makes a command's flag set with the flags every command shares.
type flags struct {
	*flag.FlagSet
	logFormat, logLevel string
	jsonOut             bool
}

func newFlags(e *env, name, args, about string) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	f := &flags{FlagSet: fs}
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: mlpipe %s %s\n\n%s\n\nFlags:\n", name, args, about)
		fs.PrintDefaults()
	}
	fs.StringVar(&f.logFormat, "log-format", "text", "log format on stderr: text or json")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	return f
}

// changed reports whether flag name was set on the command line.
func (f *flags) changed(name string) bool {
	set := false
	f.Visit(func(fl *flag.Flag) {
		if fl.Name == name {
			set = true
		}
	})
	return set
}

// addJSON adds --json, for commands that print a summary.
func (f *flags) addJSON() {
	f.BoolVar(&f.jsonOut, "json", false, "print the summary as one JSON document on stdout (logs stay on stderr)")
}

// parse parses args and sets up e.log from the logging flags.
func (f *flags) parse(e *env, args []string) error {
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
			f.SetOutput(e.stdout) // asked-for help goes to stdout
		}
	}
	if err := f.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return usageError(err.Error())
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return usageError(fmt.Sprintf("--log-level: %v", err))
	}
	opts := &slog.HandlerOptions{Level: level}
	switch f.logFormat {
	case "text":
		e.log = slog.New(slog.NewTextHandler(e.stderr, opts))
	case "json":
		e.log = slog.New(slog.NewJSONHandler(e.stderr, opts))
	default:
		return usageError(fmt.Sprintf("--log-format: want text or json, got %q", f.logFormat))
	}
	return nil
}

// loadConfig reads --config, which every pipeline command takes.
func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		return nil, usageError("--config is required (for example --config configs/flights.yaml)")
	}
	return config.Load(path)
}

var errHelp = errors.New("help requested")

type usageErr struct{ msg string }

func (e *usageErr) Error() string { return e.msg }

func usageError(msg string) error { return &usageErr{msg} }

// reportedErr marks an error whose details the command already printed
// (for example a validation report), so main prints only nothing more.
type reportedErr struct{ err error }

func (e *reportedErr) Error() string { return e.err.Error() }
func (e *reportedErr) Unwrap() error { return e.err }

func isReported(err error) bool {
	var r *reportedErr
	return errors.As(err, &r) || errors.Is(err, errHelp)
}

// exitCode maps an error to the documented exit code.
func exitCode(err error) int {
	var ue *usageErr
	switch {
	case err == nil, errors.Is(err, errHelp):
		return exitOK
	case errors.As(err, &ue), errors.Is(err, registry.ErrInvalidName):
		return exitUsage
	case errors.Is(err, context.Canceled):
		return exitCancelled
	case errors.Is(err, ingest.ErrNoFiles):
		return exitNoData
	case errors.Is(err, errRejected):
		return exitRejected
	case errors.Is(err, errRetrain):
		return exitRetrain
	case errors.Is(err, config.ErrInvalid), isDataError(err), errors.Is(err, errRegistryProblems):
		return exitInvalid
	}
	return exitError
}

func runVersion(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "version", "", "Print the code version (VCS revision) this binary was built from.")
	if err := f.parse(e, args); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, version.Get())
	return nil
}

// isDataError reports whether err means the input data broke its
// contract (as opposed to an I/O or internal failure).
func isDataError(err error) bool {
	return errors.Is(err, ingest.ErrInvalid)
}
