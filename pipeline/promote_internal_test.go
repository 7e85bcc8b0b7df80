package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/registry"
)

// TestRunPromotionChecked: the promotion at the end of a run (`mlpipe
// run`, and so every scheduled tick, which runs the same stages) loads
// the version as mlserve would before it moves production: a version
// damaged between its registration and its promotion is refused with
// the reason, production stays where it was, and the outcome says so.
func TestRunPromotionChecked(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, dir string)
		want   string
	}{
		{"ModelTruncated", func(t *testing.T, dir string) {
			chmodWrite(t, dir, "model.json", []byte(`{"kind":`))
		}, "model.json"},
		{"FeaturesMissing", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, "features.json")); err != nil {
				t.Fatal(err)
			}
		}, "features.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := logregFixture(t)
			cfg.Registry.Path, cfg.Cache.Path = t.TempDir(), ""
			s := &State{Config: cfg, RunID: "test"}
			defer s.Release()
			stages := promoteStages(&ingest.Options{}, registerStage{wait: true, damage: func(dir string) { tt.damage(t, dir) }})
			_, err := (&Runner{Stages: stages}).Run(context.Background(), s)
			if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("run: %v; want the promotion refused, naming %s", err, tt.want)
			}
			store, err := registry.Open(cfg.Registry.Path)
			if err != nil {
				t.Fatal(err)
			}
			if v, err := store.Alias(cfg.Name, AliasProduction); !errors.Is(err, registry.ErrNotFound) {
				t.Errorf("production = %d (%v) after a refused promotion, want none", v, err)
			}
			if out := s.Registry; out == nil || out.Promoted || out.Version != 1 || !strings.Contains(out.Error, "refused") {
				t.Errorf("registry outcome %+v: want v1 registered, not promoted, the refusal recorded", out)
			}
		})
	}
}

// chmodWrite replaces a read-only file of a registry version.
func chmodWrite(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
