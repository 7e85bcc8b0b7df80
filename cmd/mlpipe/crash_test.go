package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/mlpipe/mlpipe/bundle"
	"github.com/mlpipe/mlpipe/internal/crash"
	"github.com/mlpipe/mlpipe/pipeline"
	"github.com/mlpipe/mlpipe/registry"
)

// TestKilledRuns kills a real `mlpipe run` process with SIGKILL at named
// points of registration (internal/crash) and checks after each kill
// that the registry is consistent: no half-written version is visible,
// production points at a complete bundle, `mlpipe registry check` finds
// (and --repair removes) what the kill left, and the next run succeeds.
func TestKilledRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the mlpipe binary")
	}
	bin := filepath.Join(t.TempDir(), "mlpipe")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	reg := t.TempDir()
	mlpipe := func(crashAt string, args ...string) (killed bool, code int, out string) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), crash.EnvVar+"="+crashAt)
		b, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
				return true, -1, string(b)
			}
			return false, ee.ExitCode(), string(b)
		}
		if err != nil {
			t.Fatal(err)
		}
		return false, 0, string(b)
	}
	run := []string{"run", "--config", "", "--out", "", "--registry", reg, "--log-level", "error"}
	withConfig := func(cfg string) []string { a := append([]string(nil), run...); a[2] = cfg; return a }
	store, _ := registry.Open(reg)
	consistent := func(when string, wantVersions, wantProd int) {
		t.Helper()
		vs, _ := store.Versions("flights-delay")
		if len(vs) != wantVersions {
			t.Errorf("%s: versions %v, want %d", when, vs, wantVersions)
		}
		prod, err := store.Alias("flights-delay", pipeline.AliasProduction)
		if err != nil || prod != wantProd {
			t.Fatalf("%s: production = %d, %v; want %d", when, prod, err, wantProd)
		}
		dir, _ := store.VersionDir("flights-delay", prod)
		if _, err := bundle.Load(dir); err != nil {
			t.Errorf("%s: production bundle v%d does not load: %v", when, prod, err)
		}
	}

	// A weak first model (every score equal), so that the fixture's real
	// model later beats it and the promotion path runs.
	weak := variantConfig(t, "models:\n  - {name: logreg, params: {c: 1.0e-9}}", "")
	if killed, code, out := mlpipe("", withConfig(weak)...); killed || code != 0 {
		t.Fatalf("first run: killed %v exit %d\n%s", killed, code, out)
	}
	consistent("after the first run", 1, 1)

	// Killed after the version's files are written, before the rename
	// that makes them visible.
	if killed, _, out := mlpipe("register-before-rename", withConfig(fixtureConfig)...); !killed {
		t.Fatalf("not killed at register-before-rename:\n%s", out)
	}
	consistent("after a kill before the version's rename", 1, 1)
	if _, code, out := mlpipe("", "registry", "check", "--registry", reg); code != exitInvalid || !strings.Contains(out, "leftover") {
		t.Errorf("registry check after the kill: exit %d\n%s", code, out)
	}
	if _, code, out := mlpipe("", "registry", "check", "--repair", "--registry", reg); code != 0 {
		t.Errorf("registry check --repair: exit %d\n%s", code, out)
	}

	// Killed between moving previous and production.
	if killed, _, out := mlpipe("alias-production", withConfig(fixtureConfig)...); !killed {
		t.Fatalf("not killed at alias-production:\n%s", out)
	}
	consistent("after a kill between the alias moves", 2, 1)
	if _, code, out := mlpipe("", "registry", "check", "--registry", reg); code != 0 {
		t.Errorf("registry check: exit %d\n%s", code, out)
	}

	// Killed while the bundle is being written, before the registry is
	// touched.
	if killed, _, out := mlpipe("write-before-rename", withConfig(fixtureConfig)...); !killed {
		t.Fatalf("not killed at write-before-rename:\n%s", out)
	}
	consistent("after a kill while writing the bundle", 2, 1)

	// The next run succeeds, and its model beats the weak one.
	if killed, code, out := mlpipe("", withConfig(fixtureConfig)...); killed || code != 0 {
		t.Fatalf("run after the kills: exit %d\n%s", code, out)
	}
	consistent("after a clean run", 3, 3)
}
