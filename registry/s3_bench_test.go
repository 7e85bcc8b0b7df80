package registry_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlpipe/mlpipe/internal/manifest"
	"github.com/mlpipe/mlpipe/internal/s3test"
	"github.com/mlpipe/mlpipe/registry"
)

// BenchmarkRegisterS3 registers a bundle of the size of the flights
// model (three files, 1 MB) and moves production to it, under the writer
// lock, on the disk and on a SeaweedFS server on loopback; then reads the
// version as a fresh mlserve would (resolve the alias, download and
// verify: "open"). scripts/bench/s3.sh reports the ratios.
func BenchmarkRegisterS3(b *testing.B) {
	srv := s3test.Start(b)
	src := b.TempDir()
	for i, f := range []string{"model.json", "features.json", "training.json"} {
		data := make([]byte, []int{900 << 10, 60 << 10, 40 << 10}[i])
		for j := range data {
			data[j] = byte(j*31 + i)
		}
		if err := os.WriteFile(filepath.Join(src, f), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	if _, _, err := manifest.WriteAll(src); err != nil {
		b.Fatal(err)
	}
	for _, where := range []string{"disk", "s3"} {
		root := b.TempDir()
		if where == "s3" {
			root = srv.URL("bench-register")
		}
		b.Setenv("MLPIPE_CACHE_DIR", b.TempDir())
		s, err := registry.Open(root)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		b.Run(where+"/register", func(b *testing.B) {
			for b.Loop() {
				n++
				// A new digest each time: the record differs, the
				// manifest too (a byte of training.json changes).
				os.WriteFile(filepath.Join(src, "training.json"), []byte(fmt.Sprint(where, n)), 0o644)
				manifest.WriteAll(src)
				unlock, err := s.Lock(context.Background(), true)
				if err != nil {
					b.Fatal(err)
				}
				r, err := s.Register("m", src)
				if err == nil {
					err = s.SetAlias("m", "production", r.Version)
				}
				if err != nil {
					b.Fatal(err)
				}
				unlock()
			}
		})
		b.Run(where+"/open", func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				fresh, _ := registry.Open(root)
				if where == "s3" {
					b.Setenv("MLPIPE_CACHE_DIR", b.TempDir()) // a new replica: empty cache
					fresh, _ = registry.Open(root)
				}
				b.StartTimer()
				name, v, err := fresh.Resolve("m")
				if err == nil {
					_, err = fresh.VersionDir(name, v)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
