// Package ociimage builds mlpipe's container image without a Docker
// daemon, reproducibly: the same binaries and files give the same digest.
//
// In: the static binaries (mlserve, mlpipe), extra files (configs/, the
// CA certificates for HTTPS to object storage) and a creation time (the
// commit's, or the Unix epoch). Out: an OCI image on an empty base, one
// layer, in an OCI image layout directory (index.json, blobs/) that
// `skopeo copy oci:DIR docker://...`, `crane push` or `podman load`
// take. The image runs as user 65532, its entrypoint is /mlserve on port
// 8080, and it carries the OCI labels of its revision.
//
// Reproducible because every input to the digest is fixed: tar entries
// in sorted order with one owner (0:0), fixed modes and the creation
// time as their mtime; gzip at a fixed level by one library; a config
// with no host-dependent field. `make image` builds the binaries with
// -trimpath and -buildid= so that they, too, are the same each time.
package ociimage

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// User is the image's user and group: distroless's "nonroot".
const User = "65532:65532"

// Port is the port mlserve listens on in the image.
const Port = "8080/tcp"

// File is one file of the image.
type File struct {
	// Path is where it goes in the image ("mlserve", "configs/x.yaml").
	Path string
	// Source is the local file it is read from.
	Source string
	// Mode is its permission bits.
	Mode int64
}

// Options say what goes into the image.
type Options struct {
	Files []File
	// Created is the image's creation time and every file's mtime.
	Created time.Time
	// Revision is the source revision, for the OCI labels.
	Revision string
	// Arch is the binaries' architecture (GOARCH).
	Arch string
}

// Build assembles the image.
func Build(opts Options) (v1.Image, error) {
	layer, err := tarLayer(opts)
	if err != nil {
		return nil, fmt.Errorf("build image: %w", err)
	}
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(layer)), nil },
		tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("build image: %w", err)
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{Layer: l, History: v1.History{
		Created: v1.Time{Time: opts.Created}, CreatedBy: "make image (internal/ociimage)", Comment: "mlserve, mlpipe, configs",
	}})
	if err != nil {
		return nil, fmt.Errorf("build image: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("build image: %w", err)
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS = opts.Arch, "linux"
	cf.Created = v1.Time{Time: opts.Created}
	cf.Config = v1.Config{
		User:         User,
		Entrypoint:   []string{"/mlserve"},
		Cmd:          []string{"--addr", "0.0.0.0:8080"},
		ExposedPorts: map[string]struct{}{Port: {}},
		Env:          []string{"PATH=/", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"},
		WorkingDir:   "/",
		Labels: map[string]string{
			"org.opencontainers.image.title":    "mlpipe",
			"org.opencontainers.image.source":   "https://github.com/mlpipe/mlpipe",
			"org.opencontainers.image.revision": opts.Revision,
			"org.opencontainers.image.created":  opts.Created.UTC().Format(time.RFC3339),
		},
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("build image: %w", err)
	}
	return img, nil
}

// tarLayer writes the files, and their parent directories, as one
// deterministic tar.
func tarLayer(opts Options) ([]byte, error) {
	files := append([]File(nil), opts.Files...)
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	dirs := map[string]bool{"tmp": true}
	for _, f := range files {
		for d := path.Dir(f.Path); d != "." && d != "/"; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	var names []string
	for d := range dirs {
		names = append(names, d)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdr := func(name string, typ byte, mode, size int64) *tar.Header {
		return &tar.Header{Name: name, Typeflag: typ, Mode: mode, Size: size, ModTime: opts.Created, Format: tar.FormatPAX}
	}
	for _, d := range names {
		mode := int64(0o755)
		if d == "tmp" {
			mode = 0o1777
		}
		if err := tw.WriteHeader(hdr(d+"/", tar.TypeDir, mode, 0)); err != nil {
			return nil, err
		}
	}
	for _, f := range files {
		b, err := os.ReadFile(f.Source)
		if err != nil {
			return nil, err
		}
		if strings.HasPrefix(f.Path, "/") || strings.Contains(f.Path, "..") {
			return nil, fmt.Errorf("file %q: want a relative path inside the image", f.Path)
		}
		if err := tw.WriteHeader(hdr(f.Path, tar.TypeReg, f.Mode, int64(len(b)))); err != nil {
			return nil, err
		}
		if _, err := tw.Write(b); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteLayout writes img as the only image of a new OCI image layout in
// dir (which must not exist or be empty), tagged tag, and returns its
// digest.
func WriteLayout(dir string, img v1.Image, tag string) (string, error) {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return "", fmt.Errorf("write image: %s is not empty", dir)
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return "", fmt.Errorf("write image: %w", err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": tag})); err != nil {
		return "", fmt.Errorf("write image: %w", err)
	}
	d, err := img.Digest()
	if err != nil {
		return "", fmt.Errorf("write image: %w", err)
	}
	return d.String(), nil
}
