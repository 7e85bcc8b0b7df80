package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mlpipe/mlpipe/internal/crash"
	"github.com/mlpipe/mlpipe/internal/fsx"
)

// Sentinel errors.
var (
	// ErrLocked means another process holds the writer lock.
	ErrLocked = errors.New("registry is locked")
	// ErrTraining means another process holds the training lock: a run
	// is training against this registry.
	ErrTraining = errors.New("training is locked")
	// ErrNotFound means a model, version or alias does not exist.
	ErrNotFound = errors.New("not found")
	// ErrInvalidName means a model or alias name is not allowed.
	ErrInvalidName = errors.New("invalid name")
)

// Store is a registry rooted at a directory.
type Store struct {
	root string
}

// Open returns the store at root, creating the directory if needed.
func Open(root string) (*Store, error) {
	if err := os.MkdirAll(filepath.Join(root, "models"), 0o755); err != nil {
		return nil, fmt.Errorf("open registry: %w", err)
	}
	return &Store{root: root}, nil
}

// Root is the store's directory.
func (s *Store) Root() string { return s.root }

var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)

func checkName(kind, name string) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("%w: %s %q (use letters, digits, '-' and '_')", ErrInvalidName, kind, name)
	}
	return nil
}

// Lock takes the writer lock. With wait false it fails at once with an
// error wrapping ErrLocked that names the holder ("registry is locked by
// pid 1234 since 2026-11-25T03:00:00Z"); with wait true it waits until
// the lock is free or ctx is done. The returned function releases it.
func (s *Store) Lock(ctx context.Context, wait bool) (unlock func() error, err error) {
	return s.flock(ctx, wait, ".lock", ErrLocked)
}

// TrainingLock takes the training lock, which a whole `mlpipe run` holds
// so that a scheduler, a crontab entry and a person never train against
// one registry at the same time. It is separate from the writer lock
// (Lock), which is held only while writing. With wait false a second
// run fails at once with an error wrapping ErrTraining that names the
// holder.
func (s *Store) TrainingLock(ctx context.Context, wait bool) (unlock func() error, err error) {
	return s.flock(ctx, wait, ".training.lock", ErrTraining)
}

// flock takes an exclusive flock on the file name in the store's root;
// a busy lock is reported as busy, naming the holder.
func (s *Store) flock(ctx context.Context, wait bool, name string, busy error) (unlock func() error, err error) {
	if err := os.MkdirAll(s.root, 0o755); err != nil {
		return nil, fmt.Errorf("lock registry: %w", err)
	}
	path := filepath.Join(s.root, name)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock registry: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock registry: %w", err)
		}
		if !wait {
			holder, _ := io.ReadAll(io.LimitReader(f, 200))
			f.Close()
			return nil, fmt.Errorf("%w by %s", busy, strings.TrimSpace(string(holder)))
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("lock registry: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	// Record the holder for the error message of the next writer.
	if err := f.Truncate(0); err == nil {
		fmt.Fprintf(f, "pid %d since %s\n", os.Getpid(), time.Now().UTC().Format(time.RFC3339))
		_ = f.Sync()
	}
	return func() error {
		_ = f.Truncate(0)
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_UN); err != nil {
			f.Close()
			return fmt.Errorf("unlock registry: %w", err)
		}
		return f.Close()
	}, nil
}

func (s *Store) modelDir(name string) string { return filepath.Join(s.root, "models", name) }

// Register copies the regular files of src into a new version of model
// name and returns its number (1 for the first). The caller holds the
// lock. Nothing is visible until the version is complete.
func (s *Store) Register(name, src string) (int, error) {
	if err := checkName("model", name); err != nil {
		return 0, fmt.Errorf("register: %w", err)
	}
	dir := s.modelDir(name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, fmt.Errorf("register: %w", err)
	}
	versions, err := s.Versions(name)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return 0, err
	}
	next := 1
	if len(versions) > 0 {
		next = versions[len(versions)-1] + 1
	}
	tmp, err := fsx.TempDir(dir, fmt.Sprintf("v%d", next))
	if err != nil {
		return 0, fmt.Errorf("register: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()
	entries, err := os.ReadDir(src)
	if err != nil {
		return 0, fmt.Errorf("register: %w", err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || fsx.IsTemp(e.Name()) {
			continue
		}
		if err := copyFile(filepath.Join(src, e.Name()), filepath.Join(tmp, e.Name())); err != nil {
			return 0, fmt.Errorf("register: %w", err)
		}
	}
	if err := fsx.SyncTree(tmp); err != nil {
		return 0, fmt.Errorf("register: %w", err)
	}
	crash.Point("register-before-rename")
	final := filepath.Join(dir, fmt.Sprintf("v%d", next))
	if err := os.Rename(tmp, final); err != nil {
		return 0, fmt.Errorf("register: %w", err)
	}
	ok = true
	if err := fsx.SyncDir(dir); err != nil {
		return 0, fmt.Errorf("register: %w", err)
	}
	return next, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// Versions lists the versions of model name, oldest first.
func (s *Store) Versions(name string) ([]int, error) {
	entries, err := os.ReadDir(s.modelDir(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("versions of %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("versions of %q: %w", name, err)
	}
	var vs []int
	for _, e := range entries {
		if v, ok := parseVersion(e.Name()); ok && e.IsDir() {
			vs = append(vs, v)
		}
	}
	sort.Ints(vs)
	return vs, nil
}

func parseVersion(s string) (int, bool) {
	if !strings.HasPrefix(s, "v") {
		return 0, false
	}
	v, err := strconv.Atoi(s[1:])
	return v, err == nil && v > 0
}

// VersionDir returns the directory of a version, or ErrNotFound.
func (s *Store) VersionDir(name string, version int) (string, error) {
	d := filepath.Join(s.modelDir(name), fmt.Sprintf("v%d", version))
	if info, err := os.Stat(d); err != nil || !info.IsDir() {
		return "", fmt.Errorf("%s@%d: %w", name, version, ErrNotFound)
	}
	return d, nil
}

// SetAlias points alias at a version of model name, replacing what it
// pointed at in one atomic rename. The caller holds the lock.
func (s *Store) SetAlias(name, alias string, version int) error {
	if err := checkName("alias", alias); err != nil {
		return fmt.Errorf("set alias: %w", err)
	}
	if _, err := s.VersionDir(name, version); err != nil {
		return fmt.Errorf("set alias %s: %w", alias, err)
	}
	dir := filepath.Join(s.modelDir(name), "aliases")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("set alias: %w", err)
	}
	crash.Point("alias-" + alias)
	return fsx.WriteFile(filepath.Join(dir, alias), []byte(strconv.Itoa(version)+"\n"), 0o644)
}

// Alias returns the version an alias of model name points at.
func (s *Store) Alias(name, alias string) (int, error) {
	b, err := os.ReadFile(filepath.Join(s.modelDir(name), "aliases", alias))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("%s@%s: %w", name, alias, ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("%s@%s: %w", name, alias, err)
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("%s@%s: corrupt alias file: %w", name, alias, err)
	}
	return v, nil
}

// Check walks the store and returns the leftovers of interrupted writes
// (temporary files and directories) and aliases that point at missing
// versions. With repair, it removes the leftovers.
func (s *Store) Check(repair bool) ([]string, error) {
	var problems []string
	models, err := os.ReadDir(filepath.Join(s.root, "models"))
	if err != nil {
		return nil, fmt.Errorf("check registry: %w", err)
	}
	if runs, err := os.ReadDir(filepath.Join(s.root, "runs")); err == nil {
		for _, e := range runs {
			if !fsx.IsTemp(e.Name()) {
				continue
			}
			p := filepath.Join(s.root, "runs", e.Name())
			problems = append(problems, "leftover of an interrupted write: "+p)
			if repair {
				if err := os.RemoveAll(p); err != nil {
					return problems, fmt.Errorf("repair: %w", err)
				}
			}
		}
	}
	for _, m := range models {
		dir := s.modelDir(m.Name())
		for _, sub := range []string{dir, filepath.Join(dir, "aliases")} {
			entries, err := os.ReadDir(sub)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("check registry: %w", err)
			}
			for _, e := range entries {
				if !fsx.IsTemp(e.Name()) {
					continue
				}
				p := filepath.Join(sub, e.Name())
				problems = append(problems, "leftover of an interrupted write: "+p)
				if repair {
					if err := os.RemoveAll(p); err != nil {
						return problems, fmt.Errorf("repair: %w", err)
					}
				}
			}
		}
		aliases, _ := os.ReadDir(filepath.Join(dir, "aliases"))
		for _, a := range aliases {
			if fsx.IsTemp(a.Name()) {
				continue
			}
			v, err := s.Alias(m.Name(), a.Name())
			if err == nil {
				_, err = s.VersionDir(m.Name(), v)
			}
			if err != nil {
				problems = append(problems, fmt.Sprintf("alias %s@%s: %v", m.Name(), a.Name(), err))
			}
		}
	}
	return problems, nil
}

// Models lists the model names, sorted.
func (s *Store) Models() ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(s.root, "models"))
	if err != nil {
		return nil, fmt.Errorf("list models: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && !fsx.IsTemp(e.Name()) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// Aliases returns every alias of model name and the version it points at.
func (s *Store) Aliases(name string) (map[string]int, error) {
	entries, err := os.ReadDir(filepath.Join(s.modelDir(name), "aliases"))
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]int{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("aliases of %q: %w", name, err)
	}
	out := map[string]int{}
	for _, e := range entries {
		if fsx.IsTemp(e.Name()) {
			continue
		}
		v, err := s.Alias(name, e.Name())
		if err != nil {
			return nil, err
		}
		out[e.Name()] = v
	}
	return out, nil
}

// Resolve turns "NAME", "NAME@ALIAS" or "NAME@VERSION" (a number, or
// "v" and a number) into a model name and version; a bare NAME means
// NAME@production.
func (s *Store) Resolve(ref string) (name string, version int, err error) {
	name, at, found := strings.Cut(ref, "@")
	if !found {
		at = "production"
	}
	if v, ok := parseVersion("v" + strings.TrimPrefix(at, "v")); ok && strings.TrimLeft(strings.TrimPrefix(at, "v"), "0123456789") == "" {
		if _, err := s.VersionDir(name, v); err != nil {
			return "", 0, err
		}
		return name, v, nil
	}
	v, err := s.Alias(name, at)
	if err != nil {
		return "", 0, err
	}
	return name, v, nil
}

// PredictionLog is the prediction log directory of model name: where
// mlserve --registry logs its predictions and labels, and where mlpipe
// monitor and the drift schedule read them (REGISTRY/predictions/NAME).
func (s *Store) PredictionLog(name string) string {
	return filepath.Join(s.root, "predictions", name)
}

// SaveRun stores a run record: each file of files (name → a JSON value,
// or []byte written as it is)
// under runs/ID/, written in a temporary directory and renamed into
// place, so a record is complete or absent. The caller holds the lock.
func (s *Store) SaveRun(id string, files map[string]any) error {
	if err := checkName("run id", id); err != nil {
		return fmt.Errorf("save run: %w", err)
	}
	dir := filepath.Join(s.root, "runs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save run: %w", err)
	}
	tmp, err := fsx.TempDir(dir, id)
	if err != nil {
		return fmt.Errorf("save run: %w", err)
	}
	for name, v := range files {
		var err error
		if b, ok := v.([]byte); ok {
			err = fsx.WriteFile(filepath.Join(tmp, name), b, 0o644)
		} else {
			err = fsx.WriteJSON(filepath.Join(tmp, name), v)
		}
		if err != nil {
			os.RemoveAll(tmp)
			return fmt.Errorf("save run: %w", err)
		}
	}
	if err := os.Rename(tmp, filepath.Join(dir, id)); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("save run: %w", err)
	}
	return fsx.SyncDir(dir)
}

// Runs lists the run ids, oldest first (ids sort by start time).
func (s *Store) Runs() ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(s.root, "runs"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	var ids []string
	for _, e := range entries {
		if e.IsDir() && !fsx.IsTemp(e.Name()) {
			ids = append(ids, e.Name())
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// RunDir returns the directory of run id, or ErrNotFound.
func (s *Store) RunDir(id string) (string, error) {
	d := filepath.Join(s.root, "runs", id)
	if info, err := os.Stat(d); err != nil || !info.IsDir() || checkName("run id", id) != nil {
		return "", fmt.Errorf("run %s: %w", id, ErrNotFound)
	}
	return d, nil
}
