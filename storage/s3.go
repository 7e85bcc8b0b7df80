package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"
	"sync/atomic"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Sentinel errors.
var (
	// ErrNotExist means the object does not exist.
	ErrNotExist = errors.New("object does not exist")
	// ErrPrecondition means a conditional put failed: the object exists
	// (IfAbsent) or changed since it was read (IfMatch).
	ErrPrecondition = errors.New("precondition failed")
	// ErrURL means a storage URL is malformed.
	ErrURL = errors.New("invalid storage URL")
)

// Scheme is the URL scheme of object storage.
const Scheme = "s3://"

// IsURL reports whether s names object storage ("s3://...") rather than
// a local path.
func IsURL(s string) bool { return strings.HasPrefix(s, Scheme) }

// Cond is the condition of a Put. The zero value puts unconditionally.
type Cond struct {
	// IfAbsent creates the object only if no object has its key
	// (If-None-Match: *).
	IfAbsent bool
	// IfMatch replaces the object only if its ETag is still this one
	// (If-Match).
	IfMatch string
}

// Bucket is a prefix of an S3 bucket. Its methods are safe for
// concurrent use.
type Bucket struct {
	client *minio.Client
	bucket string
	prefix string // "" or ending in "/"
	url    string

	// Requests counts the requests made, for tests and benchmarks that
	// show how much a reader fetched.
	Requests counter
	// BytesRead counts the bytes of object data read.
	BytesRead counter
}

// Totals counts the requests and bytes of every Bucket of the process,
// for tests and benchmarks of code that opens its own (ingest).
var Totals struct {
	Requests, BytesRead atomic.Int64
}

// counter is an atomic count that also adds to a total of Totals.
type counter struct {
	n     atomic.Int64
	total *atomic.Int64
}

// Add adds d.
func (c *counter) Add(d int64) {
	c.n.Add(d)
	if c.total != nil {
		c.total.Add(d)
	}
}

// Load returns the count.
func (c *counter) Load() int64 { return c.n.Load() }

// Open returns the bucket prefix that rawURL ("s3://BUCKET/PREFIX")
// names, with the endpoint and credentials of the environment (see the
// package documentation). It makes no request.
func Open(rawURL string) (*Bucket, error) {
	if !IsURL(rawURL) {
		return nil, fmt.Errorf("%w: %q does not start with %s", ErrURL, rawURL, Scheme)
	}
	rest := strings.TrimPrefix(rawURL, Scheme)
	bucket, prefix, _ := strings.Cut(rest, "/")
	if bucket == "" {
		return nil, fmt.Errorf("%w: %q names no bucket", ErrURL, rawURL)
	}
	prefix = strings.Trim(prefix, "/")
	if prefix != "" {
		if path.Clean(prefix) != prefix || strings.HasPrefix(prefix, "..") {
			return nil, fmt.Errorf("%w: %q: prefix %q is not clean", ErrURL, rawURL, prefix)
		}
		prefix += "/"
	}
	endpoint, secure, err := endpointFromEnv()
	if err != nil {
		return nil, err
	}
	region := firstEnv("AWS_REGION", "AWS_DEFAULT_REGION")
	if region == "" {
		// SeaweedFS and most S3-compatible stores accept any region;
		// naming one spares the client a GetBucketLocation request.
		region = "us-east-1"
	}
	client, err := minio.New(endpoint, &minio.Options{
		Creds:        credentials.NewEnvAWS(),
		Secure:       secure,
		Region:       region,
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", rawURL, err)
	}
	return newBucket(client, bucket, prefix), nil
}

func newBucket(client *minio.Client, bucket, prefix string) *Bucket {
	b := &Bucket{client: client, bucket: bucket, prefix: prefix, url: Scheme + bucket + "/" + strings.TrimSuffix(prefix, "/")}
	b.Requests.total, b.BytesRead.total = &Totals.Requests, &Totals.BytesRead
	return b
}

// endpointFromEnv is the host:port of the S3 endpoint and whether it
// speaks TLS: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL (as the AWS SDKs
// read them), or AWS S3 itself.
func endpointFromEnv() (string, bool, error) {
	raw := firstEnv("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
	if raw == "" {
		return "s3.amazonaws.com", true, nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", false, fmt.Errorf("%w: endpoint %q: want http://HOST:PORT or https://HOST", ErrURL, raw)
	}
	return u.Host, u.Scheme == "https", nil
}

func firstEnv(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// String is the bucket prefix's URL.
func (b *Bucket) String() string { return b.url }

// URL is the URL of key.
func (b *Bucket) URL(key string) string { return Scheme + b.bucket + "/" + b.prefix + key }

// Sub is the bucket prefix under dir ("runs", "models/m").
func (b *Bucket) Sub(dir string) *Bucket {
	return newBucket(b.client, b.bucket, b.prefix+strings.Trim(dir, "/")+"/")
}

// CreateBucket creates the bucket if it does not exist (for tests and
// `mlpipe` against a fresh store; production buckets are made by their
// owners).
func (b *Bucket) CreateBucket(ctx context.Context) error {
	b.Requests.Add(1)
	ok, err := b.client.BucketExists(ctx, b.bucket)
	if err == nil && ok {
		return nil
	}
	b.Requests.Add(1)
	if err := b.client.MakeBucket(ctx, b.bucket, minio.MakeBucketOptions{}); err != nil {
		if code := minio.ToErrorResponse(err).Code; code == "BucketAlreadyOwnedByYou" || code == "BucketAlreadyExists" {
			return nil
		}
		return fmt.Errorf("create bucket %s: %w", b.bucket, err)
	}
	return nil
}

// Get reads the object key whole and returns it with its ETag.
func (b *Bucket) Get(ctx context.Context, key string) ([]byte, string, error) {
	b.Requests.Add(1)
	obj, err := b.client.GetObject(ctx, b.bucket, b.prefix+key, minio.GetObjectOptions{})
	if err != nil {
		return nil, "", b.wrap("get", key, err)
	}
	defer obj.Close()
	data, err := io.ReadAll(obj)
	if err != nil {
		return nil, "", b.wrap("get", key, err)
	}
	b.BytesRead.Add(int64(len(data)))
	info, err := obj.Stat()
	if err != nil {
		return nil, "", b.wrap("get", key, err)
	}
	return data, info.ETag, nil
}

// Stat returns the size and ETag of the object key.
func (b *Bucket) Stat(ctx context.Context, key string) (size int64, etag string, err error) {
	b.Requests.Add(1)
	info, err := b.client.StatObject(ctx, b.bucket, b.prefix+key, minio.StatObjectOptions{})
	if err != nil {
		return 0, "", b.wrap("stat", key, err)
	}
	return info.Size, info.ETag, nil
}

// Put writes data as the object key if cond holds and returns its ETag.
// A failed condition is an error wrapping ErrPrecondition.
func (b *Bucket) Put(ctx context.Context, key string, data []byte, cond Cond) (string, error) {
	return b.PutReader(ctx, key, bytes.NewReader(data), int64(len(data)), cond)
}

// PutReader is Put with the data read from r (size bytes, or -1 if
// unknown).
func (b *Bucket) PutReader(ctx context.Context, key string, r io.Reader, size int64, cond Cond) (string, error) {
	var opts minio.PutObjectOptions
	switch {
	case cond.IfAbsent:
		opts.SetMatchETagExcept("*")
	case cond.IfMatch != "":
		opts.SetMatchETag(strings.Trim(cond.IfMatch, `"`))
	}
	opts.DisableMultipart = size >= 0 && size < 64<<20
	b.Requests.Add(1)
	info, err := b.client.PutObject(ctx, b.bucket, b.prefix+key, r, size, opts)
	if err != nil {
		return "", b.wrap("put", key, err)
	}
	return info.ETag, nil
}

// PutFile uploads the local file path as the object key.
func (b *Bucket) PutFile(ctx context.Context, key, path string) error {
	return b.PutFileIf(ctx, key, path, Cond{})
}

// PutFileIf is PutFile if cond holds (see Put).
func (b *Bucket) PutFileIf(ctx context.Context, key, path string, cond Cond) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("put %s: %w", b.URL(key), err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("put %s: %w", b.URL(key), err)
	}
	_, err = b.PutReader(ctx, key, f, info.Size(), cond)
	return err
}

// Delete removes the object key; a missing object is not an error.
func (b *Bucket) Delete(ctx context.Context, key string) error {
	b.Requests.Add(1)
	if err := b.client.RemoveObject(ctx, b.bucket, b.prefix+key, minio.RemoveObjectOptions{}); err != nil {
		if err := b.wrap("delete", key, err); !errors.Is(err, ErrNotExist) {
			return err
		}
	}
	return nil
}

// DeleteAll removes every object under dir.
func (b *Bucket) DeleteAll(ctx context.Context, dir string) error {
	keys, err := b.List(ctx, dir)
	if err != nil {
		return err
	}
	for _, o := range keys {
		if err := b.Delete(ctx, o.Key); err != nil {
			return err
		}
	}
	return nil
}

// Object is one listed object.
type Object struct {
	// Key is relative to the bucket prefix.
	Key      string
	Size     int64
	ETag     string
	Modified time.Time
}

// List returns every object under dir (recursively), sorted by key. Keys
// are relative to the bucket prefix.
func (b *Bucket) List(ctx context.Context, dir string) ([]Object, error) {
	p := b.prefix + strings.TrimSuffix(dir, "/") + "/"
	if dir == "" {
		p = b.prefix
	}
	b.Requests.Add(1)
	var out []Object
	for o := range b.client.ListObjects(ctx, b.bucket, minio.ListObjectsOptions{Prefix: p, Recursive: true}) {
		if o.Err != nil {
			return nil, b.wrap("list", dir, o.Err)
		}
		out = append(out, Object{Key: strings.TrimPrefix(o.Key, b.prefix), Size: o.Size, ETag: o.ETag, Modified: o.LastModified})
	}
	return out, nil
}

// Dirs returns the names of the "directories" directly under dir: the
// next path element of every key below it, sorted.
func (b *Bucket) Dirs(ctx context.Context, dir string) ([]string, error) {
	p := b.prefix + strings.TrimSuffix(dir, "/") + "/"
	if dir == "" {
		p = b.prefix
	}
	b.Requests.Add(1)
	var out []string
	for o := range b.client.ListObjects(ctx, b.bucket, minio.ListObjectsOptions{Prefix: p}) {
		if o.Err != nil {
			return nil, b.wrap("list", dir, o.Err)
		}
		if name, ok := strings.CutSuffix(strings.TrimPrefix(o.Key, p), "/"); ok && name != "" {
			out = append(out, name)
		}
	}
	return out, nil
}

// Stream opens the object key for one sequential read of the whole
// object (one GET); the caller closes it. A missing key is ErrNotExist,
// reported by the first Read.
func (b *Bucket) Stream(ctx context.Context, key string) (io.ReadCloser, error) {
	b.Requests.Add(1)
	obj, err := b.client.GetObject(ctx, b.bucket, b.prefix+key, minio.GetObjectOptions{})
	if err != nil {
		return nil, b.wrap("get", key, err)
	}
	return &stream{obj: obj, b: b, key: key}, nil
}

// stream counts what it reads and names the object in its errors.
type stream struct {
	obj *minio.Object
	b   *Bucket
	key string
}

func (s *stream) Read(p []byte) (int, error) {
	n, err := s.obj.Read(p)
	s.b.BytesRead.Add(int64(n))
	if err != nil && err != io.EOF {
		err = s.b.wrap("get", s.key, err)
	}
	return n, err
}

func (s *stream) Close() error { return s.obj.Close() }

// Download writes the object key to the local file dst.
func (b *Bucket) Download(ctx context.Context, key, dst string) error {
	b.Requests.Add(1)
	obj, err := b.client.GetObject(ctx, b.bucket, b.prefix+key, minio.GetObjectOptions{})
	if err != nil {
		return b.wrap("get", key, err)
	}
	defer obj.Close()
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("get %s: %w", b.URL(key), err)
	}
	n, err := io.Copy(f, obj)
	b.BytesRead.Add(n)
	if err != nil {
		f.Close()
		return b.wrap("get", key, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("get %s: %w", b.URL(key), err)
	}
	return f.Close()
}

// wrap turns the client's errors into this package's sentinels, naming
// the operation and the URL.
func (b *Bucket) wrap(op, key string, err error) error {
	resp := minio.ToErrorResponse(err)
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.Code == "NoSuchKey":
		return fmt.Errorf("%s %s: %w", op, b.URL(key), ErrNotExist)
	case resp.StatusCode == http.StatusPreconditionFailed || resp.Code == "PreconditionFailed":
		return fmt.Errorf("%s %s: %w", op, b.URL(key), ErrPrecondition)
	}
	return fmt.Errorf("%s %s: %w", op, b.URL(key), err)
}
