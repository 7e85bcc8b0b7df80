package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mlpipe/mlpipe/internal/fsx"
	"github.com/mlpipe/mlpipe/storage"
)

// The step cache on object storage.
//
// A Cache whose Dir is s3://BUCKET/PREFIX keeps its entries there, and a
// local mirror of the entries it wrote or read (MLPIPE_CACHE_DIR, else
// the user's cache directory, /mlpipe/stepcache/HASH), which it uses as
// the on-disk cache: an entry, whose key is the hash of everything its
// outputs depend on, is valid wherever it is found. An entry is
//
//	PREFIX/STAGE/KEY/DATA/...      the stage's outputs (DATA: "data-" and a random id)
//	PREFIX/STAGE/KEY/entry.json    the manifest: the inputs, DATA, each file and its size
//
// The outputs are uploaded first and the manifest last, in one PUT, so
// an entry is visible whole or not at all: a crash mid-upload leaves
// outputs that no manifest names, which no run reads and a later prune
// removes once an hour old (a younger one may be a run still uploading).
// A fetched entry is checked against its manifest's sizes and appears
// in the mirror by one rename, as on disk. Storing a key again (--no-cache)
// replaces the manifest in one PUT; readers see the old entry or the new.

// manifestFile is an entry's manifest object.
const manifestFile = "entry.json"

// orphanAge is how old unpublished outputs must be before a prune
// removes them (as the temporary directories on disk).
const orphanAge = time.Hour

// manifest is the content of entry.json.
type manifest struct {
	// Stored orders the entries (an object's modification time has a
	// resolution of a second).
	Stored time.Time      `json:"stored"`
	Inputs map[string]any `json:"inputs"`
	Data   string         `json:"data"`
	Files  []entryFile    `json:"files"`
}

type entryFile struct {
	Name string `json:"name"` // slash-separated, relative to DATA
	Size int64  `json:"size"`
}

// root returns the local directory of the cache: Dir, or for a URL the
// mirror, opening the bucket the first time.
func (c *Cache) root() (string, error) {
	c.openOnce.Do(func() {
		if !storage.IsURL(c.Dir) {
			c.local = c.Dir
			return
		}
		b, err := storage.Open(c.Dir)
		if err != nil {
			c.openErr = fmt.Errorf("cache: %w", err)
			return
		}
		base := os.Getenv("MLPIPE_CACHE_DIR")
		if base == "" {
			if base, err = os.UserCacheDir(); err != nil {
				c.openErr = fmt.Errorf("cache %s: no local cache directory: %w", c.Dir, err)
				return
			}
			base = filepath.Join(base, "mlpipe")
		}
		// One mirror per store: the endpoint is part of its identity.
		sum := sha256.Sum256([]byte(os.Getenv("AWS_ENDPOINT_URL_S3") + os.Getenv("AWS_ENDPOINT_URL") + "|" + b.String()))
		c.remote, c.local = b, filepath.Join(base, "stepcache", hex.EncodeToString(sum[:8]))
	})
	return c.local, c.openErr
}

// fetch downloads the entry stage/key into the local directory dst. It
// returns false and no error when there is no such entry.
func (c *Cache) fetch(ctx context.Context, stage, key, dst string) (bool, error) {
	data, _, err := c.remote.Get(ctx, path.Join(stage, key, manifestFile))
	if errors.Is(err, storage.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil || m.Data == "" || m.Inputs == nil {
		return false, fmt.Errorf("%s: %w", c.remote.URL(path.Join(stage, key, manifestFile)), errNoEntry)
	}
	tmp, err := fsx.TempDir(filepath.Dir(dst), key)
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(tmp) // after a successful rename there is nothing left to remove
	for _, f := range m.Files {
		if !fs.ValidPath(f.Name) || f.Name == inputsFile {
			return false, fmt.Errorf("%s: file %q: %w", c.remote.URL(path.Join(stage, key, manifestFile)), f.Name, errNoEntry)
		}
		local := filepath.Join(tmp, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(local), 0o755); err != nil {
			return false, err
		}
		obj := path.Join(stage, key, m.Data, f.Name)
		if err := c.remote.Download(ctx, obj, local); err != nil {
			return false, err
		}
		if fi, err := os.Stat(local); err != nil || fi.Size() != f.Size {
			return false, fmt.Errorf("%s: not the size its manifest says: %w", c.remote.URL(obj), errNoEntry)
		}
	}
	// inputs.json goes last, as in store.
	if err := fsx.WriteJSON(filepath.Join(tmp, inputsFile), m.Inputs); err != nil {
		return false, err
	}
	if err := os.Rename(tmp, dst); err != nil {
		if _, serr := os.Stat(filepath.Join(dst, inputsFile)); serr == nil {
			return true, nil // another run fetched it first
		}
		return false, err
	}
	c.prune(stage)
	return true, nil
}

// upload stores the local entry dir as stage/key on object storage:
// its files under a fresh DATA prefix, then the manifest. Older entries
// beyond Keep, and orphaned outputs, are removed.
func (c *Cache) upload(ctx context.Context, stage, key string, in map[string]any, dir string) error {
	m := manifest{Stored: time.Now().UTC(), Inputs: in, Data: "data-" + fsx.RandomID(6)}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == inputsFile {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		if err := c.remote.PutFile(ctx, path.Join(stage, key, m.Data, name), p); err != nil {
			return err
		}
		m.Files = append(m.Files, entryFile{Name: name, Size: info.Size()})
		return nil
	})
	if err != nil {
		return fmt.Errorf("cache: upload %s: %w", stage, err)
	}
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	if _, err := c.remote.Put(ctx, path.Join(stage, key, manifestFile), b, storage.Cond{}); err != nil {
		return fmt.Errorf("cache: publish %s: %w", stage, err)
	}
	return c.pruneRemote(ctx, stage)
}

// remoteEntry is a published entry seen in a listing.
type remoteEntry struct {
	key string
	m   manifest
}

// remoteEntries lists a stage's objects, and its published entries with
// their manifests, newest first. A manifest that cannot be read is left
// out (a concurrent prune may have removed it).
func (c *Cache) remoteEntries(ctx context.Context, stage string) ([]storage.Object, []remoteEntry, error) {
	objs, err := c.remote.List(ctx, stage)
	if err != nil {
		return nil, nil, err
	}
	var es []remoteEntry
	for _, o := range objs {
		rest := strings.TrimPrefix(o.Key, stage+"/")
		key, ok := strings.CutSuffix(rest, "/"+manifestFile)
		if !ok || strings.Contains(key, "/") {
			continue
		}
		data, _, err := c.remote.Get(ctx, o.Key)
		if errors.Is(err, storage.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		var m manifest
		if json.Unmarshal(data, &m) != nil || m.Inputs == nil {
			continue
		}
		es = append(es, remoteEntry{key, m})
	}
	slices.SortFunc(es, func(a, b remoteEntry) int { return b.m.Stored.Compare(a.m.Stored) })
	return objs, es, nil
}

// newestRemote returns the inputs of the stage's newest entry on object
// storage.
func (c *Cache) newestRemote(ctx context.Context, stage string) (map[string]any, bool) {
	_, es, err := c.remoteEntries(ctx, stage)
	if err != nil || len(es) == 0 {
		return nil, false
	}
	return es[0].m.Inputs, true
}

// pruneRemote keeps the stage's newest Keep entries on object storage.
// An older entry is unpublished (its manifest deleted) before its
// outputs are; outputs that no manifest names are removed once
// orphanAge old.
func (c *Cache) pruneRemote(ctx context.Context, stage string) error {
	keep := c.Keep
	if keep <= 0 {
		keep = 3
	}
	objs, es, err := c.remoteEntries(ctx, stage)
	if err != nil {
		return fmt.Errorf("cache: prune %s: %w", stage, err)
	}
	live := map[string]string{} // key → its DATA
	for i, e := range es {
		if i >= keep {
			if err := c.remote.Delete(ctx, path.Join(stage, e.key, manifestFile)); err != nil {
				return fmt.Errorf("cache: prune %s: %w", stage, err)
			}
			continue
		}
		live[e.key] = e.m.Data
	}
	for _, o := range objs {
		parts := strings.SplitN(strings.TrimPrefix(o.Key, stage+"/"), "/", 3)
		if len(parts) < 3 || live[parts[0]] == parts[1] {
			continue // a manifest, or outputs a live manifest names
		}
		published := false
		for _, e := range es[:min(keep, len(es))] {
			published = published || e.key == parts[0]
		}
		// Outputs of a pruned entry go at once; unnamed ones (an upload
		// in progress, or one a crash cut) once orphanAge old.
		pruned := !published && slices.ContainsFunc(es, func(e remoteEntry) bool { return e.key == parts[0] })
		if pruned || time.Since(o.Modified) > orphanAge {
			if err := c.remote.Delete(ctx, o.Key); err != nil {
				return fmt.Errorf("cache: prune %s: %w", stage, err)
			}
		}
	}
	return nil
}
