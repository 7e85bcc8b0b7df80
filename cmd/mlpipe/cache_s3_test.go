package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlpipe/mlpipe/internal/s3test"
	"github.com/mlpipe/mlpipe/pipeline"
	"github.com/mlpipe/mlpipe/storage"
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

// TestRunS3Data trains gbdt alone, the model of a run that reads its
// data a chunk at a time when the data is local, on data in S3, a Parquet
// object and a CSV object, into a registry in S3. Such a run reads S3
// data whole (it once failed with "no such file or directory"). mlpipe
// predict, which reads a chunk at a time, scores the Parquet object in
// place, row for row as the local file, and asks for a local copy of the
// CSV object; mlpipe init does the same. The commands name the registry by its URL, not by the
// local mirror it is cached in (a hint to run `mlpipe runs list
// --registry /root/.cache/...` would look at the mirror alone).
func TestRunS3Data(t *testing.T) {
	srv := s3test.Start(t)
	b, err := storage.Open(srv.URL("data"))
	if err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs("../../testdata/flights-10k.parquet")
	if err != nil {
		t.Fatal(err)
	}
	reg := srv.URL("reg")
	for _, obj := range []string{"flights-10k.parquet", "flights-10k.csv"} {
		if err := b.PutFile(context.Background(), obj, "../../testdata/"+obj); err != nil {
			t.Fatal(err)
		}
		cfg := variantConfig(t, "models:\n  - {name: gbdt, params: {rounds: 10}}", "")
		src, err := os.ReadFile(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(cfg, []byte(strings.Replace(string(src), "path: "+abs, "path: "+srv.URL("data/"+obj), 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		stdout, stderr, code := runCLI(t, "run", "--config", cfg, "--out", "", "--registry", reg)
		if code != exitOK || !strings.Contains(stdout, "10,000 rows") {
			t.Fatalf("%s: exit %d\n%s%s", obj, code, stdout, stderr)
		}
		predict := func(data string) (string, string, int) {
			var out, errb bytes.Buffer
			p := filepath.Join(t.TempDir(), "p.csv")
			code := execute(context.Background(), []string{"predict", "--model", "flights-delay@production", "--registry", reg,
				"--data", data, "--out", p}, &out, &errb)
			b, _ := os.ReadFile(p)
			return string(b), errb.String(), code
		}
		remote, stderr, code := predict(srv.URL("data/" + obj))
		if strings.HasSuffix(obj, ".csv") {
			if want := "a csv object is not read a chunk at a time from object storage (Parquet is): copy it to a local file"; code != exitError || !strings.Contains(stderr, want) {
				t.Errorf("predict from %s: exit %d, want %d with %q\n%s", obj, code, exitError, want, stderr)
			}
			continue
		}
		local, _, _ := predict("../../testdata/" + obj)
		if code != exitOK || remote != local || len(local) == 0 {
			t.Errorf("predict from %s: exit %d, %d bytes, local %d bytes (equal: %v)\n%s", obj, code, len(remote), len(local), remote == local, stderr)
		}
	}
	// mlpipe init drafts from the Parquet object the config it drafts
	// from the local file, but for the data path and the header's names.
	init := func(data string) (string, string) {
		var out, errb bytes.Buffer
		execute(context.Background(), []string{"init", "--data", data, "--label", "delay"}, &out, &errb)
		return strings.ReplaceAll(out.String(), data, "DATA"), errb.String()
	}
	remote, _ := init(srv.URL("data/flights-10k.parquet"))
	if local, _ := init("../../testdata/flights-10k.parquet"); remote != local || !strings.Contains(local, "kind: regression") {
		t.Errorf("init from S3:\n%s\nfrom the local file:\n%s", remote, local)
	}
	if _, stderr := init(srv.URL("data/flights-10k.csv")); !strings.Contains(stderr, "a csv object is not read a chunk at a time from object storage (Parquet is): copy it to a local file") {
		t.Errorf("init from a CSV object: %s", stderr)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"registry", "check", "--registry", reg}, "registry " + reg + ": ok"},
		{[]string{"runs", "show", "20010101T000000000000-000000", "--registry", reg}, "mlpipe runs list --registry " + reg + " lists the runs"},
		{[]string{"models", "show", "nope", "--registry", reg}, "not found in " + reg},
	} {
		var out, errb bytes.Buffer
		execute(context.Background(), c.args, &out, &errb)
		if !strings.Contains(out.String()+errb.String(), c.want) {
			t.Errorf("%s: output lacks %q:\n%s%s", strings.Join(c.args[:2], " "), c.want, &out, &errb)
		}
	}
}
