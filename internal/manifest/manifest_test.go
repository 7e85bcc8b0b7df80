package manifest_test

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlpipe/mlpipe/internal/manifest"
)

// dir makes a directory with a few files and its manifest.
func dir(t *testing.T) (string, string) {
	t.Helper()
	d := t.TempDir()
	files := map[string]string{
		"features.json":  `{"origin": ["ORD", "ATL"]}`,
		"model.json":     `{"leaves": [0.125, -0.5]}`,
		"sub/extra.json": `{}`,
		"record.json":    `{"run_id": "r1"}`,
	}
	for name, content := range files {
		p := filepath.Join(d, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, digest, err := manifest.WriteAll(d, "record.json")
	if err != nil {
		t.Fatal(err)
	}
	return d, digest
}

func TestVerify(t *testing.T) {
	d, digest := dir(t)
	m, got, err := manifest.Verify(os.DirFS(d))
	if err != nil {
		t.Fatal(err)
	}
	if got != digest || !strings.HasPrefix(got, "sha256:") || len(got) != 7+64 {
		t.Errorf("digest %q, Write said %q", got, digest)
	}
	// The digest is the sha256 of the manifest's own bytes.
	raw, err := os.ReadFile(filepath.Join(d, manifest.File))
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("sha256:%x", sha256.Sum256(raw)); got != want {
		t.Errorf("digest %s, the sha256 of %s is %s", got, manifest.File, want)
	}
	if len(m.Files) != 3 || m.Files[0].Path != "features.json" || m.Files[2].Path != "sub/extra.json" {
		t.Errorf("files %+v", m.Files)
	}
	// The same content gives the same digest.
	d2, digest2 := dir(t)
	if digest2 != digest {
		t.Errorf("two directories with the same files: %s and %s", digest, digest2)
	}
	// The file kept outside may change without changing the digest.
	if err := os.WriteFile(filepath.Join(d2, "record.json"), []byte(`{"run_id": "r2"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, got, err := manifest.Verify(os.DirFS(d2)); err != nil || got != digest {
		t.Errorf("record changed: %s, %v", got, err)
	}
}

// TestVerifyDamage changes one thing at a time and checks that Verify
// names the file.
func TestVerifyDamage(t *testing.T) {
	tests := []struct {
		name   string
		damage func(d string) error
		want   string
	}{
		{"ErrOneBit", func(d string) error {
			// "ORD" becomes "ORE": one bit (D 0x44, E 0x45).
			p := filepath.Join(d, "features.json")
			b, _ := os.ReadFile(p)
			i := strings.Index(string(b), "ORD")
			b[i+2] ^= 1
			return os.WriteFile(p, b, 0o644)
		}, "features.json has sha256"},
		{"ErrTruncated", func(d string) error { return os.Truncate(filepath.Join(d, "model.json"), 5) }, "model.json has 5 bytes"},
		{"ErrEmpty", func(d string) error { return os.Truncate(filepath.Join(d, "model.json"), 0) }, "model.json has 0 bytes"},
		{"ErrMissing", func(d string) error { return os.Remove(filepath.Join(d, "model.json")) }, "model.json is missing"},
		{"ErrDirectory", func(d string) error {
			if err := os.Remove(filepath.Join(d, "model.json")); err != nil {
				return err
			}
			return os.Mkdir(filepath.Join(d, "model.json"), 0o755)
		}, "model.json is not a regular file"},
		{"ErrManifestEdited", func(d string) error {
			p := filepath.Join(d, manifest.File)
			b, _ := os.ReadFile(p)
			return os.WriteFile(p, []byte(strings.Replace(string(b), "  ", " ", 1)), 0o644)
		}, "canonical form"},
		{"ErrManifestGarbage", func(d string) error { return os.WriteFile(filepath.Join(d, manifest.File), []byte("{"), 0o644) }, "does not parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, _ := dir(t)
			if err := tt.damage(d); err != nil {
				t.Fatal(err)
			}
			_, _, err := manifest.Verify(os.DirFS(d))
			if !errors.Is(err, manifest.ErrMismatch) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want ErrMismatch with %q", err, tt.want)
			}
		})
	}
	t.Run("ErrNoManifest", func(t *testing.T) {
		d, _ := dir(t)
		os.Remove(filepath.Join(d, manifest.File))
		if _, _, err := manifest.Verify(os.DirFS(d)); !errors.Is(err, manifest.ErrNoManifest) {
			t.Errorf("err = %v, want ErrNoManifest", err)
		}
	})
}

func TestBuildRefusesLinks(t *testing.T) {
	d := t.TempDir()
	if err := os.Symlink("/etc/passwd", filepath.Join(d, "model.json")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := manifest.WriteAll(d); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("WriteAll: err = %v", err)
	}
	if _, _, err := manifest.Write(d, []string{"model.json"}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Write: err = %v", err)
	}
}

// TestUnlisted: files added beside the listed ones are not verified (a
// reader reads only listed files) but Unlisted finds them.
func TestUnlisted(t *testing.T) {
	d, _ := dir(t)
	for _, name := range []string{"report.html", ".tmp-x-1"} {
		if err := os.WriteFile(filepath.Join(d, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m, _, err := manifest.Verify(os.DirFS(d))
	if err != nil {
		t.Fatal(err)
	}
	got, err := manifest.Unlisted(os.DirFS(d), m, "record.json")
	if err != nil || len(got) != 1 || got[0] != "report.html" {
		t.Errorf("unlisted = %v, %v; want [report.html]", got, err)
	}
}

// TestWriteListed: Write lists only the files named, so a directory can
// hold other things (the --out directory of a run).
func TestWriteListed(t *testing.T) {
	d, _ := dir(t)
	m, _, err := manifest.Write(d, []string{"model.json", "features.json"})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Files) != 2 || m.Files[0].Path != "features.json" {
		t.Errorf("files %+v", m.Files)
	}
	if _, _, err := manifest.Write(d, []string{"model.json", "model.json"}); err == nil {
		t.Error("a path listed twice was accepted")
	}
	if _, _, err := manifest.Write(d, []string{"../x"}); err == nil {
		t.Error("a path outside was accepted")
	}
}
