package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"golang.org/x/sync/errgroup"
)

// readJSONL reads JSON Lines: one JSON object per line, keys naming the
// columns. A missing key or a JSON null is null. Types are strict but
// for strings: a string is not read into a number column, but a number
// or bool is read into a string column as its text (a film titled 1776).
// Timestamps are strings such as "2001-06-15T08:30:00", or numbers for
// a column whose format is epoch_s or epoch_ms.
func readJSONL(ctx context.Context, path string, c *contract, parallelism int) (*piece, error) {
	data, err := readText(path, FormatJSONL, "")
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, invalid(CodeEmpty, path, "", "the file is empty")
	}
	// JSON strings cannot hold a raw line break, so any line end is a
	// safe place to cut.
	chunks := splitAtNewlines(data, max(parallelism, 1)*4)
	starts := make([]int64, len(chunks))
	line := int64(1)
	for k, ch := range chunks {
		starts[k] = line
		line += int64(bytes.Count(ch, []byte{'\n'}))
	}
	results := make([]*jsonChunk, len(chunks))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(parallelism, 1))
	for k, ch := range chunks {
		g.Go(func() error {
			r, err := parseJSONLChunk(gctx, path, ch, starts[k], c)
			results[k] = r
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}

	return joinJSON(path, results, c)
}

// joinJSON checks the keys seen in a JSON file's chunks against the
// contract and joins the chunks. The columns of the file are the keys
// seen, in order of appearance.
func joinJSON(path string, results []*jsonChunk, c *contract) (*piece, error) {
	var names []string
	seen := map[string]bool{}
	texts := make([]*textChunk, len(results))
	for k, r := range results {
		for _, n := range r.keys {
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
		texts[k] = &r.textChunk
	}
	if len(names) > 0 {
		_, warnings, err := c.plan(path, names, nil)
		if err != nil {
			for _, t := range texts {
				t.release()
			}
			return nil, err
		}
		return joinChunks(path, texts, warnings, c)
	}
	return joinChunks(path, texts, nil, c)
}

// splitAtNewlines cuts data into about n pieces that end at line ends.
func splitAtNewlines(data []byte, n int) [][]byte {
	size := len(data)/n + 1
	var out [][]byte
	for start := 0; start < len(data); {
		cut := start + size
		if cut >= len(data) {
			out = append(out, data[start:])
			break
		}
		if nl := bytes.IndexByte(data[cut:], '\n'); nl < 0 {
			cut = len(data)
		} else {
			cut += nl + 1
		}
		out = append(out, data[start:cut])
		start = cut
	}
	return out
}

type jsonChunk struct {
	textChunk
	keys []string // keys seen in this chunk, in order of appearance
}

func parseJSONLChunk(ctx context.Context, path string, chunk []byte, firstLine int64, c *contract) (*jsonChunk, error) {
	fields := c.target.Fields()
	est := bytes.Count(chunk, []byte{'\n'}) + 1
	out := &jsonChunk{textChunk: newTextChunk(c, est)}
	seen := map[string]bool{}
	ln := firstLine - 1
	for len(chunk) > 0 {
		ln++
		var text []byte
		if nl := bytes.IndexByte(chunk, '\n'); nl >= 0 {
			text, chunk = chunk[:nl], chunk[nl+1:]
		} else {
			text, chunk = chunk, nil
		}
		text = bytes.TrimSpace(text)
		if len(text) == 0 {
			continue
		}
		if ln&0xffff == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		rows := out.rows
		out.object(path, text, ln, fields, seen)
		if c.scan && out.rows > rows {
			out.lines = append(out.lines, ln)
		}
	}
	return out, nil
}

// object adds one JSON object (a line of JSON Lines, an element of a JSON
// array) that starts on line ln as a row.
func (out *jsonChunk) object(path string, text []byte, ln int64, fields []arrow.Field, seen map[string]bool) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(text, &obj); err != nil {
		out.issues.add(Issue{Severity: Error, Code: CodeParse, File: path, Line: ln, RowGroup: -1,
			Message: "not a JSON object: " + jsonErr(err)})
		return
	}
	for k := range obj {
		if !seen[k] {
			// A new key (on the first line, mostly): list the object's
			// keys in the order they are written, as a map does not keep
			// it, so that the file's columns (in messages and warnings)
			// come out the same on every run.
			for _, k := range objectKeys(text, obj) {
				if !seen[k] {
					seen[k] = true
					out.keys = append(out.keys, k)
				}
			}
			break
		}
	}
	out.rows++
	for j, f := range fields {
		if err := out.cols[j].appendJSON(obj[f.Name]); err != nil {
			out.cols[j].b.AppendNull()
			out.issues.add(Issue{Severity: Error, Code: CodeParse, File: path, Column: f.Name, Line: ln, RowGroup: -1,
				Message: err.Error()})
		}
	}
}

// objectKeys returns the keys of obj, the decoding of the JSON object
// text, in the order text has them (a key written twice, once).
func objectKeys(text []byte, obj map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(obj))
	listed := make(map[string]bool, len(obj))
	dec := json.NewDecoder(bytes.NewReader(text))
	if _, err := dec.Token(); err == nil { // the object's '{'
		for dec.More() {
			tok, err := dec.Token()
			k, ok := tok.(string)
			var value json.RawMessage
			if err != nil || !ok || dec.Decode(&value) != nil {
				break
			}
			if !listed[k] {
				listed[k] = true
				keys = append(keys, k)
			}
		}
	}
	if len(keys) < len(obj) { // cannot happen: text decoded into obj
		var rest []string
		for k := range obj {
			if !listed[k] {
				rest = append(rest, k)
			}
		}
		sort.Strings(rest)
		keys = append(keys, rest...)
	}
	return keys
}

func jsonErr(err error) string {
	if se, ok := err.(*json.SyntaxError); ok {
		return fmt.Sprintf("%v (at byte %d)", se, se.Offset)
	}
	return err.Error()
}

// appendJSON appends one JSON value (nil when the key is missing).
func (c *column) appendJSON(raw json.RawMessage) error {
	if len(raw) == 0 || string(raw) == "null" {
		c.b.AppendNull()
		return nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return err
		}
		switch c.b.(type) {
		case *array.StringBuilder, *array.TimestampBuilder:
			if s == "" {
				if sb, ok := c.b.(*array.StringBuilder); ok {
					sb.Append("")
					return nil
				}
			}
			return c.appendText(s)
		}
		return fmt.Errorf("%s is a string, not %s", clip(raw), typeName(c.dt))
	case 't', 'f':
		switch b := c.b.(type) {
		case *array.BooleanBuilder:
			b.Append(raw[0] == 't')
			return nil
		case *array.StringBuilder:
			b.Append(string(raw)) // a string column keeps the bool's text
			return nil
		}
		return fmt.Errorf("%s is a bool, not %s", raw, typeName(c.dt))
	case '{', '[':
		return fmt.Errorf("%s is an object or array, not %s", clip(raw), typeName(c.dt))
	}
	// A number.
	switch b := c.b.(type) {
	case *array.Int64Builder:
		v, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil {
			return fmt.Errorf("%s is not an int64", clip(raw))
		}
		b.Append(v)
		return nil
	case *array.Float64Builder:
		v, err := strconv.ParseFloat(string(raw), 64)
		if err != nil {
			return fmt.Errorf("%s is not a float64", clip(raw))
		}
		b.Append(v)
		return nil
	case *array.StringBuilder:
		// A string column keeps a number's text: a film titled 1776.
		b.Append(string(raw))
		return nil
	case *array.TimestampBuilder:
		if c.tp.epoch != 0 {
			return c.appendText(string(raw))
		}
		return fmt.Errorf("%s is a number, not a timestamp (for seconds or milliseconds since 1970, set the column's format to %s or %s)", clip(raw), EpochSeconds, EpochMilliseconds)
	}
	return fmt.Errorf("%s is a number, not %s", clip(raw), typeName(c.dt))
}

func clip(raw []byte) string {
	if len(raw) > 40 {
		return string(raw[:40]) + "…"
	}
	return string(raw)
}
