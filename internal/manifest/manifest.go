// Package manifest makes a directory content-addressed: a manifest file
// lists every other file of the directory with its size and sha256, and
// the sha256 of the manifest's own bytes is the directory's digest.
//
// In: a directory (or any fs.FS, such as the bundle inside an exported
// executable) and the files it holds. Out: Write adds manifest.json,
// written last and fsynced; Verify checks every listed file against it
// and returns the digest, or an error wrapping ErrMismatch that names
// the first file that differs (changed, cut short, missing or not a
// regular file). A reader that reads only listed files reads only
// verified bytes; Unlisted finds what else a directory holds (a registry
// version must hold nothing else).
//
// The model bundle (package bundle), the registry's versions and the
// payload of an exported executable (package export) are all verified by
// this one mechanism. A digest is "sha256:" and 64 hex digits.
package manifest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mlpipe/mlpipe/internal/fsx"
)

// File is the manifest's name in the directory it describes.
const File = "manifest.json"

// format is the manifest's format version, the first field of the file.
const format = 1

// Sentinel errors.
var (
	// ErrMismatch means a file does not match the manifest, or the
	// manifest is damaged.
	ErrMismatch = errors.New("content does not match the manifest")
	// ErrNoManifest means the directory has no manifest.json.
	ErrNoManifest = errors.New("no " + File)
)

// Entry is one file of a manifest.
type Entry struct {
	// Path is slash-separated, relative to the directory.
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"` // hex
}

// Manifest lists a directory's files, sorted by path.
type Manifest struct {
	Format int     `json:"format"`
	Files  []Entry `json:"files"`
}

// Encode returns the manifest's bytes: indented JSON ending in a newline.
// The same files always give the same bytes, so the same digest.
func (m *Manifest) Encode() []byte {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		panic(err) // strings and integers always encode
	}
	return append(b, '\n')
}

// Digest returns the digest of a manifest's bytes.
func Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Find returns the entry of a path, or false.
func (m *Manifest) Find(p string) (Entry, bool) {
	i, ok := slices.BinarySearchFunc(m.Files, p, func(e Entry, p string) int { return strings.Compare(e.Path, p) })
	if !ok {
		return Entry{}, false
	}
	return m.Files[i], true
}

// skipped reports whether a name is left out of a manifest: the manifest
// itself, the leftovers of interrupted writes (package fsx) and the
// names the caller keeps outside the content (keep).
func skipped(p string, keep []string) bool {
	return p == File || fsx.IsTemp(path.Base(p)) || slices.Contains(keep, p)
}

// Build hashes every regular file of fsys but the manifest, the
// temporary leftovers of package fsx and the names in outside. Anything
// that is neither a regular file nor a directory (a symbolic link, a
// device) is an error.
func Build(fsys fs.FS, outside ...string) (*Manifest, error) {
	paths, err := walk(fsys, outside)
	if err != nil {
		return nil, err
	}
	return New(fsys, paths)
}

// New hashes the files named by paths (slash-separated, relative to
// fsys), each of which must be a regular file.
func New(fsys fs.FS, paths []string) (*Manifest, error) {
	m := &Manifest{Format: format, Files: make([]Entry, 0, len(paths))}
	for _, p := range paths {
		if !fs.ValidPath(p) || p == "." || p == File {
			return nil, fmt.Errorf("manifest: %q cannot be listed", p)
		}
		info, err := fs.Lstat(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("manifest: %w", err)
		}
		if !info.Mode().IsRegular() {
			return nil, fmt.Errorf("manifest: %s is not a regular file (%v)", p, info.Mode().Type())
		}
		size, sum, err := hashFile(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("manifest: %w", err)
		}
		m.Files = append(m.Files, Entry{Path: p, Size: size, SHA256: sum})
	}
	slices.SortFunc(m.Files, func(a, b Entry) int { return strings.Compare(a.Path, b.Path) })
	for i := 1; i < len(m.Files); i++ {
		if m.Files[i].Path == m.Files[i-1].Path {
			return nil, fmt.Errorf("manifest: %s listed twice", m.Files[i].Path)
		}
	}
	return m, nil
}

// walk lists the files of fsys that Build lists. Anything but a regular
// file or a directory is an error.
func walk(fsys fs.FS, outside []string) ([]string, error) {
	var paths []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == "." {
			return nil
		}
		if d.IsDir() {
			if fsx.IsTemp(d.Name()) {
				return fs.SkipDir
			}
			return nil
		}
		if skipped(p, outside) {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("manifest: %s is not a regular file (%v)", p, d.Type())
		}
		paths = append(paths, p)
		return nil
	})
	return paths, err
}

func hashFile(fsys fs.FS, p string) (int64, string, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", fmt.Errorf("%s: %w", p, err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// Write hashes the files of dir named by paths (New) and writes the
// manifest as dir/manifest.json, atomically and fsynced, with the
// directory fsynced after it. It is the last file written into a
// directory: a crash before it leaves a directory without a manifest,
// which Verify refuses. It returns the manifest and its digest.
func Write(dir string, paths []string) (*Manifest, string, error) {
	m, err := New(os.DirFS(dir), paths)
	if err != nil {
		return nil, "", fmt.Errorf("write manifest of %s: %w", dir, err)
	}
	return write(dir, m)
}

// WriteAll is Write over every file of dir but the names in outside
// (Build).
func WriteAll(dir string, outside ...string) (*Manifest, string, error) {
	m, err := Build(os.DirFS(dir), outside...)
	if err != nil {
		return nil, "", fmt.Errorf("write manifest of %s: %w", dir, err)
	}
	return write(dir, m)
}

func write(dir string, m *Manifest) (*Manifest, string, error) {
	b := m.Encode()
	if err := fsx.WriteFile(filepath.Join(dir, File), b, 0o644); err != nil {
		return nil, "", fmt.Errorf("write manifest: %w", err)
	}
	return m, Digest(b), nil
}

// Read reads and parses the manifest of fsys and returns it with its
// digest. A missing manifest is ErrNoManifest; one that does not parse,
// or lists a path twice, out of order or outside the directory, is
// ErrMismatch.
func Read(fsys fs.FS) (*Manifest, string, error) {
	b, err := fs.ReadFile(fsys, File)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", ErrNoManifest
	}
	if err != nil {
		return nil, "", err
	}
	m, err := Parse(b)
	if err != nil {
		return nil, "", err
	}
	return m, Digest(b), nil
}

// Parse parses a manifest's bytes and checks that they are what Encode
// gives for them: the digest of a manifest names one content only.
func Parse(b []byte) (*Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: %s does not parse: %v", ErrMismatch, File, err)
	}
	if m.Format != format {
		return nil, fmt.Errorf("%w: %s has format %d, want %d", ErrMismatch, File, m.Format, format)
	}
	for i, e := range m.Files {
		if !fs.ValidPath(e.Path) || e.Path == "." || e.Path == File || i > 0 && m.Files[i-1].Path >= e.Path {
			return nil, fmt.Errorf("%w: %s lists %q out of order, twice or outside the directory", ErrMismatch, File, e.Path)
		}
	}
	if !bytes.Equal(m.Encode(), b) {
		return nil, fmt.Errorf("%w: %s is not in its canonical form (edited by hand?)", ErrMismatch, File)
	}
	return &m, nil
}

// Verify checks fsys against its manifest: every listed file is a
// regular file of the listed size and sha256. It returns the manifest and
// its digest. The first difference is an error wrapping ErrMismatch that
// names the file. Files that are not listed are not looked at (see
// Unlisted).
func Verify(fsys fs.FS) (*Manifest, string, error) {
	m, digest, err := Read(fsys)
	if err != nil {
		return nil, "", err
	}
	for _, e := range m.Files {
		info, err := fs.Lstat(fsys, e.Path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, "", fmt.Errorf("%w: %s is missing", ErrMismatch, e.Path)
		case err != nil:
			return nil, "", err
		case !info.Mode().IsRegular():
			return nil, "", fmt.Errorf("%w: %s is not a regular file (%v)", ErrMismatch, e.Path, info.Mode().Type())
		case info.Size() != e.Size:
			return nil, "", fmt.Errorf("%w: %s has %d bytes, the manifest says %d", ErrMismatch, e.Path, info.Size(), e.Size)
		}
		_, sum, err := hashFile(fsys, e.Path)
		if err != nil {
			return nil, "", err
		}
		if sum != e.SHA256 {
			return nil, "", fmt.Errorf("%w: %s has sha256 %s, the manifest says %s", ErrMismatch, e.Path, sum, e.SHA256)
		}
	}
	return m, digest, nil
}

// Unlisted returns the files of fsys that m does not list, but for the
// manifest, the temporary leftovers of package fsx and the names in
// outside.
func Unlisted(fsys fs.FS, m *Manifest, outside ...string) ([]string, error) {
	paths, err := walk(fsys, outside)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range paths {
		if _, ok := m.Find(p); !ok {
			out = append(out, p)
		}
	}
	return out, nil
}
