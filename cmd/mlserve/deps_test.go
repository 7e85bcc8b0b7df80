package main

import (
	"bufio"
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The serving binary links inference code only (docs/architecture.md,
// "Inference and fitting"). Each rule below names what mlserve must not
// link and why; TestDependencies checks `go list -deps` of this package
// against them.
var depRules = []struct {
	prefix string // an import path, and everything under it
	why    string
}{
	{"github.com/sjwhitworth/golearn", "golearn fits the baselines; their fitted trees serve from model/golearn"},
	{"github.com/mlpipe/mlpipe/train", "fitting code: every model serves from model/..."},
	{"gonum.org/v1/gonum/optimize", "logreg's L-BFGS solver: fitting code"},
	{"gonum.org/v1/plot", "plots are for reports (evaluate/plots)"},
	{"github.com/mlpipe/mlpipe/evaluate/plots", "plots are for reports"},
	{"github.com/apache/arrow/go/v17/parquet", "the Parquet reader and writer: mlserve reads and writes no Parquet"},
	{"github.com/apache/arrow/go/v17/arrow/flight", "Arrow Flight (and gRPC) came with ingest's readers"},
	{"google.golang.org/grpc", "gRPC came with ingest's readers"},
	{"github.com/mlpipe/mlpipe/ingest", "ingest reads training data; profiles are read with ingest/profile"},
	{"github.com/mlpipe/mlpipe/pipeline", "the training pipeline"},
	{"github.com/mlpipe/mlpipe/score", "batch scoring (mlpipe predict)"},
	{"github.com/mlpipe/mlpipe/report", "run reports"},
	{"github.com/mlpipe/mlpipe/ui", "the dashboard"},
	{"github.com/mlpipe/mlpipe/backtest", "mlpipe simulate"},
}

// depAllowed are packages under a rule that mlserve may still link, each
// with the reason. An entry is a debt, not a design: remove it when the
// edge is cut.
var depAllowed = map[string]string{
	// gonum/stat imports the linear-programming solver (for its
	// earth mover's distance); the monitor's drift statistics use stat.
	"gonum.org/v1/gonum/optimize/convex/lp": "imported by gonum/stat",
	// The profile format and its computation; not ingest's readers.
	"github.com/mlpipe/mlpipe/ingest/profile": "the profile.json format",
}

// forbiddenDep returns the rule that forbids pkg, if one does.
func forbiddenDep(pkg string) (why string, forbidden bool) {
	if _, ok := depAllowed[pkg]; ok {
		return "", false
	}
	for _, r := range depRules {
		if pkg == r.prefix || strings.HasPrefix(pkg, r.prefix+"/") {
			return r.why, true
		}
	}
	return "", false
}

func TestForbiddenDep(t *testing.T) {
	for _, tc := range []struct {
		pkg       string
		forbidden bool
	}{
		{"github.com/sjwhitworth/golearn/trees", true},
		{"github.com/mlpipe/mlpipe/train/logreg", true},
		{"github.com/mlpipe/mlpipe/train/catalog", true},
		{"github.com/mlpipe/mlpipe/training", false}, // a prefix of a path, not of a package
		{"gonum.org/v1/gonum/optimize", true},
		{"gonum.org/v1/gonum/optimize/convex/lp", false},
		{"gonum.org/v1/plot/vg", true},
		{"github.com/apache/arrow/go/v17/parquet/pqarrow", true},
		{"github.com/apache/arrow/go/v17/arrow/array", false},
		{"github.com/mlpipe/mlpipe/ingest", true},
		{"github.com/mlpipe/mlpipe/ingest/profile", false},
		{"github.com/mlpipe/mlpipe/model/gbdt", false},
		{"github.com/mlpipe/mlpipe/evaluate", false},
		{"github.com/mlpipe/mlpipe/evaluate/plots", true},
	} {
		if _, got := forbiddenDep(tc.pkg); got != tc.forbidden {
			t.Errorf("forbiddenDep(%q) = %v, want %v", tc.pkg, got, tc.forbidden)
		}
	}
}

// TestDependencies: nothing mlserve links is forbidden by depRules. A
// failure names the package, the rule, and a package of the binary that
// imports it.
func TestDependencies(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "list", "-deps", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}", ".")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, stderr.Bytes())
	}
	importer := map[string]string{}
	var pkgs []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		pkgs = append(pkgs, f[0])
		for _, imp := range f[1:] {
			if _, ok := importer[imp]; !ok {
				importer[imp] = f[0]
			}
		}
	}
	if len(pkgs) < 50 || !strings.HasSuffix(pkgs[len(pkgs)-1], "/cmd/mlserve") {
		t.Fatalf("go list -deps listed %d packages, the last %q: not mlserve's dependencies", len(pkgs), pkgs[len(pkgs)-1])
	}
	for _, p := range pkgs {
		if why, bad := forbiddenDep(p); bad {
			t.Errorf("mlserve links %s (imported by %s): %s", p, importer[p], why)
		}
	}
	t.Logf("%d packages", len(pkgs))
}

// fitSymbols are the fitting code of packages mlserve must import for
// their inference half: package features holds the fitted pipeline's
// transform, which serving needs, beside Fit, which it must not. The
// linker keeps only reachable functions, so the binary itself shows
// whether any fitting code came along.
var fitSymbols = []string{
	"mlpipe/features.Fit",             // also FitEncoder
	"mlpipe/features.(*TrainEncoder)", // the training rows' transform, with out-of-fold encodings
	"mlpipe/features.(*teStats)",      // target-encoding statistics
	"mlpipe/features.(*oofStats)",     // out-of-fold statistics
	"mlpipe/features.assignFolds",
	"mlpipe/features.fitNumeric",
}

// TestNoFitCode: the mlserve binary holds none of fitSymbols (go tool nm).
func TestNoFitCode(t *testing.T) {
	_, mlserve := binaries(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "tool", "nm", mlserve).Output()
	if err != nil {
		t.Fatalf("go tool nm: %v", err)
	}
	if !bytes.Contains(out, []byte("mlpipe/features.(*Pipeline).TransformRow")) {
		t.Fatal("go tool nm lists no features.(*Pipeline).TransformRow: not mlserve's symbols")
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 {
			continue
		}
		for _, s := range fitSymbols {
			if strings.Contains(f[2], s) {
				t.Errorf("mlserve links %s, fitting code", f[2])
			}
		}
	}
}
