// Package predlog is the prediction log: mlserve appends every
// prediction to it, and the monitor reads a time window of it back and
// joins the ground-truth labels that arrive later.
//
// In (writing): Records from the request path, through Writer.Log, and
// Labels, through LabelWriter.Log. Out: JSON Lines files in one
// directory. In (reading): that directory and a time window. Out: the
// records of the window, Stats on what was skipped, and Join's pairs of
// prediction and label.
//
// # Files
//
// Predictions and labels go to separate files in the same directory,
// named by the UTC time the file was opened (millisecond precision) and
// a sequence number, so that names sort by time:
//
//	predictions-20261125T101500.123Z-000001.jsonl
//	labels-20261125T101502.000Z-000002.jsonl
//	.predictions.lock   held (flock) by the one Writer of the directory
//	.labels.lock        held by the one LabelWriter
//
// A file is opened when the first record after a rotation arrives (an
// idle writer leaves no empty files) and rotated when the next line would
// take it past Options.MaxFileBytes or once it is Options.MaxFileAge
// old. Files are never appended to after they are closed, not even by a
// restarted process: a new process opens new files. Only one writer of
// each kind may use a directory at a time (NewWriter returns ErrLocked
// otherwise), so the records of a file were written between the time in
// its name and the time in the next file's name; replicas of mlserve
// need one directory each, or one stream each (below).
//
// # Replicas and object storage
//
// Several writers can log to one place, each as its own stream
// (Options.Replica): on disk its files go to DIR/REPLICA/; on object
// storage, where DIR is a URL s3://BUCKET/PREFIX, every writer has a
// replica id (default: the host name) and its files are the objects
// PREFIX/REPLICA/FILE. The readers read DIR's own files and every
// REPLICA's, select by time stream by stream and merge the records by
// time, so a label logged by one replica joins a prediction of another
// (request ids are unique across replicas: mlserve's carry a random
// per-process prefix).
//
// On object storage a file is written in a local spool directory
// (Options.Spool; default MLPIPE_CACHE_DIR/predlog/HASH/REPLICA with
// that variable set, else a temporary one) and uploaded whole, with a
// create-only put (If-None-Match: *), when it rotates and at Close: a
// reader sees whole files or none, never a file being written. Files
// rotate every minute there by default (DefaultRemoteMaxFileAge), so a
// crash loses at most the last minute of records and the queue; a writer
// restarted on the same spool uploads what the crash left. A failed
// upload is logged and retried every second, the file kept in the spool;
// Close reports what it could not upload. Two writers must not share a
// replica id: their file names could collide (the create-only put then
// refuses the second file, which stays in its spool).
//
// # Lines
//
// Each line is one JSON object and ends with "\n". A prediction:
//
//	{"id":"req-42","time":"2026-11-25T10:15:00.123456789Z","model":"flights-delay","version":3,
//	 "inputs":{"date":"2001-06-15T08:30:00","destination":"LAX","distance":1250,"origin":"ATL"},
//	 "probability":0.73,"predicted":"delayed"}
//
// (shown on two lines here; one line in the file). Fields:
//
//	id             string   the request id, the key labels join on
//	time           string   RFC 3339 with nanoseconds, always UTC ("Z")
//	model          string   the model name
//	version        number   the model version (an integer)
//	inputs         object   the request's fields as received; keys sorted
//	probability    number   binary models: the probability of the positive class
//	probabilities  [number] multiclass models, instead of probability: one per
//	                        class, in the order of the model's classes
//	predicted      string   the predicted label
//
// A label: {"id":"req-42","time":"2026-11-26T08:00:00Z","label":true}
//
//	id     string                  the request id of the prediction it labels
//	time   string                  when the label was logged, RFC 3339, UTC
//	label  bool, number or string  the ground truth
//
// NaN and ±Inf, which JSON cannot hold, are written as null in
// probability, probabilities and number inputs. In strings, control
// characters are escaped and invalid UTF-8 becomes U+FFFD, so every line
// is valid JSON. A record whose inputs cannot be encoded as JSON (a
// channel, a NaN inside a []float64), or a label that is not a scalar,
// is not written and counts as Failed.
//
// A string longer than Options.MaxFieldBytes (1 KiB) in the inputs, or
// as a label, is logged cut and marked with its length:
// "AAAA…(8388608 bytes)". A category, a class or an id is far shorter; a
// client's 8 MB string is not copied into the log.
//
// # What a reader must tolerate
//
//   - A last line without its "\n" that is not valid JSON: the process
//     died while writing it. It is skipped and counted (Stats.Truncated).
//   - Invalid lines elsewhere, and objects without an id or a time: they
//     are skipped and counted (Stats.Bad, Stats.FirstBad), never fatal.
//   - Unknown fields, which later versions may add: ignored.
//   - Records slightly out of time order within a file (requests finish
//     in any order): the reader sorts what it returns by time.
//   - Other files in the directory (the lock files, anything else): ignored.
//
// # Writing never blocks the request path
//
// Log encodes the record into its line (a hand-written encoder: no
// reflection and no allocation for the common input types; the encoder's
// scratch space comes from a sync.Pool) and appends the line to the
// queue, a byte slice guarded by a mutex; it is then done with the
// record, whose maps and slices the caller may reuse at once. When the
// queue is full (Options.Buffer records, or Options.MaxQueueBytes of
// lines: the disk is slower than the traffic) or the writer is closed,
// the record is dropped and counted instead. One goroutine per writer
// takes the whole queue every 5 ms in one swap (two buffers take turns)
// and hands its lines to the operating system, one write per file. It
// does not wait on the queue, so Log never wakes it: on a busy server a
// wake-up per record costs the caller its turn on the CPU. Files are
// fsynced on rotation and Close. A process crash loses at most the queue
// (about the last 5 ms of records) and a cut last line, which readers
// skip.
//
// Why encode on the caller's goroutine: the record's inputs are the
// request's own bytes, which the server reuses for its next request.
// Queued as a struct, the record would need a copy of them (an
// allocation, and garbage) and a queue slot that the writer reads back
// (a 65,536-slot channel of records is 7.8 MB, cold in every cache); as
// a line, it is copied once, into the queue, and the writer has nothing
// left to do per record.
//
// Counters for metrics: Written (handed to the operating system),
// Dropped (queue full or writer closed) and Failed (could not be encoded
// or written; also logged). Once Close has returned nil, every record
// ever passed to Log is in exactly one of the three.
package predlog
