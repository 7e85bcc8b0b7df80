package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/internal/fsx"
	"github.com/mlpipe/mlpipe/internal/version"
	"github.com/mlpipe/mlpipe/storage"
)

// The step cache.
//
// A cached stage names its inputs: the data fingerprint, the config
// sections it reads, the code version, and the cache keys of the stages
// whose outputs it consumes. The sha256 of those inputs is the stage's
// key. When an entry with that key exists the stage is skipped and its
// stored outputs are restored; otherwise it runs and its outputs are
// stored under the key. Keys chain: a changed upstream key changes every
// key below it.
//
// The store is plain files (docs/architecture.md):
//
//	CACHE/STAGE/KEY/inputs.json   the inputs the key was computed from
//	CACHE/STAGE/KEY/...           the stage's outputs (JSON, Arrow IPC)
//
// An entry appears by one rename of a complete directory, so a crash
// never leaves a half-written entry under a key; only the newest few
// entries of each stage are kept. On object storage the same holds by
// other means (cache_s3.go).

// Cache is where cached stages keep their outputs.
type Cache struct {
	// Dir is a directory, or a URL s3://BUCKET/PREFIX (cache_s3.go).
	Dir string
	// NoRead makes every stage run (--no-cache); outputs are still
	// stored, so a later run (or --resume) can use them.
	NoRead bool
	// Keep is how many entries each stage keeps (default 3).
	Keep int

	// On object storage: the bucket prefix, and the local mirror that
	// stands in for Dir (set once by root).
	openOnce sync.Once
	remote   *storage.Bucket
	local    string
	openErr  error
}

// cachedStage is a stage whose outputs the cache can store and restore.
type cachedStage interface {
	Stage
	// inputs returns what the stage's outputs depend on, by name:
	// "data", "code", "config SECTION" and "upstream STAGE".
	inputs(s *State) (map[string]any, error)
	// save writes the stage's outputs from s into dir.
	save(dir string, s *State) error
	// restore reads them back into s.
	restore(dir string, s *State) error
}

// The cache decision recorded in a StageResult.
const (
	CacheHit  = "hit"  // skipped: outputs restored from the cache
	CacheMiss = "miss" // ran: no entry for its inputs (Reason says what changed)
	CacheOff  = "off"  // ran: --no-cache
)

const inputsFile = "inputs.json"

// lookup decides whether the stage with these inputs can be skipped. It
// returns the entry's directory on a hit, and on a miss the reason the
// stage runs.
func (c *Cache) lookup(ctx context.Context, stage, key string, in map[string]any) (dir, decision, reason string) {
	if c.NoRead {
		return "", CacheOff, "--no-cache"
	}
	root, err := c.root()
	if err != nil {
		return "", CacheMiss, "cache unavailable (" + err.Error() + ")"
	}
	dir = filepath.Join(root, stage, key)
	if _, err := os.Stat(filepath.Join(dir, inputsFile)); err == nil {
		return dir, CacheHit, "inputs unchanged"
	}
	if c.remote != nil {
		ok, err := c.fetch(ctx, stage, key, dir)
		if ok {
			return dir, CacheHit, "inputs unchanged (fetched from " + c.Dir + ")"
		}
		if err != nil {
			return "", CacheMiss, "cached output unreadable (" + err.Error() + ")"
		}
	}
	prev, ok := c.newest(ctx, stage)
	if !ok {
		return "", CacheMiss, "no cached output"
	}
	return "", CacheMiss, diffInputs(prev, in)
}

// newest returns the inputs of the stage's most recent entry.
func (c *Cache) newest(ctx context.Context, stage string) (map[string]any, bool) {
	if c.remote != nil {
		return c.newestRemote(ctx, stage)
	}
	entries := c.entries(stage)
	if len(entries) == 0 {
		return nil, false
	}
	var in map[string]any
	if err := fsx.ReadJSON(filepath.Join(entries[0], inputsFile), &in); err != nil {
		return nil, false
	}
	return in, true
}

// entries lists a stage's complete entries, newest first.
func (c *Cache) entries(stage string) []string {
	base, _ := c.root()
	root := filepath.Join(base, stage)
	des, err := os.ReadDir(root)
	if err != nil {
		return nil
	}
	type entry struct {
		dir string
		mod time.Time
	}
	var es []entry
	for _, de := range des {
		if !de.IsDir() || fsx.IsTemp(de.Name()) {
			continue
		}
		fi, err := os.Stat(filepath.Join(root, de.Name(), inputsFile))
		if err != nil {
			continue
		}
		es = append(es, entry{filepath.Join(root, de.Name()), fi.ModTime()})
	}
	sort.Slice(es, func(i, j int) bool { return es[i].mod.After(es[j].mod) })
	dirs := make([]string, len(es))
	for i, e := range es {
		dirs[i] = e.dir
	}
	return dirs
}

// store saves a stage's outputs under key: save writes them into a
// temporary directory, which is renamed into place once complete. Older
// entries beyond Keep are removed.
func (c *Cache) store(ctx context.Context, stage, key string, in map[string]any, save func(dir string) error) error {
	base, err := c.root()
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	root := filepath.Join(base, stage)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	tmp, err := fsx.TempDir(root, key)
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	defer os.RemoveAll(tmp) // after a successful rename there is nothing left to remove
	if err := save(tmp); err != nil {
		return fmt.Errorf("cache: %s: %w", stage, err)
	}
	// inputs.json goes last: an entry is complete when it has one.
	if err := fsx.WriteJSON(filepath.Join(tmp, inputsFile), in); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	if err := fsx.SyncTree(tmp); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	dst := filepath.Join(root, key)
	if err := os.RemoveAll(dst); err != nil { // a stale entry (--no-cache) is replaced
		return fmt.Errorf("cache: %w", err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	if err := fsx.SyncDir(root); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	c.prune(stage)
	if c.remote != nil {
		return c.upload(ctx, stage, key, in, dst)
	}
	return nil
}

// prune keeps the newest Keep entries of a stage, and removes the
// temporary directories of writes that a crash interrupted more than an
// hour ago (a younger one may belong to a run still writing it).
func (c *Cache) prune(stage string) {
	keep := c.Keep
	if keep <= 0 {
		keep = 3
	}
	entries := c.entries(stage)
	for i := keep; i < len(entries); i++ {
		_ = os.RemoveAll(entries[i]) // a reader that has the files open keeps them until it closes them
	}
	base, _ := c.root()
	root := filepath.Join(base, stage)
	des, _ := os.ReadDir(root)
	for _, de := range des {
		if !fsx.IsTemp(de.Name()) {
			continue
		}
		if fi, err := de.Info(); err == nil && time.Since(fi.ModTime()) > time.Hour {
			_ = os.RemoveAll(filepath.Join(root, de.Name()))
		}
	}
}

// cacheKey is the sha256 of the inputs' canonical JSON (encoding/json
// sorts map keys).
func cacheKey(in map[string]any) (string, error) {
	b, err := json.Marshal(in)
	if err != nil {
		return "", fmt.Errorf("cache key: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16]), nil
}

// diffInputs says which inputs differ between an older entry and now,
// down to the config key ("config features[2].min_frequency changed").
func diffInputs(old, now map[string]any) string {
	// Compare through JSON so both sides have the same types.
	normalise := func(m map[string]any) map[string]any {
		b, _ := json.Marshal(m)
		var out map[string]any
		_ = json.Unmarshal(b, &out)
		return out
	}
	old, now = normalise(old), normalise(now)
	var changes []string
	for _, name := range slices.Sorted(maps.Keys(union(old, now))) {
		a, b := old[name], now[name]
		if reflect.DeepEqual(a, b) {
			continue
		}
		switch {
		case name == "data":
			changes = append(changes, "data changed (new fingerprint)")
		case name == "code":
			changes = append(changes, fmt.Sprintf("code version changed (%v → %v)", a, b))
		case strings.HasPrefix(name, "config "):
			var paths []string
			diffValue(strings.TrimPrefix(name, "config "), a, b, &paths)
			for _, p := range paths {
				changes = append(changes, "config "+p+" changed")
			}
		case strings.HasPrefix(name, "upstream "):
			changes = append(changes, strings.TrimPrefix(name, "upstream ")+" output changed")
		default:
			changes = append(changes, name+" changed")
		}
	}
	if len(changes) == 0 {
		return "no cached output for these inputs"
	}
	const most = 3
	if len(changes) > most {
		changes = append(changes[:most], fmt.Sprintf("and %d more", len(changes)-most))
	}
	return strings.Join(changes, ", ")
}

// diffValue appends the paths under path where a and b differ.
func diffValue(path string, a, b any, out *[]string) {
	if reflect.DeepEqual(a, b) {
		return
	}
	switch av := a.(type) {
	case map[string]any:
		if bv, ok := b.(map[string]any); ok {
			for _, k := range slices.Sorted(maps.Keys(union(av, bv))) {
				diffValue(path+"."+k, av[k], bv[k], out)
			}
			return
		}
	case []any:
		if bv, ok := b.([]any); ok && len(av) == len(bv) {
			for i := range av {
				diffValue(fmt.Sprintf("%s[%d]", path, i), av[i], bv[i], out)
			}
			return
		}
	}
	*out = append(*out, path)
}

func union(a, b map[string]any) map[string]bool {
	u := make(map[string]bool, len(a)+len(b))
	for k := range a {
		u[k] = true
	}
	for k := range b {
		u[k] = true
	}
	return u
}

// configInputs returns the named top-level config sections as inputs
// ("config features": ...). A dotted name ("evaluate.cost_ratio")
// selects one key of a section.
func configInputs(cfg *config.Config, in map[string]any, names ...string) error {
	for _, name := range names {
		section, key, _ := strings.Cut(name, ".")
		v, err := cfg.Section(section)
		if err != nil {
			return err
		}
		if key != "" {
			m, _ := v.(map[string]any)
			v = m[key]
		}
		in["config "+name] = v
	}
	return nil
}

// CodeVersion is the code part of every cache key: the VCS revision the
// binary was built from, or, for a build from a modified or unknown
// tree (where the revision does not pin the code), the sha256 of the
// executable itself.
func CodeVersion() string {
	codeOnce.Do(func() {
		codeVersion = version.Get()
		if codeVersion != "devel" && !strings.HasSuffix(codeVersion, "+dirty") {
			return
		}
		if h, err := hashExecutable(); err == nil {
			codeVersion = codeVersion + " build " + h
		}
	})
	return codeVersion
}

var (
	codeOnce    sync.Once
	codeVersion string
)

func hashExecutable() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	f, err := os.Open(exe)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

// errNoEntry is returned by restore when an entry lacks a file.
var errNoEntry = errors.New("incomplete cache entry")
