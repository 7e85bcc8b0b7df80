package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/draft"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/internal/flagerr"
	"github.com/mlpipe/mlpipe/internal/progress"
	"github.com/mlpipe/mlpipe/internal/redact"
	"github.com/mlpipe/mlpipe/internal/suggest"
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
		{"init", "draft a pipeline config for a data file: schema, label, split, features", runInit},
		{"ingest", "load, validate, profile and split the data; print a summary", runIngest},
		{"run", "run the whole pipeline: ingest, features, train, evaluate", runPipeline},
		{"train", "fit features and every candidate model; save the best", runTrain},
		{"evaluate", "evaluate a saved model on the test split", runEvaluate},
		{"predict", "score files in batch with a model; optionally explain each prediction", runPredict},
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

// env is what every command gets: its output streams, the logger built
// from the global flags, and its name for errors ("models list").
type env struct {
	stdout, stderr io.Writer
	log            *slog.Logger
	cmd            string
}

// execute is main without the process: it runs one command, prints its
// error as one line on stderr (see errorLine), and returns the exit code.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	err := run(ctx, args, stdout, stderr)
	if err != nil && !isReported(err) {
		fmt.Fprintln(stderr, errorLine(err))
	}
	return exitCode(err)
}

// run parses args, runs one command and returns its error, which names
// the command (commandErr). Tests call it directly.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			return run(ctx, []string{args[1], "--help"}, stdout, stderr)
		}
		usage(stdout)
		if len(args) == 0 {
			return usageHint("no command given", "see mlpipe help")
		}
		return nil
	}
	var names []string
	for _, c := range commands() {
		if c.name == args[0] {
			e := &env{stdout: stdout, stderr: stderr, log: slog.New(slog.DiscardHandler), cmd: c.name}
			if err := c.run(ctx, e, args[1:]); err != nil && !errors.Is(err, errHelp) {
				return &commandErr{name: e.cmd, err: err}
			}
			return nil
		}
		names = append(names, c.name)
	}
	return usageHint(fmt.Sprintf("unknown command %q", args[0]), hint(suggest.DidYouMean(args[0], names, nil), "see mlpipe help"))
}

// commandErr is a command's error with the command's name.
type commandErr struct {
	name string // "ingest", "models list"
	err  error
}

func (e *commandErr) Error() string { return e.name + ": " + e.err.Error() }
func (e *commandErr) Unwrap() error { return e.err }

// errorLine is the one line printed for an error: "mlpipe COMMAND: what
// went wrong (hint)". A message that begins with the command's own name
// ("monitor: ...") does not repeat it.
func errorLine(err error) string {
	prefix := "mlpipe"
	var ce *commandErr
	if errors.As(err, &ce) {
		prefix += " " + ce.name
		err = ce.err
	}
	msg := err.Error()
	if ce != nil {
		first, _, _ := strings.Cut(ce.name, " ")
		for _, p := range []string{ce.name + ": ", first + ": "} {
			msg = strings.TrimPrefix(msg, p)
		}
	}
	return prefix + ": " + msg
}

// hint joins the non-empty parts of an error's hint: "did you mean
// --registry? see mlpipe runs list --help".
func hint(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		switch {
		case p == "":
			continue
		case b.Len() == 0:
		case strings.HasSuffix(b.String(), "?"):
			b.WriteString(" ")
		default:
			b.WriteString("; ")
		}
		b.WriteString(p)
	}
	return b.String()
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

// flags is a command's flag set with the flags every command shares.
type flags struct {
	*flag.FlagSet
	logFormat, logLevel string
	jsonOut             bool
}

// newFlags makes the flag set of command name ("models list"), which
// also names the command in its errors.
func newFlags(e *env, name, args, about string) *flags {
	e.cmd = name
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	f := &flags{FlagSet: fs}
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: mlpipe %s %s\n\n%s\n\nFlags:\n", name, args, about)
		fs.PrintDefaults()
	}
	fs.StringVar(&f.logFormat, "log-format", "text", "log format on stderr: text or json")
	fs.StringVar(&f.logLevel, "log-level", "", "log level: debug, info, warn or error (default: warn when stderr is a terminal, where the summary and a status line tell the story; info otherwise, for scripts and log collectors)")
	return f
}

// isTerminal reports whether w is a terminal. A variable, so that tests
// can pretend.
var isTerminal = func(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && progress.IsTerminal(f)
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

// askedHelp reports whether args ask for help (-h, -help, --help).
func askedHelp(args []string) bool {
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
			return true
		}
	}
	return false
}

// addRegistry adds --registry and --config, for the commands that read a
// registry (see openRegistry).
func (f *flags) addRegistry(dir, cfgPath *string) {
	f.StringVar(dir, "registry", "", "model registry directory (default: the registry.path of --config)")
	f.StringVar(cfgPath, "config", "", "pipeline config whose registry.path is the registry (default "+defaultConfig+" when it exists, as in the repository)")
}

// parse parses args and sets up e.log from the logging flags.
func (f *flags) parse(e *env, args []string) error {
	if askedHelp(args) {
		f.SetOutput(e.stdout) // asked-for help goes to stdout
	}
	out := f.Output()
	if out != e.stdout {
		// A flag error is one line (flagerr), not the error, the whole
		// usage and the error again.
		f.SetOutput(io.Discard)
	}
	err := f.Parse(args)
	f.SetOutput(out)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		msg, h := flagerr.Describe(f.FlagSet, err, "see mlpipe "+f.Name()+" --help")
		return usageHint(msg, h)
	}
	level := slog.LevelInfo
	switch {
	case f.logLevel != "":
		if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
			return usageError(fmt.Sprintf("--log-level: want debug, info, warn or error, got %q", f.logLevel))
		}
	case isTerminal(e.stderr):
		level = slog.LevelWarn
	}
	opts := &slog.HandlerOptions{Level: level}
	// Credentials never reach a log line (internal/redact), as in mlserve.
	switch f.logFormat {
	case "text":
		e.log = slog.New(redact.Handler(slog.NewTextHandler(e.stderr, opts)))
	case "json":
		e.log = slog.New(redact.Handler(slog.NewJSONHandler(e.stderr, opts)))
	default:
		return usageError(fmt.Sprintf("--log-format: want text or json, got %q", f.logFormat))
	}
	return nil
}

// loadConfig reads --config, which every pipeline command takes.
func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		return nil, usageHint("--config is required", "for example --config "+defaultConfig)
	}
	cfg, err := config.Load(path)
	if errors.Is(err, fs.ErrNotExist) {
		// A mistyped name: suggest the configs beside it.
		names, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "*.yaml"))
		return nil, &hinted{err, suggest.DidYouMean(path, names, nil)}
	}
	return cfg, err
}

var errHelp = errors.New("help requested")

// usageErr is a mistake in the command line (exit 2): what went wrong,
// and a hint of what to do.
type usageErr struct{ msg, hint string }

func (e *usageErr) Error() string {
	if e.hint == "" {
		return e.msg
	}
	return e.msg + " (" + e.hint + ")"
}

func usageError(msg string) error { return &usageErr{msg: msg} }

// usageHint is a usage error with a hint ("did you mean --registry?").
func usageHint(msg, hint string) error { return &usageErr{msg: msg, hint: hint} }

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
	case errors.As(err, &ue), errors.Is(err, registry.ErrInvalidName), errors.Is(err, draft.ErrLabel):
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
