package predlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mlpipe/mlpipe/internal/fsx"
	"github.com/mlpipe/mlpipe/internal/lazytick"
)

// Sentinel errors.
var (
	// ErrLocked means another writer of the same kind uses the directory.
	ErrLocked = errors.New("prediction log directory is locked")
	// ErrClosed means the writer has been closed.
	ErrClosed = errors.New("prediction log writer is closed")
)

// Defaults of Options.
const (
	DefaultMaxFileBytes  = 64 << 20
	DefaultMaxFileAge    = time.Hour
	DefaultBuffer        = 65536
	DefaultFlushInterval = time.Second
	// DefaultMaxFieldBytes caps a logged string (an input's value, a
	// label): a category, a class name or an id is far shorter.
	DefaultMaxFieldBytes = 1024
	// DefaultMaxQueueBytes caps the bytes of encoded lines waiting for
	// the disk: with DefaultMaxFieldBytes, 65,536 records of five long
	// fields would otherwise hold 330 MB.
	DefaultMaxQueueBytes = 16 << 20
)

const (
	// retryDelay is how long a writer that failed to open or write a file
	// counts records as Failed before it tries again, so a full disk
	// costs one log line a second rather than one a record.
	retryDelay = time.Second
)

// Options configure a Writer or LabelWriter. The zero value is usable.
type Options struct {
	// MaxFileBytes rotates a file before a line would take it past this
	// size (default 64 MiB). A single line longer than this gets a file
	// of its own.
	MaxFileBytes int64
	// MaxFileAge rotates a file once it is this old (default 1h), checked
	// at every drain (every 5 ms while records come) and every
	// FlushInterval.
	MaxFileAge time.Duration
	// Buffer is how many records may wait for the disk (default 65536);
	// beyond that Log drops. The queue holds them encoded, so it takes
	// the bytes of their lines (MaxQueueBytes bounds them), not slots.
	Buffer int
	// FlushInterval is how often the writer rotates a file that is
	// MaxFileAge old while nothing is logged, retries failed uploads and
	// logs encoding failures (default 1s). Records do not wait for it:
	// every drain hands its lines to the operating system.
	FlushInterval time.Duration
	// MaxFieldBytes caps each string logged (default 1 KiB): a longer
	// input value or label is cut and marked with its length,
	// "AAAA…(8388608 bytes)".
	MaxFieldBytes int
	// MaxQueueBytes caps the bytes of encoded lines queued (default
	// 16 MiB); past it Log drops, as when the queue is full.
	MaxQueueBytes int64
	// Log receives write errors (at most about one a second) and
	// rotations (debug). Nil means no logging.
	Log *slog.Logger
	// Now is the clock for file names, rotation and zero record times
	// (default time.Now).
	Now func() time.Time
	// Replica names this writer's stream when several processes log to
	// one place (replicas of mlserve): its files go to DIR/REPLICA/. On
	// object storage every writer has one (default DefaultReplica, the
	// host name). Readers merge all streams.
	Replica string
	// Spool is the local directory where a writer to object storage
	// writes a file before uploading it whole. Default: with
	// MLPIPE_CACHE_DIR set, MLPIPE_CACHE_DIR/predlog/HASH/REPLICA (HASH
	// names the store and the log); else a new temporary directory,
	// removed at Close. A spool that outlives the process lets a
	// restarted writer upload the files a crash left behind.
	Spool string

	// Test hook, set by export_test.go: wraps each file.
	wrap func(io.Writer) io.Writer
}

func (o Options) withDefaults() Options {
	if o.MaxFileBytes <= 0 {
		o.MaxFileBytes = DefaultMaxFileBytes
	}
	if o.MaxFileAge <= 0 {
		o.MaxFileAge = DefaultMaxFileAge
	}
	if o.Buffer <= 0 {
		o.Buffer = DefaultBuffer
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = DefaultFlushInterval
	}
	if o.MaxFieldBytes <= 0 {
		o.MaxFieldBytes = DefaultMaxFieldBytes
	}
	if o.MaxQueueBytes <= 0 {
		o.MaxQueueBytes = DefaultMaxQueueBytes
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Writer appends predictions to the log in a directory. Its methods are
// safe for concurrent use.
type Writer struct{ c *core }

// NewWriter starts a prediction writer on dir, creating the directory if
// needed. It fails with ErrLocked if another Writer (in this process or
// another) has dir open. Close must be called to write what is queued
// and release the directory.
func NewWriter(dir string, opts Options) (*Writer, error) {
	c, err := start(dir, kindPredictions, opts)
	if err != nil {
		return nil, err
	}
	return &Writer{c}, nil
}

// Log encodes r as one line, queues the line to be written and returns;
// it never blocks on I/O. If the queue is full (in records or bytes) or
// the writer is closed, r is dropped and counted (Dropped); if r cannot
// be encoded, it counts as Failed. A zero r.Time is set to now; a string
// longer than MaxFieldBytes is cut. Log is done with r when it returns:
// the caller may change r's maps and slices at once.
func (w *Writer) Log(r Record) {
	if r.Time.IsZero() {
		r.Time = w.c.opts.Now()
	}
	e := getEncoder(w.c.opts.MaxFieldBytes)
	line, err := e.appendRecord(e.line[:0], &r)
	w.c.queue(line, err)
	putEncoder(e, line)
}

// Flush writes every record logged before the call to the file (without
// fsync), or returns ErrClosed, or ctx's error if ctx ends first.
func (w *Writer) Flush(ctx context.Context) error { return w.c.flush(ctx) }

// Close stops accepting records, writes the queue, fsyncs and closes the
// file and releases the directory. If ctx ends first (the disk is
// stalled), Close returns ctx's error; the records not yet written are
// then counted as Dropped once the writer gets unstuck. Later calls wait
// for the same shutdown.
func (w *Writer) Close(ctx context.Context) error { return w.c.close(ctx) }

// Written counts records handed to the operating system.
func (w *Writer) Written() uint64 { return w.c.written.Load() }

// Dropped counts records not written because the queue was full or the
// writer was closed.
func (w *Writer) Dropped() uint64 { return w.c.dropped.Load() }

// Failed counts records not written because they could not be encoded
// or the file could not be opened or written.
func (w *Writer) Failed() uint64 { return w.c.failed.Load() }

// LabelWriter appends labels to the log in a directory. Its methods are
// safe for concurrent use and behave as Writer's do.
type LabelWriter struct{ c *core }

// NewLabelWriter starts a label writer on dir; see NewWriter.
func NewLabelWriter(dir string, opts Options) (*LabelWriter, error) {
	c, err := start(dir, kindLabels, opts)
	if err != nil {
		return nil, err
	}
	return &LabelWriter{c}, nil
}

// Log encodes and queues l without blocking; see Writer.Log. A label
// that is not a bool, number or string is not written and counts as
// Failed; a string longer than MaxFieldBytes is cut.
func (w *LabelWriter) Log(l Label) {
	if l.Time.IsZero() {
		l.Time = w.c.opts.Now()
	}
	e := getEncoder(w.c.opts.MaxFieldBytes)
	line, err := e.appendLabel(e.line[:0], &l)
	w.c.queue(line, err)
	putEncoder(e, line)
}

// Flush writes every label logged before the call; see Writer.Flush.
func (w *LabelWriter) Flush(ctx context.Context) error { return w.c.flush(ctx) }

// Close writes the queue and closes; see Writer.Close.
func (w *LabelWriter) Close(ctx context.Context) error { return w.c.close(ctx) }

// Written counts labels handed to the operating system.
func (w *LabelWriter) Written() uint64 { return w.c.written.Load() }

// Dropped counts labels dropped because the queue was full or the writer
// was closed.
func (w *LabelWriter) Dropped() uint64 { return w.c.dropped.Load() }

// Failed counts labels that could not be encoded or written.
func (w *LabelWriter) Failed() uint64 { return w.c.failed.Load() }

// core is the writer of one kind of record: a queue of encoded lines,
// and the goroutine that writes them to the files.
type core struct {
	dir, kind string
	opts      Options

	// The queue. Log appends a line under mu; the goroutine takes all of
	// it in one swap (drain), so Log never waits for more than a copy.
	mu       sync.Mutex
	lines    []byte // the queued records, each one line ending in "\n"
	n        int    // how many records lines holds
	closed   bool
	badCount int   // records that could not be encoded, since the last report
	badErr   error // the last one's error

	flushReq    chan chan error
	closing     chan struct{} // closed by Close, once Log takes no more
	abandon     chan struct{} // closed when Close gives up waiting
	abandonOnce sync.Once
	closeOnce   sync.Once
	done        chan struct{} // closed when the goroutine has finished
	closeErr    error         // set before done is closed

	written, dropped, failed atomic.Uint64

	drainTick *lazytick.Ticker // every drainInterval while records come

	lock *os.File // the flock on .KIND.lock
	tgt  target   // where files go (object storage: uploaded from tgt.dir)

	// Owned by the goroutine.
	f        *os.File
	w        io.Writer // f, or the test hook's wrapper of f
	spare    []byte    // the last drain's lines, written: the next swap's buffer
	size     int64     // bytes in f
	opened   time.Time // when f was opened
	seq      int       // sequence number of the last file opened
	retryAt  time.Time
	unsent   []string  // closed files not yet uploaded, oldest first
	uploadAt time.Time // when to retry a failed upload
}

func start(dir, kind string, opts Options) (*core, error) {
	tgt, err := resolveTarget(dir, &opts)
	if err != nil {
		return nil, fmt.Errorf("open %s log: %w", kind, err)
	}
	dir = tgt.dir
	opts = opts.withDefaults()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("open %s log: %w", kind, err)
	}
	lock, err := lockDir(dir, kind)
	if err != nil {
		return nil, fmt.Errorf("open %s log: %w", kind, err)
	}
	c := &core{
		dir: dir, kind: kind, opts: opts,
		flushReq: make(chan chan error),
		closing:  make(chan struct{}),
		abandon:  make(chan struct{}),
		done:     make(chan struct{}),
		lock:     lock,
		tgt:      tgt,

		drainTick: lazytick.New(drainInterval, drainIdleAfter),
	}
	c.leftovers()
	go c.run()
	return c, nil
}

// lockDir takes the flock that makes c the only writer of its kind in
// dir, and records the holder for the error of the next one.
func lockDir(dir, kind string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "."+kind+".lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := io.ReadAll(io.LimitReader(f, 200))
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s by %s", ErrLocked, dir, strings.TrimSpace(string(holder)))
		}
		return nil, err
	}
	if err := f.Truncate(0); err == nil {
		fmt.Fprintf(f, "pid %d since %s\n", os.Getpid(), time.Now().UTC().Format(time.RFC3339))
	}
	return f, nil
}

// queue appends line, a record Log encoded (err: it could not), to the
// queue. A record that does not fit (Buffer records or MaxQueueBytes of
// lines are queued) or comes after Close is dropped and counted.
func (c *core) queue(line []byte, err error) {
	c.mu.Lock()
	switch {
	case err != nil:
		c.failed.Add(1)
		c.badCount++
		c.badErr = err
	case c.closed || c.n >= c.opts.Buffer || int64(len(c.lines)+len(line)) > c.opts.MaxQueueBytes:
		c.dropped.Add(1)
	default:
		c.lines = append(c.lines, line...)
		c.n++
	}
	c.mu.Unlock()
	c.drainTick.Wake()
}

// pending reports whether records are queued.
func (c *core) pending() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n > 0
}

func (c *core) flush(ctx context.Context) error {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return fmt.Errorf("flush %s log: %w", c.kind, ErrClosed)
	}
	reply := make(chan error, 1)
	select {
	case c.flushReq <- reply:
	case <-c.done:
		return fmt.Errorf("flush %s log: %w", c.kind, ErrClosed)
	case <-ctx.Done():
		return fmt.Errorf("flush %s log: %w", c.kind, ctx.Err())
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return fmt.Errorf("flush %s log: %w", c.kind, ctx.Err())
	}
}

func (c *core) close(ctx context.Context) error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		close(c.closing)
	})
	select {
	case <-c.done:
		return c.closeErr
	case <-ctx.Done():
		c.abandonOnce.Do(func() { close(c.abandon) })
		return fmt.Errorf("close %s log: %w", c.kind, ctx.Err())
	}
}

// abandoned reports whether Close has given up waiting.
func (c *core) abandoned() bool {
	select {
	case <-c.abandon:
		return true
	default:
		return false
	}
}

// drainInterval is how often the writer goroutine takes what Log has
// queued. It does not wait on the queue: waking a waiting goroutine from
// Log would be a wake-up per request on a busy server, which the
// execution trace shows as the request's goroutine waiting for the CPU
// again after Log. A record waits in the queue at most this long before
// it is handed to the operating system.
const drainInterval = 5 * time.Millisecond

// drainIdleAfter: after this many drains in a row with nothing queued
// (a second), the drain ticker stops until the next Log, so that an idle
// server does not wake 200 times a second per log (see package lazytick;
// the flush tick checks the queue too, in case a wake-up raced with the
// ticker stopping).
const drainIdleAfter = 200

// keepBytes is the largest queue buffer a drain keeps for the next swap
// (two buffers take turns): 4 MiB holds 20,000 lines of 200 bytes, a
// drain's worth at 4 million records a second. One that a stalled disk
// grew past it is let go.
const keepBytes = 4 << 20

// run is the writer goroutine: it alone touches the file.
func (c *core) run() {
	defer close(c.done)
	tick := time.NewTicker(c.opts.FlushInterval)
	defer tick.Stop()
	drain := c.drainTick
	defer drain.Stop()
	for {
		select {
		case <-drain.C:
			n, _ := c.drain()
			drain.Ticked(n > 0, c.pending)
		case reply := <-c.flushReq:
			// Everything logged before Flush was called is in the queue.
			_, err := c.drain()
			reply <- err
		case <-tick.C:
			c.tick()
			if c.pending() {
				drain.Wake()
			}
		case <-c.closing:
			// Log takes no more records: write the last of them and close.
			c.drain()
			if c.abandoned() {
				c.closeErr = c.giveUp()
			} else {
				c.closeErr = c.finish()
			}
			return
		}
	}
}

// drain takes the whole queue in one swap, leaving the buffer of the
// last drain in its place, and writes it. It returns how many records
// it took and the first error writing them.
func (c *core) drain() (int, error) {
	c.mu.Lock()
	lines, n := c.lines, c.n
	c.lines, c.n = c.spare[:0], 0
	c.mu.Unlock()
	var err error
	if n > 0 {
		err = c.write(lines, c.opts.Now())
	}
	if cap(lines) > keepBytes {
		lines = nil
	}
	c.spare = lines
	return n, err
}

// newline ends every line.
var newline = []byte{'\n'}

// count is how many records lines holds.
func count(lines []byte) uint64 { return uint64(bytes.Count(lines, newline)) }

// write appends lines to the current file, opening one if none is open;
// first it rotates a file that is MaxFileAge old at now, and then
// wherever the next line would take the file past MaxFileBytes. Each
// write hands whole lines to the operating system, so a crash cuts at
// most the last line of a file. It returns the first error; while a
// failed file waits out retryDelay, the lines count as Failed without a
// try and it returns nil.
func (c *core) write(lines []byte, now time.Time) error {
	if c.f != nil && now.Sub(c.opened) >= c.opts.MaxFileAge {
		_ = c.closeFile() // a failure is logged; the next file is a fresh start
	}
	for len(lines) > 0 {
		if c.abandoned() {
			c.dropped.Add(count(lines))
			return nil
		}
		if c.f == nil {
			if now.Before(c.retryAt) {
				c.failed.Add(count(lines))
				return nil
			}
			if err := c.openFile(now); err != nil {
				c.failed.Add(count(lines))
				c.retryAt = now.Add(retryDelay)
				c.opts.Log.Error("prediction log: cannot open a file; records are lost until it can", "kind", c.kind, "dir", c.dir, "err", err)
				return fmt.Errorf("open %s log file: %w", c.kind, err)
			}
		}
		part := c.fitting(lines)
		if part == nil {
			_ = c.closeFile()
			continue
		}
		n, err := c.w.Write(part)
		c.size += int64(n)
		c.written.Add(count(part[:n]))
		if err != nil {
			c.fail(err, count(lines[n:]))
			return fmt.Errorf("write %s log: %w", c.kind, err)
		}
		lines = lines[len(part):]
	}
	return nil
}

// fitting returns the whole lines at the start of lines that the current
// file holds without growing past MaxFileBytes: nil if not even the
// first fits, and in an empty file at least the first (a line longer
// than MaxFileBytes gets a file of its own).
func (c *core) fitting(lines []byte) []byte {
	room := c.opts.MaxFileBytes - c.size
	if int64(len(lines)) <= room {
		return lines
	}
	if room > 0 {
		if i := bytes.LastIndexByte(lines[:room], '\n'); i >= 0 {
			return lines[:i+1]
		}
	}
	if c.size == 0 {
		return lines[:bytes.IndexByte(lines, '\n')+1]
	}
	return nil
}

// fail handles a write error: the lost records count as Failed, the
// file is abandoned (a reader skips a cut-off last line), and a new file
// is tried after retryDelay.
func (c *core) fail(err error, lost uint64) {
	c.failed.Add(lost)
	name := c.f.Name()
	c.opts.Log.Error("prediction log: write failed; records lost", "kind", c.kind, "file", name, "records", lost, "err", err)
	c.f.Close()
	c.f = nil
	c.retryAt = c.opts.Now().Add(retryDelay)
	c.retire(name) // what it holds up to the failure
}

// tick reports encoding failures, retries failed uploads and rotates a
// file that has grown old while nothing was logged.
func (c *core) tick() {
	c.mu.Lock()
	bad, badErr := c.badCount, c.badErr
	c.badCount, c.badErr = 0, nil
	c.mu.Unlock()
	if bad > 0 {
		c.opts.Log.Warn("prediction log: records could not be encoded and were not written", "kind", c.kind, "records", bad, "last_err", badErr)
	}
	if len(c.unsent) > 0 && !c.opts.Now().Before(c.uploadAt) {
		_ = c.upload()
	}
	if c.f != nil && c.opts.Now().Sub(c.opened) >= c.opts.MaxFileAge {
		_ = c.closeFile()
	}
}

// fileTimeLayout is the time in file names: UTC, milliseconds, fixed
// width, so that names sort by time.
const fileTimeLayout = "20060102T150405.000Z"

func (c *core) openFile(now time.Time) error {
	stamp := now.UTC().Format(fileTimeLayout)
	for range 1000 {
		c.seq++
		name := filepath.Join(c.dir, fmt.Sprintf("%s-%s-%06d.jsonl", c.kind, stamp, c.seq))
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue // a file of an earlier process in the same millisecond
		}
		if err != nil {
			return err
		}
		if err := fsx.SyncDir(c.dir); err != nil {
			f.Close()
			return err
		}
		c.f, c.w, c.size, c.opened = f, f, 0, now
		if c.opts.wrap != nil {
			c.w = c.opts.wrap(f)
		}
		c.opts.Log.Debug("prediction log: new file", "file", name)
		return nil
	}
	return fmt.Errorf("no free file name for %s in %s", stamp, c.dir)
}

// closeFile fsyncs and closes the current file.
func (c *core) closeFile() error {
	if c.f == nil {
		return nil
	}
	name := c.f.Name()
	err := c.f.Sync()
	if cerr := c.f.Close(); err == nil {
		err = cerr
	}
	c.f = nil
	c.retire(name)
	if err != nil {
		c.opts.Log.Error("prediction log: closing a file failed; its last records may be lost in a crash", "file", name, "err", err)
		return fmt.Errorf("close %s: %w", name, err)
	}
	return nil
}

// finish runs once the queue is closed and written.
func (c *core) finish() error {
	c.tick() // report encode failures
	err := c.closeFile()
	if c.tgt.remote != nil && len(c.unsent) > 0 {
		// closeFile tried once; try what is left once more.
		if uerr := c.upload(); uerr != nil {
			err = errors.Join(err, fmt.Errorf("close %s log: %d file(s) not uploaded, left in %s: %w", c.kind, len(c.unsent), c.tgt.dir, uerr))
		}
	}
	if lerr := c.lock.Close(); err == nil && lerr != nil {
		err = fmt.Errorf("close %s log: %w", c.kind, lerr)
	}
	if c.tgt.tempDir && len(c.unsent) == 0 {
		_ = os.Remove(c.lock.Name())
		_ = os.Remove(c.tgt.dir) // fails, harmlessly, while the other kind's writer still uses it
	}
	return err
}

// giveUp ends the goroutine instead of finish when Close has stopped
// waiting for it (a stalled disk): drain counted what it did not write
// as Dropped, and the file is closed without waiting on the disk again.
func (c *core) giveUp() error {
	if c.f != nil {
		c.f.Close()
		c.f = nil
	}
	return c.lock.Close()
}

const (
	kindPredictions = "predictions"
	kindLabels      = "labels"
)
