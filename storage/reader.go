package storage

import (
	"context"
	"fmt"
	"io"

	"github.com/minio/minio-go/v7"
)

// Reader reads one object with ranged GETs: every ReadAt is one request
// for exactly the bytes asked for, so a Parquet reader fetches its footer
// and the column chunks it needs and nothing else. It is safe for
// concurrent use (ReadAt keeps no position).
type Reader struct {
	b    *Bucket
	ctx  context.Context
	key  string
	size int64
	etag string
	off  int64 // for Read and Seek
}

// Open returns a Reader of the object key. Its reads are pinned to the
// object's ETag at Open: an object replaced while it is read fails the
// read with ErrPrecondition instead of mixing two versions' bytes.
func (b *Bucket) Open(ctx context.Context, key string) (*Reader, error) {
	size, etag, err := b.Stat(ctx, key)
	if err != nil {
		return nil, err
	}
	return &Reader{b: b, ctx: ctx, key: key, size: size, etag: etag}, nil
}

// Size is the object's size in bytes.
func (r *Reader) Size() int64 { return r.size }

// Name is the object's URL.
func (r *Reader) Name() string { return r.b.URL(r.key) }

// ReadAt reads len(p) bytes at off with one ranged GET.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read %s: negative offset %d", r.Name(), off)
	}
	if off >= r.size {
		return 0, io.EOF
	}
	want := min(int64(len(p)), r.size-off)
	if want == 0 {
		return 0, nil
	}
	opts := minio.GetObjectOptions{}
	if err := opts.SetRange(off, off+want-1); err != nil {
		return 0, fmt.Errorf("read %s: %w", r.Name(), err)
	}
	if err := opts.SetMatchETag(r.etag); err != nil {
		return 0, fmt.Errorf("read %s: %w", r.Name(), err)
	}
	r.b.Requests.Add(1)
	obj, err := r.b.client.GetObject(r.ctx, r.b.bucket, r.b.prefix+r.key, opts)
	if err != nil {
		return 0, r.b.wrap("read", r.key, err)
	}
	defer obj.Close()
	n, err := io.ReadFull(obj, p[:want])
	r.b.BytesRead.Add(int64(n))
	if err != nil {
		return n, r.b.wrap("read", r.key, err)
	}
	if want < int64(len(p)) {
		return n, io.EOF
	}
	return n, nil
}

// Read reads from the current position (one ranged GET per call; wrap
// it in a bufio.Reader to read sequentially).
func (r *Reader) Read(p []byte) (int, error) {
	n, err := r.ReadAt(p, r.off)
	r.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

// Seek sets the position of Read.
func (r *Reader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		offset += r.size
	default:
		return 0, fmt.Errorf("seek %s: bad whence %d", r.Name(), whence)
	}
	if offset < 0 {
		return 0, fmt.Errorf("seek %s: negative position", r.Name())
	}
	r.off = offset
	return offset, nil
}

// Close releases nothing (each read is its own request); it is here so
// that a Reader is a parquet.ReaderAtSeeker and an io.Closer.
func (r *Reader) Close() error { return nil }
