package registry_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mlpipe/mlpipe/internal/crash"
	"github.com/mlpipe/mlpipe/internal/fsx"
	"github.com/mlpipe/mlpipe/internal/manifest"
	"github.com/mlpipe/mlpipe/internal/s3test"
	"github.com/mlpipe/mlpipe/registry"
	"github.com/mlpipe/mlpipe/storage"
)

// backend opens a new, empty registry of one kind.
type backend struct {
	name string
	open func(t *testing.T) (*registry.Store, string)
	// crashAt is where a kill leaves a version half-written.
	crashAt string
}

// TestBackends runs the registry's guarantees against both storages: the
// local disk and a real S3 server (SeaweedFS, started here).
func TestBackends(t *testing.T) {
	backends := []backend{{
		name: "disk",
		open: func(t *testing.T) (*registry.Store, string) {
			root := t.TempDir()
			s, err := registry.Open(root)
			if err != nil {
				t.Fatal(err)
			}
			return s, root
		},
		crashAt: "register-before-rename",
	}}
	srv, why := s3test.Try(t)
	if srv != nil {
		backends = append(backends, backend{
			name: "s3",
			open: func(t *testing.T) (*registry.Store, string) {
				t.Setenv("MLPIPE_CACHE_DIR", t.TempDir())
				url := srv.URL(strings.NewReplacer("/", "-").Replace(t.Name()))
				s, err := registry.Open(url)
				if err != nil {
					t.Fatal(err)
				}
				s.SetLease(3 * time.Second)
				return s, url
			},
			crashAt: "register-before-publish",
		})
	} else {
		t.Run("s3", func(t *testing.T) { t.Skip(why) })
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Run("Contract", func(t *testing.T) { testContract(t, b) })
			t.Run("Lock", func(t *testing.T) { testLock(t, b) })
			t.Run("Crash", func(t *testing.T) { testCrash(t, b) })
			if b.name == "s3" {
				t.Run("Lease", func(t *testing.T) { testLease(t, b) })
				t.Run("Check", func(t *testing.T) { testCheckS3(t, b) })
				t.Run("RunDownload", func(t *testing.T) { testRunDownloadS3(t, b) })
			}
		})
	}
}

func testContract(t *testing.T, b backend) {
	s, _ := b.open(t)
	if ms, err := s.Models(); err != nil || len(ms) != 0 {
		t.Fatalf("empty registry: models %v, %v", ms, err)
	}
	for i, content := range []string{"one", "two", "three"} {
		if v := register(t, s, "flights-delay", content); v != i+1 {
			t.Fatalf("version = %d, want %d", v, i+1)
		}
	}
	if r, err := s.Register("flights-delay", modelDir(t, "two")); err != nil || !r.Existing || r.Version != 2 {
		t.Errorf("identical bundle: %+v, %v; want existing v2", r, err)
	}
	vs, err := s.Versions("flights-delay")
	if err != nil || fmt.Sprint(vs) != "[1 2 3]" {
		t.Fatalf("versions = %v, %v", vs, err)
	}
	d, err := s.VersionDir("flights-delay", 2)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(d, "model.json")); string(b) != "two" {
		t.Errorf("v2/model.json = %q", b)
	}
	digest, err := s.VerifyVersion("flights-delay", 2)
	if got, _ := s.Digest("flights-delay", 2); err != nil || got != digest {
		t.Errorf("digest %s, verified %s, %v", got, digest, err)
	}
	for _, v := range []int{2, 3} {
		if err := s.SetAlias("flights-delay", "production", v); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetAlias("flights-delay", "previous", 2); err != nil {
		t.Fatal(err)
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
		{"ErrUnknownVersion", func() error { _, err := s.VersionDir("flights-delay", 7); return err }(), registry.ErrNotFound},
		{"ErrEscape", func() error { _, err := s.VersionDir("../x", 1); return err }(), registry.ErrInvalidName},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, tt.err, tt.want)
		}
	}
	for ref, want := range map[string]int{"flights-delay": 3, "flights-delay@previous": 2, "flights-delay@v1": 1} {
		if _, v, err := s.Resolve(ref); v != want || err != nil {
			t.Errorf("Resolve(%s) = %d, %v; want %d", ref, v, err, want)
		}
	}
	if a, err := s.Aliases("flights-delay"); err != nil || fmt.Sprint(a) != "map[previous:2 production:3]" {
		t.Errorf("aliases = %v, %v", a, err)
	}
	if ms, _ := s.Models(); fmt.Sprint(ms) != "[flights-delay]" {
		t.Errorf("models = %v", ms)
	}
	if h := s.Hint("flights-delay@prodution"); !strings.Contains(h, "did you mean flights-delay@production?") {
		t.Errorf("hint = %q", h)
	}

	// Run records: created whole, then updated file by file.
	if err := s.SaveRun("20261206T010203Z-ab12", map[string]any{"summary.json": map[string]int{"rows": 1}, "log.txt": []byte("hello\n")}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveRun("20261206T010203Z-ab12", map[string]any{"summary.json": map[string]int{"rows": 2}}); err != nil {
		t.Fatal(err)
	}
	ids, err := s.Runs()
	if err != nil || fmt.Sprint(ids) != "[20261206T010203Z-ab12]" {
		t.Errorf("runs = %v, %v", ids, err)
	}
	rd, err := s.RunDir("20261206T010203Z-ab12")
	if err != nil {
		t.Fatal(err)
	}
	var sum map[string]int
	if err := fsx.ReadJSON(filepath.Join(rd, "summary.json"), &sum); err != nil || sum["rows"] != 2 {
		t.Errorf("summary.json = %v, %v", sum, err)
	}
	if b, _ := os.ReadFile(filepath.Join(rd, "log.txt")); string(b) != "hello\n" {
		t.Errorf("log.txt = %q", b)
	}
	if _, err := s.RunDir("20990101T000000Z-none"); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("missing run: %v", err)
	}
	if problems, err := s.Check(registry.CheckOptions{}); err != nil || len(problems) != 0 {
		t.Errorf("check of a sound registry: %v, %v", problems, err)
	}
}

func testLock(t *testing.T, b backend) {
	s, _ := b.open(t)
	ctx := context.Background()
	unlock, err := s.Lock(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lock(ctx, false); !errors.Is(err, registry.ErrLocked) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Fatalf("second lock: %v, want ErrLocked naming this pid", err)
	}
	// The training lock is another lock.
	tu, err := s.TrainingLock(ctx, false)
	if err != nil {
		t.Fatalf("training lock while the writer lock is held: %v", err)
	}
	if _, err := s.TrainingLock(ctx, false); !errors.Is(err, registry.ErrTraining) {
		t.Errorf("second training lock: %v, want ErrTraining", err)
	}
	if err := tu(); err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		u, err := s.Lock(ctx, true)
		if err == nil {
			err = u()
		}
		got <- err
	}()
	time.Sleep(100 * time.Millisecond)
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("waiting lock: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the waiting writer never got the lock")
	}
	unlock, _ = s.Lock(ctx, false)
	defer unlock()
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, err := s.Lock(cctx, true); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("lock with an expired context: %v", err)
	}
}

// testCrash kills a process that holds the writer lock in the middle of
// a registration (and, separately, of an alias move) and checks that the
// registry shows nothing of it, that the lock comes back, that Check
// finds the leftovers and repairs them, and that the next registration
// works.
func testCrash(t *testing.T, b backend) {
	s, where := b.open(t)
	register(t, s, "m", "first")
	if err := s.SetAlias("m", "production", 1); err != nil {
		t.Fatal(err)
	}
	// The first child dies before its version is visible, the second
	// after registering v2 and before moving production to it.
	for i, point := range []string{b.crashAt, "alias-production"} {
		out, err := crashChild(t, where, point, modelDir(t, "second-"+point))
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("child at %s: %v, want killed\n%s", point, err, out)
		}
		if vs, _ := s.Versions("m"); len(vs) != i+1 {
			t.Errorf("killed at %s: versions = %v, want %d", point, vs, i+1)
		}
		if v, _ := s.Alias("m", "production"); v != 1 {
			t.Errorf("killed at %s: production = %d, want 1", point, v)
		}
	}
	// The dead holder's lock: gone with the process on disk; on S3 a
	// lease that can be taken once it expires.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	unlock, err := s.Lock(ctx, true)
	if err != nil {
		t.Fatalf("lock after the holder died: %v", err)
	}
	t.Logf("lock taken %.1f s after the holder was killed", time.Since(start).Seconds())
	defer unlock()
	problems, err := s.Check(registry.CheckOptions{})
	if err != nil || len(problems) == 0 || !strings.Contains(fmt.Sprint(problems), "leftover of an interrupted write") {
		t.Fatalf("check = %v, %v; want the leftover of the killed registration", problems, err)
	}
	if _, err := s.Check(registry.CheckOptions{Repair: true}); err != nil {
		t.Fatal(err)
	}
	if problems, _ := s.Check(registry.CheckOptions{}); len(problems) != 0 {
		t.Errorf("after repair: %v", problems)
	}
	if v := register(t, s, "m", "third"); v != 3 {
		t.Errorf("next version = %d, want 3", v)
	}
}

// crashChild runs TestCrashChild in a new process that dies at point.
func crashChild(t *testing.T, where, point, bundleDir string) ([]byte, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crash.EnvVar+"="+point, "MLPIPE_TEST_REGISTRY="+where, "MLPIPE_TEST_BUNDLE="+bundleDir)
	return cmd.CombinedOutput()
}

// TestCrashChild is the process testCrash kills; it does nothing
// unless testCrash started it.
func TestCrashChild(t *testing.T) {
	where := os.Getenv("MLPIPE_TEST_REGISTRY")
	if where == "" {
		t.Skip("run by testCrash")
	}
	s, err := registry.Open(where)
	if err != nil {
		t.Fatal(err)
	}
	s.SetLease(3 * time.Second)
	if _, err := s.Lock(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Register("m", os.Getenv("MLPIPE_TEST_BUNDLE")); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAlias("m", "production", 2); err != nil {
		t.Fatal(err)
	}
	t.Fatal("not killed")
}

// testLease: a lease that has expired is taken over; one that has not
// is not; a holder whose lease was taken learns it at unlock; an alias
// moves only from the ETag that was read.
func testLease(t *testing.T, b backend) {
	s, url := b.open(t)
	bucket, err := storage.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	put := func(expires time.Time) {
		body, _ := json.Marshal(map[string]any{"holder": "pid 99999 on elsewhere", "since": time.Now().Add(-time.Hour), "expires": expires})
		if _, err := bucket.Put(ctx, ".lock", body, storage.Cond{}); err != nil {
			t.Fatal(err)
		}
	}
	put(time.Now().Add(time.Hour))
	if _, err := s.Lock(ctx, false); !errors.Is(err, registry.ErrLocked) || !strings.Contains(err.Error(), "pid 99999 on elsewhere") {
		t.Errorf("lock held by a live lease: %v, want ErrLocked naming its holder", err)
	}
	put(time.Now().Add(-time.Second))
	unlock, err := s.Lock(ctx, false)
	if err != nil {
		t.Fatalf("lock held by an expired lease: %v", err)
	}
	// Another writer takes the lease from under the holder.
	put(time.Now().Add(time.Hour))
	time.Sleep(1500 * time.Millisecond) // past one renewal (lease/3 = 1 s)
	if err := unlock(); !errors.Is(err, registry.ErrConflict) {
		t.Errorf("unlock of a lease taken meanwhile: %v, want ErrConflict", err)
	}
	if err := bucket.Delete(ctx, ".lock"); err != nil {
		t.Fatal(err)
	}
	// The holder renews: it keeps the lock past the lease.
	unlock, err = s.Lock(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(4 * time.Second)
	if _, err := s.Lock(ctx, false); !errors.Is(err, registry.ErrLocked) {
		t.Errorf("lock after the lease's length: %v, want ErrLocked (the holder renews)", err)
	}
	if err := unlock(); err != nil {
		t.Errorf("unlock: %v", err)
	}

	// Alias compare-and-swap.
	register(t, s, "m", "a")
	register(t, s, "m", "b")
	if err := s.SetAlias("m", "production", 1); err != nil {
		t.Fatal(err)
	}
	_, etag, err := bucket.Get(ctx, "models/m/aliases/production")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetAlias("m", "production", 2); err != nil {
		t.Fatal(err)
	}
	if err := registry.CASAlias(s, "m", "production", 1, etag); !errors.Is(err, registry.ErrConflict) {
		t.Errorf("alias move from a stale ETag: %v, want ErrConflict", err)
	}
	if err := registry.CASAlias(s, "m", "candidate", 1, ""); err != nil {
		t.Errorf("new alias: %v", err)
	}
	if err := registry.CASAlias(s, "m", "candidate", 2, ""); !errors.Is(err, registry.ErrConflict) {
		t.Errorf("creating an alias that exists: %v, want ErrConflict", err)
	}
	if v, _ := s.Alias("m", "production"); v != 2 {
		t.Errorf("production = %d, want 2", v)
	}
}

// testCheckS3: a version whose object was damaged on the server is
// reported and not served; a damaged cache is not what is verified.
func testCheckS3(t *testing.T, b backend) {
	s, url := b.open(t)
	bucket, _ := storage.Open(url)
	ctx := context.Background()
	register(t, s, "m", "a")
	register(t, s, "m", "b")
	objs, err := bucket.List(ctx, "models/m/staging")
	if err != nil {
		t.Fatal(err)
	}
	var victim string
	for _, o := range objs {
		if strings.HasSuffix(o.Key, "/model.json") && strings.Contains(o.Key, "staging/") {
			victim = o.Key
		}
	}
	p, _, _ := bucket.Get(ctx, "models/m/versions/v2")
	if !strings.Contains(string(p), strings.Split(victim, "/")[3]) {
		victim = strings.Replace(victim, strings.Split(victim, "/")[3], "", 1)
		// v1's files: pick v2's instead.
		for _, o := range objs {
			if strings.HasSuffix(o.Key, "/model.json") && strings.Contains(string(p), strings.Split(o.Key, "/")[3]) {
				victim = o.Key
			}
		}
	}
	if _, err := bucket.Put(ctx, victim, []byte("X"), storage.Cond{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.VersionDir("m", 2); !errors.Is(err, manifest.ErrMismatch) {
		t.Errorf("VersionDir of a damaged version: %v, want ErrMismatch", err)
	}
	if _, err := s.VerifyVersion("m", 1); err != nil {
		t.Errorf("v1: %v", err)
	}
	problems, err := s.Check(registry.CheckOptions{})
	if err != nil || len(problems) != 1 || !strings.Contains(problems[0].What, "model.json") {
		t.Errorf("check = %v, %v; want v2's model.json", problems, err)
	}
}

// testRunDownloadS3: a run record whose files cannot all be downloaded
// is an error, not a directory with files missing. Two objects of the
// record, "notes" and "notes/more", cannot both be files on disk: once
// the first is, the second's directory cannot be made.
func testRunDownloadS3(t *testing.T, b backend) {
	s, url := b.open(t)
	bucket, err := storage.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, key := range []string{"runs/r1/.complete", "runs/r1/notes", "runs/r1/notes/more"} {
		if _, err := bucket.Put(ctx, key, []byte("x"), storage.Cond{}); err != nil {
			t.Fatal(err)
		}
	}
	if dir, err := s.RunDir("r1"); err == nil {
		t.Errorf("RunDir of a record that cannot be downloaded whole = %s, nil; want an error", dir)
	}
	if err := bucket.Delete(ctx, "runs/r1/notes/more"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RunDir("r1"); err != nil {
		t.Errorf("RunDir once the record can be downloaded: %v", err)
	}
}
