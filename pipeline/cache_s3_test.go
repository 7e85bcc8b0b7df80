package pipeline

import (
	"context"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlpipe/mlpipe/internal/s3test"
	"github.com/mlpipe/mlpipe/storage"
)

// TestCacheBackends runs the cache's guarantees on disk and on a real S3
// server: a stored entry is a hit with its outputs intact (on S3, from
// an empty mirror too: another machine), only the newest Keep entries
// stay, and what a crash mid-write leaves (outputs without their
// inputs.json or manifest) is never a hit.
func TestCacheBackends(t *testing.T) {
	backends := map[string]func(t *testing.T) string{
		"disk": func(t *testing.T) string { return t.TempDir() },
		"s3": func(t *testing.T) string {
			return s3test.Start(t).URL(strings.ReplaceAll(t.Name(), "/", "-"))
		},
	}
	for name, place := range backends {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			dir := place(t)
			t.Setenv("MLPIPE_CACHE_DIR", t.TempDir())
			c := &Cache{Dir: dir, Keep: 2}
			in := func(i int) map[string]any { return map[string]any{"data": float64(i)} }
			var keys []string
			for i := range 3 {
				key, err := cacheKey(in(i))
				if err != nil {
					t.Fatal(err)
				}
				keys = append(keys, key)
				if err := c.store(ctx, "s", key, in(i), func(dir string) error {
					if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
						return err
					}
					return os.WriteFile(filepath.Join(dir, "sub", "out"), []byte{byte(i), 'x'}, 0o644)
				}); err != nil {
					t.Fatal(err)
				}
			}
			// Another machine (an empty mirror) sees the same entries.
			t.Setenv("MLPIPE_CACHE_DIR", t.TempDir())
			other := &Cache{Dir: dir, Keep: 2}
			for i, key := range keys {
				got, decision, reason := other.lookup(ctx, "s", key, in(i))
				if name == "disk" && i == 0 {
					// On disk entries are ordered by modification time,
					// which the three stores may share: only check the
					// two newest (TestCacheStore orders them).
					continue
				}
				if i == 0 {
					if decision != CacheMiss {
						t.Errorf("oldest entry: %s, want pruned (miss)", decision)
					}
					continue
				}
				if decision != CacheHit {
					t.Errorf("entry %d: %s (%s), want hit", i, decision, reason)
					continue
				}
				b, err := os.ReadFile(filepath.Join(got, "sub", "out"))
				if err != nil || string(b) != string([]byte{byte(i), 'x'}) {
					t.Errorf("entry %d restored %q, %v", i, b, err)
				}
			}
			// A miss names what changed against the newest entry.
			if _, decision, reason := other.lookup(ctx, "s", "k-new", in(9)); decision != CacheMiss || reason != "data changed (new fingerprint)" {
				t.Errorf("new inputs: %s (%s), want a miss against the newest entry", decision, reason)
			}
			if name != "s3" {
				return
			}
			// What a crash mid-upload leaves: outputs, no manifest.
			b, err := storage.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.Put(ctx, path.Join("s", "crashed", "data-0", "sub", "out"), []byte("half"), storage.Cond{}); err != nil {
				t.Fatal(err)
			}
			if _, decision, _ := other.lookup(ctx, "s", "crashed", in(9)); decision != CacheMiss {
				t.Errorf("outputs without a manifest: %s, want miss", decision)
			}
			// A manifest whose file is not the size it says is unreadable,
			// a miss, and nothing of it lands in the mirror.
			if _, err := b.Put(ctx, path.Join("s", "bad", manifestFile), []byte(`{"inputs":{"data":9},"data":"data-0","files":[{"name":"sub/out","size":99}]}`), storage.Cond{}); err != nil {
				t.Fatal(err)
			}
			if _, err := b.Put(ctx, path.Join("s", "bad", "data-0", "sub", "out"), []byte("short"), storage.Cond{}); err != nil {
				t.Fatal(err)
			}
			if _, decision, reason := other.lookup(ctx, "s", "bad", in(9)); decision != CacheMiss || !strings.Contains(reason, "unreadable") {
				t.Errorf("wrong size: %s (%s), want an unreadable miss", decision, reason)
			}
			if _, err := os.Stat(filepath.Join(other.local, "s", "bad")); !os.IsNotExist(err) {
				t.Errorf("a bad entry reached the mirror: %v", err)
			}
			// A fresh orphan may be an upload in progress: a prune keeps it;
			// the pruned entry's outputs are gone.
			if err := other.pruneRemote(ctx, "s"); err != nil {
				t.Fatal(err)
			}
			objs, err := b.List(ctx, "s")
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, o := range objs {
				names = append(names, o.Key)
			}
			all := strings.Join(names, " ")
			if !strings.Contains(all, "s/crashed/data-0/sub/out") {
				t.Errorf("a fresh orphan was pruned: %s", all)
			}
			if strings.Contains(all, "s/"+keys[0]+"/") {
				t.Errorf("the pruned entry's objects remain: %s", all)
			}
		})
	}
}
