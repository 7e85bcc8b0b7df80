package main

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mlpipe/mlpipe/bundle"
	"github.com/mlpipe/mlpipe/internal/manifest"
	"github.com/mlpipe/mlpipe/pipeline"
	"github.com/mlpipe/mlpipe/registry"
)

// TestCorruptedBundles damages a registered version at random, many
// times over (one flipped bit, or the file cut short, in a random file
// of the bundle, the manifest included; the seed is logged and
// MLPIPE_CORRUPT_SEED replays it), and checks that each damaged copy is
// refused by what loads bundles, naming the file: bundle.Verify, and the
// check behind every promotion and every mlserve load
// (pipeline.CheckVersion). 200 damages here, 5,000 under `make soak`.
func TestCorruptedBundles(t *testing.T) {
	reg := t.TempDir()
	if _, stderr, code := runCLI(t, "run", "--config", fixtureConfig, "--out", "", "--registry", reg, "--log-level", "error"); code != exitOK {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	store, _ := registry.Open(reg)
	v1, _ := store.VersionDir("flights-delay", 1)
	m, _, err := manifest.Read(os.DirFS(v1))
	if err != nil {
		t.Fatal(err)
	}
	files := []string{manifest.File}
	for _, e := range m.Files {
		files = append(files, e.Path)
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("MLPIPE_CORRUPT_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("MLPIPE_CORRUPT_SEED=%d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	rounds := 200
	if soak() {
		rounds = 5000
	}
	dir := filepath.Join(t.TempDir(), "v1")
	for i := range rounds {
		os.RemoveAll(dir)
		if err := os.CopyFS(dir, os.DirFS(v1)); err != nil {
			t.Fatal(err)
		}
		name := files[rng.IntN(len(files))]
		p := filepath.Join(dir, name)
		os.Chmod(p, 0o644)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		how := "bit"
		if rng.IntN(4) == 0 {
			how = "cut"
			b = b[:rng.IntN(len(b))]
		} else {
			at := rng.IntN(len(b))
			b[at] ^= 1 << rng.IntN(8)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		what := name
		if name == manifest.File {
			what = "" // a damaged manifest names itself, or the file it now describes wrongly
		}
		_, verr := bundle.Verify(dir)
		lerr := pipeline.CheckVersion(dir, "flights-delay", 1)
		for _, err := range []error{verr, lerr} {
			if err == nil || !strings.Contains(err.Error(), what) {
				t.Fatalf("round %d: %s of %s: err = %v; want an error naming %s", i, how, name, err, name)
			}
		}
	}
}
