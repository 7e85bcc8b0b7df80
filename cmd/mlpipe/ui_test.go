package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/mlpipe/mlpipe/internal/fsx"
	"github.com/mlpipe/mlpipe/monitor"
	"github.com/mlpipe/mlpipe/pipeline"
	"github.com/mlpipe/mlpipe/registry"
	"github.com/mlpipe/mlpipe/report"
	"github.com/mlpipe/mlpipe/ui"
)

var (
	updateScreenshots  = flag.Bool("update-screenshots", false, "TestUIBrowser: write docs/ui-runs.png and docs/report.png")
	screenshotRegistry = flag.String("screenshot-registry", "", "with -update-screenshots: take the README's screenshots of this registry (the one `make run` wrote, as make screenshots does) instead of the fixture's")
	screenshotDir      = flag.String("screenshots", "", "TestUIBrowser: keep the screenshots in this directory (default: a temporary one)")
)

// chromiumPath is where Debian's chromium package puts the browser.
const chromiumPath = "/usr/bin/chromium"

func findChromium(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err == nil {
		return chromiumPath
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if testing.Short() {
		t.Skip("Chromium is not installed (apt-get install -y chromium); the browser test is skipped under -short")
	}
	t.Fatalf("the browser test needs Chromium at %s: install it with `apt-get install -y chromium` (.ci/run does); `go test -short` skips this test", chromiumPath)
	return ""
}

// startUI runs `mlpipe ui` on a free loopback port until the test ends,
// and returns its base URL.
func startUI(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- runUI(ctx, &env{stdout: pw, stderr: stderr}, append([]string{"--addr", "127.0.0.1:0"}, args...))
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("mlpipe ui printed no address: %v (%v)\n%s", err, <-done, stderr)
	}
	go io.Copy(io.Discard, pr)
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("mlpipe ui: %v", err)
		}
		if strings.Contains(stderr.String(), "level=ERROR") {
			t.Errorf("mlpipe ui logged errors:\n%s", stderr)
		}
	})
	base := regexp.MustCompile(`http://[^/ ]+`).FindString(line)
	if base == "" {
		t.Fatalf("no URL in %q", line)
	}
	return base
}

// TestUIBrowser drives the dashboard in headless Chromium against a
// registry of two real runs of the fixture (gbdt, then logreg) and one
// of the penguins body-mass regression: the runs list, a run's report
// and the regression's, the comparison of the two, the model page and a
// promotion, the monitoring page. Every page must show its elements and
// leave no error in the console (a blocked script or resource, a failed
// request, an exception). Screenshots go to -screenshots DIR or a
// temporary directory; -update-screenshots also writes the ones the
// README shows, docs/ui-runs.png and docs/report.png.
func TestUIBrowser(t *testing.T) {
	bin := findChromium(t)
	reg := t.TempDir()
	// On the fixture logreg scores better than gbdt, so the gate passes
	// the second run (the other order would reject it).
	for _, model := range []string{"gbdt", "logreg"} {
		if _, stderr, code := runCLI(t, "run", "--config", fixtureConfig, "--out", "", "--registry", reg, "--models", model, "--log-level", "error"); code != exitOK {
			t.Fatalf("run --models %s: exit %d\n%s", model, code, stderr)
		}
	}
	if _, stderr, code := runCLI(t, "run", "--config", "../../configs/penguins-body-mass.yaml",
		"--out", "", "--registry", reg, "--log-level", "error"); code != exitOK {
		t.Fatalf("run the regression: exit %d\n%s", code, stderr)
	}
	store, err := registry.Open(reg)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := store.Runs()
	if err != nil || len(ids) != 3 {
		t.Fatalf("runs %v, %v; want 3", ids, err)
	}
	prod, err := store.Alias("flights-delay", pipeline.AliasProduction)
	if err != nil {
		t.Fatal(err)
	}
	other := 3 - prod // the version that is not in production (of 1 and 2)
	writeMonitorReport(t, reg)
	base := startUI(t, "--registry", reg, "--allow-actions", "--log-level", "warn")

	shots := *screenshotDir
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}

	actx, acancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 860),
	)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	ctx, cancel := context.WithTimeout(bctx, 2*time.Minute)
	defer cancel()

	var mu sync.Mutex
	var problems []string
	if err := chromedp.Listen(ctx, func(ev any) {
		var p string
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				p = fmt.Sprintf("console.%s: %d args", ev.Type, len(ev.Args))
				for _, a := range ev.Args {
					p += fmt.Sprintf(" %s", a.Description)
				}
			}
		case *runtime.EventExceptionThrown:
			p = "exception: " + ev.ExceptionDetails.Text
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError {
				p = fmt.Sprintf("log %s: %s (%s)", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
			}
		}
		if p != "" {
			mu.Lock()
			problems = append(problems, p)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatalf("start Chromium (%s): %v", bin, err)
	}

	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	count := func(sel string) int {
		t.Helper()
		nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll(sel), chromedp.AtLeast(0)))
		if err != nil {
			t.Fatalf("count %s: %v", sel, err)
		}
		return len(nodes)
	}
	shot := func(name string, full bool) []byte {
		t.Helper()
		capture := chromedp.CaptureScreenshot()
		if full {
			capture = chromedp.FullScreenshot(100)
		}
		png, err := chromedp.Run(ctx, capture)
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
		return png
	}
	location := func() string {
		t.Helper()
		u, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		return u
	}

	// 1. The runs list: the three runs, newest first.
	step("runs", chromedp.Navigate(base+"/runs"), chromedp.WaitVisible(chromedp.ID("runs")))
	if n := count("#runs tbody tr[id^=run-]"); n != 3 {
		t.Errorf("runs list: %d rows, want 3", n)
	}
	runsPNG := shot("ui-runs", false)

	// 2. The gbdt run's report: every section, with its plots.
	step("open run", chromedp.Click(chromedp.CSS(`#runs a[href="/runs/`+ids[0]+`"]`)), chromedp.WaitVisible(chromedp.ID("lineage")))
	if n := count("main > section"); n != len(report.Sections) {
		t.Errorf("report: %d sections, want %d", n, len(report.Sections))
	}
	// ROC, PR, calibration, a histogram per numeric column (date,
	// delay, distance: testdata/flights-10k.yaml) and the contributions
	// of each of the 5 inputs.
	if n := count("svg"); n != 11 {
		t.Errorf("report: %d SVG plots, want 11", n)
	}
	if n := count("#explain-importance tbody tr"); n != 5 {
		t.Errorf("report: %d inputs in the mean |contribution| chart, want 5", n)
	}
	if n := count("#importance-features tbody tr"); n == 0 {
		t.Error("report of the gbdt run has no feature importance")
	}
	shot("report-full", true)
	// The README's picture: the top of the report, 1,500 pixels high.
	step("viewport", chromedp.EmulateViewport(1280, 1500))
	reportPNG := shot("report", false)
	step("viewport", chromedp.EmulateViewport(1280, 860))

	// 2b. The regression's report: every section, its metrics beside the
	// baselines, its deciles, and its plots.
	step("regression report", chromedp.Navigate(base+"/runs/"+ids[2]), chromedp.WaitVisible(chromedp.ID("lineage")))
	if n := count("main > section"); n != len(report.Sections) {
		t.Errorf("regression report: %d sections, want %d", n, len(report.Sections))
	}
	// Residuals, predicted against actual, deciles, and a histogram per
	// numeric column (beak length and depth, flipper length, body mass).
	if n := count("svg"); n != 7 {
		t.Errorf("regression report: %d SVG plots, want 7", n)
	}
	if n := count("#baselines tbody tr"); n != 3 {
		t.Errorf("regression report: %d rows against the baselines, want 3 (model, mean, median)", n)
	}
	if n := count("#deciles tbody tr"); n != 10 {
		t.Errorf("regression report: %d deciles, want 10", n)
	}
	shot("report-regression", true)

	// 3. Back to the list; tick both flights runs and compare them.
	step("back", chromedp.Click(chromedp.CSS(`nav.top a[href="/runs"]`)), chromedp.WaitVisible(chromedp.ID("runs")))
	step("compare",
		chromedp.Click(chromedp.CSS(`input[value="`+ids[0]+`"]`)),
		chromedp.Click(chromedp.CSS(`input[value="`+ids[1]+`"]`)),
		chromedp.Click(chromedp.CSS(`#compare button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("compare-table")))
	if u := location(); !strings.Contains(u, "run="+ids[0]) || !strings.Contains(u, "run="+ids[1]) {
		t.Errorf("compare URL %s does not name both runs", u)
	}
	// logreg and gbdt: the model row, at least, differs.
	if n := count("#compare-table tr.diff"); n == 0 {
		t.Error("compare: no highlighted difference")
	}
	shot("ui-compare", true)

	// 4. The model page, and a promotion through its button.
	step("models", chromedp.Click(chromedp.CSS(`nav.top a[href="/models"]`)), chromedp.WaitVisible(chromedp.ID("models")))
	step("model", chromedp.Click(chromedp.CSS(`#models a[href="/models/flights-delay"]`)), chromedp.WaitVisible(chromedp.ID("versions")))
	if n := count("#versions tbody tr"); n != 2 {
		t.Errorf("model page: %d versions, want 2", n)
	}
	shot("ui-model", true)
	step("promote", chromedp.Click(chromedp.ID(fmt.Sprintf("promote-v%d", other))), chromedp.WaitVisible(chromedp.ID("moved")))
	if v, err := store.Alias("flights-delay", pipeline.AliasProduction); err != nil || v != other {
		t.Errorf("after the promote button: production = %d, %v; want %d", v, err, other)
	}
	if v, _ := store.Alias("flights-delay", pipeline.AliasPrevious); v != prod {
		t.Errorf("after the promote button: previous = %d, want %d", v, prod)
	}

	// 5. Monitoring: one monitor report (its drift and performance
	// charts), no backtest.
	step("monitoring", chromedp.Click(chromedp.CSS(`nav.top a[href="/monitoring"]`)), chromedp.WaitVisible(chromedp.ID("backtest")))
	if n := count("#model-flights-delay"); n != 1 {
		t.Errorf("monitoring: %d sections of flights-delay, want 1", n)
	}
	if n := count("#model-flights-delay svg"); n != 2 {
		t.Errorf("monitoring: %d charts, want 2 (drift and performance)", n)
	}
	if n := count("#model-penguins-body-mass"); n != 1 {
		t.Errorf("monitoring: %d sections of penguins-body-mass, want 1", n)
	}
	shot("ui-monitoring", true)

	// An unknown run: a 404 page, not a crash (Chromium logs the 404
	// status as a console error, so this request comes last, after the
	// console check).
	mu.Lock()
	for _, p := range problems {
		t.Errorf("browser console: %s", p)
	}
	mu.Unlock()
	resp, err := http.Get(base + "/runs/nope")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /runs/nope: %d, want 404", resp.StatusCode)
	}
	t.Logf("screenshots in %s", shots)

	if *updateScreenshots && *screenshotRegistry != "" {
		// The README shows what `make run` makes: the runs list of that
		// registry, and the top of its newest run's report.
		real := startUI(t, "--registry", *screenshotRegistry, "--log-level", "warn")
		step("real runs", chromedp.Navigate(real+"/runs"), chromedp.WaitVisible(chromedp.ID("runs")))
		runsPNG = shot("real-ui-runs", false)
		href, err := chromedp.Run(ctx, chromedp.AttributeValue(`#runs tbody tr[id^=run-] a[href^="/runs/"]`, "href"))
		if err != nil || !href.Exists {
			t.Fatalf("the newest run's link in %s: %v", *screenshotRegistry, err)
		}
		step("real report", chromedp.Navigate(real+href.Value), chromedp.WaitVisible(chromedp.ID("lineage")), chromedp.EmulateViewport(1280, 1500))
		reportPNG = shot("real-report", false)
	}
	if *updateScreenshots {
		for name, png := range map[string][]byte{"ui-runs.png": runsPNG, "report.png": reportPNG} {
			if err := os.WriteFile(filepath.Join("..", "..", "docs", name), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// writeMonitorReport keeps a monitor report of one window in the
// registry, as `mlpipe monitor` does, for the monitoring page's charts.
func writeMonitorReport(t *testing.T, reg string) {
	t.Helper()
	ptr := func(x float64) *float64 { return &x }
	r := monitor.Report{Model: "flights-delay", Version: 1, Predictions: 1674, Status: monitor.StatusOK,
		From: time.Date(2001, 6, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2001, 6, 8, 0, 0, 0, 0, time.UTC),
		Drifted: 0, Evaluated: 3, Reasons: []string{"0 of 3 features drift (0% < drift_share 50%)"},
		Features: []monitor.Feature{
			{Name: "date:hour", Status: monitor.StatusOK, PSI: ptr(0.012)},
			{Name: "date:day_of_week", Status: monitor.StatusOK, PSI: ptr(0.004)},
			{Name: "distance", Status: monitor.StatusOK, PSI: ptr(0.021)},
		},
		Score:       &monitor.Feature{Name: "probability", Status: monitor.StatusOK, PSI: ptr(0.007)},
		Performance: &monitor.Performance{Status: monitor.StatusOK, Labelled: 1674, ROCAUC: ptr(0.65), Test: &monitor.TestMetrics{ROCAUC: ptr(0.66)}},
		Thresholds:  monitor.Thresholds{PSI: 0.2},
	}
	dir := filepath.Join(reg, ui.MonitoringDir, "flights-delay")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := fsx.WriteJSON(filepath.Join(dir, "20010608T000000.000000Z.json"), r); err != nil {
		t.Fatal(err)
	}
}

// TestUIFlags checks `mlpipe ui`'s refusals: a non-loopback address
// without --allow-remote, a missing registry, an argument.
func TestUIFlags(t *testing.T) {
	reg := t.TempDir()
	if _, err := registry.Open(reg); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"ErrRemote", []string{"--registry", reg, "--addr", "0.0.0.0:0"}, exitUsage},
		{"ErrAllInterfaces", []string{"--registry", reg, "--addr", ":0"}, exitUsage},
		{"ErrBadAddr", []string{"--registry", reg, "--addr", "nope"}, exitUsage},
		{"ErrNoRegistry", []string{"--addr", "127.0.0.1:0"}, exitUsage},
		{"ErrMissingRegistry", []string{"--registry", filepath.Join(reg, "none"), "--addr", "127.0.0.1:0"}, exitError},
		{"ErrArgument", []string{"--registry", reg, "extra"}, exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			var out, errb bytes.Buffer
			err := runUI(ctx, &env{stdout: &out, stderr: &errb}, tt.args)
			if code := exitCode(err); code != tt.code {
				t.Errorf("exit %d (%v), want %d", code, err, tt.code)
			}
		})
	}
	// With --allow-remote an address on every interface is accepted; the
	// server runs until the context ends.
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- runUI(ctx, &env{stdout: pw, stderr: io.Discard}, []string{"--registry", reg, "--addr", "0.0.0.0:0", "--allow-remote"})
		pw.Close()
	}()
	line, _ := bufio.NewReader(pr).ReadString('\n')
	go io.Copy(io.Discard, pr)
	cancel()
	if err := <-done; err != nil || !strings.Contains(line, "read-only") {
		t.Errorf("--allow-remote: %v, printed %q", err, line)
	}
}

// TestReport writes a run's report with `mlpipe report` into the run's
// directory and elsewhere, and refuses unknown runs.
func TestReport(t *testing.T) {
	reg := t.TempDir()
	if _, stderr, code := runCLI(t, "run", "--config", fixtureConfig, "--out", "", "--registry", reg, "--log-level", "error"); code != exitOK {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	store, err := registry.Open(reg)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := store.Runs()
	if err != nil || len(ids) != 1 {
		t.Fatalf("runs %v, %v", ids, err)
	}
	other := filepath.Join(t.TempDir(), "r.html")
	tests := []struct {
		name string
		args []string
		code int
		path string // the file written and printed
	}{
		{"OK", []string{ids[0], "--registry", reg}, exitOK, filepath.Join(reg, "runs", ids[0], report.File)},
		{"OK/out-flag-first", []string{"--registry", reg, "--out", other, ids[0]}, exitOK, other},
		{"OK/open", []string{ids[0], "--registry", reg, "--out", other, "--open"}, exitOK, other},
		{"ErrUnknownRun", []string{"20990101T000000000000-ffffff", "--registry", reg}, exitError, ""},
		{"ErrTraversal", []string{"../models", "--registry", reg}, exitError, ""},
		{"ErrNoRun", []string{"--registry", reg}, exitUsage, ""},
		{"ErrTwoRuns", []string{ids[0], ids[0], "--registry", reg}, exitUsage, ""},
		{"ErrNoRegistry", []string{ids[0]}, exitUsage, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "OK/open" {
				// xdg-open, if installed, would start a viewer: hide it.
				t.Setenv("PATH", t.TempDir())
			}
			var out, errb bytes.Buffer
			err := runReport(context.Background(), &env{stdout: &out, stderr: &errb}, tt.args)
			if code := exitCode(err); code != tt.code {
				t.Fatalf("exit %d (%v), want %d", code, err, tt.code)
			}
			if tt.name == "OK/open" && !strings.Contains(errb.String(), "--open: xdg-open is not installed (open "+tt.path+" in a browser)") {
				t.Errorf("--open without xdg-open says nothing: %q", errb.String())
			}
			if tt.path == "" {
				return
			}
			if got := strings.TrimSpace(out.String()); got != tt.path {
				t.Errorf("printed %q, want %q", got, tt.path)
			}
			page, err := os.ReadFile(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			// 1 MB: the limit on a report.
			if len(page) == 0 || len(page) >= 1_000_000 || !bytes.Contains(page, []byte(`<section id="lineage">`)) {
				t.Errorf("report %s: %d bytes, lineage section %v", tt.path, len(page), bytes.Contains(page, []byte("lineage")))
			}
		})
	}
}
