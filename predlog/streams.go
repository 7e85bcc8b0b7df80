package predlog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/mlpipe/mlpipe/storage"
)

// Streams and object storage.
//
// A log directory holds one stream of files per writer: its own files
// (the stream of a single mlserve) and those of each subdirectory
// DIR/REPLICA/, the stream of one replica (Options.Replica). On object
// storage (a log "directory" s3://BUCKET/PREFIX) every writer has a
// replica id and its files are objects PREFIX/REPLICA/FILE. The readers
// read every stream and merge them by time, so predictions logged by one
// replica join the labels logged by another.

// ErrReplica means a replica id is not a valid path element.
var ErrReplica = errors.New("invalid replica id")

// DefaultRemoteMaxFileAge is the rotation age on object storage, where a
// file becomes visible (is uploaded) only when it is closed: a crash
// loses at most this much of the log, plus the queue.
const DefaultRemoteMaxFileAge = time.Minute

// uploadTimeout bounds the upload of one file.
const uploadTimeout = time.Minute

var validReplica = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// CheckReplica returns an error wrapping ErrReplica unless id is 1 to 64
// letters, digits, '.', '_' and '-', starting with a letter or digit.
func CheckReplica(id string) error {
	if !validReplica.MatchString(id) {
		return fmt.Errorf("%w: %q (use 1 to 64 letters, digits, '.', '_' and '-')", ErrReplica, id)
	}
	return nil
}

// DefaultReplica is the host name, with characters a replica id cannot
// hold replaced by '-': unique per pod in Kubernetes.
func DefaultReplica() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "replica"
	}
	b := []byte(h)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			b[i] = '-'
		}
	}
	id := strings.TrimLeft(string(b), "._-")
	if len(id) > 64 {
		id = id[:64]
	}
	if CheckReplica(id) != nil {
		return "replica"
	}
	return id
}

// target is where a writer's files go: the local directory it writes
// them in, and, on object storage, the stream prefix it uploads them to
// and whether the local directory is its own temporary one.
type target struct {
	dir     string
	remote  *storage.Bucket
	tempDir bool
}

// resolveTarget turns a writer's log directory or URL and options into
// its target, setting the remote rotation default.
func resolveTarget(dir string, opts *Options) (target, error) {
	if opts.Replica != "" {
		if err := CheckReplica(opts.Replica); err != nil {
			return target{}, err
		}
	}
	if !storage.IsURL(dir) {
		if opts.Replica != "" {
			dir = filepath.Join(dir, opts.Replica)
		}
		return target{dir: dir}, nil
	}
	b, err := storage.Open(dir)
	if err != nil {
		return target{}, err
	}
	replica := opts.Replica
	if replica == "" {
		replica = DefaultReplica()
	}
	if opts.MaxFileAge <= 0 {
		opts.MaxFileAge = DefaultRemoteMaxFileAge
	}
	t := target{dir: opts.Spool, remote: b.Sub(replica)}
	if base := os.Getenv("MLPIPE_CACHE_DIR"); t.dir == "" && base != "" {
		// A spool that outlives the process (in Kubernetes, an emptyDir
		// outlives a container's restart): one per log and replica.
		sum := sha256.Sum256([]byte(os.Getenv("AWS_ENDPOINT_URL_S3") + os.Getenv("AWS_ENDPOINT_URL") + "|" + b.String()))
		t.dir = filepath.Join(base, "predlog", hex.EncodeToString(sum[:8]), replica)
	}
	if t.dir == "" {
		if t.dir, err = os.MkdirTemp("", "mlpipe-predlog-"); err != nil {
			return target{}, err
		}
		t.tempDir = true
	}
	return t, nil
}

// retire queues a closed (or abandoned) file for upload, on object
// storage, and tries to upload what is queued.
func (c *core) retire(name string) {
	if c.tgt.remote == nil {
		return
	}
	c.unsent = append(c.unsent, name)
	c.upload()
}

// upload uploads the queued files, oldest first, each whole with a
// create-only put, and removes each local copy once it is stored. A file
// that fails stays queued and is retried after retryDelay; the error is
// logged and returned.
func (c *core) upload() error {
	var errs []error
	kept := c.unsent[:0]
	for _, name := range c.unsent {
		if len(errs) > 0 { // keep the order: later files wait for the earlier one
			kept = append(kept, name)
			continue
		}
		if err := c.uploadFile(name); err != nil {
			errs = append(errs, err)
			kept = append(kept, name)
			continue
		}
		_ = os.Remove(name)
	}
	c.unsent = kept
	if len(errs) > 0 {
		c.uploadAt = c.opts.Now().Add(retryDelay)
		c.opts.Log.Error("prediction log: upload failed; the file stays in the spool directory and is retried", "kind", c.kind, "files", len(c.unsent), "err", errs[0])
	}
	return errors.Join(errs...)
}

func (c *core) uploadFile(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), uploadTimeout)
	defer cancel()
	key := filepath.Base(name)
	err := c.tgt.remote.PutFileIf(ctx, key, name, storage.Cond{IfAbsent: true})
	if errors.Is(err, storage.ErrPrecondition) {
		// Stored already (an earlier try whose answer was lost) or the
		// name is another writer's: the same replica id twice.
		fi, serr := os.Stat(name)
		size, _, rerr := c.tgt.remote.Stat(ctx, key)
		if serr == nil && rerr == nil && size == fi.Size() {
			return nil
		}
		return fmt.Errorf("upload %s: %s exists with other content: do two writers share the replica id? %w", name, c.tgt.remote.URL(key), err)
	}
	if err != nil {
		return fmt.Errorf("upload %s: %w", name, err)
	}
	c.opts.Log.Debug("prediction log: uploaded", "file", c.tgt.remote.URL(key))
	return nil
}

// leftovers queues for upload the files a crashed writer left in a
// spool directory (Options.Spool): with a spool that outlives the
// process, a restart uploads what the crash did not lose.
func (c *core) leftovers() {
	if c.tgt.remote == nil || c.tgt.tempDir {
		return
	}
	all, err := localFiles(c.tgt.dir, c.kind)
	if err != nil {
		return
	}
	for _, f := range all {
		c.unsent = append(c.unsent, f.path)
	}
}

// stream is the files of one writer, oldest first.
type stream []logFile

// streams lists the streams of kind under a log directory or URL: the
// directory's own files and each subdirectory's.
func streams(ctx context.Context, dir, kind string) ([]stream, error) {
	if storage.IsURL(dir) {
		return remoteStreams(ctx, dir, kind)
	}
	own, err := localFiles(dir, kind)
	if err != nil {
		return nil, err
	}
	out := []stream{own}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !e.IsDir() || CheckReplica(e.Name()) != nil {
			continue
		}
		sub, err := localFiles(filepath.Join(dir, e.Name()), kind)
		if err != nil {
			return nil, err
		}
		out = append(out, sub)
	}
	return out, nil
}

// remoteStreams lists the streams of kind under a URL: one per
// "directory" of object names.
func remoteStreams(ctx context.Context, url, kind string) ([]stream, error) {
	b, err := storage.Open(url)
	if err != nil {
		return nil, err
	}
	objs, err := b.List(ctx, "")
	if err != nil {
		return nil, err
	}
	if len(objs) == 0 {
		// As a missing directory: nothing has been logged there yet.
		return nil, fmt.Errorf("%s: nothing logged: %w", url, fs.ErrNotExist)
	}
	byDir := map[string]stream{}
	var order []string
	for _, o := range objs {
		d, base := path.Split(o.Key)
		f, ok := parseName(base, kind)
		if !ok || strings.Count(d, "/") > 1 {
			continue
		}
		key := o.Key
		f.path = b.URL(key)
		f.open = func(ctx context.Context) (io.ReadCloser, error) { return b.Stream(ctx, key) }
		if _, seen := byDir[d]; !seen {
			order = append(order, d)
		}
		byDir[d] = append(byDir[d], f)
	}
	var out []stream
	for _, d := range order {
		s := byDir[d]
		sortFiles(s)
		out = append(out, s)
	}
	return out, nil
}
