package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/mlpipe/mlpipe/internal/jsonread"
)

// readJSON reads a JSON file that holds one array of objects, an object
// per row, keys naming the columns: what JavaScript tools and many data
// portals write ([{"Title": "The Land Girls", ...}, ...]). Its values
// are read as in JSON Lines, with the same errors, each naming the line
// where the object starts.
//
// The array is read in two passes over the file's bytes, never decoded
// whole: the first finds where each element starts and ends (checking
// the JSON grammar), the second decodes the elements, in parallel
// batches, one object at a time.
func readJSON(ctx context.Context, path string, c *contract, parallelism int) (*piece, error) {
	data, err := readText(path, FormatJSON, "")
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, invalid(CodeEmpty, path, "", "the file is empty: a JSON file holds an array of objects, one per row")
	}
	lines := lineCounter{data: data, line: 1}
	var r jsonread.Reader
	r.Reset(data)
	if k := r.Peek(); k != jsonread.Array {
		hint := ""
		if k == jsonread.Object {
			hint = "; for one object per line, name the file .jsonl or set data.format: jsonl"
		}
		return nil, &InvalidError{Issues: []Issue{{Severity: Error, Code: CodeParse, File: path, Line: lines.at(r.Offset()), RowGroup: -1,
			Message: fmt.Sprintf("a JSON file must hold one array of objects, one per row ([{...}, {...}]); this one holds %s%s", k, hint)}}}
	}
	syntax := func(err error) error {
		var se *jsonread.SyntaxError
		msg, off := err.Error(), r.Offset()
		if errors.As(err, &se) {
			msg, off = se.Msg, se.Offset
		}
		return &InvalidError{Issues: []Issue{{Severity: Error, Code: CodeParse, File: path, Line: lines.at(off), RowGroup: -1,
			Message: "invalid JSON: " + msg}}}
	}
	if err := r.BeginArray(); err != nil {
		return nil, syntax(err)
	}
	var spans []jsonSpan
	for {
		more, err := r.Next()
		if err != nil {
			return nil, syntax(err)
		}
		if !more {
			break
		}
		if len(spans)&0xffff == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		raw, err := r.Raw()
		if err != nil {
			return nil, syntax(err)
		}
		end := r.Offset()
		start := end - len(raw)
		spans = append(spans, jsonSpan{start: start, end: end, line: lines.at(start)})
	}
	if err := r.Finish(); err != nil {
		return nil, syntax(err)
	}

	batches := max(parallelism, 1) * 4
	size := len(spans)/batches + 1
	var results []*jsonChunk
	for lo := 0; lo < len(spans); lo += size {
		results = append(results, &jsonChunk{textChunk: textChunk{cols: c.newColumns(min(size, len(spans)-lo))}})
	}
	fields := c.target.Fields()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(parallelism, 1))
	for k, out := range results {
		batch := spans[k*size : min((k+1)*size, len(spans))]
		g.Go(func() error {
			seen := map[string]bool{}
			for i, s := range batch {
				if i&0xfff == 0 && gctx.Err() != nil {
					return gctx.Err()
				}
				out.object(path, data[s.start:s.end], s.line, fields, seen)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		for _, r := range results {
			r.release()
		}
		return nil, err
	}
	return joinJSON(path, results, c)
}

// jsonSpan is where one element of a JSON array lies in the file.
type jsonSpan struct {
	start, end int
	line       int64
}

// lineCounter gives the line of increasing offsets of data, counting
// each byte once.
type lineCounter struct {
	data []byte
	off  int
	line int64
}

func (l *lineCounter) at(off int) int64 {
	if off > len(l.data) {
		off = len(l.data)
	}
	if off < l.off { // not increasing: count from the start
		l.off, l.line = 0, 1
	}
	l.line += int64(bytes.Count(l.data[l.off:off], []byte{'\n'}))
	l.off = off
	return l.line
}
