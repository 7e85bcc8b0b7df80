package ingest

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync/atomic"
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"
	"golang.org/x/sync/errgroup"
)

// readCSV reads a CSV (or TSV) file. By default its first line (after
// the source's skip_rows lines) is a header naming the columns, matched
// to the contract by name, in any order; with header: false the fields
// are the contract's columns in order. Every value is parsed into its
// contract type, and an empty field is null.
//
// The file is read whole and cut into chunks at line ends, which are
// parsed in parallel. A cut never falls inside a quoted field, so quoted
// line breaks are safe. Errors give the file line (the first line of the
// file is line 1).
func readCSV(ctx context.Context, path, format string, c *contract, parallelism int) (*piece, error) {
	data, err := readText(path, format, c.csv.sheet)
	if err != nil {
		return nil, err
	}
	delim := c.csv.delimiter(format)
	// Lines before the header (or the first row) are skipped whole.
	skipped := 0
	for ; skipped < c.csv.skip && len(data) > 0; skipped++ {
		nl := bytes.IndexByte(data, '\n')
		if nl < 0 {
			data = nil
			break
		}
		data = data[nl+1:]
	}
	if len(bytes.TrimSpace(data)) == 0 {
		if c.csv.noHeader {
			return joinChunks(path, nil, nil, c)
		}
		return nil, invalid(CodeEmpty, path, "", "the file is empty: a CSV file needs a header line (or set data.header: false)")
	}
	var header []string
	headerEnd := 0 // bytes of data before the first row
	var warnings []Issue
	src := make([]int, len(c.target.Fields()))
	if c.csv.noHeader {
		for j, f := range c.target.Fields() {
			header = append(header, f.Name)
			src[j] = j
		}
	} else {
		hr := csv.NewReader(bytes.NewReader(data))
		hr.Comma = rune(delim)
		h, err := hr.Read()
		if err != nil {
			return nil, invalid(CodeParse, path, "", "cannot read the header line: %v", err)
		}
		header = append([]string(nil), h...)
		headerEnd = int(hr.InputOffset())
		if src, warnings, err = c.plan(path, header, nil); err != nil {
			return nil, err
		}
	}
	body := data[headerEnd:]
	n := max(parallelism, 1) * 4
	// Without a quote anywhere, every delimiter separates fields and every
	// line end ends a row: cut anywhere at a line end, and let a byte scan
	// stand in for encoding/csv. The chunks are checked for quotes in
	// parallel; if any has one, cut again, minding quoted line breaks.
	chunks := splitAtNewlines(body, n)
	quoted := anyParallel(ctx, chunks, parallelism, func(ch []byte) bool { return bytes.IndexByte(ch, '"') >= 0 })
	parse := parsePlainCSVChunk
	if quoted {
		chunks, parse = splitLines(body, n), parseCSVChunk
	}
	shape := csvShape{nfields: len(header), delim: delim, noHeader: c.csv.noHeader}

	// Line number of each chunk's first line: the header is line 1.
	starts := make([]int64, len(chunks))
	line := int64(1 + skipped + bytes.Count(data[:headerEnd], []byte{'\n'}))
	if headerEnd > 0 && !bytes.HasSuffix(data[:headerEnd], []byte{'\n'}) {
		line++ // the header ended at EOF (header-only file without a newline)
	}
	for k, ch := range chunks {
		starts[k] = line
		line += int64(bytes.Count(ch, []byte{'\n'}))
	}

	results := make([]*textChunk, len(chunks))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(parallelism, 1))
	for k, ch := range chunks {
		g.Go(func() error {
			r, err := parse(gctx, path, ch, starts[k], shape, src, c)
			results[k] = r
			if err == nil {
				c.read(r.rows)
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return joinChunks(path, results, warnings, c)
}

// anyParallel reports whether f holds for any chunk, checking up to
// parallelism chunks at once.
func anyParallel(ctx context.Context, chunks [][]byte, parallelism int, f func([]byte) bool) bool {
	var hit atomic.Bool
	g, _ := errgroup.WithContext(ctx)
	g.SetLimit(max(parallelism, 1))
	for _, ch := range chunks {
		g.Go(func() error {
			if !hit.Load() && f(ch) {
				hit.Store(true)
			}
			return nil
		})
	}
	_ = g.Wait()
	return hit.Load()
}

// splitLines cuts data into about n pieces, each ending at a line end
// that is not inside a quoted field. It tracks the quote state from the
// start, so it reads every byte once, on one core.
func splitLines(data []byte, n int) [][]byte {
	size := len(data)/n + 1
	var out [][]byte
	inQuote := false
	start, i := 0, 0
	for i < len(data) {
		if data[i] == '"' {
			inQuote = !inQuote // a doubled quote ("") toggles twice: no change
		} else if data[i] == '\n' && !inQuote && i+1-start >= size {
			out = append(out, data[start:i+1])
			start = i + 1
		}
		i++
	}
	if start < len(data) {
		out = append(out, data[start:])
	}
	return out
}

// textChunk is one parsed chunk of a text file.
type textChunk struct {
	cols   []*column
	rows   int64
	issues rowIssues
	lines  []int64 // the line of each row, when the contract asks (Scan)
}

// newTextChunk starts a chunk of the contract's columns for about est
// rows.
func newTextChunk(c *contract, est int) textChunk {
	return textChunk{cols: c.newColumns(est), issues: rowIssues{all: c.scan}}
}

// row records that a row was read from line ln.
func (ch *textChunk) row(c *contract, ln int64) {
	ch.rows++
	if c.scan {
		ch.lines = append(ch.lines, ln)
	}
}

// csvShape is what the chunk parsers need to know of a file's layout.
type csvShape struct {
	nfields  int
	delim    byte
	noHeader bool
}

// fieldCount is the message for a row with got fields.
func (s csvShape) fieldCount(got int) string {
	if s.noHeader {
		return fmt.Sprintf("the row has %d fields, the schema has %d columns (with header: false, the fields are the schema's columns in order)", got, s.nfields)
	}
	return fmt.Sprintf("the row has %d fields, the header has %d", got, s.nfields)
}

func parseCSVChunk(ctx context.Context, path string, chunk []byte, firstLine int64, shape csvShape, src []int, c *contract) (*textChunk, error) {
	fields := c.target.Fields()
	est := bytes.Count(chunk, []byte{'\n'}) + 1
	out := newTextChunk(c, est)
	r := csv.NewReader(bytes.NewReader(chunk))
	r.ReuseRecord = true
	r.Comma = rune(shape.delim)
	r.FieldsPerRecord = -1 // we check the count ourselves, for a better message
	for {
		if out.rows&0xffff == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			ln := firstLine
			if errors.As(err, &pe) {
				ln = firstLine + int64(pe.Line) - 1
				err = pe.Err
			}
			out.issues.add(Issue{Severity: Error, Code: CodeParse, File: path, Line: ln, RowGroup: -1, Message: err.Error()})
			continue
		}
		lineOf := func() int64 { l, _ := r.FieldPos(0); return firstLine + int64(l) - 1 }
		if len(rec) != shape.nfields {
			if len(rec) == 1 && rec[0] == "" {
				continue // a blank line
			}
			out.issues.add(Issue{Severity: Error, Code: CodeParse, File: path, Line: lineOf(), RowGroup: -1,
				Message: shape.fieldCount(len(rec))})
			continue
		}
		out.row(c, lineOf())
		for j, k := range src {
			if err := out.cols[j].appendText(rec[k]); err != nil {
				out.cols[j].b.AppendNull()
				l, _ := r.FieldPos(k)
				out.issues.add(Issue{Severity: Error, Code: CodeParse, File: path, Column: fields[j].Name,
					Line: firstLine + int64(l) - 1, RowGroup: -1, Message: err.Error()})
			}
		}
	}
	return &out, nil
}

// parsePlainCSVChunk parses a chunk of CSV that has no quotes: the fast
// path for the common machine-written file. It gives the same result and
// the same errors as parseCSVChunk.
func parsePlainCSVChunk(ctx context.Context, path string, chunk []byte, firstLine int64, shape csvShape, src []int, c *contract) (*textChunk, error) {
	fields := c.target.Fields()
	est := bytes.Count(chunk, []byte{'\n'}) + 1
	out := newTextChunk(c, est)
	// bounds[2k], bounds[2k+1] are the start and end of field k of a line.
	bounds := make([]int, 0, 2*shape.nfields+2)
	ln := firstLine - 1
	for len(chunk) > 0 {
		ln++
		var line []byte
		if nl := bytes.IndexByte(chunk, '\n'); nl >= 0 {
			line, chunk = chunk[:nl], chunk[nl+1:]
		} else {
			line, chunk = chunk, nil
		}
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if len(line) == 0 {
			continue // a blank line, as encoding/csv skips it
		}
		if out.rows&0xffff == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		bounds = bounds[:0]
		start := 0
		for i, b := range line {
			if b == shape.delim {
				bounds = append(bounds, start, i)
				start = i + 1
			}
		}
		bounds = append(bounds, start, len(line))
		if got := len(bounds) / 2; got != shape.nfields {
			out.issues.add(Issue{Severity: Error, Code: CodeParse, File: path, Line: ln, RowGroup: -1,
				Message: shape.fieldCount(got)})
			continue
		}
		out.row(c, ln)
		for j, k := range src {
			field := line[bounds[2*k]:bounds[2*k+1]]
			if err := out.cols[j].appendText(bytesView(field)); err != nil {
				out.cols[j].b.AppendNull()
				out.issues.add(Issue{Severity: Error, Code: CodeParse, File: path, Column: fields[j].Name,
					Line: ln, RowGroup: -1, Message: err.Error()})
			}
		}
	}
	return &out, nil
}

// bytesView returns b as a string without copying. The caller must not
// keep the string past the life of b: appendText copies what it keeps,
// and error messages format a copy.
func bytesView(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// joinChunks turns parsed chunks into a piece, or their issues into an
// *InvalidError.
func joinChunks(path string, chunks []*textChunk, warnings []Issue, c *contract) (*piece, error) {
	var issues []Issue
	var dropped, rows int64
	for _, ch := range chunks {
		issues = append(issues, ch.issues.kept...)
		dropped += ch.issues.dropped
		rows += ch.rows
	}
	if len(issues) > 0 {
		sort.SliceStable(issues, func(a, b int) bool { return issues[a].Line < issues[b].Line })
		if dropped > 0 {
			issues = append(issues, Issue{Severity: Error, Code: CodeParse, File: path, RowGroup: -1,
				Message: fmt.Sprintf("and %d more parse errors", dropped)})
		}
		for _, ch := range chunks {
			ch.release()
		}
		return nil, &InvalidError{Issues: issues}
	}
	fields := c.target.Fields()
	tables := make([]arrow.Table, 0, len(chunks))
	for _, ch := range chunks {
		arrs := make([]arrow.Array, len(fields))
		for j, col := range ch.cols {
			arrs[j] = col.b.NewArray()
			col.b.Release()
		}
		t := arrayTable(c.target, arrs, ch.rows)
		tables = append(tables, t)
	}
	t := concatTables(c.target, tables)
	for _, tt := range tables {
		tt.Release()
	}
	return &piece{table: t, fileRows: rows, warnings: warnings}, nil
}

func (ch *textChunk) release() {
	for _, col := range ch.cols {
		col.b.Release()
	}
}
