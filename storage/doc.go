// Package storage reads and writes objects on S3-compatible object
// storage, for the parts of mlpipe that take an `s3://bucket/prefix` URL
// in place of a local path: the registry, the step cache, the prediction
// log and ingest's inputs.
//
// In: a URL "s3://BUCKET/PREFIX" and the standard AWS environment
// variables (AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL for a store that is
// not AWS, such as SeaweedFS or Ceph; AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN; AWS_REGION). Without
// credentials requests are anonymous. Out: a Bucket whose keys are
// relative to PREFIX, with the operations mlpipe's guarantees rest on:
//
//   - Put with a condition: IfAbsent sends `If-None-Match: *` (create
//     only), IfMatch sends `If-Match: ETAG` (replace only what was read).
//     A failed condition is ErrPrecondition. This is how a registry
//     version is published once and an alias moves by compare-and-swap.
//   - Get returns an object with its ETag; a missing key is ErrNotExist.
//   - Open returns an io.ReaderAt whose every ReadAt is one ranged GET,
//     so a Parquet reader fetches its footer and the column chunks it
//     needs, not the whole file.
//   - List returns the keys under a prefix, or its "directories".
//
// The consistency this relies on is that of AWS S3 since December 2020
// and of SeaweedFS: a successful PUT is visible to every later GET and
// LIST (read-after-write), and a conditional PUT is decided atomically by
// the server. docs/deploy.md says what that means for each kind of
// object.
//
// The client is minio-go (github.com/minio/minio-go/v7).
package storage
