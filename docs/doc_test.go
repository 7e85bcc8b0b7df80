package docs

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "with MLPIPE_DOCS=real: rewrite the output the docs show from this run")

// real reports whether the doc test runs on the real data and compares
// outputs line by line (make docs), rather than on the fixture (make test).
func real() bool { return os.Getenv("MLPIPE_DOCS") == "real" }

// The documents whose commands are run, in this order: the README's
// commands make the registry (flights-delay, penguins-body-mass) that the
// other documents' commands use.
func documents(t *testing.T) []string {
	docs, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(docs)
	return append([]string{"../README.md"}, docs...)
}

// A command is one shell command line a document shows (continuation
// lines included), with the output it shows after it, if any.
type command struct {
	file   string
	line   int
	text   string
	want   []string // the output the document shows ("$ " blocks)
	shown  bool     // the document shows an output (possibly empty)
	inline bool     // from inline code, not a fenced block
	skip   string   // why it is not run
	setup  []string // hidden commands run first (<!-- doctest: setup -->)
	exits  []int    // accepted exit statuses (<!-- doctest: exit 0,6 -->); nil: 0, or non-zero when an error is shown
	block  int      // index of the fenced block in the file (-1: inline)
	first  int      // the line of the first output line in the file (shown)
}

var (
	fenceRE    = regexp.MustCompile("^```([a-z]*)\\s*$")
	markerRE   = regexp.MustCompile(`^<!-- doctest: (skip|setup|exit) (.+?) -->$`)
	inlineRE   = regexp.MustCompile("`((?:bin/)?(?:mlpipe|mlserve) [^`]+)`")
	runnableRE = regexp.MustCompile(`^bin/|--(config|registry|bundle) `)
	placeholRE = regexp.MustCompile(`\b[A-Z][A-Z_]*\b|[\[\]|…]|\.\.\.|<|>`)
)

// parse returns the commands of one Markdown file, in order.
func parse(t *testing.T, file string) []command {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(raw), "\n")
	var cmds []command
	block := 0
	for i := 0; i < len(lines); i++ {
		m := fenceRE.FindStringSubmatch(lines[i])
		if m == nil {
			for _, im := range inlineRE.FindAllStringSubmatch(lines[i], -1) {
				text := im[1]
				if !runnableRE.MatchString(text) || strings.Contains(text, ": ") ||
					placeholRE.MatchString(strings.TrimPrefix(strings.TrimPrefix(text, "bin/"), "mlpipe ")) {
					continue // a mention (`mlpipe predict`), a synopsis (`mlpipe run --config FILE`) or an error message
				}
				cmds = append(cmds, command{file: file, line: i + 1, text: text, inline: true, block: -1})
			}
			continue
		}
		lang, start := m[1], i
		end := i + 1
		for end < len(lines) && !strings.HasPrefix(lines[end], "```") {
			end++
		}
		body := lines[start+1 : end]
		i = end
		var skip string
		var setup []string
		var exits []int
		for k := start - 1; k >= 0; k-- {
			mm := markerRE.FindStringSubmatch(lines[k])
			if mm == nil {
				break
			}
			switch mm[1] {
			case "skip":
				skip = mm[2]
			case "setup":
				setup = append([]string{mm[2]}, setup...)
			case "exit":
				for _, f := range strings.Split(mm[2], ",") {
					n, err := strconv.Atoi(strings.TrimSpace(f))
					if err != nil {
						t.Fatalf("%s:%d: bad exit marker %q", file, k+1, lines[k])
					}
					exits = append(exits, n)
				}
			}
		}
		var found []command
		switch {
		case lang == "sh" || lang == "bash":
			for j := 0; j < len(body); j++ {
				text, n := joined(body, j)
				j += n
				if s := strings.TrimSpace(text); s == "" || strings.HasPrefix(s, "#") {
					continue
				}
				found = append(found, command{file: file, line: start + 2 + j - n, text: text})
			}
		case lang == "" || lang == "console":
			for j := 0; j < len(body); j++ {
				if !strings.HasPrefix(body[j], "$ ") {
					continue
				}
				body[j] = body[j][2:]
				text, n := joined(body, j)
				c := command{file: file, line: start + 2 + j, text: text, shown: true}
				j += n
				c.first = start + 2 + j + 1
				for j+1 < len(body) && !strings.HasPrefix(body[j+1], "$ ") {
					j++
					c.want = append(c.want, body[j])
				}
				// A blank line before the next "$ " separates; it is
				// not output.
				for len(c.want) > 0 && strings.TrimSpace(c.want[len(c.want)-1]) == "" {
					c.want = c.want[:len(c.want)-1]
				}
				found = append(found, c)
			}
		}
		for k := range found {
			found[k].skip, found[k].exits, found[k].block = skip, exits, block
			if k == 0 {
				found[k].setup = setup
			}
		}
		cmds = append(cmds, found...)
		block++
	}
	return cmds
}

// joined returns the command starting at body[j], with the lines it
// continues onto (a trailing backslash, or an open single quote), and how
// many lines it continued onto.
func joined(body []string, j int) (string, int) {
	text, n := body[j], 0
	for j+n+1 < len(body) && (strings.HasSuffix(text, `\`) || strings.Count(text, "'")%2 == 1) {
		n++
		text += "\n" + body[j+n]
	}
	return text, n
}

// workspace is a scratch directory laid out like the repository.
type workspace struct {
	dir   string
	env   []string
	ports map[string]string // documented port -> free port
	procs map[string]*daemon
}

type daemon struct {
	cmd  *exec.Cmd
	out  *bytes.Buffer
	port string
	done chan struct{}
}

func newWorkspace(t *testing.T) *workspace {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, bin := range []string{"mlpipe", "mlserve"} {
		build := exec.Command("go", "build", "-o", filepath.Join(dir, "bin", bin), "./cmd/"+bin)
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", bin, err, out)
		}
	}
	// configs/ is copied: its registry and cache paths (../out/...) then
	// land in the workspace. testdata/ is linked; data/ is a directory of
	// links, the big file replaced by the fixture unless MLPIPE_DOCS=real.
	if err := os.CopyFS(filepath.Join(dir, "configs"), os.DirFS(filepath.Join(root, "configs"))); err != nil {
		t.Fatal(err)
	}
	if !real() {
		// The fixture's 10,000 rows cannot reach the gate's roc_auc 0.70:
		// lowered, the fixture's model is promoted as the real one is.
		cfg := filepath.Join(dir, "configs", "flights.yaml")
		b, err := os.ReadFile(cfg)
		if err != nil {
			t.Fatal(err)
		}
		lowered := strings.Replace(string(b), "min_value: 0.70 ", "min_value: 0.50 ", 1)
		if lowered == string(b) {
			t.Fatal("configs/flights.yaml has no gate min_value 0.70 to lower for the fixture")
		}
		if err := os.WriteFile(cfg, []byte(lowered), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(root, "testdata"), filepath.Join(dir, "testdata")); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadDir(filepath.Join(root, "data"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, e := range data {
		src := filepath.Join(root, "data", e.Name())
		if e.Name() == "flights-3m.parquet" && !real() {
			src = filepath.Join(root, "testdata", "flights-10k.parquet")
		}
		if err := os.Symlink(src, filepath.Join(dir, "data", e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	ws := &workspace{dir: dir, ports: map[string]string{}, procs: map[string]*daemon{}}
	ws.env = append(os.Environ(), "PATH="+filepath.Join(dir, "bin")+":"+os.Getenv("PATH"), "NO_COLOR=1")
	for _, p := range []string{"8080", "8090", "8091", "9000"} {
		ws.ports[p] = freePort(t)
	}
	return ws
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

var (
	portRE     = regexp.MustCompile(`(localhost|127\.0\.0\.1):(\d{4})\b`)
	commentRE  = regexp.MustCompile(`\s+#\s.*$`)
	serverRE   = regexp.MustCompile(`^(bin/)?(mlserve|mlpipe ui|mlpipe schedule)\b|^dist/\S+ --addr`)
	defaultsRE = map[string]string{"mlserve": "8080", "mlpipe ui": "8090"}
)

// prepare rewrites a documented command for the workspace: documented
// ports become free ones, `make run` its recipe, RUN_ID the latest run.
func (ws *workspace) prepare(t *testing.T, text string) string {
	text = portRE.ReplaceAllStringFunc(text, func(s string) string {
		m := portRE.FindStringSubmatch(s)
		if p, ok := ws.ports[m[2]]; ok {
			return "127.0.0.1:" + p
		}
		return s
	})
	if strings.Contains(text, "RUN_ID") {
		runs, _ := filepath.Glob(filepath.Join(ws.dir, "out", "registry", "runs", "*"))
		if len(runs) == 0 {
			t.Fatalf("no run recorded yet for RUN_ID in %q", text)
		}
		sort.Strings(runs)
		text = strings.ReplaceAll(text, "RUN_ID", filepath.Base(runs[len(runs)-1]))
	}
	return text
}

// makeTargets are the make targets the documents run, as what the
// Makefile runs for them (TestMakeTargets holds the Makefile to it).
var makeTargets = map[string]string{
	"run":   "bin/mlpipe run --config configs/flights.yaml",
	"build": "true", // the workspace's binaries are built from this tree
}

// Commands a document shows that the doc test does not run, and why.
var notRun = []struct {
	re  *regexp.Regexp
	why string
}{
	{regexp.MustCompile(`^make (test|bench|soak|fuzz|lint|suite|image|docs)\b`), "make test runs the doc test; the rest are long or run the doc test themselves"},
	{regexp.MustCompile(`^(go |loadgen |BODY=|for i )`), "a benchmark tool, run by make bench (scripts/bench)"},
}

// run runs one command and returns its combined output and exit status.
// A server is started in the background instead, and its status is 0 once
// it listens (or, without a port, is still running after 2 s).
func (ws *workspace) run(t *testing.T, text string) (string, int) {
	t.Helper()
	text = ws.prepare(t, text)
	if m := regexp.MustCompile(`^make (\w+)`).FindStringSubmatch(text); m != nil {
		if r, ok := makeTargets[m[1]]; ok {
			text = r + commentRE.ReplaceAllString(text[len(m[0]):], "")
		}
	}
	bare := strings.TrimSuffix(strings.TrimSpace(commentRE.ReplaceAllString(text, "")), "&")
	if sm := serverRE.FindStringSubmatch(strings.TrimSpace(bare)); sm != nil {
		return ws.serve(t, strings.TrimSpace(bare), strings.TrimPrefix(sm[0], "bin/"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", text)
	cmd.Dir, cmd.Env = ws.dir, ws.env
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	default:
		t.Fatalf("%s: %v", text, err)
		return "", -1
	}
}

// serve starts a server command in the background.
func (ws *workspace) serve(t *testing.T, text, kind string) (string, int) {
	t.Helper()
	port := ""
	if m := regexp.MustCompile(`--addr \S*:(\d+)`).FindStringSubmatch(text); m != nil {
		port = m[1]
	} else if p, ok := defaultsRE[kind]; ok {
		port = ws.ports[p]
		text += " --addr 127.0.0.1:" + port
	}
	if old := ws.procs[port]; port != "" && old != nil {
		ws.stop(old)
	}
	cmd := exec.Command("bash", "-c", "exec "+text)
	cmd.Dir, cmd.Env = ws.dir, ws.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", text, err)
	}
	d := &daemon{cmd: cmd, out: &out, port: port, done: make(chan struct{})}
	go func() { cmd.Wait(); close(d.done) }()
	key := port
	if key == "" {
		key = fmt.Sprint("pid", cmd.Process.Pid)
	}
	ws.procs[key] = d
	start := time.Now()
	for {
		select {
		case <-d.done:
			return out.String(), cmd.ProcessState.ExitCode()
		default:
		}
		if port == "" {
			if time.Since(start) > 2*time.Second {
				return "", 0
			}
		} else if c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second); err == nil {
			c.Close()
			return "", 0
		}
		if time.Since(start) > 60*time.Second {
			return out.String(), -1
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (ws *workspace) stop(d *daemon) {
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(20 * time.Second):
		d.cmd.Process.Kill()
		<-d.done
	}
	for k, v := range ws.procs {
		if v == d {
			delete(ws.procs, k)
		}
	}
}

func (ws *workspace) stopAll() {
	for _, d := range ws.procs {
		ws.stop(d)
	}
}

// TestDocs runs every command of README.md and docs/*.md (see doc.go).
func TestDocs(t *testing.T) {
	if testing.Short() && !real() {
		t.Skip("-short: the doc test builds both binaries and runs the pipeline")
	}
	ws := newWorkspace(t)
	t.Cleanup(ws.stopAll)
	rewrites := map[string][]rewrite{}
	for _, file := range documents(t) {
		cmds := parse(t, file)
		// Inline commands run after the file's blocks, so that the
		// outputs the blocks show (a first run, then a cached one) stay
		// in the order the reader meets them.
		sort.SliceStable(cmds, func(i, j int) bool { return !cmds[i].inline && cmds[j].inline })
		for _, c := range cmds {
			name := fmt.Sprintf("%s:%d", filepath.Base(c.file), c.line)
			if why := skipReason(c); why != "" {
				t.Logf("%s: not run: %s", name, why)
				continue
			}
			for _, s := range c.setup {
				if out, code := ws.run(t, s); code != 0 {
					t.Fatalf("%s: setup %q: exit %d\n%s", name, s, code, out)
				}
			}
			got, code := ws.run(t, c.text)
			if !exitOK(c, code) {
				t.Errorf("%s: %s\nexit status %d\n%s", name, c.text, code, got)
				continue
			}
			if !c.shown {
				continue
			}
			gotLines := terminalLines(got)
			var problems []string
			if real() {
				problems = compareReal(c.want, gotLines)
				if len(problems) > 0 && *update {
					rewrites[c.file] = append(rewrites[c.file], rewrite{first: c.first, n: len(c.want), lines: updated(c.want, gotLines)})
					continue
				}
			} else if len(c.want) > 0 { // nothing shown yet: make docs UPDATE=1 fills it in
				problems = compareShape(c.want, gotLines)
			}
			if len(problems) > 0 {
				t.Errorf("%s: %s\nthe output differs from the document:\n  %s\ngot:\n%s", name, c.text, strings.Join(problems, "\n  "), got)
			}
		}
		ws.stopAll()
	}
	for file, rs := range rewrites {
		if err := applyRewrites(file, rs); err != nil {
			t.Fatal(err)
		}
		t.Logf("updated %s (%d outputs)", file, len(rs))
	}
}

// infoLogRE is a structured log line below WARN: a terminal does not
// show those (docs/cli.md), so neither does a document.
var infoLogRE = regexp.MustCompile(`^time=\S+ level=(DEBUG|INFO) `)

// terminalLines returns a command's output as a terminal shows it: the
// logs below WARN left out.
func terminalLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if !infoLogRE.MatchString(l) {
			lines = append(lines, l)
		}
	}
	if len(lines) == 1 && lines[0] == "" {
		return nil
	}
	return lines
}

func skipReason(c command) string {
	if c.skip != "" {
		return c.skip
	}
	for _, n := range notRun {
		if n.re.MatchString(strings.TrimSpace(c.text)) {
			return n.why
		}
	}
	return ""
}

// exitOK reports whether code is the exit status the document implies:
// the marked ones, else non-zero when the shown output is an error line
// ("mlpipe predict: …"), else 0.
func exitOK(c command, code int) bool {
	if c.exits != nil {
		return slices.Contains(c.exits, code)
	}
	if c.shown && len(c.want) > 0 && errorLineRE.MatchString(c.want[0]) {
		return code != 0
	}
	return code == 0
}

var (
	errorLineRE = regexp.MustCompile(`^(mlpipe [a-z ]+|mlserve): `)
	labelRE     = regexp.MustCompile(`^\s{0,2}([a-z][a-z_]*)(\s{2,}|$)`)
	statusRE    = regexp.MustCompile(`^\d{3}$`)
)

// compareShape checks what does not depend on the data (see doc.go): the
// summary labels in order, JSON keys, status codes, CSV headers and error
// prefixes.
func compareShape(want, got []string) []string {
	var problems []string
	labels := func(lines []string) []string {
		var out []string
		for _, l := range lines {
			if m := labelRE.FindStringSubmatch(l); m != nil {
				out = append(out, m[1])
			}
		}
		return out
	}
	if w, g := labels(want), labels(got); !subsequence(w, g) {
		problems = append(problems, fmt.Sprintf("summary labels %v are not all in the output, in order (got %v)", w, g))
	}
	var wantJSON, gotJSON []string
	for _, l := range want {
		if k, ok := jsonKeys(l); ok {
			wantJSON = append(wantJSON, k)
		}
	}
	for _, l := range got {
		if k, ok := jsonKeys(l); ok {
			gotJSON = append(gotJSON, k)
		}
	}
	if !slices.Equal(wantJSON, gotJSON) {
		problems = append(problems, fmt.Sprintf("JSON keys %v, got %v", wantJSON, gotJSON))
	}
	for _, l := range want {
		switch {
		case statusRE.MatchString(l), strings.Count(l, ",") >= 3 && !strings.ContainsAny(l, "0123456789 "):
			if !slices.Contains(got, l) {
				problems = append(problems, fmt.Sprintf("line %q is missing", l))
			}
		case errorLineRE.MatchString(l):
			prefix := l[:strings.Index(l, ": ")+2]
			if i := strings.Index(l[len(prefix):], ": "); i > 0 {
				prefix = l[:len(prefix)+i+2] // "mlpipe predict: invalid data: "
			}
			if !slices.ContainsFunc(got, func(g string) bool { return strings.HasPrefix(g, prefix) }) {
				problems = append(problems, fmt.Sprintf("no error line starting %q", prefix))
			}
		}
	}
	return problems
}

func subsequence(want, got []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && want[i] == g {
			i++
		}
	}
	return i == len(want)
}

// jsonKeys returns the shape of a JSON object line: its keys, nested
// objects' keys and the first element of arrays, values left out.
func jsonKeys(line string) (string, bool) {
	line = strings.TrimSpace(line)
	if !strings.HasPrefix(line, "{") {
		return "", false
	}
	var v any
	if json.Unmarshal([]byte(line), &v) != nil {
		return "", false
	}
	var shape func(v any) string
	shape = func(v any) string {
		switch v := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var b strings.Builder
			b.WriteString("{")
			for i, k := range keys {
				if i > 0 {
					b.WriteString(",")
				}
				if k == "contributions" { // keyed by input: which ones depends on the model
					b.WriteString(k + "{…}")
					continue
				}
				b.WriteString(k + shape(v[k]))
			}
			return b.String() + "}"
		case []any:
			if len(v) == 0 {
				return "[]"
			}
			return "[" + shape(v[0]) + "]"
		}
		return ""
	}
	return shape(v), true
}

// Masks for the real comparison: what changes from run to run.
var masks = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\d{8}T\d{6,12}-[0-9a-f]{6}`), "RUN"},
	{regexp.MustCompile(`\d{8}T\d{6}(\.\d+)?Z`), "NOW"},                            // a report kept at run time
	{regexp.MustCompile(`20[2-9]\d-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`), "NOW"},     // wall-clock times; the data's are in 2001
	{regexp.MustCompile(`\b[0-9a-f]{12}-[0-9a-f]+\b`), "REQ"},                      // request ids: a prefix and a hex sequence
	{regexp.MustCompile(`sha256:[0-9a-f]{12}…`), "sha256:DIGEST…"},                 // a version's digest: its manifest holds the run's lineage
	{regexp.MustCompile(`(peak resident [\d,.]+ MB) \(in \w+\)`), "$1 (in STAGE)"}, // the stage at the peak can change from run to run
	{regexp.MustCompile(`(?i)^date: .* GMT\s*$`), "Date: NOW"},                     // an HTTP response's Date header (curl -i keeps its CR)
	{regexp.MustCompile(`[\d,.]+ rows/s`), "N rows/s"},
	{regexp.MustCompile(`\b\d+(\.\d+)? ?(MB|GB|KB)\b`), "N MB"},
	{regexp.MustCompile(`\b\d+(\.\d+)?(ns|µs|ms|s|m)\b`), "T"},
	{regexp.MustCompile(`\s+`), " "},
}

func mask(s string) string {
	for _, m := range masks {
		s = m.re.ReplaceAllString(s, m.with)
	}
	return strings.TrimSpace(s)
}

// compareReal compares line by line once masked; a "..." line of the
// document stands for any number of lines.
func compareReal(want, got []string) []string {
	if matchLines(want, got) {
		return nil
	}
	return []string{"masked lines differ (MLPIPE_DOCS=real go test ./docs -update rewrites them)"}
}

func matchLines(want, got []string) bool {
	if len(want) == 0 {
		return len(got) == 0
	}
	if strings.TrimSpace(want[0]) == "..." {
		for i := 0; i <= len(got); i++ {
			if matchLines(want[1:], got[i:]) {
				return true
			}
		}
		return false
	}
	return len(got) > 0 && mask(want[0]) == mask(got[0]) && matchLines(want[1:], got[1:])
}

// updated returns the new output to show: got, with the document's "..."
// elisions kept where they were. Each run of lines between elisions is
// placed where its first line's label is found in got.
func updated(want, got []string) []string {
	if !slices.ContainsFunc(want, func(l string) bool { return strings.TrimSpace(l) == "..." }) {
		return got
	}
	var out []string
	pos := 0
	for i := 0; i < len(want); i++ {
		if strings.TrimSpace(want[i]) == "..." {
			out = append(out, want[i])
			continue
		}
		j := i
		for j < len(want) && strings.TrimSpace(want[j]) != "..." {
			j++
		}
		seg := want[i:j]
		at := pos
		if i > 0 { // after an elision: find the segment's first line
			key := strings.Fields(mask(seg[0]))
			for k := pos; k < len(got); k++ {
				if f := strings.Fields(mask(got[k])); len(f) > 0 && len(key) > 0 && f[0] == key[0] {
					at = k
					break
				}
			}
		}
		end := min(at+len(seg), len(got))
		if j == len(want) && i == 0 {
			end = len(got)
		}
		out = append(out, got[at:end]...)
		pos = end
		i = j - 1
	}
	return out
}

type rewrite struct {
	first, n int // the first shown line (1-based) and how many
	lines    []string
}

func applyRewrites(file string, rs []rewrite) error {
	raw, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	lines := strings.Split(string(raw), "\n")
	sort.Slice(rs, func(i, j int) bool { return rs[i].first > rs[j].first })
	for _, r := range rs {
		lines = slices.Concat(lines[:r.first-1], r.lines, lines[r.first-1+r.n:])
	}
	return os.WriteFile(file, []byte(strings.Join(lines, "\n")), 0o644)
}

// TestMakeTargets holds makeTargets to the Makefile's recipes.
func TestMakeTargets(t *testing.T) {
	f, err := os.Open("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recipes := map[string][]string{}
	target := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		if m := regexp.MustCompile(`^([a-z-]+):`).FindStringSubmatch(l); m != nil {
			target = m[1]
			continue
		}
		if strings.HasPrefix(l, "\t") && target != "" {
			recipes[target] = append(recipes[target], strings.TrimSpace(l))
		}
	}
	if got := recipes["run"]; len(got) != 1 || got[0] != "$(BIN)/mlpipe run --config $(CONFIG)" {
		t.Errorf("make run's recipe is %q; makeTargets[run] says %q", got, makeTargets["run"])
	}
	if !regexp.MustCompile(`(?m)^BIN\s+:= bin$`).MatchString(readFile(t, "../Makefile")) ||
		!regexp.MustCompile(`(?m)^CONFIG\s+\?= configs/flights.yaml$`).MatchString(readFile(t, "../Makefile")) {
		t.Errorf("the Makefile's BIN or CONFIG moved; update makeTargets")
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestParse pins how commands and their outputs are read from Markdown.
func TestParse(t *testing.T) {
	md := "Run `bin/mlpipe export --model m@production -o dist/x` or `mlpipe run --config FILE`.\n" +
		"<!-- doctest: exit 0,6 -->\n" +
		"```sh\nbin/mlpipe monitor --last 7d   # exit 6 = retrain\n\n# a comment\nmake run\n```\n" +
		"```\n$ curl -s -X POST localhost:8080/x \\\n    -d '{\"a\":\n 1}'\n{\"b\":2}\n$ echo hi\nhi\n```\n" +
		"<!-- doctest: skip needs a GPU -->\n```sh\nnvidia-smi\n```\n"
	file := filepath.Join(t.TempDir(), "x.md")
	if err := os.WriteFile(file, []byte(md), 0o644); err != nil {
		t.Fatal(err)
	}
	got := parse(t, file)
	type brief struct {
		line  int
		text  string
		want  []string
		skip  string
		exits []int
	}
	var b []brief
	for _, c := range got {
		b = append(b, brief{c.line, c.text, c.want, c.skip, c.exits})
	}
	want := []brief{
		{1, "bin/mlpipe export --model m@production -o dist/x", nil, "", nil},
		{4, "bin/mlpipe monitor --last 7d   # exit 6 = retrain", nil, "", []int{0, 6}},
		{7, "make run", nil, "", []int{0, 6}},
		{10, "curl -s -X POST localhost:8080/x \\\n    -d '{\"a\":\n 1}'", []string{`{"b":2}`}, "", nil},
		{14, "echo hi", []string{"hi"}, "", nil},
		{19, "nvidia-smi", nil, "needs a GPU", nil},
	}
	if fmt.Sprint(b) != fmt.Sprint(want) {
		t.Errorf("parse:\n got %v\nwant %v", b, want)
	}
}

// TestCompare pins the two comparisons.
func TestCompare(t *testing.T) {
	want := []string{"config     configs/flights.yaml", "...", "  train       1,978,941 rows  x", `{"id":"a","p":0.3,"l":["x"]}`, "400"}
	good := []string{"config   configs/other.yaml", "data  x", "  train   6,597 rows", `{"id":"b","p":0.9,"l":["y","z"]}`, "400"}
	if p := compareShape(want, good); len(p) > 0 {
		t.Errorf("compareShape(good) = %v", p)
	}
	for name, bad := range map[string][]string{
		"label missing": {"config x", `{"id":"b","p":0.9,"l":["y"]}`, "400"},
		"key missing":   {"config x", "  train  1 rows", `{"id":"b","l":["y"]}`, "400"},
		"status":        {"config x", "  train  1 rows", `{"id":"b","p":0.9,"l":["y"]}`, "500"},
	} {
		if p := compareShape(want, bad); len(p) == 0 {
			t.Errorf("compareShape(%s) found nothing", name)
		}
	}
	real := []string{"stages  load 0.85s, train 43.26s", "...", "report  out/registry/runs/20261126T013045273027-31d7db/report.html"}
	if !matchLines(real, []string{"stages load 1.2s, train 50s", "a", "b", "report out/registry/runs/20261201T000000000000-abcdef/report.html"}) {
		t.Error("matchLines: masked timings and run ids should match")
	}
	if matchLines(real, []string{"stages load 1.2s, train 50s", "report out/registry/runs/x/report.html"}) {
		t.Error("matchLines: a different path should not match")
	}
	// What changes from one real run to the next (make docs, twice).
	for _, pair := range [][2]string{
		{"registry   registered as version 1 (sha256:642ee5346cf0…); production is v1", "registry   registered as version 1 (sha256:1c1c4a6caba5…); production is v1"},
		{"memory     peak resident 415 MB (in gate)", "memory     peak resident 412 MB (in register)"},
		{"Date: Sun, 06 Dec 2026 08:27:23 GMT", "Date: Sun, 06 Dec 2026 08:56:16 GMT"},
		{"Date: Sun, 06 Dec 2026 08:27:23 GMT", "Date: Sun, 06 Dec 2026 11:20:22 GMT\r"}, // as curl -i prints it
		{`{"id":"33dbf9157a1d-d","p":1}`, `{"id":"6c74ec7d6267-d","p":1}`},
	} {
		if mask(pair[0]) != mask(pair[1]) {
			t.Errorf("masked, %q and %q differ: %q, %q", pair[0], pair[1], mask(pair[0]), mask(pair[1]))
		}
	}
	if mask("fingerprint sha256:d6a91e009a4e3b234c8812c3d7d7b944eea6f7e7afd020139bee4d7f8f5819c7") == mask("fingerprint sha256:e6a91e009a4e3b234c8812c3d7d7b944eea6f7e7afd020139bee4d7f8f5819c7") {
		t.Error("a data fingerprint must not be masked: it is the data's identity")
	}
}
