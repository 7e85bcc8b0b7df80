package registry

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/mlpipe/mlpipe/internal/fsx"
	"github.com/mlpipe/mlpipe/storage"
)

// Sentinel errors.
var (
	// ErrLocked means another process holds the writer lock.
	ErrLocked = errors.New("registry is locked")
	// ErrTraining means another process holds the training lock: a run
	// is training against this registry.
	ErrTraining = errors.New("training is locked")
	// ErrNotFound means a model, version, alias or run does not exist.
	ErrNotFound = errors.New("not found")
	// ErrInvalidName means a model, alias or run name is not allowed.
	ErrInvalidName = errors.New("invalid name")
)

// Store is a registry rooted at a directory.
//
// Every file operation of the registry is in one of four files, by the
// kind of object it touches, so that another storage (an object store)
// can take their place: lock.go (the writer and training locks),
// versions.go (immutable versions), aliases.go (aliases, each moved by
// one atomic replace) and runs.go (run records). check.go reads all four
// to find and repair inconsistencies.
type Store struct {
	root string
	// remote is the object storage of a registry opened with an s3://
	// URL (s3.go); root is then its local cache.
	remote *storage.Bucket
	lease  time.Duration
}

// Open returns the store at root, creating the directory if needed. A
// root "s3://BUCKET/PREFIX" opens a registry on object storage (s3.go),
// with the same guarantees, and a local cache of the versions read.
func Open(root string) (*Store, error) {
	if storage.IsURL(root) {
		return openS3(root)
	}
	if err := os.MkdirAll(filepath.Join(root, "models"), 0o755); err != nil {
		return nil, fmt.Errorf("open registry: %w", err)
	}
	return &Store{root: root}, nil
}

// Root is the store's directory (on object storage, its local cache;
// String names the store).
func (s *Store) Root() string { return s.root }

var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)

// checkName refuses a name that is not letters, digits, '-' and '_':
// every name becomes a path element, and "../x" must not.
func checkName(kind, name string) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("%w: %s %q (use letters, digits, '-' and '_')", ErrInvalidName, kind, name)
	}
	return nil
}

// CheckName reports whether name is a valid model name (an error
// wrapping ErrInvalidName otherwise).
func CheckName(name string) error { return checkName("model", name) }

// modelDir is the directory of model name, which must have passed
// checkName.
func (s *Store) modelDir(name string) string { return filepath.Join(s.root, "models", name) }

// Models lists the model names, sorted.
func (s *Store) Models() ([]string, error) {
	if s.remote != nil {
		return s.modelsS3()
	}
	entries, err := os.ReadDir(filepath.Join(s.root, "models"))
	if err != nil {
		return nil, fmt.Errorf("list models: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && !fsx.IsTemp(e.Name()) && checkName("model", e.Name()) == nil {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// Resolve turns "NAME", "NAME@ALIAS" or "NAME@VERSION" (a number, or
// "v" and a number) into a model name and version; a bare NAME means
// NAME@production.
func (s *Store) Resolve(ref string) (name string, version int, err error) {
	name, at, found := strings.Cut(ref, "@")
	if !found {
		at = "production"
	}
	if err := checkName("model", name); err != nil {
		return "", 0, fmt.Errorf("resolve %q: %w", ref, err)
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
// monitor and the drift schedule read them (REGISTRY/predictions/NAME;
// on object storage the URL s3://BUCKET/PREFIX/predictions/NAME).
// An invalid name is an error wrapping ErrInvalidName.
func (s *Store) PredictionLog(name string) (string, error) {
	if err := checkName("model", name); err != nil {
		return "", fmt.Errorf("prediction log: %w", err)
	}
	if s.remote != nil {
		// On object storage, beside the registry: every replica of
		// mlserve writes its own stream under it (package predlog).
		return s.remote.Sub("predictions/" + name).String(), nil
	}
	return filepath.Join(s.root, "predictions", name), nil
}
