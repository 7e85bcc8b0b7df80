package predlog

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/mlpipe/mlpipe/internal/fsx"
	"github.com/mlpipe/mlpipe/internal/jsonw"
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
	// DefaultMaxQueueBytes caps the bytes of inputs and labels waiting for
	// the disk: with DefaultMaxFieldBytes, 65,536 records of five long
	// fields would otherwise hold 330 MB.
	DefaultMaxQueueBytes = 16 << 20
)

const (
	// bufSize is the size of the write buffer: records are handed to the
	// operating system in writes of up to this many bytes.
	bufSize = 64 << 10
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
	// at every record and every FlushInterval.
	MaxFileAge time.Duration
	// Buffer is how many records may wait for the disk (default 65536);
	// beyond that Log drops. Memory: 120 bytes a prediction slot
	// (plus the caller's maps) and 56 a label slot, allocated up front.
	Buffer int
	// FlushInterval bounds how long a written record may sit in the
	// write buffer (default 1s).
	FlushInterval time.Duration
	// MaxFieldBytes caps each string logged (default 1 KiB): a longer
	// input value or label is cut and marked with its length,
	// "AAAA…(8388608 bytes)".
	MaxFieldBytes int
	// MaxQueueBytes caps the bytes of inputs and labels queued (default
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

	// Test hooks, set by export_test.go.
	wrap    func(io.Writer) io.Writer // wraps each file
	bufSize int                       // overrides bufSize
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
	if o.bufSize <= 0 {
		o.bufSize = bufSize
	}
	return o
}

// Writer appends predictions to the log in a directory. Its methods are
// safe for concurrent use.
type Writer struct{ c *core[Record] }

// NewWriter starts a prediction writer on dir, creating the directory if
// needed. It fails with ErrLocked if another Writer (in this process or
// another) has dir open. Close must be called to write what is queued
// and release the directory.
func NewWriter(dir string, opts Options) (*Writer, error) {
	c, err := start(dir, kindPredictions, opts, (*encoder).appendRecord, recordBytes)
	if err != nil {
		return nil, err
	}
	return &Writer{c}, nil
}

// Log queues r to be written and returns at once; it never blocks on
// I/O. If the queue is full (in records or bytes) or the writer is
// closed, r is dropped and counted (Dropped). A zero r.Time is set to
// now. A string of r's inputs longer than MaxFieldBytes is cut (into a
// copy). The writer keeps r.Inputs and r.Probabilities until r is
// written: the caller must not change them after Log.
func (w *Writer) Log(r Record) {
	if r.Time.IsZero() {
		r.Time = w.c.opts.Now()
	}
	max := w.c.opts.MaxFieldBytes
	if len(r.RawInputs) > max {
		r.RawInputs, _ = jsonw.AppendCapped(nil, r.RawInputs, max)
	}
	cloned := false
	for k, v := range r.Inputs {
		if s, ok := v.(string); ok && len(s) > max {
			if !cloned {
				r.Inputs, cloned = maps.Clone(r.Inputs), true // the caller's map is the caller's
			}
			r.Inputs[k] = capString(s, max)
		}
	}
	w.c.log(r, recordBytes(&r))
}

// capString cuts s to at most max bytes, before a UTF-8 sequence it would
// split, and marks it as AppendCapped does.
func capString(s string, max int) string {
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…(" + strconv.Itoa(len(s)) + " bytes)"
}

// recordBytes is what a queued prediction holds beyond its slot.
func recordBytes(r *Record) int64 {
	n := int64(len(r.RawInputs) + 8*len(r.Probabilities) + len(r.ID) + len(r.Predicted))
	for k, v := range r.Inputs {
		n += int64(len(k))
		if s, ok := v.(string); ok {
			n += int64(len(s))
		}
	}
	return n
}

// labelBytes is what a queued label holds beyond its slot.
func labelBytes(l *Label) int64 {
	n := int64(len(l.ID))
	if s, ok := l.Label.(string); ok {
		n += int64(len(s))
	}
	return n
}

// Flush writes every record logged before the call to the file (without
// fsync), or returns ErrClosed, or ctx's error if ctx ends first.
func (w *Writer) Flush(ctx context.Context) error { return w.c.flush(ctx) }

// Close stops accepting records, writes the queue, flushes, fsyncs and
// closes the file and releases the directory. If ctx ends first (the
// disk is stalled), Close returns ctx's error; the records not yet
// written are then counted as Dropped once the writer gets unstuck.
// Later calls wait for the same shutdown.
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
type LabelWriter struct{ c *core[Label] }

// NewLabelWriter starts a label writer on dir; see NewWriter.
func NewLabelWriter(dir string, opts Options) (*LabelWriter, error) {
	c, err := start(dir, kindLabels, opts, (*encoder).appendLabel, labelBytes)
	if err != nil {
		return nil, err
	}
	return &LabelWriter{c}, nil
}

// Log queues l without blocking; see Writer.Log. A label that is not a
// bool, number or string is not written and counts as Failed; a string
// longer than MaxFieldBytes is cut.
func (w *LabelWriter) Log(l Label) {
	if l.Time.IsZero() {
		l.Time = w.c.opts.Now()
	}
	if s, ok := l.Label.(string); ok && len(s) > w.c.opts.MaxFieldBytes {
		l.Label = capString(s, w.c.opts.MaxFieldBytes)
	}
	w.c.log(l, labelBytes(&l))
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

// core is the writer of one kind of record.
type core[T any] struct {
	dir, kind string
	opts      Options
	encode    func(*encoder, []byte, *T) ([]byte, error)
	weigh     func(*T) int64 // the bytes a queued record holds
	queued    atomic.Int64   // what the records in ch weigh

	mu     sync.RWMutex // Log holds it shared; close holds it to close ch
	closed bool
	ch     chan T

	flushReq    chan chan error
	closing     chan struct{} // closed by Close, after ch
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
	bw       *bufio.Writer
	size     int64     // bytes in f, buffered ones included
	opened   time.Time // when f was opened
	seq      int       // sequence number of the last file opened
	pending  uint64    // records in bw, not yet handed to the OS
	line     []byte
	cur      T // the record being encoded
	enc      encoder
	retryAt  time.Time
	badCount int // encode failures since the last report
	badErr   error
	unsent   []string  // closed files not yet uploaded, oldest first
	uploadAt time.Time // when to retry a failed upload
}

func start[T any](dir, kind string, opts Options, encode func(*encoder, []byte, *T) ([]byte, error), weigh func(*T) int64) (*core[T], error) {
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
	c := &core[T]{
		dir: dir, kind: kind, opts: opts, encode: encode, weigh: weigh,
		ch:       make(chan T, opts.Buffer),
		flushReq: make(chan chan error),
		closing:  make(chan struct{}),
		abandon:  make(chan struct{}),
		done:     make(chan struct{}),
		lock:     lock,
		tgt:      tgt,
		bw:       bufio.NewWriterSize(io.Discard, opts.bufSize),

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

// log queues v, which weighs n (weigh's answer: the caller computes it,
// so that v does not escape to the heap through the func value), or
// counts it as dropped; it never blocks.
func (c *core[T]) log(v T, n int64) {
	if c.queued.Add(n) > c.opts.MaxQueueBytes {
		c.queued.Add(-n)
		c.dropped.Add(1)
		return
	}
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		c.queued.Add(-n)
		c.dropped.Add(1)
		return
	}
	select {
	case c.ch <- v:
		c.drainTick.Wake()
	default:
		c.queued.Add(-n)
		c.dropped.Add(1)
	}
	c.mu.RUnlock()
}

func (c *core[T]) flush(ctx context.Context) error {
	c.mu.RLock()
	closed := c.closed
	c.mu.RUnlock()
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

func (c *core[T]) close(ctx context.Context) error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		close(c.ch)
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

// drainInterval is how often the writer goroutine takes what Log has
// queued. Until Close it does not wait on the queue: a send to a channel
// that a goroutine waits on wakes that goroutine, and on a busy server
// that would be a wake-up per request, which the execution trace shows
// as the request's goroutine waiting for the CPU again after Log. A
// record waits in the queue at most this long before it is encoded
// (FlushInterval bounds the rest).
const drainInterval = 5 * time.Millisecond

// drainIdleAfter: after this many drains in a row with nothing queued
// (a second), the drain ticker stops until the next Log, so that an idle
// server does not wake 200 times a second per log (see package lazytick;
// the flush tick checks the queue too, in case a wake-up raced with the
// ticker stopping).
const drainIdleAfter = 200

// run is the writer goroutine: it alone touches the file.
func (c *core[T]) run() {
	defer close(c.done)
	tick := time.NewTicker(c.opts.FlushInterval)
	defer tick.Stop()
	drain := c.drainTick
	defer drain.Stop()
	pending := func() bool { return len(c.ch) > 0 }
	closing := c.closing
	var queue chan T // nil (never ready) until Close; then the queue, record by record
	for {
		select {
		case <-drain.C:
			drain.Ticked(c.drain() > 0, pending)
		case <-closing:
			closing, queue = nil, c.ch
		case v, ok := <-queue:
			if !ok {
				c.closeErr = c.finish()
				return
			}
			c.write(v, c.opts.Now())
		case reply := <-c.flushReq:
			// Everything logged before Flush was called is in the queue.
			c.drain()
			reply <- c.flushBuf()
		case <-tick.C:
			c.tick()
			if pending() {
				drain.Wake()
			}
		case <-c.abandon:
			// Close gave up on a stalled disk: count the rest as dropped
			// and let go of the file without waiting on it again.
			for range c.ch {
				c.dropped.Add(1)
			}
			c.dropped.Add(c.pending)
			c.pending = 0
			if c.f != nil {
				c.f.Close()
				c.f = nil
			}
			c.closeErr = c.lock.Close()
			return
		}
	}
}

// drain writes the records queued now and returns how many. Only this
// goroutine receives, so each of the len(c.ch) receives has a record,
// closed queue or not.
func (c *core[T]) drain() int {
	n := len(c.ch)
	now := c.opts.Now() // one reading of the clock for them all
	for range n {
		c.write(<-c.ch, now)
	}
	return n
}

// write encodes v and appends it to the current file, rotating or
// opening one first if needed; now is the time (for rotation).
func (c *core[T]) write(v T, now time.Time) {
	// Weigh and encode from a field: a pointer to a local would escape
	// through the func values and cost an allocation per record.
	c.cur = v
	c.queued.Add(-c.weigh(&c.cur))
	line, err := c.encode(&c.enc, c.line[:0], &c.cur)
	var zero T
	c.cur = zero // do not keep the caller's maps alive
	c.line = line
	if err != nil {
		c.failed.Add(1)
		c.badCount++
		c.badErr = err
		return
	}
	if c.f != nil && (now.Sub(c.opened) >= c.opts.MaxFileAge ||
		c.size > 0 && c.size+int64(len(line)) > c.opts.MaxFileBytes) {
		_ = c.closeFile() // a failure is logged; the next file is a fresh start
	}
	if c.f == nil {
		if now.Before(c.retryAt) {
			c.failed.Add(1)
			return
		}
		if err := c.openFile(now); err != nil {
			c.failed.Add(1)
			c.retryAt = now.Add(retryDelay)
			c.opts.Log.Error("prediction log: cannot open a file; records are lost until it can", "kind", c.kind, "dir", c.dir, "err", err)
			return
		}
	}
	// Flush whole lines only, so a crash can cut at most the last line.
	if c.bw.Buffered() > 0 && c.bw.Available() < len(line) {
		if c.flushBuf() != nil {
			c.failed.Add(1)
			return
		}
	}
	c.pending++
	if _, err := c.bw.Write(line); err != nil {
		c.fail(err)
		return
	}
	c.size += int64(len(line))
	if c.bw.Buffered() == 0 { // a line longer than the buffer went straight through
		c.written.Add(c.pending)
		c.pending = 0
	}
}

// flushBuf hands the buffered lines to the operating system.
func (c *core[T]) flushBuf() error {
	if c.f == nil {
		return nil
	}
	if err := c.bw.Flush(); err != nil {
		c.fail(err)
		return fmt.Errorf("flush %s log: %w", c.kind, err)
	}
	c.written.Add(c.pending)
	c.pending = 0
	return nil
}

// fail handles a write error: the buffered records are lost, the file is
// abandoned (a reader skips a cut-off last line), and a new file is tried
// after retryDelay.
func (c *core[T]) fail(err error) {
	c.failed.Add(c.pending)
	c.opts.Log.Error("prediction log: write failed; records lost", "kind", c.kind, "file", c.f.Name(), "records", c.pending, "err", err)
	c.pending = 0
	name := c.f.Name()
	c.f.Close()
	c.f = nil
	c.retryAt = c.opts.Now().Add(retryDelay)
	c.retire(name) // what it holds up to the failure
}

func (c *core[T]) tick() {
	if c.badCount > 0 {
		c.opts.Log.Warn("prediction log: records could not be encoded and were not written", "kind", c.kind, "records", c.badCount, "last_err", c.badErr)
		c.badCount, c.badErr = 0, nil
	}
	if len(c.unsent) > 0 && !c.opts.Now().Before(c.uploadAt) {
		_ = c.upload()
	}
	if c.f == nil {
		return
	}
	if c.opts.Now().Sub(c.opened) >= c.opts.MaxFileAge {
		_ = c.closeFile()
		return
	}
	_ = c.flushBuf()
}

// fileTimeLayout is the time in file names: UTC, milliseconds, fixed
// width, so that names sort by time.
const fileTimeLayout = "20060102T150405.000Z"

func (c *core[T]) openFile(now time.Time) error {
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
		c.f, c.size, c.opened = f, 0, now
		var w io.Writer = f
		if c.opts.wrap != nil {
			w = c.opts.wrap(f)
		}
		c.bw.Reset(w)
		c.opts.Log.Debug("prediction log: new file", "file", name)
		return nil
	}
	return fmt.Errorf("no free file name for %s in %s", stamp, c.dir)
}

// closeFile flushes, fsyncs and closes the current file.
func (c *core[T]) closeFile() error {
	if c.f == nil {
		return nil
	}
	if err := c.flushBuf(); err != nil {
		return err // fail closed the file
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

// finish runs once the queue is closed and empty.
func (c *core[T]) finish() error {
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

const (
	kindPredictions = "predictions"
	kindLabels      = "labels"
)
