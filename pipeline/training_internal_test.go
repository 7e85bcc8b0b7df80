package pipeline

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlpipe/mlpipe/bundle"
	"github.com/mlpipe/mlpipe/calibrate"
	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/monitor"
	"github.com/mlpipe/mlpipe/train"
)

// TestTrainingSummary: a registering run releases the raw training and
// validation splits in the features stage, before training (the train
// stage finds them nil),
// having taken what the register stage needs of it; and the bundle's
// files made from that summary (profile, reference sample and scores,
// thresholds' null, calibration map) are byte for byte those made from
// the split itself at register time, as a run whose features stage is
// restored from the step cache still does.
func TestTrainingSummary(t *testing.T) {
	cfg := logregFixture(t)
	cache := &Cache{Dir: t.TempDir()}
	// run registers a model in a new registry and returns its monitor
	// files, and whether the train stage saw a raw training or validation
	// split, and whether the features stage ran (not restored from the
	// cache).
	run := func() (files map[string][]byte, held, featuresRan bool) {
		c := *cfg
		c.Registry.Path = t.TempDir()
		s := &State{Config: &c, RunID: "test"}
		defer s.Release()
		stages := PromoteStages(&ingest.Options{}, true)
		for i, st := range stages {
			if st.Name() == "train" {
				stages = append(stages[:i:i], append([]Stage{probeStage(func(s *State) { held = s.Splits.Train != nil || s.Splits.Valid != nil })}, stages[i:]...)...)
				break
			}
		}
		results, err := (&Runner{Stages: stages, Cache: cache}).Run(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range results {
			if r.Name == "features" {
				featuresRan = r.Cache != CacheHit
			}
		}
		names := map[string]bool{bundle.ProfileFile: true, monitor.ReferenceFile: true, monitor.ReferenceScoresFile: true,
			monitor.ThresholdsFile: true, calibrate.File: true}
		files = map[string][]byte{}
		err = filepath.WalkDir(c.Registry.Path, func(path string, d fs.DirEntry, err error) error {
			if err == nil && names[d.Name()] {
				files[d.Name()], err = os.ReadFile(path)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(files) != len(names) {
			t.Fatalf("the registry holds %d of the %d monitor files", len(files), len(names))
		}
		return files, held, featuresRan
	}
	summarized, heldS, ranS := run()
	fromSplit, heldR, ranR := run() // the features stage restored: register reads the split
	if !ranS || ranR {
		t.Fatalf("features stage ran: %v, then %v; want true, then false (restored)", ranS, ranR)
	}
	if heldS || !heldR {
		t.Fatalf("raw training or validation split held at the train stage: %v, then %v; want false, then true", heldS, heldR)
	}
	for name, want := range fromSplit {
		if !bytes.Equal(summarized[name], want) {
			t.Errorf("%s from the summary differs from the one made from the split", name)
		}
	}
}

// probeStage is a stage that calls its function on the state.
type probeStage func(*State)

func (probeStage) Name() string { return "probe" }

func (p probeStage) Run(_ context.Context, s *State) error {
	p(s)
	return nil
}

// logregFixture is the fixture's config (testdata/flights-10k.yaml) with
// its logreg candidate alone, the quickest to fit.
func logregFixture(t testing.TB) *config.Config {
	t.Helper()
	cfg, err := config.Load(filepath.Join("..", "testdata", "flights-10k.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var keep []train.ModelSpec
	for _, m := range cfg.Models {
		if m.Name == "logreg" {
			keep = append(keep, m)
		}
	}
	cfg.Models = keep
	return cfg
}
