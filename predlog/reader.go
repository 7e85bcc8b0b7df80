package predlog

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"time"
)

// MaxLag is how much earlier than the file it lands in a record's time
// may be: a record waits in the queue between Log (which takes its time)
// and the write, and the file may be rotated in between. The readers
// open files that start up to MaxLag after the window ends.
const MaxLag = time.Minute

// MaxLineBytes is the longest line the readers accept; a longer one is
// counted as bad.
const MaxLineBytes = 16 << 20

// Stats say what a read found besides the records.
type Stats struct {
	// Files is the number of files read.
	Files int
	// Lines is the number of non-empty lines in them.
	Lines int
	// Records is the number of records returned (inside the window).
	Records int
	// Skipped is Bad + Truncated.
	Skipped int
	// Bad counts lines that are not a valid record: invalid JSON, or no
	// id or time.
	Bad int
	// Truncated counts last lines cut off by a crash while writing.
	Truncated int
	// FirstBad is the first bad line, nil if there was none.
	FirstBad *LineError
}

// LineError locates a bad line.
type LineError struct {
	File string // path of the file
	Line int    // 1-based
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }

func (e *LineError) Unwrap() error { return e.Err }

// ReadPredictions returns the predictions in dir whose time is in
// [from, to), sorted by time, and what it skipped. A zero from or to
// leaves that end of the window open. Bad and truncated lines are
// counted in Stats, not returned as errors; the error is for a directory
// or file that cannot be read (a missing dir wraps fs.ErrNotExist) and
// for ctx.
func ReadPredictions(ctx context.Context, dir string, from, to time.Time) ([]Record, Stats, error) {
	return read(ctx, dir, kindPredictions, from, to, func(line []byte) (Record, error) {
		var r Record
		if err := json.Unmarshal(line, &r); err != nil {
			return r, err
		}
		if r.ID == "" || r.Time.IsZero() {
			return r, errors.New("no id or time")
		}
		return r, nil
	}, func(r *Record) time.Time { return r.Time })
}

// ReadLabels returns the labels in dir logged in [from, to), sorted by
// time; see ReadPredictions. A label that is not a bool, number or
// string is a bad line. Labels come after their predictions, so a
// monitor reads them over a window that ends later.
func ReadLabels(ctx context.Context, dir string, from, to time.Time) ([]Label, Stats, error) {
	return read(ctx, dir, kindLabels, from, to, func(line []byte) (Label, error) {
		var l Label
		if err := json.Unmarshal(line, &l); err != nil {
			return l, err
		}
		if l.ID == "" || l.Time.IsZero() {
			return l, errors.New("no id or time")
		}
		switch l.Label.(type) {
		case bool, float64, string:
		default:
			return l, errors.New("label is not a bool, number or string")
		}
		return l, nil
	}, func(l *Label) time.Time { return l.Time })
}

var fileName = regexp.MustCompile(`^(predictions|labels)-(\d{8}T\d{6}\.\d{3}Z)-(\d+)\.jsonl$`)

type logFile struct {
	path  string // for errors: the file's path or URL
	start time.Time
	seq   int
	// open opens the file for reading (nil: os.Open(path)).
	open func(context.Context) (io.ReadCloser, error)
}

// parseName parses a file name of kind.
func parseName(name, kind string) (logFile, bool) {
	m := fileName.FindStringSubmatch(name)
	if m == nil || m[1] != kind {
		return logFile{}, false
	}
	start, err := time.Parse(fileTimeLayout, m[2])
	if err != nil {
		return logFile{}, false // matches the pattern but is no date, e.g. month 13
	}
	seq, _ := strconv.Atoi(m[3])
	return logFile{start: start, seq: seq}, true
}

func sortFiles(fs []logFile) {
	slices.SortFunc(fs, func(a, b logFile) int {
		return cmp.Or(a.start.Compare(b.start), cmp.Compare(a.seq, b.seq))
	})
}

// localFiles lists the files of kind in dir, oldest first.
func localFiles(dir, kind string) ([]logFile, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []logFile
	for _, e := range entries {
		f, ok := parseName(e.Name(), kind)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		f.path = filepath.Join(dir, e.Name())
		out = append(out, f)
	}
	sortFiles(out)
	return out, nil
}

// selectFiles keeps the files that may hold records of [from, to). File
// i was written from its start until file i+1 was opened; its records'
// times are at most that, and at least its start minus MaxLag. Names
// have millisecond precision, truncated.
func selectFiles(all []logFile, from, to time.Time) []logFile {
	var out []logFile
	for i, f := range all {
		if !to.IsZero() && f.start.After(to.Add(MaxLag)) {
			break
		}
		if !from.IsZero() && i+1 < len(all) && all[i+1].start.Add(time.Millisecond).Before(from) {
			continue
		}
		out = append(out, f)
	}
	return out
}

func read[T any](ctx context.Context, dir, kind string, from, to time.Time, decode func([]byte) (T, error), timeOf func(*T) time.Time) ([]T, Stats, error) {
	var st Stats
	all, err := streams(ctx, dir, kind)
	if err != nil {
		return nil, st, fmt.Errorf("read %s log: %w", kind, err)
	}
	var selected []logFile
	for _, s := range all {
		selected = append(selected, selectFiles(s, from, to)...)
	}
	var out []T
	buf := make([]byte, 0, 4096)
	for _, f := range selected {
		if err := ctx.Err(); err != nil {
			return nil, st, fmt.Errorf("read %s log: %w", kind, err)
		}
		out, buf, err = readFile(ctx, f, from, to, decode, timeOf, out, buf, &st)
		if err != nil {
			return nil, st, fmt.Errorf("read %s log: %w", kind, err)
		}
		st.Files++
	}
	slices.SortStableFunc(out, func(a, b T) int { return timeOf(&a).Compare(timeOf(&b)) })
	st.Records = len(out)
	st.Skipped = st.Bad + st.Truncated
	return out, st, nil
}

func readFile[T any](ctx context.Context, lf logFile, from, to time.Time, decode func([]byte) (T, error), timeOf func(*T) time.Time, out []T, buf []byte, st *Stats) ([]T, []byte, error) {
	path := lf.path
	var f io.ReadCloser
	var err error
	if lf.open != nil {
		f, err = lf.open(ctx)
	} else {
		f, err = os.Open(path)
	}
	if err != nil {
		return out, buf, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	for n := 1; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return out, buf, err
			}
		}
		var complete, tooLong bool
		buf, complete, tooLong, err = readLine(br, buf[:0])
		if err != nil && err != io.EOF {
			return out, buf, fmt.Errorf("%s: %w", path, err)
		}
		line := bytes.TrimSpace(buf)
		if len(line) > 0 || tooLong {
			st.Lines++
			var v T
			var derr error
			if tooLong {
				derr = fmt.Errorf("line longer than %d bytes", MaxLineBytes)
			} else {
				v, derr = decode(line)
			}
			switch {
			case derr != nil && !complete:
				st.Truncated++ // the crash cut the last line
			case derr != nil:
				st.Bad++
				if st.FirstBad == nil {
					st.FirstBad = &LineError{File: path, Line: n, Err: derr}
				}
			default:
				if t := timeOf(&v); (from.IsZero() || !t.Before(from)) && (to.IsZero() || t.Before(to)) {
					out = append(out, v)
				}
			}
		}
		if err == io.EOF {
			return out, buf, nil
		}
	}
}

// readLine appends the next line of r to buf, without its "\n". complete
// is false for a last line with no "\n"; a line past MaxLineBytes is
// read to its end but not kept (tooLong).
func readLine(r *bufio.Reader, buf []byte) (line []byte, complete, tooLong bool, err error) {
	for {
		frag, err := r.ReadSlice('\n')
		if !tooLong && len(buf)+len(frag) <= MaxLineBytes+1 {
			buf = append(buf, frag...)
		} else {
			tooLong, buf = true, buf[:0]
		}
		switch err {
		case bufio.ErrBufferFull:
			continue
		case nil:
			return bytes.TrimSuffix(buf, []byte("\n")), true, tooLong, nil
		default:
			return buf, false, tooLong, err
		}
	}
}
