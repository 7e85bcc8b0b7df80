package storage_test

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/mlpipe/mlpipe/internal/s3test"
	"github.com/mlpipe/mlpipe/storage"
)

// TestBucket runs the operations the registry's guarantees rest on
// against a real S3 server: conditional puts, listing, ranged reads.
func TestBucket(t *testing.T) {
	srv := s3test.Start(t)
	ctx := context.Background()
	b, err := storage.Open(srv.URL("storage-test"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.Get(ctx, "a"); !errors.Is(err, storage.ErrNotExist) {
		t.Fatalf("get missing: %v, want ErrNotExist", err)
	}
	etag1, err := b.Put(ctx, "a", []byte("one"), storage.Cond{IfAbsent: true})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cond storage.Cond
		want error
	}{
		{"ErrIfAbsentOnExisting", storage.Cond{IfAbsent: true}, storage.ErrPrecondition},
		{"ErrIfMatchStale", storage.Cond{IfMatch: `"0123456789abcdef0123456789abcdef"`}, storage.ErrPrecondition},
		{"OK/IfMatchCurrent", storage.Cond{IfMatch: etag1}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := b.Put(ctx, "a", []byte("two:"+tt.name), tt.cond); !errors.Is(err, tt.want) {
				t.Errorf("put: %v, want %v", err, tt.want)
			}
		})
	}
	got, _, err := b.Get(ctx, "a")
	if err != nil || string(got) != "two:OK/IfMatchCurrent" {
		t.Errorf("get = %q, %v", got, err)
	}
	// The ETag that was current before is stale now.
	if _, err := b.Put(ctx, "a", []byte("three"), storage.Cond{IfMatch: etag1}); !errors.Is(err, storage.ErrPrecondition) {
		t.Errorf("put with the replaced ETag: %v, want ErrPrecondition", err)
	}

	for _, k := range []string{"d/x/1", "d/x/2", "d/y/1", "d/z"} {
		if _, err := b.Put(ctx, k, []byte(k), storage.Cond{}); err != nil {
			t.Fatal(err)
		}
	}
	objs, err := b.List(ctx, "d/x")
	if err != nil || len(objs) != 2 || objs[0].Key != "d/x/1" {
		t.Errorf("list d/x = %+v, %v", objs, err)
	}
	dirs, err := b.Dirs(ctx, "d")
	if err != nil || len(dirs) != 2 || dirs[0] != "x" || dirs[1] != "y" {
		t.Errorf("dirs d = %v, %v; want [x y]", dirs, err)
	}
	if err := b.DeleteAll(ctx, "d/x"); err != nil {
		t.Fatal(err)
	}
	if objs, _ := b.List(ctx, "d/x"); len(objs) != 0 {
		t.Errorf("after DeleteAll: %v", objs)
	}

	// Ranged reads fetch exactly what is asked.
	data := make([]byte, 100_000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	if _, err := b.Put(ctx, "big", data, storage.Cond{}); err != nil {
		t.Fatal(err)
	}
	r, err := b.Open(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	before := b.BytesRead.Load()
	buf := make([]byte, 10)
	if n, err := r.ReadAt(buf, 50_000); n != 10 || err != nil || string(buf) != string(data[50_000:50_010]) {
		t.Errorf("ReadAt = %d, %v, %v", n, err, buf)
	}
	if n, err := r.ReadAt(buf, 99_995); n != 5 || err != io.EOF {
		t.Errorf("ReadAt at the end = %d, %v; want 5, EOF", n, err)
	}
	if read := b.BytesRead.Load() - before; read != 15 {
		t.Errorf("read %d bytes of data, want 15", read)
	}
	// A reader is pinned to the object it opened.
	if _, err := b.Put(ctx, "big", []byte("replaced"), storage.Cond{}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadAt(buf, 0); !errors.Is(err, storage.ErrPrecondition) {
		t.Errorf("read after replace: %v, want ErrPrecondition", err)
	}
}

func TestOpenURL(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL_S3", "")
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	tests := []struct {
		url, want string
		err       bool
	}{
		{"s3://b/p/q/", "s3://b/p/q", false},
		{"s3://b", "s3://b/", false},
		{"s3:///p", "", true},
		{"s3://b/../x", "", true},
		{"/local/path", "", true},
	}
	for _, tt := range tests {
		b, err := storage.Open(tt.url)
		if (err != nil) != tt.err {
			t.Errorf("Open(%q): %v", tt.url, err)
			continue
		}
		if err == nil && b.String() != tt.want {
			t.Errorf("Open(%q) = %s, want %s", tt.url, b, tt.want)
		}
	}
	t.Setenv("AWS_ENDPOINT_URL", "127.0.0.1:8333")
	if _, err := storage.Open("s3://b/p"); !errors.Is(err, storage.ErrURL) {
		t.Errorf("endpoint without scheme: %v, want ErrURL", err)
	}
}
