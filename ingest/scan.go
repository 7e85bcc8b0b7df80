package ingest

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/ipc"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/mlpipe/mlpipe/storage"
)

// Scanning: Load reads a whole source into one table; Scan reads it a
// chunk at a time, for work whose memory must not grow with the data
// (mlpipe predict). The readers are Load's; only the unit differs: a
// Parquet row group, an Arrow record batch, or a block of whole lines
// of a CSV or JSON Lines file (about scanBlock bytes). Chunks are read
// and converted on several goroutines, ahead of the caller, and handed
// over in file and row order.

// scanBlock is the size of a text block that Scan reads at a time:
// about 230,000 rows of the flights CSV.
const scanBlock = 8 << 20

// Chunk is one piece of a scanned source, in the contract's schema.
type Chunk struct {
	// Table holds the chunk's rows. Scan releases it when fn returns.
	Table arrow.Table
	// File is the file the rows come from, Format its format.
	File, Format string
	// Group is the Parquet row group or Arrow record batch, -1 for text.
	Group int
	// Row is the 1-based row of File that Table's first row is, for
	// Parquet and Arrow; 0 for text, whose rows have Lines.
	Row int64
	// Lines is the line of each row of a text file (the CSV header is
	// line 1), nil for other formats.
	Lines []int64
	// Issues are the rows of a text file that could not be read, each
	// naming its line: a line that does not parse (it is not in Table),
	// or a value that is not of its column's type (the row is in Table,
	// with a null in that column, and the issue names the column).
	Issues []Issue
	// Warnings are the file's warnings (an extra column the contract
	// allows, dropped), on its first chunk; for JSON Lines, a key's on
	// the chunk whose lines have it first, so that all of a file's
	// chunks together have Load's warnings, in Load's order.
	Warnings []Issue
	// Progress is the share of the source's bytes read up to the end of
	// this chunk, in [0, 1]: for a progress bar.
	Progress float64
}

// Where names row i of the chunk for messages: its line in a text file,
// its row (and row group or batch) otherwise.
func (c *Chunk) Where(i int) Issue {
	is := Issue{File: c.File, RowGroup: c.Group}
	if c.Lines != nil {
		is.Line = c.Lines[i]
	} else {
		is.Row = c.Row + int64(i)
	}
	return is
}

// Scan reads src chunk by chunk and calls fn with each chunk, in file
// and row order, on one goroutine. Up to opts' parallelism chunks are
// read ahead while fn runs, so memory is bounded by a few chunks,
// whatever the size of the source. A structural problem (an unreadable
// file, a missing or mistyped column) stops the scan with an
// *InvalidError wrapping ErrInvalid; bad rows of a text file do not:
// they are in Chunk.Issues. An error from fn stops the scan and is
// returned as it is. src.Window is not supported, nor objects in object
// storage (s3://) other than Parquet: Load reads those.
//
// A text file that Load fails whole stops the scan with Load's issues
// for it, though the chunks before the problem have been handed to fn:
// text that is not UTF-8, holds a NUL byte or ends its lines with CR
// alone (each block is checked before it is parsed, and on a failure the
// rest of the file is read, since Load names the file's first NUL byte,
// else its first byte that is not UTF-8); a corrupt or truncated gzip or
// zstd file; and a JSON Lines file whose keys, all of the file's, do not
// meet the contract. A JSON Lines file's keys are known only at its end:
// a contract column that no line has is reported there, after the
// file's chunks (a line without the key reads as null, as in Load), and
// the chunks of a file already known to fail (a key the contract does
// not allow) are not handed to fn. Load reports the data errors of every
// file together; Scan stops at the first file with one.
func Scan(ctx context.Context, src Source, schema Schema, opts *Options, fn func(*Chunk) error) error {
	return scan(ctx, src, schema, opts, scanBlock, fn)
}

// scan is Scan with text blocks of about block bytes (tests use small
// ones, to cut small files into many blocks).
func scan(ctx context.Context, src Source, schema Schema, opts *Options, block int, fn func(*Chunk) error) error {
	if src.Window != (Window{}) {
		return errors.New("scan: a time window is not supported")
	}
	target, err := schema.ArrowSchema()
	if err != nil {
		return fmt.Errorf("scan: %w", err)
	}
	files, err := resolve(src)
	if err != nil {
		return fmt.Errorf("scan: %w", err)
	}
	for _, f := range files {
		if err := chunkable(f); err != nil {
			return fmt.Errorf("scan: %w", err)
		}
	}
	c, err := newContract(src, schema, target, opts.allocator())
	if err != nil {
		return fmt.Errorf("scan: %w", err)
	}
	c.scan = true
	s := &scanner{c: c, files: files, size: make([]int64, len(files)), block: block}
	for i, f := range files {
		if info, err := os.Stat(f.path); err == nil {
			s.size[i] = info.Size()
			s.total += info.Size()
		}
	}
	defer s.close()
	return ordered(ctx, opts.parallelism(), s.next, fn)
}

// task converts one chunk; it runs on its own goroutine.
type task func(ctx context.Context) (*Chunk, error)

// scanner hands out the tasks of a scan, file after file.
type scanner struct {
	c     *contract
	block int // a text block's bytes (scanBlock)
	files []inputFile
	size  []int64                    // each file's bytes
	total int64                      // all files' bytes
	read  int64                      // the bytes of the files before the current one
	k     int                        // the current file
	next1 func() (task, bool, error) // the current file's next task
	done  func()                     // closes the current file once its tasks are done
	wg    sync.WaitGroup             // the current file's running tasks
}

// next returns the next task, or false after the last one.
func (s *scanner) next(ctx context.Context) (task, bool, error) {
	for {
		if s.next1 != nil {
			t, ok, err := s.next1()
			if err != nil || ok {
				if ok {
					s.wg.Add(1)
					inner := t
					t = func(ctx context.Context) (*Chunk, error) {
						defer s.wg.Done()
						return inner(ctx)
					}
				}
				return t, ok, err
			}
			s.close()
		}
		if s.k == len(s.files) {
			return nil, false, nil
		}
		if s.k > 0 {
			s.read += s.size[s.k-1]
		}
		f := s.files[s.k]
		s.k++
		var err error
		switch f.format {
		case FormatParquet:
			s.next1, s.done, err = s.parquet(ctx, f.path)
		case FormatArrowFile:
			s.next1, s.done, err = s.ipcFile(f.path)
		case FormatArrowStream:
			s.next1, s.done, err = s.ipcStream(f.path)
		case FormatCSV, FormatTSV, FormatXLSX, FormatJSONL:
			s.next1, s.done, err = s.text(f)
		case FormatJSON:
			s.next1, s.done, err = s.whole(f)
		default:
			err = invalid(CodeRead, f.path, "", "unknown format %q", f.format)
		}
		if err != nil {
			return nil, false, err
		}
	}
}

// progress is the share of the source read when the current file is
// read up to the share done of it.
func (s *scanner) progress(done float64) float64 {
	if s.total == 0 {
		return 1
	}
	return min(1, (float64(s.read)+done*float64(s.size[s.k-1]))/float64(s.total))
}

// close closes the current file once its running tasks are done.
func (s *scanner) close() {
	s.wg.Wait()
	if s.done != nil {
		s.done()
	}
	s.next1, s.done = nil, nil
}

// chunkable refuses an object in object storage that is not Parquet: the
// other formats are read a chunk at a time from local files only (Load
// downloads them whole).
func chunkable(f inputFile) error {
	if storage.IsURL(f.path) && f.format != FormatParquet {
		return fmt.Errorf("%s: a %s object is not read a chunk at a time from object storage (Parquet is): copy it to a local file", f.path, f.format)
	}
	return nil
}

// parquet scans a Parquet file (or object) by row group.
func (s *scanner) parquet(ctx context.Context, path string) (func() (task, bool, error), func(), error) {
	rdr, err := openParquetAt(ctx, path)
	if err != nil {
		return nil, nil, err
	}
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{BatchSize: 64 << 10}, s.c.mem)
	if err != nil {
		rdr.Close()
		return nil, nil, invalid(CodeRead, path, "", "not a readable Parquet file: %v", err)
	}
	have, err := fr.Schema()
	if err != nil {
		rdr.Close()
		return nil, nil, invalid(CodeRead, path, "", "cannot map the Parquet schema to Arrow: %v", err)
	}
	plan, warnings, err := s.c.columnPlan(path, have)
	if err != nil {
		rdr.Close()
		return nil, nil, err
	}
	leaves := make([]int, len(plan))
	for j, k := range plan {
		leaves[j] = rdr.MetaData().Schema.ColumnIndexByName(have.Field(k).Name)
	}
	rg, row := 0, int64(1)
	next := func() (task, bool, error) {
		if rg == rdr.NumRowGroups() {
			return nil, false, nil
		}
		g, first, w := rg, row, warnings
		rg, row, warnings = rg+1, row+rdr.MetaData().RowGroup(rg).NumRows(), nil
		done := s.progress(float64(rg) / float64(rdr.NumRowGroups()))
		return func(ctx context.Context) (*Chunk, error) {
			t, err := readRowGroup(ctx, fr, path, leaves, g, s.c)
			if err != nil {
				return nil, err
			}
			return &Chunk{Table: t, File: path, Format: FormatParquet, Group: g, Row: first, Warnings: w, Progress: done}, nil
		}, true, nil
	}
	return next, func() { rdr.Close() }, nil
}

// records scans the record batches that read returns one at a time (nil
// at the end), conforming each on its own goroutine; done says how much
// of the file has been read.
func (s *scanner) records(path, format string, have *arrow.Schema, read func() (arrow.Record, error), done func() float64) (func() (task, bool, error), error) {
	plan, warnings, err := s.c.columnPlan(path, have)
	if err != nil {
		return nil, err
	}
	batch, row := 0, int64(1)
	return func() (task, bool, error) {
		rec, err := read()
		if err != nil {
			return nil, false, &InvalidError{Issues: []Issue{{Severity: Error, Code: CodeRead, File: path, RowGroup: batch,
				Message: fmt.Sprintf("record batch %d cannot be read: %v", batch, err)}}}
		}
		if rec == nil {
			return nil, false, nil
		}
		g, first, w, at := batch, row, warnings, s.progress(done())
		batch, row, warnings = batch+1, row+rec.NumRows(), nil
		return func(ctx context.Context) (*Chunk, error) {
			raw := array.NewTableFromRecords(have, []arrow.Record{rec})
			rec.Release()
			defer raw.Release()
			t, err := s.c.conform(ctx, path, raw, plan, g)
			if err != nil {
				return nil, err
			}
			return &Chunk{Table: t, File: path, Format: format, Group: g, Row: first, Warnings: w, Progress: at}, nil
		}, true, nil
	}, nil
}

func (s *scanner) ipcFile(path string) (func() (task, bool, error), func(), error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", path, err)
	}
	r, err := ipc.NewFileReader(f, ipc.WithAllocator(s.c.mem))
	if err != nil {
		f.Close()
		return nil, nil, invalid(CodeRead, path, "", "not a readable Arrow IPC file: %v", err)
	}
	i := 0
	next, err := s.records(path, FormatArrowFile, r.Schema(), func() (arrow.Record, error) {
		if i == r.NumRecords() {
			return nil, nil
		}
		rec, err := r.Record(i)
		if err != nil {
			return nil, err
		}
		i++
		rec.Retain() // Record(i) is only valid until the next call
		return rec, nil
	}, func() float64 { return float64(i) / float64(r.NumRecords()) })
	done := func() { r.Close(); f.Close() }
	if err != nil {
		done()
		return nil, nil, err
	}
	return next, done, nil
}

func (s *scanner) ipcStream(path string) (func() (task, bool, error), func(), error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", path, err)
	}
	r, err := ipc.NewReader(f, ipc.WithAllocator(s.c.mem))
	if err != nil {
		f.Close()
		return nil, nil, invalid(CodeRead, path, "", "not a readable Arrow IPC stream: %v", err)
	}
	next, err := s.records(path, FormatArrowStream, r.Schema(), func() (arrow.Record, error) {
		if !r.Next() {
			return nil, r.Err()
		}
		rec := r.Record()
		rec.Retain()
		return rec, nil
	}, func() float64 { return filePosition(f) })
	done := func() { r.Release(); f.Close() }
	if err != nil {
		done()
		return nil, nil, err
	}
	return next, done, nil
}

// filePosition is the share of f read so far.
func filePosition(f *os.File) float64 {
	pos, err := f.Seek(0, io.SeekCurrent)
	info, err2 := f.Stat()
	if err != nil || err2 != nil || info.Size() == 0 {
		return 0
	}
	return float64(pos) / float64(info.Size())
}

// whole scans a file of a format that cannot be cut into lines (a JSON
// array) as one chunk, read by Load's reader; a bad row fails it.
func (s *scanner) whole(in inputFile) (func() (task, bool, error), func(), error) {
	done := false
	return func() (task, bool, error) {
		if done {
			return nil, false, nil
		}
		done = true
		at := s.progress(1)
		return func(ctx context.Context) (*Chunk, error) {
			p, err := readFile(ctx, in, s.c, 1)
			if err != nil {
				return nil, err
			}
			return &Chunk{Table: p.table, File: in.path, Format: in.format, Group: -1, Row: 1, Warnings: p.warnings, Progress: at}, nil
		}, true, nil
	}, func() {}, nil
}

// openText opens a text file for reading, through a decompressor when its
// first bytes say gzip or zstd, as readText does; an Excel workbook's
// worksheet sheet is its CSV text, written as it is read (xlsx.go).
func openText(path, format, sheet string) (io.Reader, func(), error) {
	if format == FormatXLSX {
		data, err := readRegular(path)
		if err != nil {
			return nil, nil, err
		}
		return xlsxReader(path, data, sheet)
	}
	f, err := openRegular(path)
	if err != nil {
		return nil, nil, err
	}
	var head [8]byte
	n, err := io.ReadFull(f, head[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		f.Close()
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	switch kind := sniff(head[:n]); kind {
	case "":
		return f, func() { f.Close() }, nil
	case "gzip":
		zr, err := gzip.NewReader(f)
		if err != nil {
			f.Close()
			return nil, nil, invalid(CodeRead, path, "", "the file starts as gzip but cannot be read: %v", err)
		}
		return unpacked{zr, path, kind}, func() { f.Close() }, nil
	case "zstd":
		zr, err := zstd.NewReader(f, zstd.WithDecoderConcurrency(1))
		if err != nil {
			f.Close()
			return nil, nil, invalid(CodeRead, path, "", "the file starts as zstd but cannot be read: %v", err)
		}
		return unpacked{zr, path, kind}, func() { zr.Close(); f.Close() }, nil
	default:
		f.Close()
		return nil, nil, notText(path, kind, format)
	}
}

// unpacked is a decompressor whose read errors are the error readText
// gives for them, so that a corrupt or truncated file fails Scan as it
// fails Load (and a truncated one is not taken for its end).
type unpacked struct {
	r          io.Reader
	path, kind string
}

func (u unpacked) Read(p []byte) (int, error) {
	n, err := u.r.Read(p)
	if err != nil && err != io.EOF {
		err = invalid(CodeRead, u.path, "", "the %s data is corrupt or truncated: %v", u.kind, err)
	}
	return n, err
}

// text scans a CSV, TSV or JSON Lines file (or one compressed with gzip
// or zstd) by blocks of whole lines, with the source's CSV settings
// (delimiter, header, lines to skip).
//
// Load reads such a file whole and checks it in an order that Scan
// keeps, so that a file fails both with the same error: first the whole
// text (checkText), then the header (CSV) or the keys of every line
// (JSON Lines: jsonKeys), then the rows. So each block is checked as it
// is read, before it is parsed; when one fails, or the header does, the
// rest of the file is read and checked before the scan stops (fail),
// since Load names the file's first NUL byte, or else its first byte
// that is not UTF-8, wherever they are.
func (s *scanner) text(in inputFile) (func() (task, bool, error), func(), error) {
	r, closeFile, err := openText(in.path, in.format, s.c.csv.sheet)
	if err != nil {
		return nil, nil, err
	}
	isCSV := in.format == FormatCSV || in.format == FormatTSV || in.format == FormatXLSX
	b := &blocks{r: r, size: s.block, csv: isCSV, line: 1}
	path, c := in.path, s.c
	check := newTextCheck(path)
	// fail returns the error Load gives for the file when Scan would stop
	// with err (nil: the text check failed): the text check's, once the
	// rest of the file has been read, if it fails; else err.
	fail := func(err error) error {
		for !check.settled() {
			data, _, rerr := b.next()
			if rerr != nil {
				return readError(path, rerr) // Load fails to read the file first
			}
			if data == nil {
				break
			}
			check.add(data)
		}
		if terr := check.err(); terr != nil {
			return terr
		}
		return err
	}
	var keys *jsonKeys // JSON Lines: the file's keys
	if !isCSV {
		keys = newJSONKeys(path, c)
	}
	var src []int // CSV: the file's field of each contract column
	var shape csvShape
	var warnings []Issue
	first, ended := true, false
	read := func() float64 { return 0 } // the share of the file read
	if f, ok := r.(*os.File); ok {
		read = func() float64 { return filePosition(f) }
	}
	next := func() (task, bool, error) {
		data, line, err := b.next()
		if err != nil {
			return nil, false, readError(path, err)
		}
		if first {
			data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark
		}
		if data != nil {
			check.add(data)
			if check.failed() {
				return nil, false, fail(nil)
			}
		}
		if first && isCSV {
			// Lines before the header (or the first row) are skipped whole.
			for k := 0; k < c.csv.skip && len(data) > 0; k++ {
				nl := bytes.IndexByte(data, '\n')
				if nl < 0 {
					data = nil
					break
				}
				data, line = data[nl+1:], line+1
			}
		}
		if first && len(bytes.TrimSpace(data)) == 0 {
			if isCSV && c.csv.noHeader {
				return nil, false, nil
			}
			if isCSV {
				return nil, false, fail(invalid(CodeEmpty, path, "", "the file is empty: a CSV file needs a header line (or set data.header: false)"))
			}
			return nil, false, fail(invalid(CodeEmpty, path, "", "the file is empty"))
		}
		if data == nil {
			if keys != nil && !ended {
				ended = true
				return keys.end(), true, nil
			}
			return nil, false, nil
		}
		if first && isCSV {
			shape = csvShape{delim: c.csv.delimiter(in.format), noHeader: c.csv.noHeader}
			if c.csv.noHeader {
				src = make([]int, len(c.target.Fields()))
				for j := range src {
					src[j] = j
				}
				shape.nfields = len(src)
			} else {
				hr := csv.NewReader(bytes.NewReader(data))
				hr.Comma = rune(shape.delim)
				header, err := hr.Read()
				if err != nil {
					return nil, false, fail(invalid(CodeParse, path, "", "cannot read the header line: %v", err))
				}
				if src, warnings, err = c.plan(path, header, nil); err != nil {
					return nil, false, fail(err)
				}
				shape.nfields = len(header)
				head := data[:hr.InputOffset()]
				line += int64(bytes.Count(head, []byte{'\n'}))
				data = data[len(head):]
			}
		}
		w, at := warnings, s.progress(read())
		first, warnings = false, nil
		var prev <-chan struct{} // JSON Lines: closed once the blocks before have added their keys
		var added chan struct{}  // closed once this block has added its keys
		if keys != nil {
			prev, added = keys.turn()
		}
		return func(ctx context.Context) (*Chunk, error) {
			var ch *textChunk
			if isCSV {
				parse := parsePlainCSVChunk
				if bytes.IndexByte(data, '"') >= 0 {
					parse = parseCSVChunk
				}
				var err error
				if ch, err = parse(ctx, path, data, line, shape, src, c); err != nil {
					return nil, err
				}
			} else {
				jc, err := parseJSONLChunk(ctx, path, data, line, c)
				fails := false
				if err == nil {
					w, fails, err = keys.add(ctx, prev, jc.keys)
				}
				close(added)
				if err != nil || fails {
					if jc != nil {
						jc.release()
					}
					return nil, err // failing: the error comes at the end of the file
				}
				ch = &jc.textChunk
			}
			arrs := make([]arrow.Array, len(ch.cols))
			for j, col := range ch.cols {
				arrs[j] = col.b.NewArray()
				col.b.Release()
			}
			return &Chunk{Table: arrayTable(c.target, arrs, ch.rows), File: path, Format: in.format, Group: -1,
				Lines: ch.lines, Issues: ch.issues.kept, Warnings: w, Progress: at}, nil
		}, true, nil
	}
	return next, closeFile, nil
}

// readError is the error of a failed read of path: an *InvalidError (a
// corrupt compressed file, from unpacked) as it is, an I/O error
// wrapped.
func readError(path string, err error) error {
	var ie *InvalidError
	if errors.As(err, &ie) {
		return err
	}
	return fmt.Errorf("read %s: %w", path, err)
}

// jsonKeys gathers the keys of a JSON Lines file's blocks in block
// order, though the blocks are parsed in parallel, and checks them
// against the contract as Load checks every key of the file (joinJSON):
// a key the contract does not allow fails the file; a key it allows, and
// drops, is a warning, on the chunk whose lines have it first; and a
// contract column that no line has is missing, which is known only at
// the file's end (end). Once the file is known to fail, its blocks give
// no chunks, and the error comes at its end, listing every key of the
// file as Load's does.
type jsonKeys struct {
	path     string
	c        *contract
	contract []string // the contract's column names
	seen     map[string]bool
	names    []string      // the file's keys so far, in order of appearance
	fails    bool          // a key the contract does not allow
	last     chan struct{} // closed once the last block handed out has added its keys
}

func newJSONKeys(path string, c *contract) *jsonKeys {
	k := &jsonKeys{path: path, c: c, seen: map[string]bool{}, last: make(chan struct{})}
	for _, f := range c.target.Fields() {
		k.contract = append(k.contract, f.Name)
	}
	close(k.last)
	return k
}

// turn is called for each block, in order, as it is handed out: the
// block adds its keys once prev is closed, and closes added after.
func (k *jsonKeys) turn() (prev <-chan struct{}, added chan struct{}) {
	prev, added = k.last, make(chan struct{})
	k.last = added
	return prev, added
}

// add adds a block's keys once prev is closed, and returns the warnings
// of those that are new, and whether the file fails.
func (k *jsonKeys) add(ctx context.Context, prev <-chan struct{}, keys []string) ([]Issue, bool, error) {
	select {
	case <-prev:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	var extra []string
	for _, n := range keys {
		if !k.seen[n] {
			k.seen[n] = true
			k.names = append(k.names, n)
			if k.c.schema.Column(n) == nil {
				extra = append(extra, n)
			}
		}
	}
	if len(extra) == 0 || k.fails {
		return nil, k.fails, nil
	}
	// plan's issues for the new keys: with the contract's own columns
	// besides them, it finds none missing.
	_, warnings, err := k.c.plan(k.path, append(slices.Clip(k.contract), extra...), nil)
	k.fails = err != nil
	return warnings, k.fails, nil
}

// end returns the task that ends the file: once every block has added
// its keys, it fails as Load does if they do not meet the contract.
func (k *jsonKeys) end() task {
	prev := k.last
	return func(ctx context.Context) (*Chunk, error) {
		select {
		case <-prev:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if len(k.names) > 0 {
			if _, _, err := k.c.plan(k.path, k.names, nil); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}
}

// blocks cuts a text file into blocks of whole lines: each ends at a line
// end (for CSV, one outside quotes) or at the end of the file.
type blocks struct {
	r     io.Reader
	size  int // bytes to read at a time (scanBlock)
	csv   bool
	carry []byte // the start of the next block, read already
	eof   bool
	line  int64 // the line the next block starts at
}

// next returns the next block and the line it starts at; nil at the end.
func (b *blocks) next() ([]byte, int64, error) {
	buf := b.carry
	b.carry = nil
	want := b.size
	for {
		if !b.eof && len(buf) < want {
			// A new array: the last block is still being parsed.
			grown := make([]byte, len(buf), want)
			copy(grown, buf)
			n, err := io.ReadFull(b.r, grown[len(buf):want])
			buf = grown[:len(buf)+n]
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				b.eof = true
			} else if err != nil {
				return nil, 0, err
			}
		}
		if len(buf) == 0 {
			return nil, b.line, nil
		}
		cut := len(buf)
		if !b.eof {
			if cut = b.lastRowEnd(buf); cut < 0 {
				want = 2 * len(buf) // a row longer than the block: read more
				continue
			}
		}
		block := buf[:cut]
		if cut < len(buf) {
			b.carry = append([]byte(nil), buf[cut:]...)
		}
		start := b.line
		b.line += int64(bytes.Count(block, []byte{'\n'}))
		return block, start, nil
	}
}

// lastRowEnd returns the end (after the '\n') of the last whole row in
// buf, or -1 if there is none. A block always starts at a row's start,
// so for CSV the quote state is known from the first byte.
func (b *blocks) lastRowEnd(buf []byte) int {
	if !b.csv || bytes.IndexByte(buf, '"') < 0 {
		if nl := bytes.LastIndexByte(buf, '\n'); nl >= 0 {
			return nl + 1
		}
		return -1
	}
	end, inQuote := -1, false
	for i, c := range buf {
		switch {
		case c == '"':
			inQuote = !inQuote // a doubled quote ("") toggles twice: no change
		case c == '\n' && !inQuote:
			end = i + 1
		}
	}
	return end
}

// ordered runs the tasks that next hands out, up to parallelism at a
// time and on their own goroutines, and calls fn with their chunks in
// the order next gave them, releasing each chunk's table after fn. On
// an error (from next, a task or fn) it cancels the running tasks,
// waits for them, releases what they made and returns the first error.
func ordered(ctx context.Context, parallelism int, next func(context.Context) (task, bool, error), fn func(*Chunk) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		chunk *Chunk
		err   error
		done  chan struct{}
	}
	queue := make(chan *result, max(parallelism, 1))
	var nextErr error
	go func() {
		defer close(queue)
		for ctx.Err() == nil {
			t, ok, err := next(ctx)
			if err != nil {
				nextErr = err
				return
			}
			if !ok {
				return
			}
			r := &result{done: make(chan struct{})}
			go func() {
				defer close(r.done)
				r.chunk, r.err = t(ctx)
			}()
			select {
			case queue <- r:
			case <-ctx.Done():
				<-r.done
				if r.chunk != nil {
					r.chunk.Table.Release()
				}
				return
			}
		}
	}()
	var first error
	for r := range queue {
		<-r.done
		switch {
		case first != nil:
		case r.err != nil:
			first = r.err
			cancel()
		case r.chunk == nil: // a task that only checks (the end of a JSON Lines file)
		default:
			if err := fn(r.chunk); err != nil {
				first = err
				cancel()
			}
		}
		if r.chunk != nil {
			r.chunk.Table.Release()
		}
	}
	if first == nil {
		first = nextErr // written before the queue was closed
	}
	return first
}

// FileTypes returns the contract type of each column of the first file
// of src that has one, for a caller that reads columns it has no
// contract for (mlpipe predict's --keep): a Parquet or Arrow file's own
// types, as the nearest contract type (int64 for every integer, float64
// for every float, string for every string, timestamp[us] for dates and
// timestamps); nil for CSV and JSON Lines, whose values are text, and
// no entry for a column of another type.
func FileTypes(ctx context.Context, src Source) (map[string]string, error) {
	files, err := resolve(src)
	if err != nil {
		return nil, fmt.Errorf("file types: %w", err)
	}
	schema, err := fileSchema(ctx, files[0])
	if err != nil || schema == nil {
		return nil, err
	}
	out := map[string]string{}
	for _, fld := range schema.Fields() {
		if t := ContractType(fld.Type); t != "" {
			out[fld.Name] = t
		}
	}
	return out, nil
}

// ContractType is the nearest contract type that a file's column type
// casts to: int64 for every integer, float64 for every float, string for
// every string, timestamp[us] for dates and timestamps; "" for a type
// the contract has none for (a list, a struct).
func ContractType(dt arrow.DataType) string {
	for _, t := range []string{"int64", "float64", "bool", "string", "timestamp[us]"} {
		to, _ := ArrowType(t)
		if ok, _ := castable(dt, to); ok {
			return t
		}
	}
	return ""
}

// fileSchema is the schema a Parquet or Arrow file stores (a Parquet
// object too); nil for the text formats, whose values are text.
func fileSchema(ctx context.Context, f inputFile) (*arrow.Schema, error) {
	if err := chunkable(f); err != nil {
		return nil, err
	}
	switch f.format {
	case FormatParquet:
		rdr, err := openParquetAt(ctx, f.path)
		if err != nil {
			return nil, err
		}
		defer rdr.Close()
		fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{}, nil)
		if err != nil {
			return nil, invalid(CodeRead, f.path, "", "not a readable Parquet file: %v", err)
		}
		schema, err := fr.Schema()
		if err != nil {
			return nil, invalid(CodeRead, f.path, "", "cannot map the Parquet schema to Arrow: %v", err)
		}
		return schema, nil
	case FormatArrowFile, FormatArrowStream:
		file, err := openRegular(f.path)
		if err != nil {
			return nil, err
		}
		defer file.Close()
		if f.format == FormatArrowFile {
			r, err := ipc.NewFileReader(file)
			if err != nil {
				return nil, invalid(CodeRead, f.path, "", "not a readable Arrow IPC file: %v", err)
			}
			defer r.Close()
			return r.Schema(), nil
		}
		r, err := ipc.NewReader(file)
		if err != nil {
			return nil, invalid(CodeRead, f.path, "", "not a readable Arrow IPC stream: %v", err)
		}
		defer r.Release()
		return r.Schema(), nil
	}
	return nil, nil
}
