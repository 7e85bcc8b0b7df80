package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mlpipe/mlpipe/bundle"
	"github.com/mlpipe/mlpipe/internal/manifest"
	"github.com/mlpipe/mlpipe/pipeline"
	"github.com/mlpipe/mlpipe/registry"
)

// damagedVersion copies version src of the model into a new version of
// the registry (as if registered) after damage changed its files; with
// remanifest, the manifest is written again after the damage: a bundle
// that verifies but is wrong in another way.
func damagedVersion(t *testing.T, store *registry.Store, src int, damage func(dir string), remanifest bool) int {
	t.Helper()
	const name = "flights-delay"
	vs, _ := store.Versions(name)
	v := vs[len(vs)-1] + 1
	from, _ := store.VersionDir(name, src)
	dir := filepath.Join(store.Root(), "models", name, "v"+strconv.Itoa(v))
	if err := os.CopyFS(dir, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			_ = os.Chmod(p, 0o644)
		}
		return nil
	})
	damage(dir)
	if remanifest {
		if _, _, err := manifest.WriteAll(dir, bundle.RecordFile); err != nil {
			t.Fatal(err)
		}
	}
	return v
}

// TestPromoteChecks: a promotion loads the version in full and scores
// its example first, and refuses one that mlserve would refuse, naming
// why; production stays where it was. `registry check` loads the
// versions aliases point at (--all: every version) and reports those
// that do not load. Model names that would leave the registry are
// refused before they become paths.
func TestPromoteChecks(t *testing.T) {
	reg := t.TempDir()
	if _, stderr, code := runCLI(t, "run", "--config", fixtureConfig, "--out", "", "--registry", reg, "--log-level", "error"); code != exitOK {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	// A second, different model whose model.json can stand in as "the
	// wrong model".
	if _, stderr, code := runCLI(t, "run", "--config", fixtureConfig, "--out", "", "--registry", reg, "--models", "gbdt", "--log-level", "error"); code != exitOK && code != exitRejected {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	store, _ := registry.Open(reg)
	v2, _ := store.VersionDir("flights-delay", 2)
	write := func(name, content string) func(string) {
		return func(dir string) {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name       string
		damage     func(dir string)
		remanifest bool
		want       string
	}{
		{"ErrModelMissing", func(dir string) { os.Remove(filepath.Join(dir, "model.json")) }, false, "model.json is missing"},
		{"ErrModelEmpty", write("model.json", ""), false, "model.json has 0 bytes"},
		{"ErrModelTruncated", func(dir string) { os.Truncate(filepath.Join(dir, "model.json"), 100) }, false, "model.json has 100 bytes"},
		{"ErrModelDirectory", func(dir string) {
			os.Remove(filepath.Join(dir, "model.json"))
			os.Mkdir(filepath.Join(dir, "model.json"), 0o755)
		}, false, "model.json is not a regular file"},
		{"ErrOneBit", func(dir string) {
			p := filepath.Join(dir, "features.json")
			b, _ := os.ReadFile(p)
			os.WriteFile(p, []byte(strings.Replace(string(b), `"ORD"`, `"ORE"`, 1)), 0o644)
		}, false, "features.json has sha256"},
		{"ErrNoManifest", func(dir string) { os.Remove(filepath.Join(dir, manifest.File)) }, false, "no manifest.json"},
		{"ErrModelTruncatedRemanifested", func(dir string) { os.Truncate(filepath.Join(dir, "model.json"), 100) }, true, "model.json"},
		{"ErrWrongModel", func(dir string) {
			b, _ := os.ReadFile(filepath.Join(v2, "model.json"))
			os.WriteFile(filepath.Join(dir, "model.json"), b, 0o644)
		}, true, "signature example"},
		{"ErrBadProfile", write("profile.json", `{"columns": 7}`), true, "profile.json"},
		{"ErrNoSignature", func(dir string) { os.Remove(filepath.Join(dir, "signature.json")) }, true, "no signature.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := damagedVersion(t, store, 1, tt.damage, tt.remanifest)
			ref := "flights-delay@" + strconv.Itoa(v)
			stdout, stderr, code := runCLI(t, "models", "promote", ref, "--registry", reg)
			if code != exitError {
				t.Errorf("promote %s: exit %d\n%s%s", ref, code, stdout, stderr)
			}
			_, err := pipeline.Promote(store, "flights-delay", v)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), pipeline.ErrRefused.Error()) {
				t.Errorf("promote %s: err = %v, want ErrRefused and %q", ref, err, tt.want)
			}
			if prod, _ := store.Alias("flights-delay", pipeline.AliasProduction); prod != 1 {
				t.Errorf("production = %d after a refused promotion, want 1", prod)
			}
			// Without --all the check verifies every version's files, and
			// loads only what aliases point at.
			stdout, _, code = runCLI(t, "registry", "check", "--registry", reg, "--all")
			if code != exitInvalid || !strings.Contains(stdout, ref) || !strings.Contains(stdout, tt.want) {
				t.Errorf("registry check --all: exit %d, want %d naming %s and %q:\n%s", code, exitInvalid, ref, tt.want, stdout)
			}
			os.RemoveAll(filepath.Join(reg, "models", "flights-delay", "v"+strconv.Itoa(v)))
		})
	}

	// A bad version moved into production by hand (as an older mlpipe
	// could): `registry check` loads what production points at.
	v := damagedVersion(t, store, 1, write("profile.json", "{"), true)
	unlock, _ := store.Lock(context.Background(), false)
	if err := store.SetAlias("flights-delay", pipeline.AliasProduction, v); err != nil {
		t.Fatal(err)
	}
	unlock()
	stdout, _, code := runCLI(t, "registry", "check", "--registry", reg)
	if code != exitInvalid || !strings.Contains(stdout, "does not load") {
		t.Errorf("registry check with production unloadable: exit %d\n%s", code, stdout)
	}
	// Rolling back to a version that loads is allowed.
	if _, stderr, code := runCLI(t, "models", "promote", "flights-delay@1", "--registry", reg); code != exitOK {
		t.Errorf("promote v1: exit %d\n%s", code, stderr)
	}

	// Names that would leave the registry.
	evil := filepath.Join(reg, "..", "evil", "v1")
	if err := os.MkdirAll(evil, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"../../evil@1", "../evil@1", "flights-delay/../../evil@1"} {
		_, stderr, code := runCLI(t, "models", "promote", ref, "--registry", reg)
		if code != exitUsage {
			t.Errorf("promote %q: exit %d, want %d\n%s", ref, code, exitUsage, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(reg, "..", "evil", "aliases")); err == nil {
		t.Error("promote wrote outside the registry")
	}
}
