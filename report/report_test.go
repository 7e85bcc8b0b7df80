package report_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/mlpipe/mlpipe/bundle"
	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/pipeline"
	"github.com/mlpipe/mlpipe/registry"
	"github.com/mlpipe/mlpipe/report"
	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/ui/uitest"
)

var update = flag.Bool("update", false, "rewrite the golden digests in testdata/")

const (
	flightsConfig  = "../testdata/flights-10k.yaml"
	penguinsConfig = "../configs/penguins.yaml"
	// maxBytes is the limit on a report's size: 1 MB.
	maxBytes = 1_000_000
	// fixedID replaces the random run id, so the digests do not change.
	fixedID = "20260101T000000000000-abcdef"
)

// fixture runs the pipeline on a config once per test binary and returns
// the registry and the run's summary and bundle.
type fixture struct {
	config string
	edit   func(*config.Config)
	once   sync.Once
	store  *registry.Store
	sum    *pipeline.Summary
	b      *bundle.Bundle
	err    error
}

// The fixtures: the flights fixture trained with gbdt alone (the model
// with feature importance) or logreg alone (without), and the penguins
// (multiclass; the gate compares log loss, as roc_auc does not apply).
var fixtures = map[string]*fixture{
	"flights":        {config: flightsConfig, edit: uitest.OnlyModel("gbdt")},
	"flights-logreg": {config: flightsConfig, edit: uitest.OnlyModel("logreg")},
	"penguins":       {config: penguinsConfig, edit: func(c *config.Config) { c.Gate.Metric = "log_loss" }},
	// The regression: metrics beside the baselines, deciles, its plots,
	// slices by species ranked by RMSE and MAE.
	"penguins-body-mass": {config: "../configs/penguins-body-mass.yaml", edit: func(*config.Config) {}},
	// A split by group (four rows a traveller): the groups of each split
	// and the folds' grouping said.
	"modechoice": {config: "../configs/modechoice.yaml", edit: func(*config.Config) {}},
}

func load(t *testing.T, name string) (*registry.Store, *pipeline.Summary, *bundle.Bundle) {
	t.Helper()
	f := fixtures[name]
	f.once.Do(func() {
		dir, err := os.MkdirTemp("", "report-test-")
		if err != nil {
			f.err = err
			return
		}
		id, err := uitest.Run(t.Context(), f.config, dir, f.edit)
		if err != nil {
			f.err = err
			return
		}
		if f.store, f.err = registry.Open(dir); f.err != nil {
			return
		}
		f.sum, f.b, f.err = report.Read(f.store, id)
	})
	if f.err != nil {
		t.Fatalf("fixture %s: %v", name, f.err)
	}
	// A copy, so that cases can edit it.
	sum := *f.sum
	sum.RunID = fixedID
	return f.store, &sum, f.b
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	for _, f := range fixtures {
		if f.store != nil {
			os.RemoveAll(f.store.Root())
		}
	}
	os.Exit(code)
}

// TestWrite writes the report of a real run in several states and
// compares a digest of its structure (title, section ids, headings,
// table headers and row counts, SVG counts) with testdata/NAME.digest:
// the numbers on the page are left out, so float noise and timestamps do
// not make the test brittle, but a lost section, column or plot fails
// it. Regenerate with -update.
func TestWrite(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		edit    func(s *pipeline.Summary, b *bundle.Bundle) (*pipeline.Summary, *bundle.Bundle)
	}{
		{"flights", "flights", nil},
		{"flights-logreg", "flights-logreg", nil},
		{"flights-no-bundle", "flights", func(s *pipeline.Summary, _ *bundle.Bundle) (*pipeline.Summary, *bundle.Bundle) {
			return s, nil
		}},
		{"flights-failed", "flights", func(s *pipeline.Summary, _ *bundle.Bundle) (*pipeline.Summary, *bundle.Bundle) {
			// A run that failed while training: the stages up to it, no
			// model, evaluation or gate.
			return &pipeline.Summary{
				RunID: s.RunID, Config: s.Config, Source: s.Source, Rows: s.Rows, Columns: s.Columns,
				Fingerprint: s.Fingerprint, Validation: s.Validation, Profile: s.Profile, Label: s.Label,
				Splits: s.Splits, Stages: append(s.Stages[:5:5], pipeline.StageResult{Name: "train", Duration: time.Second, Error: "train: out of memory"}),
				Status: "failed", Error: "train: out of memory",
			}, nil
		}},
		{"penguins", "penguins", nil},
		{"penguins-body-mass", "penguins-body-mass", nil},
		{"modechoice", "modechoice", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, sum, b := load(t, tt.fixture)
			if tt.edit != nil {
				sum, b = tt.edit(sum, b)
			}
			var buf bytes.Buffer
			if err := report.Write(&buf, sum, b); err != nil {
				t.Fatal(err)
			}
			checkSelfContained(t, buf.Bytes())
			got := digest(t, buf.Bytes())
			golden := filepath.Join("testdata", tt.name+".digest")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("digest differs from %s (go test -update rewrites it):\n%s", golden, lineDiff(string(want), got))
			}
		})
	}
}

// checkSelfContained checks what makes the report a standalone file: it
// is under the size limit, runs no script, and names no other host (no
// URL at all: the inline SVGs carry no namespace URLs).
func checkSelfContained(t *testing.T, page []byte) {
	t.Helper()
	if len(page) >= maxBytes {
		t.Errorf("report is %d bytes, want < %d", len(page), maxBytes)
	}
	s := strings.ToLower(string(page))
	for _, bad := range []string{"<script", "http://", "https://", "src=", "url(", "@import", "<link", "<iframe", "<img", "<object", "<embed"} {
		if strings.Contains(s, bad) {
			i := strings.Index(s, bad)
			t.Errorf("report contains %q: …%s…", bad, s[max(0, i-60):min(len(s), i+60)])
		}
	}
	if strings.Contains(s, ` href="//`) {
		t.Error("report has a protocol-relative link")
	}
	for _, m := range regexp.MustCompile(`href="([^"#][^"]*)"`).FindAllStringSubmatch(s, -1) {
		if strings.HasPrefix(m[1], "data:image/") {
			continue // an image inside the page (a regression's heat map): no request
		}
		t.Errorf("standalone report links to %q (only #anchors and inline data:image/ are expected)", m[1])
	}
}

// digest summarises a page's structure, one line per element of
// interest, indented by section.
func digest(t *testing.T, page []byte) string {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatalf("parse report: %v", err)
	}
	var b strings.Builder
	var walk func(n *html.Node, depth int)
	walk = func(n *html.Node, depth int) {
		if n.Type == html.ElementNode {
			indent := strings.Repeat("  ", depth)
			switch n.Data {
			case "title", "h1", "h2", "h3":
				fmt.Fprintf(&b, "%s%s: %s\n", indent, n.Data, text(n))
				return
			case "section", "nav":
				fmt.Fprintf(&b, "%s%s%s\n", indent, n.Data, idOf(n))
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					walk(c, depth+1)
				}
				return
			case "table":
				var heads []string
				rows := 0
				each(n, func(c *html.Node) {
					if c.Type != html.ElementNode {
						return
					}
					if c.Data == "th" && parent(c, "thead") {
						heads = append(heads, text(c))
					}
					if c.Data == "tr" && parent(c, "tbody") {
						rows++
					}
				})
				fmt.Fprintf(&b, "%stable%s: %s (%d rows)\n", indent, idOf(n), strings.Join(heads, " | "), rows)
				return
			case "svg":
				fmt.Fprintf(&b, "%ssvg\n", indent)
				return
			case "figure":
				fmt.Fprintf(&b, "%sfigure\n", indent)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, depth)
		}
	}
	walk(doc, 0)
	return b.String()
}

func idOf(n *html.Node) string {
	for _, a := range n.Attr {
		if a.Key == "id" {
			return " #" + a.Val
		}
	}
	return ""
}

func each(n *html.Node, f func(*html.Node)) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		f(c)
		each(c, f)
	}
}

func parent(n *html.Node, tag string) bool {
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Type == html.ElementNode && p.Data == tag {
			return true
		}
	}
	return false
}

func text(n *html.Node) string {
	var b strings.Builder
	each(n, func(c *html.Node) {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	})
	return strings.Join(strings.Fields(b.String()), " ")
}

// lineDiff lists the lines of want missing from got (-) and the lines of
// got missing from want (+).
func lineDiff(want, got string) string {
	count := func(s string) map[string]int {
		m := map[string]int{}
		for _, l := range strings.Split(s, "\n") {
			m[l]++
		}
		return m
	}
	w, g := count(want), count(got)
	var b strings.Builder
	for _, l := range strings.Split(want, "\n") {
		if g[l] < w[l] {
			fmt.Fprintf(&b, "- %s\n", l)
			w[l]--
		}
	}
	w = count(want)
	for _, l := range strings.Split(got, "\n") {
		if w[l] < g[l] {
			fmt.Fprintf(&b, "+ %s\n", l)
			g[l]--
		}
	}
	return b.String()
}

// TestWriteSections checks that every report has every section, in
// order, whatever the run got to.
func TestWriteSections(t *testing.T) {
	_, sum, b := load(t, "flights")
	for _, tt := range []struct {
		name string
		sum  *pipeline.Summary
		b    *bundle.Bundle
	}{
		{"OK", sum, b},
		{"OK/empty-summary", &pipeline.Summary{Status: "failed", Error: "load: no such file"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := report.Write(&buf, tt.sum, tt.b); err != nil {
				t.Fatal(err)
			}
			page := buf.String()
			last := -1
			for _, id := range report.Sections {
				i := strings.Index(page, `<section id="`+id+`">`)
				if i < 0 || i < last {
					t.Errorf("section %q at %d, after %d: missing or out of order", id, i, last)
				}
				last = i
			}
		})
	}
	if err := report.Write(&bytes.Buffer{}, nil, nil); err == nil {
		t.Error("Write with no summary succeeded")
	}
}

// TestImportances maps the fixture's gbdt importances to the raw
// inputs of the feature pipeline (testdata/flights-10k.yaml: a time
// step on date, numeric distance, origin and destination with target
// encodings, and their cross).
func TestImportances(t *testing.T) {
	_, _, b := load(t, "flights")
	if b == nil || b.Model.Kind() != "gbdt" {
		t.Fatalf("fixture bundle: want a gbdt model, got %v", b)
	}
	imps := report.Importances(b)
	if len(imps) != len(b.Features.Columns) {
		t.Fatalf("%d importances for %d feature columns", len(imps), len(b.Features.Columns))
	}
	want := map[string]string{
		"hour": "date", "day_of_week": "date", "distance": "distance",
		"origin_te": "origin", "destination_te": "destination",
		"origin_x_destination_te": "origin × destination",
	}
	var sum float64
	for i, im := range imps {
		if w, ok := want[im.Feature]; ok && im.Input != w {
			t.Errorf("%s: input %q, want %q", im.Feature, im.Input, w)
		}
		if i > 0 && im.Gain > imps[i-1].Gain {
			t.Errorf("importances not sorted: %v after %v", im, imps[i-1])
		}
		sum += im.Share
	}
	// Shares are gains over their sum: they add up to 1 but for rounding.
	if d := sum - 1; d > 1e-12 || d < -1e-12 {
		t.Errorf("shares add up to %v, want 1", sum)
	}
	// The same model seen only through train.Model, as logreg and the
	// golearn models are: no Importance method.
	hidden := *b
	hidden.Model = struct{ train.Model }{b.Model}
	if imps := report.Importances(&hidden); imps != nil {
		t.Errorf("a model without Importance: got %v, want nil", imps)
	}
	if report.Importances(nil) != nil {
		t.Error("nil bundle: want nil")
	}
}

func TestRead(t *testing.T) {
	store, _, _ := load(t, "flights")
	for _, id := range []string{"nope", "../models", "", "..", "a/b"} {
		if _, _, err := report.Read(store, id); err == nil {
			t.Errorf("Read(%q) succeeded", id)
		}
	}
}

// TestClassWeightsShown checks that a model fitted with class weights
// has them in its report, and cross-validated scores their column.
func TestClassWeightsShown(t *testing.T) {
	_, sum, b := load(t, "flights")
	s := *sum
	m := *s.Model
	m.ClassWeights = map[string]float64{"0": 0.6287, "1": 2.4506}
	s.Model = &m
	s.Selection = &pipeline.SelectionSummary{Candidates: 1, Folds: 5}
	s.Leaderboard = []map[string]any{{"model": "gbdt", "params": map[string]any{"class_weight": "balanced"}, "metric": "roc_auc",
		"valid": 0.71, "cv_mean": 0.7012, "cv_sd": 0.0034, "best": true, "fit_seconds": 1.0}}
	var page bytes.Buffer
	if err := report.Write(&page, &s, b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`fitted with class weights: <span class="mono">0</span> 0.6287`, `<span class="mono">1</span> 2.451`,
		"5-fold cross-validation", "roc_auc 0.7012 ± 0.0034",
	} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("the report lacks %q", want)
		}
	}
}

// TestGroupedSplit: a run split by group says so, with each split's
// groups, and that cross-validation kept each group in one fold.
func TestGroupedSplit(t *testing.T) {
	_, sum, b := load(t, "modechoice")
	var buf bytes.Buffer
	if err := report.Write(&buf, sum, b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Split at random by the values of individual, each value's rows in one split: 119 values in train, 45 values in validation, 46 values in test.",
		"held-out folds of the training split, each individual's rows in one fold",
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("the report does not say %q", want)
		}
	}
}
