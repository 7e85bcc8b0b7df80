// Package uitest builds model registries for the tests and benchmarks of
// the run report and the dashboard.
//
// In: a pipeline config (the 10,000-row fixture, testdata/flights-10k.yaml)
// or a real run summary. Out: a registry directory with run records and
// model versions, as `mlpipe run` leaves them: Registry runs the real
// pipeline in-process; Generate copies one summary into many run records
// with varied ids and metrics, for benchmarks of large registries.
package uitest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/pipeline"
	"github.com/mlpipe/mlpipe/registry"
	"github.com/mlpipe/mlpipe/train"
)

// Registry runs the whole pipeline (ingest to register, as `mlpipe run`
// with a registry) runs times on cfgPath against a new registry in
// tb.TempDir(), records each run under runs/, and returns the registry
// directory and the run ids, oldest first. With the fixture the first
// run is promoted as version 1 and the next ones, which score the same,
// are registered but kept out of production (see Run for how their
// bundles differ).
func Registry(tb testing.TB, cfgPath string, runs int, edit ...func(*config.Config)) (dir string, ids []string) {
	tb.Helper()
	dir = tb.TempDir()
	for range runs {
		id, err := Run(context.Background(), cfgPath, dir, edit...)
		if err != nil {
			tb.Fatalf("pipeline run: %v", err)
		}
		ids = append(ids, id)
	}
	return dir, ids
}

// Run runs the pipeline once on cfgPath against the registry in dir and
// records the run like `mlpipe run` does (summary.json and config.json
// under runs/RUN_ID/). Each edit changes the loaded config first. It
// returns the run id.
//
// The registry stores the same model only once, so that each run adds a
// version, every run's evaluation keeps one more slice than the last
// one's (evaluate.slices plus the number of versions): the bundles
// differ in evaluation.json only, and score the same.
func Run(ctx context.Context, cfgPath, dir string, edit ...func(*config.Config)) (string, error) {
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return "", err
	}
	for _, f := range edit {
		f(cfg)
	}
	cfg.Registry.Path = dir
	cfg.Cache.Path = ""
	store, err := registry.Open(dir)
	if err != nil {
		return "", err
	}
	if vs, err := store.Versions(cfg.Name); err == nil {
		cfg.Evaluate.Slices += len(vs)
	}
	started := time.Now().UTC()
	id := fmt.Sprintf("%s%06d-%06x", started.Format("20060102T150405"), started.Nanosecond()/1000, rand.Uint32()&0xffffff)
	state := &pipeline.State{Config: cfg, RunID: id}
	defer state.Release()
	results, runErr := (&pipeline.Runner{Stages: pipeline.PromoteStages(&ingest.Options{}, true)}).Run(ctx, state)
	sum := pipeline.Summarize(state, results)
	sum.RunID = id
	sum.StartedAt, sum.EndedAt = started.Format(time.RFC3339), time.Now().UTC().Format(time.RFC3339)
	sum.CodeVersion = "test"
	sum.Status = "ok"
	if runErr != nil {
		sum.Status, sum.Error = "failed", runErr.Error()
	}
	if err := save(ctx, dir, cfg, sum); err != nil {
		return "", err
	}
	return id, runErr
}

func save(ctx context.Context, dir string, cfg *config.Config, sum *pipeline.Summary) error {
	store, err := registry.Open(dir)
	if err != nil {
		return err
	}
	unlock, err := store.Lock(ctx, true)
	if err != nil {
		return err
	}
	defer unlock()
	resolved, err := cfg.JSON()
	if err != nil {
		return err
	}
	return store.SaveRun(sum.RunID, map[string]any{"summary.json": sum, "config.json": json.RawMessage(resolved)})
}

// OnlyModel keeps one of a config's candidate models, by name (as
// `mlpipe run --models NAME` does).
func OnlyModel(name string) func(*config.Config) {
	return func(cfg *config.Config) {
		var keep []train.ModelSpec
		for _, m := range cfg.Models {
			if m.Name == name {
				keep = append(keep, m)
			}
		}
		cfg.Models = keep
	}
}

// Generate writes n run records into the registry in dir, each a copy
// of the summary.json and config.json of run template (a run of that
// registry) with its own id, start time, status, duration, test ROC AUC
// and gate decision, drawn from a generator seeded with seed. Ids sort
// by start time, one hour apart, starting 2026-01-01. It returns the ids.
func Generate(dir, template string, n int, seed uint64) ([]string, error) {
	src := filepath.Join(dir, "runs", template)
	sumData, err := os.ReadFile(filepath.Join(src, "summary.json"))
	if err != nil {
		return nil, fmt.Errorf("generate runs: %w", err)
	}
	cfgData, err := os.ReadFile(filepath.Join(src, "config.json"))
	if err != nil {
		return nil, fmt.Errorf("generate runs: %w", err)
	}
	// Edit the summary as generic JSON, so every field of the template,
	// known to this code or not, is kept.
	var sum map[string]any
	if err := json.Unmarshal(sumData, &sum); err != nil {
		return nil, fmt.Errorf("generate runs: %w", err)
	}
	rng := rand.New(rand.NewPCG(seed, 0))
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	statuses := []string{"ok", "ok", "ok", "ok", "ok", "ok", "failed", "cancelled"}
	var ids []string
	for i := range n {
		t := start.Add(time.Duration(i) * time.Hour)
		id := fmt.Sprintf("%s%06d-%06x", t.Format("20060102T150405"), i, rng.Uint32()&0xffffff)
		sum["run_id"] = id
		sum["started_at"] = t.Format(time.RFC3339)
		sum["ended_at"] = t.Add(2 * time.Minute).Format(time.RFC3339)
		sum["status"] = statuses[rng.IntN(len(statuses))]
		if ev, ok := sum["evaluation"].(map[string]any); ok {
			ev["roc_auc"] = 0.6 + 0.2*rng.Float64()
			ev["log_loss"] = 0.4 + 0.1*rng.Float64()
		}
		if g, ok := sum["gate"].(map[string]any); ok {
			g["promote"] = rng.IntN(4) == 0
			g["rejected"] = !g["promote"].(bool) && rng.IntN(4) == 0
			g["version"] = i + 1
		}
		if st, ok := sum["stages"].([]any); ok {
			for _, s := range st {
				if m, ok := s.(map[string]any); ok {
					m["duration_ns"] = rng.Int64N(int64(10 * time.Second))
				}
			}
		}
		data, err := json.Marshal(sum)
		if err != nil {
			return nil, fmt.Errorf("generate runs: %w", err)
		}
		d := filepath.Join(dir, "runs", id)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("generate runs: %w", err)
		}
		if err := os.WriteFile(filepath.Join(d, "summary.json"), data, 0o644); err != nil {
			return nil, fmt.Errorf("generate runs: %w", err)
		}
		if err := os.WriteFile(filepath.Join(d, "config.json"), cfgData, 0o644); err != nil {
			return nil, fmt.Errorf("generate runs: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, nil
}
