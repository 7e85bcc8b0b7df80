package evaluate_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlpipe/mlpipe/evaluate"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestReportGolden marshals the reports of small fixed inputs and
// compares them with testdata/*.golden.json. After a deliberate change,
// regenerate them with
//
//	go test ./evaluate -run TestReportGolden -update
//
// and review the diff. Numbers are compared within tol, so that a
// platform that rounds the last bit differently still passes; keys,
// strings and structure must match exactly.
func TestReportGolden(t *testing.T) {
	keys := make([]string, len(random40Labels))
	for i := range keys {
		keys[i] = string("abc"[i%3])
	}
	ties := binaryCases[0]
	three := multiclassCases[0]
	tests := []struct {
		name     string
		evaluate func() (*evaluate.Report, error)
	}{
		{"binary", func() (*evaluate.Report, error) {
			return evaluate.EvaluateBinary(random40Labels, random40Probs, evaluate.Options{
				ValidLabels: ties.labels,
				ValidProbs:  ties.probs,
				CurvePoints: 12,
				SliceKeys:   keys,
				Slices:      evaluate.SliceOptions{Largest: 2, Worst: 2, MinRows: 10},
			})
		}},
		{"multiclass", func() (*evaluate.Report, error) {
			return evaluate.EvaluateMulticlass(three.labels, three.probs, three.k, evaluate.Options{
				ClassNames: []string{"early", "on_time", "late"},
			})
		}},
		{"regression", func() (*evaluate.Report, error) {
			line := regressionCases[1]
			return evaluate.EvaluateRegression(line.y, line.p, evaluate.Options{
				TrainTargets: line.y[:15],
				SliceKeys:    keys[:30],
				Slices:       evaluate.SliceOptions{Largest: 2, Worst: 2, MinRows: 10},
			})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := tc.evaluate()
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(r, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", "report_"+tc.name+".golden.json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				if diff := jsonDiff(t, got, want); diff != "" {
					t.Errorf("report differs from %s (run with -update if intended): %s", path, diff)
				}
			}

			// The JSON reads back into a Report that marshals the same.
			var back evaluate.Report
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatal(err)
			}
			again, _ := json.MarshalIndent(&back, "", "  ")
			if !bytes.Equal(append(again, '\n'), got) {
				t.Errorf("report does not survive a JSON round trip:\n%s", again)
			}
		})
	}
}

// jsonDiff returns where two JSON documents differ, numbers being equal
// within tol, or "" if they do not.
func jsonDiff(t *testing.T, got, want []byte) string {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	return diffValue("$", g, w)
}

func diffValue(path string, got, want any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("%s: got %v, want %v", path, got, want)
		}
		for k := range w {
			if d := diffValue(path+"."+k, g[k], w[k]); d != "" {
				return d
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("%s: got %v, want %v", path, got, want)
		}
		for i := range w {
			if d := diffValue(fmt.Sprintf("%s[%d]", path, i), g[i], w[i]); d != "" {
				return d
			}
		}
	case float64:
		g, ok := got.(float64)
		if !ok || math.Abs(g-w) > tol*max(1, math.Abs(w)) {
			return fmt.Sprintf("%s: got %v, want %v", path, got, want)
		}
	default:
		if got != want {
			return fmt.Sprintf("%s: got %v, want %v", path, got, want)
		}
	}
	return ""
}
