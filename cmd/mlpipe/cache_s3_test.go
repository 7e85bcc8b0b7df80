package main

import (
	"encoding/json"
	"testing"

	"github.com/mlpipe/mlpipe/internal/s3test"
	"github.com/mlpipe/mlpipe/pipeline"
)

// TestRunCacheS3 runs the pipeline with its step cache on a real S3
// server, then again as another machine would (an empty local mirror):
// every cached stage is restored from object storage, and the restored
// model evaluates exactly as the fitted one.
func TestRunCacheS3(t *testing.T) {
	srv := s3test.Start(t)
	reg := t.TempDir()
	cfg := variantConfig(t, "", "cache: {path: "+srv.URL("stepcache")+"}\n")
	run := func(t *testing.T) pipeline.Summary {
		t.Helper()
		t.Setenv("MLPIPE_CACHE_DIR", t.TempDir()) // a machine of its own
		stdout, stderr, code := runCLI(t, "run", "--config", cfg, "--out", "", "--registry", reg, "--json")
		if code != exitOK {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		var sum pipeline.Summary
		if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
			t.Fatal(err)
		}
		return sum
	}
	first, second := run(t), run(t)
	for i, sum := range []pipeline.Summary{first, second} {
		cached := 0
		for _, st := range sum.Stages {
			if st.Key == "" {
				continue // not a cached stage
			}
			cached++
			want := map[int]string{0: pipeline.CacheMiss, 1: pipeline.CacheHit}[i]
			if st.Cache != want {
				t.Errorf("run %d, %s: %s (%s), want %s", i+1, st.Name, st.Cache, st.Reason, want)
			}
		}
		if cached < 4 {
			t.Errorf("run %d: %d cached stages, want profile, features, train and evaluate", i+1, cached)
		}
	}
	if a, b := first.Evaluation.ROCAUC, second.Evaluation.ROCAUC; a != b {
		t.Errorf("test roc_auc %v restored from S3, %v fitted", b, a)
	}
}
