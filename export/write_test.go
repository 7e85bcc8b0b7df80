package export_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mlpipe/mlpipe/export"
	"github.com/mlpipe/mlpipe/internal/manifest"
)

// meta is the lineage of a made-up flights model.
var meta = export.Meta{
	Model:           "flights-delay",
	Version:         3,
	DataFingerprint: "sha256:9f2c",
	ConfigHash:      "sha256:41ab",
	CodeVersion:     "3f9c2a1d0b7e",
	RunID:           "20261125T101500Z-1a2b",
	ExportedAt:      time.Date(2026, 11, 25, 10, 15, 0, 0, time.UTC),
}

// bundleFiles is a small bundle with a subdirectory.
var bundleFiles = map[string]string{
	"model.json":    `{"kind":"logreg","weights":[0.5,-1.25]}`,
	"features.json": `{"columns":["origin","distance"]}`,
	"sub/notes.txt": "hello from a subdirectory\n",
}

func makeBundle(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range bundleFiles {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := manifest.WriteAll(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// bundleDigest is the digest of makeBundle's manifest.
func bundleDigest(t *testing.T) string {
	t.Helper()
	_, d, err := manifest.Read(os.DirFS(makeBundle(t)))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// serverExe is a real ELF executable to export: the test binary itself.
func serverExe(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

// exported writes an export of the test bundle and returns its path.
func exported(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "flights-delay-server")
	if err := export.Write(context.Background(), dst, serverExe(t), makeBundle(t), meta); err != nil {
		t.Fatal(err)
	}
	return dst
}

// dirFiles lists the files under dir, slash-separated, with their content.
func dirFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	dst := exported(t)
	info, err := os.Stat(dst)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o755 {
		t.Errorf("mode %v, want 0755", info.Mode().Perm())
	}
	// The executable part is the server, byte for byte.
	server, _ := os.ReadFile(serverExe(t))
	got, _ := os.ReadFile(dst)
	if !bytes.HasPrefix(got, server) {
		t.Error("the export does not start with the server executable")
	}

	p, err := export.Open(dst)
	if err != nil {
		t.Fatal(err)
	}
	want := meta
	want.Digest = bundleDigest(t)
	if !reflect.DeepEqual(p.Meta, want) {
		t.Errorf("meta %+v, want %+v", p.Meta, want)
	}
	if want := []string{"features.json", "manifest.json", "model.json", "sub/", "sub/notes.txt"}; !reflect.DeepEqual(p.Files(), want) {
		t.Errorf("files %v, want %v", p.Files(), want)
	}
	dir := filepath.Join(t.TempDir(), "bundle")
	if err := p.ExtractTo(dir); err != nil {
		t.Fatal(err)
	}
	files := dirFiles(t, dir)
	delete(files, manifest.File)
	if !reflect.DeepEqual(files, bundleFiles) {
		t.Errorf("extracted %v, want %v", files, bundleFiles)
	}
	if _, d, err := manifest.Verify(os.DirFS(dir)); err != nil || d != want.Digest {
		t.Errorf("the extracted bundle: digest %s, %v; want %s", d, err, want.Digest)
	}
	// Extracting again into the same directory does not overwrite.
	if err := p.ExtractTo(dir); !errors.Is(err, fs.ErrExist) {
		t.Errorf("second extract into the same dir: %v, want fs.ErrExist", err)
	}

	// The same inputs give the same bytes.
	again := filepath.Join(t.TempDir(), "again")
	if err := export.Write(context.Background(), again, serverExe(t), makeBundle(t), meta); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(again); !bytes.Equal(b, got) {
		t.Error("two exports of the same inputs differ")
	}
}

func TestOpenNoPayload(t *testing.T) {
	dir := t.TempDir()
	tiny := filepath.Join(dir, "tiny")
	if err := os.WriteFile(tiny, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	// An ELF executable with unrelated bytes after it (a signature, say):
	// not a payload, so not an error that would stop a plain mlserve.
	junk := filepath.Join(dir, "junk")
	server, _ := os.ReadFile(serverExe(t))
	if err := os.WriteFile(junk, append(server, strings.Repeat("not a payload ", 100)...), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, exe := range []string{serverExe(t), tiny, junk} {
		if _, err := export.Open(exe); !errors.Is(err, export.ErrNoPayload) {
			t.Errorf("Open(%s): %v, want ErrNoPayload", exe, err)
		}
	}
	if _, err := export.Open(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(missing): %v, want fs.ErrNotExist", err)
	}
}

// flip changes one bit of the first occurrence of s in b (the payload).
func flip(b []byte, s string) {
	i := bytes.Index(b, []byte(s))
	if i < 0 {
		panic("flip: " + s + " not found")
	}
	b[i+len(s)/2] ^= 1
}

// TestOpenCorrupt damages an export in the ways a disk, a network copy
// or an editor can.
func TestOpenCorrupt(t *testing.T) {
	good, err := os.ReadFile(exported(t))
	if err != nil {
		t.Fatal(err)
	}
	server, _ := os.ReadFile(serverExe(t))
	const trailer = 64 // bytes, see the package comment
	tests := []struct {
		name   string
		damage func([]byte) []byte
		want   error
		msg    string
	}{
		// One bit of a bundle file: the manifest names it.
		{"FlippedModelByte", func(b []byte) []byte { flip(b[len(server):], bundleFiles["model.json"]); return b }, export.ErrCorrupt, "model.json has sha256"},
		{"FlippedSubdirByte", func(b []byte) []byte { flip(b[len(server):], bundleFiles["sub/notes.txt"]); return b }, export.ErrCorrupt, "sub/notes.txt has sha256"},
		{"FlippedMetaByte", func(b []byte) []byte { flip(b[len(server):], `"model": "flights-delay"`); return b }, export.ErrCorrupt, "checksum mismatch"},
		{"FlippedManifestByte", func(b []byte) []byte { flip(b[len(server):], `"format": 1`); return b }, export.ErrCorrupt, "bundle"},
		{"FlippedChecksumByte", func(b []byte) []byte { b[len(b)-trailer+16] ^= 1; return b }, export.ErrCorrupt, "checksum mismatch"},
		{"LastByteCut", func(b []byte) []byte { return b[:len(b)-1] }, export.ErrCorrupt, "cut short"},
		{"HalfThePayloadCut", func(b []byte) []byte { return b[:len(server)+(len(b)-len(server))/2] }, export.ErrCorrupt, "cut short"},
		{"PayloadBytesLost", func(b []byte) []byte {
			return append(b[:len(server)+100:len(server)+100], b[len(server)+200:]...)
		}, export.ErrCorrupt, "the trailer puts"},
		{"LengthPastStart", func(b []byte) []byte { b[len(b)-trailer+15] = 0x7f; return b }, export.ErrCorrupt, "the trailer puts"},
		{"CutToTheServer", func(b []byte) []byte { return b[:len(server)] }, export.ErrNoPayload, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "server")
			if err := os.WriteFile(path, tt.damage(bytes.Clone(good)), 0o755); err != nil {
				t.Fatal(err)
			}
			_, err := export.Open(path)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) || !strings.Contains(err.Error(), path) {
				t.Errorf("Open: %v; want %v saying %q and naming %s", err, tt.want, tt.msg, path)
			}
		})
	}
}

func TestWriteFailsCleanly(t *testing.T) {
	ctx := context.Background()
	bundle := makeBundle(t)
	withLink := makeBundle(t)
	if err := os.Symlink("/etc/passwd", filepath.Join(withLink, "passwd")); err != nil {
		t.Fatal(err)
	}
	alreadyExported := exported(t)
	noManifest := makeBundle(t)
	os.Remove(filepath.Join(noManifest, manifest.File))
	damaged := makeBundle(t)
	os.WriteFile(filepath.Join(damaged, "model.json"), []byte("{}"), 0o644)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	noName := meta
	noName.Model = ""
	tests := []struct {
		name      string
		ctx       context.Context
		server    string
		bundle    string
		meta      export.Meta
		want      error  // nil: any error
		wantInMsg string // part of the message
	}{
		{"ServerAlreadyExported", ctx, alreadyExported, bundle, meta, export.ErrHasPayload, alreadyExported},
		{"SymlinkInBundle", ctx, serverExe(t), withLink, meta, nil, "passwd is not a regular file"},
		{"EmptyBundle", ctx, serverExe(t), t.TempDir(), meta, nil, "has no files"},
		{"NoManifest", ctx, serverExe(t), noManifest, meta, manifest.ErrNoManifest, ""},
		{"BundleDamaged", ctx, serverExe(t), damaged, meta, manifest.ErrMismatch, "model.json has"},
		{"MissingBundle", ctx, serverExe(t), filepath.Join(t.TempDir(), "nope"), meta, fs.ErrNotExist, ""},
		{"MissingServer", ctx, filepath.Join(t.TempDir(), "nope"), bundle, meta, fs.ErrNotExist, ""},
		{"NoModelName", ctx, serverExe(t), bundle, noName, nil, "no model name"},
		{"Cancelled", cancelled, serverExe(t), bundle, meta, context.Canceled, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, existing := range []bool{false, true} {
				dir := t.TempDir()
				dst := filepath.Join(dir, "server")
				if existing {
					if err := os.WriteFile(dst, []byte("the previous export"), 0o755); err != nil {
						t.Fatal(err)
					}
				}
				err := export.Write(tt.ctx, dst, tt.server, tt.bundle, tt.meta)
				if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) || !strings.Contains(err.Error(), tt.wantInMsg) {
					t.Errorf("Write: %v; want %v saying %q", err, tt.want, tt.wantInMsg)
				}
				entries, _ := os.ReadDir(dir)
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				b, _ := os.ReadFile(dst)
				switch {
				case existing && (len(names) != 1 || string(b) != "the previous export"):
					t.Errorf("after a failed Write over an old file: %v holding %q", names, b)
				case !existing && len(names) != 0:
					t.Errorf("after a failed Write: %v left behind", names)
				}
			}
		})
	}
}

// withPayload makes a small file with a hand-made payload: meta.json,
// an empty manifest (so that Open passes), then the given entries, each
// regular file holding "{}".
func withPayload(t *testing.T, entries []*tar.Header) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	empty := (&manifest.Manifest{Format: 1, Files: []manifest.Entry{}}).Encode()
	mj := []byte(`{"model": "m", "digest": "` + manifest.Digest(empty) + `"}`)
	contents := map[string][]byte{"meta.json": mj, "bundle/manifest.json": empty}
	all := append([]*tar.Header{
		{Name: "meta.json", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(mj))},
		{Name: "bundle/manifest.json", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(empty))},
	}, entries...)
	for _, h := range all {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			content, ok := contents[h.Name]
			if !ok {
				content = bytes.Repeat([]byte("{}"), int(h.Size/2))
			}
			if _, err := tw.Write(content); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "server")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := export.AppendPayload(path, buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestExtractRejectsUnsafeNames: a payload naming a place outside the
// target directory writes nothing at all.
func TestExtractRejectsUnsafeNames(t *testing.T) {
	file := func(name string) *tar.Header {
		return &tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: 2}
	}
	tests := []struct {
		name  string
		entry *tar.Header
	}{
		{"DotDot", file("bundle/../evil")},
		{"DotDotDeep", file("bundle/a/../../evil")},
		{"DotDotAtTop", file("../evil")},
		{"Absolute", file("/tmp/evil")},
		{"AbsoluteInBundle", file("bundle//tmp/evil")},
		{"OutsideBundle", file("evil")},
		{"BundleItself", &tar.Header{Name: "bundle/", Typeflag: tar.TypeDir, Mode: 0o755}},
		{"Symlink", &tar.Header{Name: "bundle/link", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}},
		{"Hardlink", &tar.Header{Name: "bundle/link", Typeflag: tar.TypeLink, Linkname: "../evil"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exe := withPayload(t, []*tar.Header{file("bundle/model.json"), tt.entry})
			p, err := export.Open(exe)
			if err != nil {
				t.Fatal(err)
			}
			parent := t.TempDir()
			dir := filepath.Join(parent, "out", "bundle")
			if err := p.ExtractTo(dir); !errors.Is(err, export.ErrUnsafeName) {
				t.Errorf("ExtractTo: %v, want ErrUnsafeName", err)
			}
			if files := dirFiles(t, parent); len(files) != 0 {
				t.Errorf("wrote %v", files)
			}
		})
	}
	// The same helper with safe names extracts, so the cases above fail
	// for their names and not for the way they were made.
	p, err := export.Open(withPayload(t, []*tar.Header{file("bundle/model.json"), file("bundle/a/b.json")}))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := p.ExtractTo(dir); err != nil {
		t.Fatal(err)
	}
	files := dirFiles(t, dir)
	delete(files, manifest.File)
	if !reflect.DeepEqual(files, map[string]string{"model.json": "{}", "a/b.json": "{}"}) {
		t.Errorf("extracted %v", files)
	}
}

// TestExportedExecutableRuns builds a small program that does what
// mlserve does at start-up (testdata/tinyserver), exports a bundle into
// it and runs the result: the payload does not stop it from running, and
// it finds the payload in itself.
func TestExportedExecutableRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go program")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command:", err)
	}
	dir := t.TempDir()
	plain := filepath.Join(dir, "tinyserver")
	build := exec.Command(goTool, "build", "-o", plain, "./testdata/tinyserver/main.go")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	// Plain, it carries nothing: exit 3 (tinyserver's code for ErrNoPayload).
	out, err := exec.Command(plain).CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("plain run: %v\n%s", err, out)
	}

	server := filepath.Join(dir, "dist", "flights-delay-server")
	if err := export.Write(context.Background(), server, plain, makeBundle(t), meta); err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command(server).CombinedOutput()
	if err != nil {
		t.Fatalf("exported run: %v\n%s", err, out)
	}
	want := "model=flights-delay version=3 run=20261125T101500Z-1a2b data=sha256:9f2c config=sha256:41ab code=3f9c2a1d0b7e exported_at=2026-11-25T10:15:00Z\n" +
		"files=features.json,manifest.json,model.json,sub/,sub/notes.txt\n" +
		`model.json={"kind":"logreg","weights":[0.5,-1.25]}` + "\n" +
		"sub/notes.txt=hello from a subdirectory\n"
	if string(out) != want {
		t.Errorf("exported run printed\n%s\nwant\n%s", out, want)
	}
}
