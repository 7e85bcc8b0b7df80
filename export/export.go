package export

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/mlpipe/mlpipe/internal/crash"
	"github.com/mlpipe/mlpipe/internal/fsx"
	"github.com/mlpipe/mlpipe/internal/manifest"
)

// Sentinel errors.
var (
	// ErrNoPayload means the executable carries no model: it is a plain
	// mlserve.
	ErrNoPayload = errors.New("no model payload")
	// ErrCorrupt means the executable carries a payload that is damaged
	// or cut short.
	ErrCorrupt = errors.New("corrupt model payload")
	// ErrHasPayload means Write was given an executable that already
	// carries a payload.
	ErrHasPayload = errors.New("server executable already carries a model payload")
	// ErrUnsafeName means a payload entry would be written outside the
	// target directory, or is not a regular file or directory.
	ErrUnsafeName = errors.New("unsafe entry in model payload")
)

// Meta says which model an export holds and where it came from.
type Meta struct {
	Model           string    `json:"model"`
	Version         int       `json:"version"`
	DataFingerprint string    `json:"data_fingerprint,omitempty"`
	ConfigHash      string    `json:"config_hash,omitempty"`
	CodeVersion     string    `json:"code_version,omitempty"`
	RunID           string    `json:"run_id,omitempty"`
	ExportedAt      time.Time `json:"exported_at"`
	// Digest is the bundle's digest: the sha256 of its manifest.json
	// (internal/manifest), which lists every file of the bundle with its
	// sha256. Write sets it; Open checks the bundle against it.
	Digest string `json:"digest"`
}

const (
	magic       = "MLPIPE-EXPORT-02"
	trailerSize = 8 + 8 + sha256.Size + len(magic) // 64
	metaName    = "meta.json"
	bundleDir   = "bundle/"
)

type trailer struct {
	offset, length int64
	sum            [sha256.Size]byte
}

func (t trailer) encode() []byte {
	b := make([]byte, 0, trailerSize)
	b = binary.LittleEndian.AppendUint64(b, uint64(t.offset))
	b = binary.LittleEndian.AppendUint64(b, uint64(t.length))
	b = append(b, t.sum[:]...)
	return append(b, magic...)
}

// readTrailer reads the trailer at the end of f; ok is false when the
// file does not end with the magic.
func readTrailer(f io.ReaderAt, size int64) (t trailer, ok bool, err error) {
	if size < int64(trailerSize) {
		return t, false, nil
	}
	b := make([]byte, trailerSize)
	if _, err := f.ReadAt(b, size-int64(trailerSize)); err != nil {
		return t, false, err
	}
	if string(b[trailerSize-len(magic):]) != magic {
		return t, false, nil
	}
	off, n := binary.LittleEndian.Uint64(b[0:8]), binary.LittleEndian.Uint64(b[8:16])
	copy(t.sum[:], b[16:16+sha256.Size])
	// Checked as unsigned so that a huge value cannot wrap around.
	if off > uint64(size) || n > uint64(size) || off+n != uint64(size-int64(trailerSize)) {
		return t, true, fmt.Errorf("%w: the trailer puts %d payload bytes at offset %d, but the file has %d bytes before its trailer",
			ErrCorrupt, n, off, size-int64(trailerSize))
	}
	t.offset, t.length = int64(off), int64(n)
	return t, true, nil
}

// Write writes to dst an executable made of serverExe, the files of
// bundleDir and meta (see the package comment for the format). A zero
// meta.ExportedAt is set to now; it is stored in UTC, to the second. dst's directory is created if needed;
// dst is replaced atomically and is never left half-written. It fails
// with ErrHasPayload if serverExe already carries a payload, and on a
// bundle with no files or with anything but regular files and
// directories (symbolic links included).
func Write(ctx context.Context, dst, serverExe, bundleDir string, meta Meta) error {
	if err := write(ctx, dst, serverExe, bundleDir, meta); err != nil {
		return fmt.Errorf("export %s: %w", dst, err)
	}
	return nil
}

func write(ctx context.Context, dst, serverExe, bundle string, meta Meta) error {
	if meta.Model == "" {
		return errors.New("meta has no model name")
	}
	if meta.ExportedAt.IsZero() {
		meta.ExportedAt = time.Now()
	}
	meta.ExportedAt = meta.ExportedAt.UTC().Truncate(time.Second) // tar keeps seconds
	in, err := os.Open(serverExe)
	if err != nil {
		return err
	}
	defer in.Close()
	info, err := in.Stat()
	if err != nil {
		return err
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("server executable %s is not a regular file", serverExe)
	}
	switch _, ok, err := readTrailer(in, info.Size()); {
	case err != nil:
		return fmt.Errorf("server executable %s: %w", serverExe, err)
	case ok:
		return fmt.Errorf("%s: %w", serverExe, ErrHasPayload)
	case cutPayload(in, info.Size()):
		return fmt.Errorf("%s: %w: an export cut short", serverExe, ErrCorrupt)
	}
	entries, err := listBundle(bundle)
	if err != nil {
		return err
	}
	// What is shipped is what the bundle's manifest says.
	_, digest, err := manifest.Verify(os.DirFS(bundle))
	if err != nil {
		return fmt.Errorf("bundle %s: %w", bundle, err)
	}
	if meta.Digest != "" && meta.Digest != digest {
		return fmt.Errorf("bundle %s has digest %s, the meta says %s", bundle, digest, meta.Digest)
	}
	meta.Digest = digest

	dir := filepath.Dir(dst)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, fsx.TempPrefix+filepath.Base(dst)+"-")
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	out := bufio.NewWriterSize(tmp, 1<<20)
	n, err := io.Copy(out, ctxReader{ctx, in})
	if err != nil {
		return fmt.Errorf("copy %s: %w", serverExe, err)
	}
	if n != info.Size() {
		return fmt.Errorf("copy %s: read %d bytes, want %d (it changed while being read)", serverExe, n, info.Size())
	}
	payload := &countWriter{w: out}
	metaSum, err := writePayload(ctx, payload, bundle, entries, meta)
	if err != nil {
		return err
	}
	t := trailer{offset: n, length: payload.n, sum: metaSum}
	if _, err := out.Write(t.encode()); err != nil {
		return err
	}
	if err := out.Flush(); err != nil {
		return err
	}
	if err := tmp.Chmod(0o755); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	crash.Point("export-before-rename")
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return err
	}
	ok = true
	return fsx.SyncDir(dir)
}

// entry is one file or directory of a bundle, by its slash-separated
// path relative to the bundle.
type entry struct {
	rel  string
	dir  bool
	size int64
}

// listBundle walks a bundle directory in lexical order.
func listBundle(root string) ([]entry, error) {
	var out []entry
	files := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			if !d.IsDir() {
				return fmt.Errorf("bundle %s is not a directory", root)
			}
			return nil
		}
		if fsx.IsTemp(d.Name()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil // the leftover of an interrupted write
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			out = append(out, entry{rel: filepath.ToSlash(rel), dir: true})
		case d.Type().IsRegular():
			info, err := d.Info()
			if err != nil {
				return err
			}
			out = append(out, entry{rel: filepath.ToSlash(rel), size: info.Size()})
			files++
		default:
			return fmt.Errorf("bundle %s: %s is not a regular file or directory (%v)", root, rel, d.Type())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if files == 0 {
		return nil, fmt.Errorf("bundle %s has no files", root)
	}
	return out, nil
}

// writePayload writes the tar archive: meta.json, then the bundle, and
// returns the sha256 of meta.json. Every header is fixed but for names,
// sizes and meta.ExportedAt, so the output depends on the inputs only.
func writePayload(ctx context.Context, w io.Writer, root string, entries []entry, meta Meta) ([sha256.Size]byte, error) {
	tw := tar.NewWriter(w)
	hdr := func(name string, mode int64, typ byte, size int64) *tar.Header {
		return &tar.Header{Name: name, Mode: mode, Typeflag: typ, Size: size, ModTime: meta.ExportedAt, Format: tar.FormatPAX}
	}
	mj, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return [sha256.Size]byte{}, err
	}
	mj = append(mj, '\n')
	if err := tw.WriteHeader(hdr(metaName, 0o644, tar.TypeReg, int64(len(mj)))); err != nil {
		return [sha256.Size]byte{}, err
	}
	if _, err := tw.Write(mj); err != nil {
		return [sha256.Size]byte{}, err
	}
	for _, e := range entries {
		if e.dir {
			if err := tw.WriteHeader(hdr(bundleDir+e.rel+"/", 0o755, tar.TypeDir, 0)); err != nil {
				return [sha256.Size]byte{}, err
			}
			continue
		}
		if err := tw.WriteHeader(hdr(bundleDir+e.rel, 0o644, tar.TypeReg, e.size)); err != nil {
			return [sha256.Size]byte{}, err
		}
		if err := copyFile(ctx, tw, filepath.Join(root, filepath.FromSlash(e.rel)), e.size); err != nil {
			return [sha256.Size]byte{}, err
		}
	}
	return sha256.Sum256(mj), tw.Close()
}

func copyFile(ctx context.Context, w io.Writer, p string, size int64) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := io.Copy(w, ctxReader{ctx, io.LimitReader(f, size+1)})
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	if n != size {
		return fmt.Errorf("%s changed size while being exported (%d bytes, then %d)", p, size, n)
	}
	return nil
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Payload is the model inside an exported executable.
type Payload struct {
	// Meta says which model it is.
	Meta Meta

	exe     string
	data    []byte // the tar archive, verified
	entries []string
}

// Open reads the payload of the executable exe (normally
// os.Executable()) and verifies it: meta.json against the sha256 in the
// trailer, and the bundle against its manifest (internal/manifest, as
// bundle.Load verifies a bundle directory) and the manifest against
// meta's digest. It returns an error wrapping ErrNoPayload for a plain
// executable and ErrCorrupt, naming exe (and the damaged file), for a
// damaged one. The payload is held in memory until the Payload is
// dropped.
func Open(exe string) (*Payload, error) {
	p, err := open(exe)
	if err != nil {
		return nil, fmt.Errorf("model payload of %s: %w", exe, err)
	}
	return p, nil
}

func open(exe string) (*Payload, error) {
	f, err := os.Open(exe)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	t, ok, err := readTrailer(f, info.Size())
	if err != nil {
		return nil, err
	}
	if !ok {
		if cutPayload(f, info.Size()) {
			return nil, fmt.Errorf("%w: the file ends in a payload that has no trailer: it was cut short", ErrCorrupt)
		}
		return nil, ErrNoPayload
	}
	data := make([]byte, t.length)
	if _, err := f.ReadAt(data, t.offset); err != nil {
		return nil, err
	}
	p := &Payload{exe: exe, data: data}
	files := memFS{}
	tr := tar.NewReader(bytes.NewReader(data))
	for i := 0; ; i++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		if i == 0 {
			if hdr.Name != metaName {
				return nil, fmt.Errorf("%w: the archive starts with %q, not %s", ErrCorrupt, hdr.Name, metaName)
			}
			mj, err := io.ReadAll(tr)
			if err != nil {
				return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, metaName, err)
			}
			if got := sha256.Sum256(mj); got != t.sum {
				return nil, fmt.Errorf("%w: checksum mismatch: the trailer says %s has sha256 %s, it hashes to %s",
					ErrCorrupt, metaName, hex.EncodeToString(t.sum[:]), hex.EncodeToString(got[:]))
			}
			if err := json.Unmarshal(mj, &p.Meta); err != nil {
				return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, metaName, err)
			}
			continue
		}
		p.entries = append(p.entries, hdr.Name)
		if rel, ok := strings.CutPrefix(hdr.Name, bundleDir); ok && hdr.Typeflag == tar.TypeReg && fs.ValidPath(rel) {
			b, err := io.ReadAll(tr)
			if err != nil {
				return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, hdr.Name, err)
			}
			files[rel] = b
		}
	}
	if len(p.entries) == 0 {
		return nil, fmt.Errorf("%w: the archive holds no bundle files", ErrCorrupt)
	}
	// The bundle, as bundle.Load checks a directory.
	_, digest, err := manifest.Verify(files)
	if err != nil {
		return nil, fmt.Errorf("%w: bundle: %w", ErrCorrupt, err)
	}
	if digest != p.Meta.Digest {
		return nil, fmt.Errorf("%w: the bundle's manifest has digest %s, %s says %s", ErrCorrupt, digest, metaName, p.Meta.Digest)
	}
	return p, nil
}

// memFS is the bundle files of a payload as an fs.FS, for
// manifest.Verify: a regular file by its slash-separated path.
type memFS map[string][]byte

func (m memFS) Open(name string) (fs.File, error) {
	b, ok := m[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return &memFile{name: path.Base(name), Reader: bytes.NewReader(b), size: int64(len(b))}, nil
}

type memFile struct {
	name string
	*bytes.Reader
	size int64
}

func (f *memFile) Stat() (fs.FileInfo, error) { return f, nil }
func (f *memFile) Close() error               { return nil }
func (f *memFile) Name() string               { return f.name }
func (f *memFile) Size() int64                { return f.size }
func (f *memFile) Mode() fs.FileMode          { return 0o444 }
func (f *memFile) ModTime() time.Time         { return time.Time{} }
func (f *memFile) IsDir() bool                { return false }
func (f *memFile) Sys() any                   { return nil }

// cutPayload reports whether f is an ELF executable followed by the start
// of a payload with its trailer missing: an export that was cut short.
// Anything else, including other trailing data, is not reported, so a
// plain executable never fails to start because of it.
func cutPayload(f *os.File, size int64) bool {
	end, ok := elfEnd(f)
	if !ok || end >= size {
		return false
	}
	hdr, err := tar.NewReader(io.NewSectionReader(f, end, size-end)).Next()
	return err == nil && hdr.Name == metaName
}

// elfEnd returns where an ELF file's own bytes end: the end of its last
// segment, section or section header table, whichever is last.
func elfEnd(f *os.File) (int64, bool) {
	ef, err := elf.NewFile(f)
	if err != nil {
		return 0, false
	}
	var end uint64
	for _, p := range ef.Progs {
		end = max(end, p.Off+p.Filesz)
	}
	for _, s := range ef.Sections {
		if s.Type != elf.SHT_NOBITS {
			end = max(end, s.Offset+s.FileSize)
		}
	}
	// The section header table: e_shoff, e_shentsize and e_shnum sit at
	// these offsets of the ELF header (System V ABI, "ELF Header").
	hdr := make([]byte, 64)
	if _, err := f.ReadAt(hdr, 0); err != nil {
		return 0, false
	}
	bo := ef.ByteOrder
	switch ef.Class {
	case elf.ELFCLASS64:
		end = max(end, bo.Uint64(hdr[0x28:])+uint64(bo.Uint16(hdr[0x3a:]))*uint64(bo.Uint16(hdr[0x3c:])))
	case elf.ELFCLASS32:
		end = max(end, uint64(bo.Uint32(hdr[0x20:]))+uint64(bo.Uint16(hdr[0x2e:]))*uint64(bo.Uint16(hdr[0x30:])))
	}
	return int64(end), true
}

// Files lists the bundle's entries as ExtractTo would write them,
// slash-separated, directories with a trailing "/".
func (p *Payload) Files() []string {
	out := make([]string, 0, len(p.entries))
	for _, name := range p.entries {
		out = append(out, strings.TrimPrefix(name, bundleDir))
	}
	return out
}

// ExtractTo writes the bundle's files into dir, creating it if needed.
// dir should be new and empty (os.MkdirTemp): an existing file of the
// same name is an error, not overwritten. Every name is checked before
// anything is written, and writes go through an os.Root, so nothing
// lands outside dir; a bad name is ErrUnsafeName.
func (p *Payload) ExtractTo(dir string) error {
	if err := p.extract(dir); err != nil {
		return fmt.Errorf("extract model payload of %s to %s: %w", p.exe, dir, err)
	}
	return nil
}

func (p *Payload) extract(dir string) error {
	tr := tar.NewReader(bytes.NewReader(p.data))
	var hdrs []*tar.Header
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		if hdr.Name == metaName && len(hdrs) == 0 {
			hdrs = append(hdrs, nil) // marks meta.json as seen
			continue
		}
		if _, err := localName(hdr); err != nil {
			return err
		}
		hdrs = append(hdrs, hdr)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	tr = tar.NewReader(bytes.NewReader(p.data))
	for _, want := range hdrs {
		hdr, err := tr.Next()
		if err != nil {
			return fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		if want == nil {
			continue
		}
		name, _ := localName(hdr)
		if hdr.Typeflag == tar.TypeDir {
			if err := root.MkdirAll(name, 0o755); err != nil {
				return err
			}
			continue
		}
		if d := filepath.Dir(name); d != "." {
			if err := root.MkdirAll(d, 0o755); err != nil {
				return err
			}
		}
		f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, tr); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}

// localName returns the path under dir of a bundle entry, or
// ErrUnsafeName: entries are regular files or directories under
// "bundle/", with a clean, relative name.
func localName(hdr *tar.Header) (string, error) {
	if hdr.Typeflag != tar.TypeReg && hdr.Typeflag != tar.TypeDir {
		return "", fmt.Errorf("%w: %q is not a regular file or directory (tar type %q)", ErrUnsafeName, hdr.Name, hdr.Typeflag)
	}
	rel, ok := strings.CutPrefix(hdr.Name, bundleDir)
	if hdr.Typeflag == tar.TypeDir {
		rel = strings.TrimSuffix(rel, "/")
	}
	if !ok || rel == "" || path.Clean(rel) != rel || !filepath.IsLocal(filepath.FromSlash(rel)) {
		return "", fmt.Errorf("%w: %q would be written outside the bundle directory", ErrUnsafeName, hdr.Name)
	}
	return filepath.FromSlash(rel), nil
}
