package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mlpipe/mlpipe/bundle"
	"github.com/mlpipe/mlpipe/internal/crash"
	"github.com/mlpipe/mlpipe/internal/fsx"
	"github.com/mlpipe/mlpipe/storage"
)

// The registry on object storage (Open with "s3://BUCKET/PREFIX") keeps
// the guarantees of the one on disk with the operations S3 has: no
// rename, but conditional puts.
//
//	PREFIX/
//	  .lock, .training.lock           lease objects: {"holder", "since", "expires"}
//	  models/NAME/staging/HEX-RAND/   a version's files, uploaded first
//	  models/NAME/versions/vN         the version's manifest object: {"version", "digest", "files"}
//	  models/NAME/aliases/ALIAS       "N\n"
//	  runs/ID/...                     a run record's files
//	  runs/ID/.complete               written last by the first save: the record exists
//	  predictions/NAME/STREAM/...     closed prediction-log segments (package predlog)
//
// A version is published by creating its manifest object with
// If-None-Match: *; before that its files are an unreferenced staging
// prefix, which readers never see and Check reports (and repairs). Two
// writers cannot publish the same number: the second gets 412 and takes
// the next. An alias moves by a put with If-Match on the ETag it read
// (ErrConflict if it moved in between). The locks are leases that their
// holder renews; a holder that dies stops renewing, and the lease can be
// taken once it expires. Readers download a version once into a local
// cache (Root), verify it against its digest, and keep it: versions are
// immutable.

// Lease is how long a lock on object storage stays taken without being
// renewed (its holder renews it every third of that). A crashed holder
// blocks writers for at most this long.
const Lease = 30 * time.Second

// ErrConflict means an object changed between its read and a
// conditional write (an alias moved by another writer, a lease taken).
var ErrConflict = errors.New("changed concurrently")

// requestTimeout bounds one registry operation on object storage.
const requestTimeout = 5 * time.Minute

// openS3 opens a registry on object storage, with its local cache under
// MLPIPE_CACHE_DIR (or the user's cache directory)/mlpipe/registry/.
func openS3(url string) (*Store, error) {
	b, err := storage.Open(url)
	if err != nil {
		return nil, fmt.Errorf("open registry: %w", err)
	}
	base := os.Getenv("MLPIPE_CACHE_DIR")
	if base == "" {
		if base, err = os.UserCacheDir(); err != nil {
			return nil, fmt.Errorf("open registry %s: no cache directory: %w", url, err)
		}
		base = filepath.Join(base, "mlpipe")
	}
	// One cache per store: the endpoint is part of its identity.
	sum := sha256.Sum256([]byte(os.Getenv("AWS_ENDPOINT_URL_S3") + os.Getenv("AWS_ENDPOINT_URL") + "|" + b.String()))
	root := filepath.Join(base, "registry", hex.EncodeToString(sum[:8]))
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("open registry: %w", err)
	}
	return &Store{root: root, remote: b, lease: Lease}, nil
}

// SetLease sets how long a lock on object storage lasts without renewal
// (Lease by default); tests shorten it. It does nothing on disk.
func (s *Store) SetLease(d time.Duration) { s.lease = d }

// Remote is the object storage of a registry opened with an s3:// URL,
// or nil.
func (s *Store) Remote() *storage.Bucket { return s.remote }

// String is where the registry is: its directory or its URL.
func (s *Store) String() string {
	if s.remote != nil {
		return s.remote.String()
	}
	return s.root
}

func opContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), requestTimeout)
}

// published is a version's manifest object.
type published struct {
	Version int    `json:"version"`
	Digest  string `json:"digest"`
	// Files is the prefix (relative to the model) holding the bundle.
	Files string `json:"files"`
}

func versionKey(name string, v int) string { return fmt.Sprintf("models/%s/versions/v%d", name, v) }

func (s *Store) published(ctx context.Context, name string, v int) (published, error) {
	var p published
	b, _, err := s.remote.Get(ctx, versionKey(name, v))
	if errors.Is(err, storage.ErrNotExist) {
		return p, fmt.Errorf("%s@%d: %w", name, v, ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("%s@%d: %w", name, v, err)
	}
	if err := json.Unmarshal(b, &p); err != nil || p.Version != v || !strings.HasPrefix(p.Digest, "sha256:") {
		return p, fmt.Errorf("%s@%d: %w: manifest object %s is not one (%v)", name, v, bundle.ErrCorrupt, s.remote.URL(versionKey(name, v)), err)
	}
	return p, nil
}

func (s *Store) registerS3(name, src, digest string) (Registered, error) {
	ctx, cancel := opContext()
	defer cancel()
	versions, err := s.versionsS3(ctx, name)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Registered{}, fmt.Errorf("register: %w", err)
	}
	for _, v := range versions {
		if p, err := s.published(ctx, name, v); err == nil && p.Digest == digest {
			if _, err := s.VerifyVersion(name, v); err == nil {
				return Registered{Version: v, Digest: digest, Existing: true}, nil
			}
		}
	}
	names, err := bundleFiles(src)
	if err != nil {
		return Registered{}, fmt.Errorf("register: %w", err)
	}
	staging := fmt.Sprintf("staging/%s-%s", strings.TrimPrefix(digest, "sha256:")[:16], fsx.RandomID(4))
	model := "models/" + name + "/"
	for _, f := range names {
		if err := s.remote.PutFile(ctx, model+staging+"/"+f, filepath.Join(src, filepath.FromSlash(f))); err != nil {
			return Registered{}, fmt.Errorf("register: %w", err)
		}
	}
	crash.Point("register-before-publish")
	next := 1
	if len(versions) > 0 {
		next = versions[len(versions)-1] + 1
	}
	// Publish: create the manifest object of the next free number. A
	// writer whose lease expired could race another; the loser of the
	// conditional put takes the next number, with the same files.
	for attempt := 0; ; attempt++ {
		body, _ := json.Marshal(published{Version: next, Digest: digest, Files: staging})
		_, err := s.remote.Put(ctx, versionKey(name, next), body, storage.Cond{IfAbsent: true})
		if err == nil {
			return Registered{Version: next, Digest: digest}, nil
		}
		if !errors.Is(err, storage.ErrPrecondition) || attempt == 100 {
			return Registered{}, fmt.Errorf("register: publish v%d: %w", next, err)
		}
		next++
	}
}

func (s *Store) versionsS3(ctx context.Context, name string) ([]int, error) {
	objs, err := s.remote.List(ctx, "models/"+name)
	if err != nil {
		return nil, fmt.Errorf("versions of %q: %w", name, err)
	}
	if len(objs) == 0 {
		return nil, fmt.Errorf("versions of %q: %w", name, ErrNotFound)
	}
	var vs []int
	for _, o := range objs {
		rest, ok := strings.CutPrefix(o.Key, "models/"+name+"/versions/")
		if v, okv := parseVersion(rest); ok && okv {
			vs = append(vs, v)
		}
	}
	sort.Ints(vs)
	return vs, nil
}

// versionDirS3 returns the local copy of a version, downloading and
// verifying it the first time.
func (s *Store) versionDirS3(name string, v int) (string, error) {
	ctx, cancel := opContext()
	defer cancel()
	p, err := s.published(ctx, name, v)
	if err != nil {
		return "", err
	}
	cache := filepath.Join(s.root, "versions")
	dir := filepath.Join(cache, strings.TrimPrefix(p.Digest, "sha256:"))
	if info, err := os.Stat(dir); err == nil && info.IsDir() {
		return dir, nil
	}
	tmp, err := s.download(ctx, name, p, cache)
	if err != nil {
		return "", err
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		if info, serr := os.Stat(dir); serr == nil && info.IsDir() {
			return dir, nil // another process cached it first
		}
		return "", fmt.Errorf("%s@%d: %w", name, v, err)
	}
	return dir, fsx.SyncDir(cache)
}

// download copies a published version into a new temporary directory
// under parent and verifies it against its digest.
func (s *Store) download(ctx context.Context, name string, p published, parent string) (string, error) {
	tmp, err := fsx.TempDir(parent, fmt.Sprintf("v%d", p.Version))
	if err != nil {
		return "", fmt.Errorf("%s@%d: %w", name, p.Version, err)
	}
	prefix := "models/" + name + "/" + p.Files + "/"
	objs, err := s.remote.List(ctx, prefix)
	if err == nil && len(objs) == 0 {
		err = fmt.Errorf("%w: %s holds no files", bundle.ErrCorrupt, s.remote.URL(prefix))
	}
	for _, o := range objs {
		if err != nil {
			break
		}
		rel := strings.TrimPrefix(o.Key, prefix)
		dst := filepath.Join(tmp, filepath.FromSlash(path.Clean(rel)))
		if !strings.HasPrefix(dst, tmp+string(filepath.Separator)) {
			err = fmt.Errorf("%w: object %s escapes its version", bundle.ErrCorrupt, o.Key)
			break
		}
		if err = os.MkdirAll(filepath.Dir(dst), 0o755); err == nil {
			err = s.remote.Download(ctx, o.Key, dst)
		}
	}
	if err == nil {
		var got string
		if got, err = bundle.Verify(tmp); err == nil && got != p.Digest {
			err = fmt.Errorf("%w: its manifest has digest %s, the version says %s", bundle.ErrCorrupt, got, p.Digest)
		}
	}
	if err == nil {
		err = fsx.SyncTree(tmp)
	}
	if err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("%s@%d (%s): %w", name, p.Version, s.remote.URL(prefix), err)
	}
	return tmp, nil
}

// verifyS3 downloads a version afresh and verifies it (the cache is not
// what is checked).
func (s *Store) verifyS3(name string, v int) (string, error) {
	ctx, cancel := opContext()
	defer cancel()
	p, err := s.published(ctx, name, v)
	if err != nil {
		return "", err
	}
	tmp, err := s.download(ctx, name, p, filepath.Join(s.root, "verify"))
	if err != nil {
		return "", err
	}
	os.RemoveAll(tmp)
	return p.Digest, nil
}

func aliasKey(name, alias string) string { return "models/" + name + "/aliases/" + alias }

func (s *Store) setAliasS3(name, alias string, version int) error {
	ctx, cancel := opContext()
	defer cancel()
	if _, err := s.published(ctx, name, version); err != nil {
		return fmt.Errorf("set alias %s: %w", alias, err)
	}
	_, etag, err := s.remote.Get(ctx, aliasKey(name, alias))
	if err != nil && !errors.Is(err, storage.ErrNotExist) {
		return fmt.Errorf("set alias %s: %w", alias, err)
	}
	crash.Point("alias-" + alias)
	return s.casAlias(ctx, name, alias, version, etag)
}

// casAlias points alias at version if it still has the ETag etag ("" for
// an alias that did not exist).
func (s *Store) casAlias(ctx context.Context, name, alias string, version int, etag string) error {
	cond := storage.Cond{IfMatch: etag, IfAbsent: etag == ""}
	_, err := s.remote.Put(ctx, aliasKey(name, alias), []byte(strconv.Itoa(version)+"\n"), cond)
	if errors.Is(err, storage.ErrPrecondition) {
		return fmt.Errorf("set alias %s@%s: %w: another writer moved it; read it again", name, alias, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("set alias %s@%s: %w", name, alias, err)
	}
	return nil
}

func (s *Store) aliasS3(name, alias string) (int, error) {
	ctx, cancel := opContext()
	defer cancel()
	b, _, err := s.remote.Get(ctx, aliasKey(name, alias))
	if errors.Is(err, storage.ErrNotExist) {
		return 0, fmt.Errorf("%s@%s: %w", name, alias, ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("%s@%s: %w", name, alias, err)
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("%s@%s: corrupt alias object: %w", name, alias, err)
	}
	return v, nil
}

func (s *Store) aliasNamesS3(ctx context.Context, name string) ([]string, error) {
	objs, err := s.remote.List(ctx, "models/"+name+"/aliases")
	if err != nil {
		return nil, fmt.Errorf("aliases of %q: %w", name, err)
	}
	var out []string
	for _, o := range objs {
		a := path.Base(o.Key)
		if checkName("alias", a) == nil {
			out = append(out, a)
		}
	}
	return out, nil
}

func (s *Store) aliasesS3(name string) (map[string]int, error) {
	ctx, cancel := opContext()
	defer cancel()
	names, err := s.aliasNamesS3(ctx, name)
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, a := range names {
		v, err := s.aliasS3(name, a)
		if err != nil {
			return nil, err
		}
		out[a] = v
	}
	return out, nil
}

func (s *Store) modelsS3() ([]string, error) {
	ctx, cancel := opContext()
	defer cancel()
	dirs, err := s.remote.Dirs(ctx, "models")
	if err != nil {
		return nil, fmt.Errorf("list models: %w", err)
	}
	var names []string
	for _, d := range dirs {
		if checkName("model", d) == nil {
			names = append(names, d)
		}
	}
	return names, nil
}

// lease is the content of a lock object.
type lease struct {
	Holder  string    `json:"holder"`
	Since   time.Time `json:"since"`
	Expires time.Time `json:"expires"`
}

// leaseLock takes the lock object key: it creates it (If-None-Match: *),
// or replaces an expired one (If-Match on the ETag read). While held, a
// goroutine renews it every third of the lease; unlock stops renewing
// and deletes it, and reports a lease that was lost meanwhile.
func (s *Store) leaseLock(ctx context.Context, wait bool, key string, busy error) (func() error, error) {
	host, _ := os.Hostname()
	holder := fmt.Sprintf("pid %d on %s", os.Getpid(), host)
	since := time.Now().UTC().Truncate(time.Second)
	var etag string
	for {
		now := time.Now().UTC()
		body, _ := json.Marshal(lease{Holder: holder, Since: since, Expires: now.Add(s.lease)})
		var err error
		etag, err = s.remote.Put(ctx, key, body, storage.Cond{IfAbsent: true})
		if err == nil {
			break
		}
		if !errors.Is(err, storage.ErrPrecondition) {
			return nil, fmt.Errorf("lock registry: %w", err)
		}
		cur, curTag, err := s.remote.Get(ctx, key)
		if errors.Is(err, storage.ErrNotExist) {
			continue // released meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("lock registry: %w", err)
		}
		var old lease
		if json.Unmarshal(cur, &old) != nil || now.After(old.Expires) {
			// Expired (its holder crashed) or unreadable: take it over.
			if etag, err = s.remote.Put(ctx, key, body, storage.Cond{IfMatch: curTag}); err == nil {
				break
			}
			if errors.Is(err, storage.ErrPrecondition) {
				continue
			}
			return nil, fmt.Errorf("lock registry: %w", err)
		}
		if !wait {
			return nil, fmt.Errorf("%w by %s since %s (lease until %s)", busy, old.Holder,
				old.Since.Format(time.RFC3339), old.Expires.Format(time.RFC3339))
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("lock registry: %w", ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		t := time.NewTicker(s.lease / 3)
		defer t.Stop()
		tag := etag
		for {
			select {
			case <-stop:
				done <- s.release(key, tag)
				return
			case <-t.C:
				rctx, cancel := context.WithTimeout(context.Background(), s.lease/3)
				body, _ := json.Marshal(lease{Holder: holder, Since: since, Expires: time.Now().UTC().Add(s.lease)})
				next, err := s.remote.Put(rctx, key, body, storage.Cond{IfMatch: tag})
				cancel()
				if errors.Is(err, storage.ErrPrecondition) {
					<-stop
					done <- fmt.Errorf("unlock registry: %w: the lease on %s expired and was taken while held (renewal failed)", ErrConflict, s.remote.URL(key))
					return
				}
				if err == nil {
					tag = next
				} // a failed request is retried at the next tick
			}
		}
	}()
	return func() error {
		close(stop)
		return <-done
	}, nil
}

// release deletes the lock object if it is still ours.
func (s *Store) release(key, etag string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, cur, err := s.remote.Get(ctx, key)
	if errors.Is(err, storage.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("unlock registry: %w", err)
	}
	if cur != etag {
		return fmt.Errorf("unlock registry: %w: the lease on %s was taken while held", ErrConflict, s.remote.URL(key))
	}
	if err := s.remote.Delete(ctx, key); err != nil {
		return fmt.Errorf("unlock registry: %w", err)
	}
	return nil
}

// runComplete marks a run record that exists: written last by its first
// save.
const runComplete = ".complete"

func (s *Store) saveRunS3(id string, files map[string]any) error {
	ctx, cancel := opContext()
	defer cancel()
	dir := "runs/" + id + "/"
	_, _, err := s.remote.Get(ctx, dir+runComplete)
	exists := err == nil
	if err != nil && !errors.Is(err, storage.ErrNotExist) {
		return fmt.Errorf("save run %s: %w", id, err)
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		b, ok := files[name].([]byte)
		if !ok {
			if b, err = json.MarshalIndent(files[name], "", "  "); err != nil {
				return fmt.Errorf("save run %s: %s: %w", id, name, err)
			}
			b = append(b, '\n')
		}
		if _, err := s.remote.Put(ctx, dir+name, b, storage.Cond{}); err != nil {
			return fmt.Errorf("save run %s: %w", id, err)
		}
	}
	if exists {
		return nil
	}
	crash.Point("run-before-complete")
	if _, err := s.remote.Put(ctx, dir+runComplete, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), storage.Cond{}); err != nil {
		return fmt.Errorf("save run %s: %w", id, err)
	}
	return nil
}

// runsS3 lists the run ids whose record is complete, and those that are
// not (the leftovers of a crashed first save).
func (s *Store) runsS3(ctx context.Context) (complete, partial []string, err error) {
	objs, err := s.remote.List(ctx, "runs")
	if err != nil {
		return nil, nil, fmt.Errorf("list runs: %w", err)
	}
	seen := map[string]bool{}
	for _, o := range objs {
		id, rest, _ := strings.Cut(strings.TrimPrefix(o.Key, "runs/"), "/")
		if checkName("run id", id) != nil {
			continue
		}
		seen[id] = seen[id] || rest == runComplete
	}
	for _, id := range slices.Sorted(maps.Keys(seen)) {
		if seen[id] {
			complete = append(complete, id)
		} else {
			partial = append(partial, id)
		}
	}
	return complete, partial, nil
}

// runDirS3 downloads a run record into the cache (afresh each time: a
// record changes while its run goes on) and returns the directory.
func (s *Store) runDirS3(id string) (string, error) {
	ctx, cancel := opContext()
	defer cancel()
	prefix := "runs/" + id + "/"
	objs, err := s.remote.List(ctx, prefix)
	if err != nil {
		return "", fmt.Errorf("run %s: %w", id, err)
	}
	if !slices.ContainsFunc(objs, func(o storage.Object) bool { return o.Key == prefix+runComplete }) {
		return "", fmt.Errorf("run %s: %w", id, ErrNotFound)
	}
	parent := filepath.Join(s.root, "runs")
	tmp, err := fsx.TempDir(parent, id)
	if err != nil {
		return "", fmt.Errorf("run %s: %w", id, err)
	}
	for _, o := range objs {
		rel := strings.TrimPrefix(o.Key, prefix)
		if rel == runComplete || strings.Contains(rel, "..") {
			continue
		}
		dst := filepath.Join(tmp, filepath.FromSlash(rel))
		err := os.MkdirAll(filepath.Dir(dst), 0o755)
		if err == nil {
			err = s.remote.Download(ctx, o.Key, dst) // was lost: the if's own err
		}
		if err != nil {
			os.RemoveAll(tmp)
			return "", fmt.Errorf("run %s: %w", id, err)
		}
	}
	final := filepath.Join(parent, id)
	old := final + ".old-" + fsx.RandomID(4)
	_ = os.Rename(final, filepath.Join(parent, fsx.TempPrefix+filepath.Base(old)))
	if err := os.Rename(tmp, final); err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("run %s: %w", id, err)
	}
	os.RemoveAll(filepath.Join(parent, fsx.TempPrefix+filepath.Base(old)))
	return final, nil
}

// checkS3 is Check on object storage: staging prefixes no version
// references and run records whose first save was cut off are the
// leftovers; every version is downloaded and verified.
func (s *Store) checkS3(opts CheckOptions) ([]Problem, error) {
	ctx, cancel := opContext()
	defer cancel()
	var problems []Problem
	leftover := func(what, prefix string) error {
		p := Problem{What: "leftover of an interrupted write: " + what + " " + s.remote.URL(prefix)}
		if opts.Repair {
			if err := s.remote.DeleteAll(ctx, prefix); err != nil {
				return fmt.Errorf("repair: %w", err)
			}
			p.Repaired = true
		}
		problems = append(problems, p)
		return nil
	}
	_, partial, err := s.runsS3(ctx)
	if err != nil {
		return nil, fmt.Errorf("check registry: %w", err)
	}
	for _, id := range partial {
		if err := leftover("run record", "runs/"+id); err != nil {
			return problems, err
		}
	}
	models, err := s.modelsS3()
	if err != nil {
		return problems, fmt.Errorf("check registry: %w", err)
	}
	for _, name := range models {
		versions, err := s.versionsS3(ctx, name)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return problems, err
		}
		used := map[string]bool{}
		good := map[int]bool{}
		for _, v := range versions {
			p, err := s.published(ctx, name, v)
			if err == nil {
				used[p.Files] = true
				_, err = s.verifyS3(name, v)
			}
			if err != nil {
				if !errors.Is(err, bundle.ErrCorrupt) && !errors.Is(err, ErrNotFound) {
					return problems, fmt.Errorf("check registry: %w", err)
				}
				problems = append(problems, Problem{What: err.Error()})
				continue
			}
			good[v] = true
		}
		// From the objects, not Dirs: a store with directories (SeaweedFS)
		// lists an emptied one still.
		objs, err := s.remote.List(ctx, "models/"+name+"/staging")
		if err != nil {
			return problems, fmt.Errorf("check registry: %w", err)
		}
		var staged []string
		for _, o := range objs {
			d, _, _ := strings.Cut(strings.TrimPrefix(o.Key, "models/"+name+"/staging/"), "/")
			if !slices.Contains(staged, d) {
				staged = append(staged, d)
			}
		}
		for _, d := range staged {
			if !used["staging/"+d] {
				if err := leftover("unpublished version files", "models/"+name+"/staging/"+d); err != nil {
					return problems, err
				}
			}
		}
		aliases, err := s.aliasNamesS3(ctx, name)
		if err != nil {
			return problems, err
		}
		targets := map[int]bool{}
		for _, a := range aliases {
			v, err := s.aliasS3(name, a)
			if err == nil {
				_, err = s.published(ctx, name, v)
			}
			if err != nil {
				problems = append(problems, Problem{What: fmt.Sprintf("alias %s@%s: %v", name, a, err)})
				continue
			}
			targets[v] = true
		}
		if opts.Load == nil {
			continue
		}
		for _, v := range versions {
			if !good[v] || !targets[v] && !opts.All {
				continue
			}
			dir, err := s.versionDirS3(name, v)
			if err == nil {
				err = opts.Load(dir, name, v)
			}
			if err != nil {
				problems = append(problems, Problem{What: fmt.Sprintf("%s@%d does not load: %v", name, v, err)})
			}
		}
	}
	return problems, nil
}
