package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// executeCLI runs args as main does: the error is printed, as one line.
func executeCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = execute(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), code
}

// TestErrorLine: every command-line mistake is one line on stderr,
// "mlpipe COMMAND: what went wrong (hint)", with the documented exit
// code (docs/cli.md), a "did you mean" when a known word is near, and
// no usage text.
func TestErrorLine(t *testing.T) {
	t.Chdir(t.TempDir()) // no configs/flights.yaml here
	tests := []struct {
		name string
		args []string
		code int
		line string
	}{
		{"ErrUnknownCommand", []string{"regsitry"}, exitUsage,
			`mlpipe: unknown command "regsitry" (did you mean registry? see mlpipe help)`},
		{"ErrFarCommand", []string{"deploy"}, exitUsage,
			`mlpipe: unknown command "deploy" (see mlpipe help)`},
		{"ErrUnknownFlag", []string{"ingest", "--confg", "x.yaml"}, exitUsage,
			`mlpipe ingest: unknown flag --confg (did you mean --config? see mlpipe ingest --help)`},
		{"ErrUnknownFlagFar", []string{"run", "--turbo"}, exitUsage,
			`mlpipe run: unknown flag --turbo (see mlpipe run --help)`},
		{"ErrFlagValue", []string{"ingest", "--config"}, exitUsage,
			`mlpipe ingest: --config needs a value (see mlpipe ingest --help)`},
		{"ErrFlagInvalid", []string{"ingest", "--parallelism", "many"}, exitUsage,
			`mlpipe ingest: --parallelism: invalid value "many": parse error (see mlpipe ingest --help)`},
		{"ErrBoolInvalid", []string{"run", "--wait=perhaps"}, exitUsage,
			`mlpipe run: --wait: invalid value "perhaps": parse error (see mlpipe run --help)`},
		{"ErrLogLevel", []string{"ingest", "--log-level", "loud"}, exitUsage,
			`mlpipe ingest: --log-level: want debug, info, warn or error, got "loud"`},
		{"ErrSubcommand", []string{"models", "lst"}, exitUsage,
			`mlpipe models: unknown subcommand "lst" (did you mean list? want list, show, promote or rollback)`},
		{"ErrRunsSubcommand", []string{"runs", "compar"}, exitUsage,
			`mlpipe runs: unknown subcommand "compar" (did you mean compare? want list, show or compare)`},
		{"ErrSubcommandFlag", []string{"models", "list", "--regsitry", "x"}, exitUsage,
			`mlpipe models list: unknown flag --regsitry (did you mean --registry? see mlpipe models list --help)`},
		{"ErrNoConfig", []string{"train"}, exitUsage,
			`mlpipe train: --config is required (for example --config configs/flights.yaml)`},
		{"ErrNoRegistry", []string{"export", "--model", "flights-delay@production", "-o", "dist/x"}, exitUsage,
			`mlpipe export: no registry given (pass --registry DIR, or --config FILE to use its registry.path; in the repository configs/flights.yaml is the default)`},
		{"ErrConfigTypo", []string{"ingest", "--config", filepath.Join(cwdOf(t, "../../configs"), "flight.yaml")}, exitError,
			"(did you mean " + filepath.Join(cwdOf(t, "../../configs"), "flights.yaml") + "?)"},
		{"ErrModelsFlag", []string{"train", "--config", abs(t, fixtureConfig), "--models", "gdbt"}, exitUsage,
			`mlpipe train: --models: "gdbt" is not among the config's models (did you mean gbdt? the config's models: gbdt, logreg)`},
		{"ErrPolicy", []string{"simulate", "--config", abs(t, fixtureConfig), "--policies", "never,drfit"}, exitUsage,
			`mlpipe simulate: --policies: unknown policy "drfit" (did you mean drift? want some of never, scheduled, drift, estimated, performance)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := executeCLI(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d", code, tt.code)
			}
			if stdout != "" {
				t.Errorf("stdout is not empty:\n%s", stdout)
			}
			lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			if got := lines[len(lines)-1]; !strings.Contains(got, tt.line) || len(lines) != 1 {
				t.Errorf("stderr:\n%s\nwant one line with\n%s", stderr, tt.line)
			}
		})
	}
}

// cwdOf returns rel made absolute from the package directory, before a
// test changes directory.
var pkgDir, _ = os.Getwd()

func cwdOf(t *testing.T, rel string) string { return filepath.Join(pkgDir, rel) }

func abs(t *testing.T, rel string) string { return cwdOf(t, rel) }

// TestDefaultConfig: run in the repository, the commands that need a
// registry find it through configs/flights.yaml, so that the README's
// `mlpipe export --model flights-delay@production -o ...` works as
// written; a wrong model name says what the registry holds.
func TestDefaultConfig(t *testing.T) {
	repo := t.TempDir()
	b, err := os.ReadFile(fixtureConfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(b), "path: flights-10k.parquet", "path: "+abs(t, "../../testdata/flights-10k.parquet"), 1) +
		"registry:\n  path: ../out/registry\n"
	if err := os.MkdirAll(filepath.Join(repo, "configs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, defaultConfig), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	server, err := os.Executable() // any executable will do as the server to copy
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(repo)
	if _, stderr, code := executeCLI(t, "run", "--config", defaultConfig, "--out", "", "--log-level", "error"); code != exitOK {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	for _, tt := range []struct {
		args []string
		code int
		out  string // on stdout, or the error line on stderr
	}{
		{[]string{"export", "--model", "flights-delay@production", "-o", "dist/flights-delay-server", "--server", server}, exitOK, "exported   flights-delay v1"},
		{[]string{"models", "list"}, exitOK, "flights-delay\t1 version (v1)\tproduction=v1"},
		{[]string{"runs", "list"}, exitOK, "gate"},
		{[]string{"registry", "check"}, exitOK, "ok"},
		{[]string{"models", "show", "flights-dealy"}, exitError,
			"mlpipe models show: model flights-dealy: not found in out/registry (did you mean flights-delay? models: flights-delay)"},
		{[]string{"export", "--model", "flights-delay@prodution", "-o", "dist/x", "--server", server}, exitError,
			"mlpipe export: model flights-delay@prodution: not found in out/registry (did you mean flights-delay@production? flights-delay has version v1, aliases production=v1)"},
		{[]string{"models", "promote", "flights-delay@9"}, exitError, "(flights-delay has version v1, aliases production=v1)"},
		{[]string{"report", "20010101T000000000000-abcdef"}, exitError, "mlpipe report: run 20010101T000000000000-abcdef: not found"},
	} {
		stdout, stderr, code := executeCLI(t, tt.args...)
		if code != tt.code || !strings.Contains(stdout+stderr, tt.out) {
			t.Errorf("%v: exit %d, want %d with %q\nstdout:\n%s\nstderr:\n%s", tt.args, code, tt.code, tt.out, stdout, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(repo, "dist", "flights-delay-server")); err != nil {
		t.Errorf("export wrote nothing: %v", err)
	}
}

// TestHelp: every command's --help goes to stdout, exits 0 and names
// each flag's argument by its type: package flag takes a back-quoted
// word in a flag's usage for the argument's name ("-model mlpipe train").
// metavarRE is an upper-case argument placeholder such as COL=FORMAT.
var metavarRE = regexp.MustCompile(`^[A-Z][A-Z_]*(=[A-Z][A-Z_]*)?$`)

func TestHelp(t *testing.T) {
	var all [][]string
	for _, c := range commands() {
		switch c.name {
		case "models":
			for _, s := range []string{"list", "show", "promote", "rollback"} {
				all = append(all, []string{"models", s, "--help"})
			}
		case "runs":
			for _, s := range []string{"list", "show", "compare"} {
				all = append(all, []string{"runs", s, "--help"})
			}
		case "registry":
			all = append(all, []string{"registry", "check", "--help"})
		default:
			all = append(all, []string{c.name, "--help"})
		}
	}
	// A command with subcommands lists them.
	for _, args := range [][]string{{"models", "--help"}, {"runs", "--help"}, {"registry", "--help"}, {"help", "models"}} {
		if stdout, stderr, code := executeCLI(t, args...); code != exitOK || !strings.Contains(stdout, "Usage:") || stderr != "" {
			t.Errorf("%v: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, stdout, stderr)
		}
	}
	types := []string{"string", "int", "int64", "float", "duration", "value"}
	for _, args := range all {
		stdout, stderr, code := executeCLI(t, args...)
		if code != exitOK || stderr != "" || !strings.Contains(stdout, "Usage: mlpipe "+strings.Join(args[:len(args)-1], " ")) {
			t.Errorf("%v: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, stdout, stderr)
		}
		for _, line := range strings.Split(stdout, "\n") {
			// A back-quoted name in a flag's usage becomes its argument's
			// name: a type, or an upper-case placeholder chosen as one
			// (COL=FORMAT); never prose such as "mlpipe monitor".
			if f := strings.Fields(line); strings.HasPrefix(line, "  -") && len(f) > 1 && !slices.Contains(types, f[1]) && !metavarRE.MatchString(f[1]) {
				t.Errorf("%v: --help names an argument %q: %s", args, f[1], line)
			}
		}
	}
}

// TestLogLevelDefault: on a terminal the summary and the status line tell
// the story, so logs below WARN are left out unless --log-level asks for
// them; elsewhere (scripts, cron, CI) the structured logs stay on stderr.
func TestLogLevelDefault(t *testing.T) {
	tests := []struct {
		name     string
		terminal bool
		args     []string
		logs     bool // INFO lines on stderr
	}{
		{"terminal", true, nil, false},
		{"terminal/info", true, []string{"--log-level", "info"}, true},
		{"script", false, nil, true},
		{"script/warn", false, []string{"--log-level", "warn"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := isTerminal
			isTerminal = func(io.Writer) bool { return tt.terminal }
			defer func() { isTerminal = old }()
			args := append([]string{"ingest", "--config", fixtureConfig, "--out", ""}, tt.args...)
			stdout, stderr, code := executeCLI(t, args...)
			if code != exitOK || !strings.Contains(stdout, "validate   ok") {
				t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
			}
			if got := strings.Contains(stderr, "level=INFO"); got != tt.logs {
				t.Errorf("INFO logs on stderr: %v, want %v\n%s", got, tt.logs, stderr)
			}
		})
	}
}

// TestDefaultOut: without --out, a command writes under out/NAME/COMMAND,
// NAME the config's name, so that the penguins example does not
// overwrite the outputs of flights.
func TestDefaultOut(t *testing.T) {
	penguins, flights := abs(t, "../../configs/penguins.yaml"), abs(t, fixtureConfig)
	t.Chdir(t.TempDir())
	for _, cfg := range []string{penguins, flights} {
		if _, stderr, code := executeCLI(t, "ingest", "--config", cfg, "--log-level", "error"); code != exitOK {
			t.Fatalf("ingest %s: exit %d\n%s", cfg, code, stderr)
		}
	}
	for _, f := range []string{"out/penguins-species/ingest/summary.json", "out/flights-delay/ingest/summary.json"} {
		if _, err := os.Stat(f); err != nil {
			t.Error(err)
		}
	}
}

// TestDocsListCommands: docs/cli.md has a line for every command, and
// docs/architecture.md's row of cmd/mlpipe names each one.
func TestDocsListCommands(t *testing.T) {
	cli, err := os.ReadFile(cwdOf(t, "../../docs/cli.md"))
	if err != nil {
		t.Fatal(err)
	}
	arch, err := os.ReadFile(cwdOf(t, "../../docs/architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `cmd/mlpipe` \\|.*$").Find(arch)
	for _, c := range commands() {
		if !bytes.Contains(cli, []byte("`mlpipe "+c.name)) {
			t.Errorf("docs/cli.md has no `mlpipe %s ...` line", c.name)
		}
		if !bytes.Contains(row, []byte("`"+c.name+"`")) {
			t.Errorf("docs/architecture.md's cmd/mlpipe row does not list %s: %s", c.name, row)
		}
	}
}

// TestLogRedacted: the CLI's logger redacts credentials as mlserve's
// does (internal/redact): a header dump or a bearer token carried by an
// error never reaches stderr, in either log format.
func TestLogRedacted(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			var stderr bytes.Buffer
			e := &env{stdout: io.Discard, stderr: &stderr}
			f := newFlags(e, "runs", "", "")
			if err := f.parse(e, []string{"--log-format", format, "--log-level", "info"}); err != nil {
				t.Fatal(err)
			}
			e.log.Warn("bad request", "err", "GET / HTTP/1.1\r\nAuthorization: Bearer s3cr3t-token\r\n", "token", "abcdef")
			if got := stderr.String(); strings.Contains(got, "s3cr3t") || strings.Contains(got, "abcdef") {
				t.Errorf("log line carries a credential: %s", got)
			}
		})
	}
}
