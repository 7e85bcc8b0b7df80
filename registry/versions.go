package registry

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/mlpipe/mlpipe/bundle"
	"github.com/mlpipe/mlpipe/internal/crash"
	"github.com/mlpipe/mlpipe/internal/fsx"
	"github.com/mlpipe/mlpipe/internal/manifest"
)

// Registered is what Register did.
type Registered struct {
	// Version is the version that holds the bundle.
	Version int `json:"version"`
	// Digest is the bundle's digest (the sha256 of its manifest): the
	// version's identity.
	Digest string `json:"digest"`
	// Existing means a version with the same digest was there already
	// (the same model, registered by an earlier run): nothing was
	// stored, and Version is that version.
	Existing bool `json:"existing,omitempty"`
}

// Register stores the bundle in src as the next version of model name,
// unless a version with the same digest exists already, in which case it
// stores nothing and returns that version with Existing set. The bundle
// must verify against its manifest (bundle.Verify), before and after the
// copy. The caller holds the writer lock. Nothing is visible until the
// version is complete: the files are copied into a temporary directory
// beside the versions, fsynced, verified, and made visible by one rename.
func (s *Store) Register(name, src string) (Registered, error) {
	if err := checkName("model", name); err != nil {
		return Registered{}, fmt.Errorf("register: %w", err)
	}
	digest, err := bundle.Verify(src)
	if err != nil {
		return Registered{}, fmt.Errorf("register: %w", err)
	}
	if s.remote != nil {
		return s.registerS3(name, src, digest)
	}
	dir := s.modelDir(name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Registered{}, fmt.Errorf("register: %w", err)
	}
	versions, err := s.Versions(name)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Registered{}, err
	}
	for _, v := range versions {
		if d, err := s.Digest(name, v); err == nil && d == digest {
			// A damaged copy does not count: the bundle is stored again.
			if _, err := s.VerifyVersion(name, v); err == nil {
				return Registered{Version: v, Digest: digest, Existing: true}, nil
			}
		}
	}
	next := 1
	if len(versions) > 0 {
		next = versions[len(versions)-1] + 1
	}
	tmp, err := fsx.TempDir(dir, fmt.Sprintf("v%d", next))
	if err != nil {
		return Registered{}, fmt.Errorf("register: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()
	names, err := bundleFiles(src)
	if err != nil {
		return Registered{}, fmt.Errorf("register: %w", err)
	}
	for _, name := range names {
		dst := filepath.Join(tmp, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return Registered{}, fmt.Errorf("register: %w", err)
		}
		if err := copyFile(filepath.Join(src, filepath.FromSlash(name)), dst); err != nil {
			return Registered{}, fmt.Errorf("register: %w", err)
		}
	}
	if err := fsx.SyncTree(tmp); err != nil {
		return Registered{}, fmt.Errorf("register: %w", err)
	}
	// What is about to become visible is what was verified.
	if got, err := bundle.Verify(tmp); err != nil || got != digest {
		return Registered{}, fmt.Errorf("register: the copy does not verify (digest %s, want %s): %v", got, digest, err)
	}
	crash.Point("register-before-rename")
	final := filepath.Join(dir, fmt.Sprintf("v%d", next))
	if err := os.Rename(tmp, final); err != nil {
		return Registered{}, fmt.Errorf("register: %w", err)
	}
	ok = true
	if err := fsx.SyncDir(dir); err != nil {
		return Registered{}, fmt.Errorf("register: %w", err)
	}
	return Registered{Version: next, Digest: digest}, nil
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
	if err := checkName("model", name); err != nil {
		return nil, fmt.Errorf("versions: %w", err)
	}
	if s.remote != nil {
		ctx, cancel := opContext()
		defer cancel()
		return s.versionsS3(ctx, name)
	}
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

// VersionDir returns the directory of a version, or ErrNotFound (or
// ErrInvalidName for a name that is not a model's).
func (s *Store) VersionDir(name string, version int) (string, error) {
	if err := checkName("model", name); err != nil {
		return "", err
	}
	if s.remote != nil {
		return s.versionDirS3(name, version)
	}
	d := filepath.Join(s.modelDir(name), fmt.Sprintf("v%d", version))
	if info, err := os.Stat(d); err != nil || !info.IsDir() {
		return "", fmt.Errorf("%s@%d: %w", name, version, ErrNotFound)
	}
	return d, nil
}

// Digest returns the digest of a version: the sha256 of its manifest, as
// it stands (VerifyVersion checks the files against it).
func (s *Store) Digest(name string, version int) (string, error) {
	if s.remote != nil {
		if err := checkName("model", name); err != nil {
			return "", err
		}
		ctx, cancel := opContext()
		defer cancel()
		p, err := s.published(ctx, name, version)
		return p.Digest, err
	}
	dir, err := s.VersionDir(name, version)
	if err != nil {
		return "", err
	}
	_, digest, err := manifest.Read(os.DirFS(dir))
	if err != nil {
		return "", fmt.Errorf("%s@%d: %w", name, version, err)
	}
	return digest, nil
}

// VerifyVersion checks every file of a version against its manifest
// (bundle.Verify) and returns its digest; a difference is an error
// wrapping bundle.ErrCorrupt that names the file.
func (s *Store) VerifyVersion(name string, version int) (string, error) {
	if s.remote != nil {
		if err := checkName("model", name); err != nil {
			return "", err
		}
		return s.verifyS3(name, version)
	}
	dir, err := s.VersionDir(name, version)
	if err != nil {
		return "", err
	}
	return bundle.Verify(dir)
}

// bundleFiles names what a version holds of the bundle in src, relative to
// it: the bundle and nothing else, that is the files its manifest lists,
// the manifest, and the record if there is one.
func bundleFiles(src string) ([]string, error) {
	m, _, err := manifest.Read(os.DirFS(src))
	if err != nil {
		return nil, err
	}
	names := []string{manifest.File}
	if _, err := os.Stat(filepath.Join(src, bundle.RecordFile)); err == nil {
		names = append(names, bundle.RecordFile)
	}
	for _, e := range m.Files {
		names = append(names, e.Path)
	}
	return names, nil
}
