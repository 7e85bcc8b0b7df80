package ociimage_test

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/mlpipe/mlpipe/internal/ociimage"
)

// TestImage builds the image as `make image` does, twice, and checks
// that the digest is the same; inspects its config; then extracts its
// file system and runs the binaries from it: /mlpipe trains the test
// fixture into a registry and the entrypoint, /mlserve, serves it until
// /readyz answers 200.
func TestImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds both binaries")
	}
	root, _ := filepath.Abs("../..")
	bins := t.TempDir()
	build := func(out, pkg string, flags ...string) {
		cmd := exec.Command("go", append(append([]string{"build"}, flags...), "-o", out, pkg)...)
		cmd.Dir, cmd.Env = root, append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, b)
		}
	}
	// mlserve as `make image` builds it; mlpipe (which only trains the
	// fixture here) as the other tests build it, sharing their build
	// cache: a -trimpath build of it would compile every package again.
	reproducible := []string{"-trimpath", "-ldflags", "-s -w -buildid="}
	build(filepath.Join(bins, "mlserve"), "./cmd/mlserve", reproducible...)
	build(filepath.Join(bins, "mlpipe"), "./cmd/mlpipe")
	// The binary is reproducible too (the build cache makes the second
	// build a relink).
	build(filepath.Join(bins, "mlserve2"), "./cmd/mlserve", reproducible...)
	if sum(t, filepath.Join(bins, "mlserve")) != sum(t, filepath.Join(bins, "mlserve2")) {
		t.Error("two builds of mlserve differ")
	}
	opts := ociimage.Options{
		Files: []ociimage.File{
			{Path: "mlserve", Source: filepath.Join(bins, "mlserve"), Mode: 0o755},
			{Path: "mlpipe", Source: filepath.Join(bins, "mlpipe"), Mode: 0o755},
			{Path: "configs/flights.yaml", Source: filepath.Join(root, "configs/flights.yaml"), Mode: 0o644},
		},
		Created: time.Unix(0, 0).UTC(), Revision: "test", Arch: runtime.GOARCH,
	}
	var digests []string
	for i := range 2 {
		img, err := ociimage.Build(opts)
		if err != nil {
			t.Fatal(err)
		}
		d, err := ociimage.WriteLayout(filepath.Join(t.TempDir(), fmt.Sprint("layout", i)), img, "mlpipe:test")
		if err != nil {
			t.Fatal(err)
		}
		digests = append(digests, d)
	}
	if digests[0] != digests[1] {
		t.Errorf("two builds: digests %s and %s", digests[0], digests[1])
	}
	t.Logf("image digest %s", digests[0])

	img, _ := ociimage.Build(opts)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if c.User != "65532:65532" || !slices.Equal(c.Entrypoint, []string{"/mlserve"}) || len(c.ExposedPorts) != 1 || c.Labels["org.opencontainers.image.revision"] != "test" {
		t.Errorf("config: user %q, entrypoint %v, ports %v, labels %v", c.User, c.Entrypoint, c.ExposedPorts, c.Labels)
	}
	if _, ok := c.ExposedPorts["8080/tcp"]; !ok {
		t.Errorf("exposed ports %v, want 8080/tcp", c.ExposedPorts)
	}

	// Extract the file system.
	rootfs := t.TempDir()
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers: %d, %v", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Uid != 0 || !h.ModTime.Equal(time.Unix(0, 0)) {
			t.Errorf("%s: uid %d, mtime %v", h.Name, h.Uid, h.ModTime)
		}
		p := filepath.Join(rootfs, h.Name)
		if h.Typeflag == tar.TypeDir {
			os.MkdirAll(p, 0o755)
			continue
		}
		var b bytes.Buffer
		io.Copy(&b, tr)
		if err := os.WriteFile(p, b.Bytes(), os.FileMode(h.Mode)); err != nil {
			t.Fatal(err)
		}
	}
	rc.Close()

	reg := filepath.Join(t.TempDir(), "registry")
	train := exec.Command(filepath.Join(rootfs, "mlpipe"), "run", "--config", filepath.Join(root, "testdata/flights-10k.yaml"),
		"--registry", reg, "--out", "", "--log-level", "error")
	if b, err := train.CombinedOutput(); err != nil {
		t.Fatalf("/mlpipe run: %v\n%s", err, b)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	args := append(slices.Clone(c.Cmd), "--addr", addr, "--registry", reg, "--model", "flights-delay", "--no-log")
	srv := exec.Command(filepath.Join(rootfs, c.Entrypoint[0]), args...)
	var logs bytes.Buffer
	srv.Stderr = &logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the image's mlserve is not ready after 60 s:\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func sum(t *testing.T, path string) [32]byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}
