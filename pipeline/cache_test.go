package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mlpipe/mlpipe/internal/fsx"
)

func TestDiffInputs(t *testing.T) {
	features := func(minFreq int) []any {
		return []any{
			map[string]any{"column": "date", "transform": "time"},
			map[string]any{"column": "origin", "transform": "categorical", "min_frequency": minFreq},
		}
	}
	tests := []struct {
		name     string
		old, now map[string]any
		want     string
	}{
		{"ConfigKey", map[string]any{"config features": features(20)}, map[string]any{"config features": features(5)},
			"config features[1].min_frequency changed"},
		{"Data", map[string]any{"data": "sha256:a"}, map[string]any{"data": "sha256:b"},
			"data changed (new fingerprint)"},
		{"Code", map[string]any{"code": "abc"}, map[string]any{"code": "def"},
			"code version changed (abc → def)"},
		{"Upstream", map[string]any{"upstream features": "k1"}, map[string]any{"upstream features": "k2"},
			"features output changed"},
		{"NewSection", map[string]any{}, map[string]any{"config seed": 1},
			"config seed changed"},
		{"ListLength", map[string]any{"config models": []any{"gbdt"}}, map[string]any{"config models": []any{"gbdt", "logreg"}},
			"config models changed"},
		{"Several", map[string]any{"data": "a", "code": "x", "config seed": 1, "upstream train": "k"},
			map[string]any{"data": "b", "code": "y", "config seed": 2, "upstream train": "l"},
			"code version changed (x → y), config seed changed, data changed (new fingerprint), and 1 more"},
		{"Same", map[string]any{"data": "a"}, map[string]any{"data": "a"}, "no cached output for these inputs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := diffInputs(tt.old, tt.now); got != tt.want {
				t.Errorf("diffInputs = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestCacheStore checks the store's atomicity and pruning: an entry
// without inputs.json (a crash before the rename) is never a hit, and
// only the newest Keep entries stay.
func TestCacheStore(t *testing.T) {
	c := &Cache{Dir: t.TempDir(), Keep: 2}
	in := func(i int) map[string]any { return map[string]any{"data": i} }
	var keys []string
	for i := range 3 {
		key, err := cacheKey(in(i))
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, key)
		if err := c.store(context.Background(), "s", key, in(i), func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "out"), []byte{byte(i)}, 0o644)
		}); err != nil {
			t.Fatal(err)
		}
		// Entries are ordered by modification time; make it distinct.
		if err := os.Chtimes(filepath.Join(c.Dir, "s", key, inputsFile), ageBy(i), ageBy(i)); err != nil {
			t.Fatal(err)
		}
	}
	// A crash leftover from long ago is removed, a fresh one is not.
	old, err := fsx.TempDir(filepath.Join(c.Dir, "s"), "old")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(old, ageBy(0), ageBy(0)); err != nil {
		t.Fatal(err)
	}
	fresh, err := fsx.TempDir(filepath.Join(c.Dir, "s"), "fresh")
	if err != nil {
		t.Fatal(err)
	}
	c.prune("s")
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("an old temporary directory survived pruning: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a fresh temporary directory was pruned: %v", err)
	}
	if _, decision, _ := c.lookup(context.Background(), "s", keys[0], in(0)); decision != CacheMiss {
		t.Errorf("oldest entry: %s, want pruned (miss)", decision)
	}
	for _, k := range keys[1:] {
		if dir, decision, _ := c.lookup(context.Background(), "s", k, nil); decision != CacheHit || dir == "" {
			t.Errorf("entry %s: %s, want hit", k, decision)
		}
	}
	// A half-written entry (no inputs.json) is a miss, and the reason
	// compares with the newest complete entry.
	if err := os.MkdirAll(filepath.Join(c.Dir, "s", "partial"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, decision, reason := c.lookup(context.Background(), "s", "partial", in(9)); decision != CacheMiss || reason != "data changed (new fingerprint)" {
		t.Errorf("partial entry: %s (%s), want a miss against the newest entry", decision, reason)
	}
	c.NoRead = true
	if _, decision, _ := c.lookup(context.Background(), "s", keys[2], in(2)); decision != CacheOff {
		t.Errorf("NoRead: %s, want off", decision)
	}
}

// ageBy returns a time i hours after a fixed instant.
func ageBy(i int) time.Time { return time.Date(2026, 1, 1, i, 0, 0, 0, time.UTC) }
