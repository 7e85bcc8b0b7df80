// Command image writes mlpipe's container image as an OCI image layout,
// without a Docker daemon (package internal/ociimage). `make image` runs
// it after building the static binaries:
//
//	go run ./scripts/image --out dist/image --revision REV bin/image/mlserve bin/image/mlpipe
//
// It prints the image's digest; the same inputs give the same digest.
package main

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/mlpipe/mlpipe/internal/ociimage"
)

func main() {
	out := flag.String("out", "dist/image", "OCI image layout directory to write (replaced)")
	rev := flag.String("revision", "devel", "source revision, for the image's labels")
	tag := flag.String("tag", "mlpipe:latest", "the image's name in the layout")
	certs := flag.String("ca-certificates", "/etc/ssl/certs/ca-certificates.crt", "CA bundle for HTTPS to object storage (\"\" for none)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: image [flags] MLSERVE MLPIPE\n\nWrites the container image as an OCI layout. The creation time is $SOURCE_DATE_EPOCH (default 0).\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 2 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*out, *rev, *tag, *certs, flag.Arg(0), flag.Arg(1)); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func run(out, rev, tag, certs, mlserve, mlpipe string) error {
	created := time.Unix(0, 0).UTC()
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("SOURCE_DATE_EPOCH=%q: %w", s, err)
		}
		created = time.Unix(sec, 0).UTC()
	}
	files := []ociimage.File{{Path: "mlserve", Source: mlserve, Mode: 0o755}, {Path: "mlpipe", Source: mlpipe, Mode: 0o755}}
	if certs != "" {
		files = append(files, ociimage.File{Path: "etc/ssl/certs/ca-certificates.crt", Source: certs, Mode: 0o644})
	}
	err := filepath.WalkDir("configs", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, ociimage.File{Path: filepath.ToSlash(p), Source: p, Mode: 0o644})
		}
		return err
	})
	if err != nil {
		return err
	}
	img, err := ociimage.Build(ociimage.Options{Files: files, Created: created, Revision: rev, Arch: runtime.GOARCH})
	if err != nil {
		return err
	}
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	digest, err := ociimage.WriteLayout(out, img, tag)
	if err != nil {
		return err
	}
	fmt.Printf("%s %s\n", out, digest)
	return nil
}
