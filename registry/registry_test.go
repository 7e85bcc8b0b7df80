package registry_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	return dir
}

func TestRegisterAndAliases(t *testing.T) {
	s, err := registry.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for i, content := range []string{"one", "two", "three"} {
		v, err := s.Register("flights-delay", modelDir(t, content))
		if err != nil {
			t.Fatal(err)
		}
		if v != i+1 {
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
	if _, err := s.Register("m", modelDir(t, "x")); err != nil {
		t.Fatal(err)
	}
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
	problems, err := s.Check(false)
	if err != nil || len(problems) != 2 {
		t.Fatalf("check = %v, %v; want 2 leftovers", problems, err)
	}
	if _, err := s.Check(true); err != nil {
		t.Fatal(err)
	}
	if problems, _ := s.Check(false); len(problems) != 0 {
		t.Errorf("after repair: %v", problems)
	}
	if v, _ := s.Register("m", modelDir(t, "y")); v != 2 {
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
		if _, err := s.Register("m", modelDir(t, c)); err != nil {
			t.Fatal(err)
		}
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
