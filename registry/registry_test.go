package registry_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlpipe/mlpipe/internal/manifest"
	"github.com/mlpipe/mlpipe/registry"
)

// modelDir makes a directory that looks like `mlpipe train --out`.
func modelDir(t *testing.T, content string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"model.json", "features.json", "training.json"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := manifest.WriteAll(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// register registers a bundle and returns its version.
func register(t *testing.T, s *registry.Store, name, content string) int {
	t.Helper()
	r, err := s.Register(name, modelDir(t, content))
	if err != nil {
		t.Fatal(err)
	}
	return r.Version
}

func TestRegisterAndAliases(t *testing.T) {
	s, err := registry.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for i, content := range []string{"one", "two", "three"} {
		if v := register(t, s, "flights-delay", content); v != i+1 {
			t.Fatalf("version = %d, want %d", v, i+1)
		}
	}
	vs, err := s.Versions("flights-delay")
	if err != nil || len(vs) != 3 || vs[2] != 3 {
		t.Fatalf("versions = %v, %v", vs, err)
	}
	d, _ := s.VersionDir("flights-delay", 2)
	if b, _ := os.ReadFile(filepath.Join(d, "model.json")); string(b) != "two" {
		t.Errorf("v2/model.json = %q", b)
	}

	if err := s.SetAlias("flights-delay", "production", 2); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAlias("flights-delay", "production", 3); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Alias("flights-delay", "production"); v != 3 || err != nil {
		t.Errorf("production = %d, %v; want 3", v, err)
	}
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"ErrAliasToMissingVersion", s.SetAlias("flights-delay", "production", 9), registry.ErrNotFound},
		{"ErrBadAliasName", s.SetAlias("flights-delay", "../x", 1), registry.ErrInvalidName},
		{"ErrBadModelName", func() error { _, err := s.Register("a/b", modelDir(t, "x")); return err }(), registry.ErrInvalidName},
		{"ErrNoManifest", func() error {
			d := modelDir(t, "x")
			os.Remove(filepath.Join(d, manifest.File))
			_, err := s.Register("flights-delay", d)
			return err
		}(), manifest.ErrMismatch},
		{"ErrUnknownAlias", func() error { _, err := s.Alias("flights-delay", "candidate"); return err }(), registry.ErrNotFound},
		{"ErrUnknownModel", func() error { _, err := s.Versions("nope"); return err }(), registry.ErrNotFound},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, tt.err, tt.want)
		}
	}
	// A failed alias move leaves the old target in place.
	if v, _ := s.Alias("flights-delay", "production"); v != 3 {
		t.Errorf("production moved to %d by a failed SetAlias", v)
	}
}

// TestCrashLeftovers simulates writes cut off by a crash: readers ignore
// the temporary names, Check reports them and Repair removes them.
func TestCrashLeftovers(t *testing.T) {
	root := t.TempDir()
	s, _ := registry.Open(root)
	register(t, s, "m", "x")
	if err := s.SetAlias("m", "production", 1); err != nil {
		t.Fatal(err)
	}
	// A version directory and an alias file that were being written.
	if err := os.MkdirAll(filepath.Join(root, "models", "m", ".tmp-v2-123"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "models", "m", "aliases", ".tmp-production-9"), []byte("2"), 0o644); err != nil {
		t.Fatal(err)
	}
	if vs, _ := s.Versions("m"); len(vs) != 1 {
		t.Errorf("versions = %v: a half-written version is visible", vs)
	}
	problems, err := s.Check(registry.CheckOptions{})
	if err != nil || len(problems) != 2 {
		t.Fatalf("check = %v, %v; want 2 leftovers", problems, err)
	}
	if _, err := s.Check(registry.CheckOptions{Repair: true}); err != nil {
		t.Fatal(err)
	}
	if problems, _ := s.Check(registry.CheckOptions{}); len(problems) != 0 {
		t.Errorf("after repair: %v", problems)
	}
	if v := register(t, s, "m", "y"); v != 2 {
		t.Errorf("next version = %d, want 2", v)
	}
}

func TestLock(t *testing.T) {
	s, _ := registry.Open(t.TempDir())
	unlock, err := s.Lock(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	// A second writer fails at once, told who holds the lock.
	_, err = s.Lock(context.Background(), false)
	if !errors.Is(err, registry.ErrLocked) || !strings.Contains(err.Error(), "pid ") {
		t.Fatalf("second lock: %v, want ErrLocked naming the pid", err)
	}
	// A waiting writer gets the lock once it is released.
	got := make(chan error, 1)
	go func() {
		u, err := s.Lock(context.Background(), true)
		if err == nil {
			err = u()
		}
		got <- err
	}()
	time.Sleep(50 * time.Millisecond)
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("waiting lock: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting writer never got the lock")
	}
	// Waiting stops when the context is done.
	unlock, _ = s.Lock(context.Background(), false)
	defer unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	if _, err := s.Lock(ctx, true); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("lock with an expired context: %v", err)
	}
}

func TestResolve(t *testing.T) {
	s, _ := registry.Open(t.TempDir())
	for _, c := range []string{"a", "b"} {
		register(t, s, "m", c)
	}
	if err := s.SetAlias("m", "production", 1); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ref  string
		want int
		err  error
	}{
		{"m", 1, nil},
		{"m@production", 1, nil},
		{"m@2", 2, nil},
		{"m@v2", 2, nil},
		{"m@3", 0, registry.ErrNotFound},
		{"m@candidate", 0, registry.ErrNotFound},
		{"nope", 0, registry.ErrNotFound},
	}
	for _, tt := range tests {
		_, v, err := s.Resolve(tt.ref)
		if v != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("Resolve(%q) = %d, %v; want %d, %v", tt.ref, v, err, tt.want, tt.err)
		}
	}
	if names, _ := s.Models(); len(names) != 1 || names[0] != "m" {
		t.Errorf("models = %v", names)
	}
	if a, _ := s.Aliases("m"); a["production"] != 1 || len(a) != 1 {
		t.Errorf("aliases = %v", a)
	}
}

// TestTrainingLock: the training lock is independent of the writer lock,
// and a second holder is refused, told who holds it.
func TestTrainingLock(t *testing.T) {
	s, _ := registry.Open(filepath.Join(t.TempDir(), "not-yet-created"))
	unlock, err := s.TrainingLock(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if _, err := s.TrainingLock(context.Background(), false); !errors.Is(err, registry.ErrTraining) || !strings.Contains(err.Error(), "training is locked by pid ") {
		t.Fatalf("second training lock: %v, want ErrTraining naming the pid", err)
	}
	w, err := s.Lock(context.Background(), false)
	if err != nil {
		t.Fatalf("the writer lock is taken by the training lock: %v", err)
	}
	w()
}

// TestNamesStayInside: no method takes a model or alias name that would
// reach outside the registry, even where the path it names exists
// (`mlpipe models promote '../../evil@1'` once wrote outside it).
func TestNamesStayInside(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "a", "registry")
	s, _ := registry.Open(root)
	register(t, s, "m", "x")
	// What "../../evil" names from models/: base/a/evil, made to look
	// like a model with a version.
	evil := filepath.Join(root, "models", "..", "..", "evil")
	if err := os.MkdirAll(filepath.Join(evil, "v1"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"../../evil", "..", "m/../../../evil", "", ".hidden", "a b"} {
		checks := map[string]error{
			"Resolve":       func() error { _, _, err := s.Resolve(name + "@1"); return err }(),
			"VersionDir":    func() error { _, err := s.VersionDir(name, 1); return err }(),
			"Versions":      func() error { _, err := s.Versions(name); return err }(),
			"SetAlias":      s.SetAlias(name, "production", 1),
			"Alias":         func() error { _, err := s.Alias(name, "production"); return err }(),
			"Aliases":       func() error { _, err := s.Aliases(name); return err }(),
			"Register":      func() error { _, err := s.Register(name, modelDir(t, "y")); return err }(),
			"PredictionLog": func() error { _, err := s.PredictionLog(name); return err }(),
		}
		for op, err := range checks {
			if !errors.Is(err, registry.ErrInvalidName) {
				t.Errorf("%s(%q): err = %v, want ErrInvalidName", op, name, err)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(evil, "aliases")); err == nil {
		t.Error("an alias was written outside the registry")
	}
	if _, err := s.Alias("m", "../production"); !errors.Is(err, registry.ErrInvalidName) {
		t.Errorf("alias name with '..': %v", err)
	}
}

// TestRegisterIdentical: a bundle with the same bytes as a version is not
// stored again; Register names the version it is.
func TestRegisterIdentical(t *testing.T) {
	s, _ := registry.Open(t.TempDir())
	first, err := s.Register("m", modelDir(t, "x"))
	if err != nil || first.Existing || first.Version != 1 || len(first.Digest) != 71 {
		t.Fatalf("first: %+v, %v", first, err)
	}
	register(t, s, "m", "y")
	// Another directory with the same files, and a record of its own
	// (outside the manifest).
	again := modelDir(t, "x")
	if err := os.WriteFile(filepath.Join(again, "record.json"), []byte(`{"run_id":"other"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := s.Register("m", again)
	if err != nil || !r.Existing || r.Version != 1 || r.Digest != first.Digest {
		t.Errorf("identical bundle: %+v, %v; want version 1, existing", r, err)
	}
	if vs, _ := s.Versions("m"); len(vs) != 2 {
		t.Errorf("versions %v: the identical bundle was stored again", vs)
	}
	// A damaged copy does not count as the same: the bundle is stored again.
	d, _ := s.VersionDir("m", 1)
	os.Chmod(filepath.Join(d, "model.json"), 0o644)
	if err := os.WriteFile(filepath.Join(d, "model.json"), []byte("X"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Register("m", again); err != nil || r.Existing || r.Version != 3 {
		t.Errorf("identical to a damaged version: %+v, %v; want a new version 3", r, err)
	}
}

// TestCheckVersions: Check verifies every version against its manifest,
// reports damage naming the file, adopts a version without a manifest
// on repair, and loads the versions aliases point at.
func TestCheckVersions(t *testing.T) {
	s, _ := registry.Open(t.TempDir())
	for _, c := range []string{"a", "b", "c"} {
		register(t, s, "m", c)
	}
	if err := s.SetAlias("m", "production", 3); err != nil {
		t.Fatal(err)
	}
	d1, _ := s.VersionDir("m", 1)
	os.Chmod(filepath.Join(d1, "features.json"), 0o644)
	if err := os.WriteFile(filepath.Join(d1, "features.json"), []byte("A"), 0o644); err != nil {
		t.Fatal(err)
	}
	d2, _ := s.VersionDir("m", 2)
	os.Remove(filepath.Join(d2, manifest.File))
	var loaded []int
	load := func(dir, name string, v int) error {
		loaded = append(loaded, v)
		if v == 3 {
			return errors.New("scores its example 0.3, recorded 0.2")
		}
		return nil
	}
	problems, err := s.Check(registry.CheckOptions{Load: load})
	if err != nil {
		t.Fatal(err)
	}
	text := fmt.Sprint(problems)
	for _, want := range []string{"m@1: ", "features.json has sha256", "m@2: ", "no manifest.json", "m@3 does not load: scores its example"} {
		if !strings.Contains(text, want) {
			t.Errorf("problems lack %q: %s", want, text)
		}
	}
	if len(problems) != 3 || fmt.Sprint(loaded) != "[3]" {
		t.Errorf("problems %v, loaded %v; want 3 problems, v3 loaded", problems, loaded)
	}
	loaded = nil
	_, _ = s.Check(registry.CheckOptions{Repair: true, Load: load, All: true}) // the loads are what is checked
	if fmt.Sprint(loaded) != "[2 3]" {
		t.Errorf("with All, loaded %v; want [2 3] (v1 is damaged, v2 adopted)", loaded)
	}
	if _, err := s.VerifyVersion("m", 2); err != nil {
		t.Errorf("v2 after repair: %v", err)
	}
	if _, err := s.VerifyVersion("m", 1); !errors.Is(err, manifest.ErrMismatch) {
		t.Errorf("v1 after repair: %v, want still damaged", err)
	}
}
