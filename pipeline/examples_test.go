package pipeline_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/pipeline"
)

// TestExampleConfigs runs every stage of `mlpipe run` (no registry) on
// each example config over its shipped file, read as the package that
// ships it wrote it, and checks the numbers the config's comments and
// data/README.md state.
func TestExampleConfigs(t *testing.T) {
	tests := []struct {
		config  string
		rows    int64 // rows loaded
		dropped int64 // rows without a label, dropped
		classes int   // 0 for a regression
	}{
		{"breast-cancer", 569, 0, 2},
		{"wine", 178, 0, 3},
		{"iris", 150, 0, 3},
		{"digits", 1_797, 0, 10},
		{"seattle-weather", 1_461, 0, 2},
		{"cars", 406, 0, 3},
		{"movies", 3_201, 213, 2},
		{"modechoice", 840, 0, 2},
		{"penguins", 344, 0, 3},
		{"cars-mpg", 406, 8, 0},
		{"movies-rating", 3_201, 213, 0},
		{"diabetes", 442, 0, 0},
		{"penguins-body-mass", 344, 2, 0},
	}
	// Every small example is in the table; the flights configs read the
	// 3M-row file and are run by other tests.
	listed := map[string]bool{}
	for _, tc := range tests {
		listed[tc.config] = true
	}
	all, err := filepath.Glob("../configs/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range all {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		if !listed[name] && !strings.HasPrefix(name, "flights") {
			t.Errorf("configs/%s.yaml is not in TestExampleConfigs", name)
		}
	}
	for _, tc := range tests {
		t.Run(tc.config, func(t *testing.T) {
			if testing.Short() && tc.config == "digits" {
				// 5-fold cross-validation of 10 classes × 64 pixels takes
				// 100 s under the race detector (make test's -race -short
				// run); the full run covers it in seconds.
				t.Skip("digits is the one slow example under -short")
			}
			cfg, err := config.Load("../configs/" + tc.config + ".yaml")
			if err != nil {
				t.Fatal(err)
			}
			s := &pipeline.State{Config: cfg}
			defer s.Release()
			results, err := (&pipeline.Runner{Stages: pipeline.AllStages(nil)}).Run(context.Background(), s)
			if err != nil {
				t.Fatal(err)
			}
			sum := pipeline.Summarize(s, results)
			if sum.Validation.Rows != tc.rows || sum.Validation.Dropped != tc.dropped || sum.Rows != tc.rows-tc.dropped {
				t.Errorf("%d rows, %d dropped, %d kept; want %d, %d, %d", sum.Validation.Rows, sum.Validation.Dropped, sum.Rows, tc.rows, tc.dropped, tc.rows-tc.dropped)
			}
			if sum.Model == nil || sum.Model.Classes != tc.classes {
				t.Fatalf("model %+v, want %d classes", sum.Model, tc.classes)
			}
			for _, is := range sum.Validation.Issues {
				if is.Code == "constant" {
					t.Errorf("the example asks for a constant time part: %s", is)
				}
			}
		})
	}
}
