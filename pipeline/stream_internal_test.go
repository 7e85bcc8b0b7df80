package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/registry"
	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/gbdt"
)

// gbdtFixture is the fixture's config (testdata/flights-10k.yaml) with
// its gbdt candidate alone, the case the features stage streams, and a
// registry in a new directory; regression makes the label the delay in
// minutes.
func gbdtFixture(t *testing.T, regression bool) *config.Config {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "flights-10k.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := filepath.Abs(filepath.Join("..", "testdata", "flights-10k.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	src := strings.NewReplacer(
		"  - {name: logreg, grid: {c: [0.1, 1.0]}}\n", "",
		"path: flights-10k.parquet", "path: "+data,
		// Stopped early after a short patience, the model depends on
		// each round's validation loss.
		"{rounds: 50, max_leaves: 15}", "{rounds: 200, max_leaves: 15, early_stopping_rounds: 3}",
	).Replace(string(b))
	if regression {
		src = strings.Replace(src, "  name: delayed\n  column: delay\n  positive: \"> 15\"\n", "  name: delay_minutes\n  column: delay\n  kind: regression\n", 1)
	}
	path := filepath.Join(t.TempDir(), "gbdt.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Models) != 1 || cfg.Models[0].Name != gbdt.Name || cfg.Models[0].Params["early_stopping_rounds"] == nil || (cfg.Task() == train.Regression) != regression {
		t.Fatalf("models %v, task %s: want gbdt alone on a regression (%v)", cfg.Models, cfg.Task(), regression)
	}
	cfg.Registry.Path = t.TempDir()
	return cfg
}

// TestStreamedValidation: with gbdt the only model, no stage of a
// registering run holds a float matrix of the validation split: gbdt
// stops early on the validation rows in its bins, binned a range at a
// time (streamValid), and selection, the threshold, evaluate and
// register read predictions scored from the raw split a range at a
// time, which the train stage then releases. The model, the validation
// predictions, gbdt's validation loss every round (to the 5 decimals
// the live view shows; train/gbdt's TestPrebinnedValidation compares
// them bit for bit), the leaderboard, the threshold, the report and every
// file of the registered bundle but the run's record (and the cache key
// in training.json, so the manifest's digests) are bit for bit
// those of the same run with the step cache on, which holds the float
// validation matrix; for a binary label and for a regression. The
// monitor's thresholds are calibrated after the raw training split is
// released, from what was observed of its rows (step 6), and the null
// (thresholds.json) is the cached run's, calibrated on the split.
func TestStreamedValidation(t *testing.T) {
	defer SetStreamRows(500)() // the fixture's 1,800-odd validation rows in 4 ranges
	type outcome struct {
		s      *State
		model  []byte
		bundle map[string][]byte
		held   []string // the stages after which a validation float matrix was held
		binned bool     // the validation rows were gbdt's bins after the features stage
		raw    []string // the stages after which the raw validation split was held
		losses []string // gbdt's validation loss each round, as the live view shows it
		// streamedIngest: the load stage read the source a chunk at a time
		// and no stage held the loaded table or the raw training split
		// (tableHeld: the stages after which one was).
		streamedIngest bool
		tableHeld      []string
		// calibrated: the features stage calibrated the monitor's
		// thresholds from observed rows (trainHeld: with the raw training
		// split still held); calibration: a null was measured.
		calibrated, trainHeld, calibration bool
	}
	run := func(t *testing.T, cfg *config.Config, cache *Cache) outcome {
		var o outcome
		o.s = &State{Config: cfg, RunID: "test"}
		t.Cleanup(o.s.Release)
		calibrating = func(s *State) { o.calibrated, o.trainHeld = true, s.Splits.Train != nil }
		defer func() { calibrating = nil }()
		var stages []Stage
		for _, st := range PromoteStages(&ingest.Options{}, true) {
			stages = append(stages, st, probeStage(func(s *State) {
				if s.ValidSet != nil && s.ValidSet.X.Data != nil {
					o.held = append(o.held, st.Name())
				}
				if st.Name() == "features" {
					_, o.binned = s.ValidSet.Prebinned.(*gbdt.Bins)
					o.calibration = s.training != nil && s.training.calibration != nil
				}
				if s.Splits != nil && s.Splits.Valid != nil {
					o.raw = append(o.raw, st.Name())
				}
				if st.Name() == "load" {
					o.streamedIngest = s.streamed != nil
				}
				if (s.Data != nil && s.Data.Table != nil) || (s.Splits != nil && s.Splits.Train != nil) {
					o.tableHeld = append(o.tableHeld, st.Name())
				}
			}))
		}
		live := &lossRecorder{losses: &o.losses}
		if _, err := (&Runner{Stages: stages, Cache: cache, Progress: live}).Run(context.Background(), o.s); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := train.Save(&buf, o.s.Model); err != nil {
			t.Fatal(err)
		}
		o.model = buf.Bytes()
		store, err := registry.Open(cfg.Registry.Path)
		if err != nil {
			t.Fatal(err)
		}
		dir, err := store.VersionDir(cfg.Name, 1)
		if err != nil {
			t.Fatal(err)
		}
		o.bundle = map[string][]byte{}
		err = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			o.bundle[strings.TrimPrefix(path, dir)] = b
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	for _, regression := range []bool{false, true} {
		name := map[bool]string{false: "binary", true: "regression"}[regression]
		t.Run(name, func(t *testing.T) {
			streamed := run(t, gbdtFixture(t, regression), nil)
			whole := run(t, gbdtFixture(t, regression), &Cache{Dir: t.TempDir()})
			if len(streamed.held) > 0 || !streamed.binned || !(len(whole.held) > 0) || whole.binned {
				t.Fatalf("validation float matrix held after %v, binned %v streamed; after %v, binned %v with the cache (want none and binned; some and not)",
					streamed.held, streamed.binned, whole.held, whole.binned)
			}
			// The threshold calibration runs once the raw training split
			// is released (from the rows observed before), and measures
			// the same null (thresholds.json below) as the cached run's,
			// which calibrates on the split.
			if !streamed.calibrated || streamed.trainHeld || whole.calibrated || !streamed.calibration || !whole.calibration {
				t.Errorf("calibrated from observed rows %v (raw training split held %v) streamed, %v with the cache; a null measured %v, %v; want true (false), false; true, true",
					streamed.calibrated, streamed.trainHeld, whole.calibrated, streamed.calibration, whole.calibration)
			}
			if !streamed.streamedIngest || len(streamed.tableHeld) > 0 || whole.streamedIngest || len(whole.tableHeld) == 0 {
				t.Fatalf("ingest streamed %v, the loaded table or raw training split held after %v; with the cache %v, %v (want true, none; false, some)",
					streamed.streamedIngest, streamed.tableHeld, whole.streamedIngest, whole.tableHeld)
			}
			// What the ingest stages found is the whole table's.
			for _, c := range []struct {
				what string
				a, b any
			}{
				{"report", streamed.s.Report, whole.s.Report},
				{"fingerprint", streamed.s.Fingerprint, whole.s.Fingerprint},
				{"profile", streamed.s.Profile, whole.s.Profile},
				{"files", streamed.s.Data.Parts, whole.s.Data.Parts},
				{"splits", streamed.s.spans, whole.s.spans},
				{"shape", streamed.s.loaded, whole.s.loaded},
				{"training labels", streamed.s.Labels, whole.s.Labels},
			} {
				if !reflect.DeepEqual(c.a, c.b) {
					t.Errorf("%s: %+v streamed, %+v whole", c.what, c.a, c.b)
				}
			}
			if strings.Join(streamed.raw, " ") != "split features" {
				t.Errorf("raw validation split held after %v, want after split and features only (the train stage releases it)", streamed.raw)
			}
			s, w := streamed.s, whole.s
			if len(whole.losses) == 0 || strings.Join(streamed.losses, " ") != strings.Join(whole.losses, " ") {
				t.Errorf("validation loss by round: %v streamed, %v whole", streamed.losses, whole.losses)
			}
			if !bytes.Equal(streamed.model, whole.model) {
				t.Error("the model differs from the one fitted with the float validation matrix")
			}
			if len(s.validProba) != len(s.ValidSet.Y) || len(s.validProba) != len(w.validProba) {
				t.Fatalf("%d validation predictions streamed, %d whole, for %d rows", len(s.validProba), len(w.validProba), len(s.ValidSet.Y))
			}
			for i := range s.validProba {
				if math.Float64bits(s.validProba[i]) != math.Float64bits(w.validProba[i]) {
					t.Fatalf("validation row %d: %v streamed, %v whole", i, s.validProba[i], w.validProba[i])
				}
			}
			if s.Threshold != w.Threshold || len(s.Leaderboard) != 1 || math.Float64bits(s.Leaderboard[0].Valid) != math.Float64bits(w.Leaderboard[0].Valid) {
				t.Errorf("threshold %v, validation score %v streamed; %v, %v whole", s.Threshold, s.Leaderboard[0].Valid, w.Threshold, w.Leaderboard[0].Valid)
			}
			got, err := json.Marshal(s.Evaluation)
			if err != nil {
				t.Fatal(err)
			}
			want, err := json.Marshal(w.Evaluation)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Error("the evaluation report differs from the whole matrix's")
			}
			if len(streamed.bundle) != len(whole.bundle) {
				t.Errorf("%d files in the bundle streamed, %d whole", len(streamed.bundle), len(whole.bundle))
			}
			for name, b := range whole.bundle {
				var same bool
				switch name {
				case "/record.json", "/manifest.json": // the run; the other files' digests
					continue
				case "/training.json": // the cache key, set only with the cache
					same = sameWithout(t, streamed.bundle[name], b, "inputs_key")
				default:
					same = bytes.Equal(streamed.bundle[name], b)
				}
				if !same {
					t.Errorf("bundle file %s differs", name)
				}
			}
		})
	}
}

// sameWithout reports whether the JSON objects a and b have the same
// members, byte for byte, once b's member key (which it must have) is
// left out.
func sameWithout(t *testing.T, a, b []byte, key string) bool {
	t.Helper()
	var ma, mb map[string]json.RawMessage
	if err := json.Unmarshal(a, &ma); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &mb); err != nil {
		t.Fatal(err)
	}
	if _, ok := mb[key]; !ok {
		t.Fatalf("no %s in %s", key, b)
	}
	delete(mb, key)
	return maps.EqualFunc(ma, mb, func(x, y json.RawMessage) bool { return bytes.Equal(x, y) })
}

// lossRecorder is a live view that keeps the validation loss of each
// boosting round it is shown.
type lossRecorder struct{ losses *[]string }

var validLoss = regexp.MustCompile(`round \d+ .*valid loss (\S+)`)

func (lossRecorder) Start(string) {}
func (lossRecorder) End()         {}

func (r lossRecorder) Set(msg string) {
	if m := validLoss.FindStringSubmatch(msg); m != nil {
		*r.losses = append(*r.losses, m[1])
	}
}

// TestStreamedIngestSmall: a training split under config.CVBelowRows
// rows streams too (a lone candidate is never cross-validated), to the
// loaded run's model, validation score and evaluation (the loaded run
// with the step cache, which holds the float matrices); and a streamed
// run whose gbdt parameters are refused reads the training rows into
// memory (holdTraining) and fails in the train stage with the loaded
// run's error.
func TestStreamedIngestSmall(t *testing.T) {
	type outcome struct {
		s     *State
		model []byte
		err   error
		// held: the raw training split after the split stage; floats:
		// the features stage built the float training matrix.
		held, floats bool
	}
	run := func(t *testing.T, cache *Cache, params string) outcome {
		cfg := gbdtFixture(t, false)
		// A random split leaving about 4,000 training rows of the 10,000.
		cfg.Split = ingest.SplitSpec{Method: "random", ValidFraction: 0.3, TestFraction: 0.3, Seed: 1}
		if params != "" {
			cfg.Models[0].Params = map[string]any{"max_leaves": -5}
		}
		o := outcome{s: &State{Config: cfg}}
		t.Cleanup(o.s.Release)
		var stages []Stage
		for _, st := range AllStages(&ingest.Options{}) {
			stages = append(stages, st)
			switch st.Name() {
			case "split":
				stages = append(stages, probeStage(func(s *State) { o.held = s.Splits.Train != nil }))
			case "features":
				stages = append(stages, probeStage(func(s *State) { o.floats = s.TrainSet.Prebinned == nil }))
			}
		}
		if _, o.err = (&Runner{Stages: stages, Cache: cache}).Run(context.Background(), o.s); o.err != nil {
			return o
		}
		var buf bytes.Buffer
		if err := train.Save(&buf, o.s.Model); err != nil {
			t.Fatal(err)
		}
		o.model = buf.Bytes()
		return o
	}
	streamed, whole := run(t, nil, ""), run(t, &Cache{Dir: t.TempDir()}, "")
	if streamed.err != nil || whole.err != nil {
		t.Fatalf("runs failed: %v streamed, %v whole", streamed.err, whole.err)
	}
	s, w := streamed.s, whole.s
	if s.streamed == nil || streamed.held || streamed.floats || w.streamed != nil || !whole.held || !whole.floats {
		t.Fatalf("streamed %v (training split held after split %v, float matrix %v); with the cache %v (%v, %v): want true (false, false), false (true, true)",
			s.streamed != nil, streamed.held, streamed.floats, w.streamed != nil, whole.held, whole.floats)
	}
	if !bytes.Equal(streamed.model, whole.model) || math.Float64bits(s.Leaderboard[0].Valid) != math.Float64bits(w.Leaderboard[0].Valid) {
		t.Error("the model or its score differs from the loaded run's")
	}
	got, _ := json.Marshal(s.Evaluation)
	want, _ := json.Marshal(w.Evaluation)
	if !bytes.Equal(got, want) {
		t.Error("the evaluation differs from the loaded run's")
	}

	bad, wbad := run(t, nil, "bad"), run(t, &Cache{Dir: t.TempDir()}, "bad")
	if bad.s.streamed == nil || !bad.floats || bad.err == nil || wbad.err == nil || bad.err.Error() != wbad.err.Error() {
		t.Errorf("refused parameters: streamed %v, held and transformed whole %v, error %v; loaded run's error %v",
			bad.s.streamed != nil, bad.floats, bad.err, wbad.err)
	}
}
