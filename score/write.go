package score

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/compress"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"

	"github.com/mlpipe/mlpipe/internal/jsonw"
)

// writer writes output tables to a file, one after another.
type writer interface {
	write(arrow.Table) error
	close() error // flushes; it does not close the file
}

func newWriter(format string, w io.Writer, schema *arrow.Schema) (writer, error) {
	switch format {
	case Parquet:
		// Dictionaries for the columns that repeat (labels, names), not
		// for floats, which rarely do: hashing 3 million distinct
		// probabilities costs more than it saves.
		opts := []parquet.WriterProperty{parquet.WithCompression(compress.Codecs.Snappy), parquet.WithDictionaryDefault(true)}
		for _, f := range schema.Fields() {
			if f.Type.ID() == arrow.FLOAT64 {
				opts = append(opts, parquet.WithDictionaryFor(f.Name, false))
			}
		}
		props := parquet.NewWriterProperties(opts...)
		// onlyWriter hides the file's Close: the caller syncs and renames it.
		fw, err := pqarrow.NewFileWriter(schema, onlyWriter{w}, props, pqarrow.DefaultWriterProps())
		if err != nil {
			return nil, err
		}
		return &parquetWriter{fw}, nil
	case CSV:
		bw := bufio.NewWriterSize(w, 1<<20)
		var b []byte
		for i, f := range schema.Fields() {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendCSV(b, f.Name)
		}
		b = append(b, '\n')
		if _, err := bw.Write(b); err != nil {
			return nil, err
		}
		return &textWriter{w: bw}, nil
	case JSONL:
		return &textWriter{w: bufio.NewWriterSize(w, 1<<20), json: true}, nil
	}
	return nil, fmt.Errorf("score: %w: format %q", ErrUsage, format)
}

type onlyWriter struct{ w io.Writer }

func (o onlyWriter) Write(p []byte) (int, error) { return o.w.Write(p) }

// parquetWriter writes each table as one row group.
type parquetWriter struct{ fw *pqarrow.FileWriter }

func (p *parquetWriter) write(t arrow.Table) error { return p.fw.WriteTable(t, t.NumRows()) }
func (p *parquetWriter) close() error              { return p.fw.Close() }

// textWriter writes CSV rows or JSON Lines objects. Numbers are written
// so that they read back to the same float64 (the shortest form that
// does), timestamps as naive ISO 8601 (2001-06-15T08:30:00, with a
// fraction only when there is one), a null as an empty CSV field or a
// JSON null.
type textWriter struct {
	w    *bufio.Writer
	json bool
	buf  []byte
}

func (t *textWriter) write(tbl arrow.Table) error {
	cols := make([]cells, tbl.NumCols())
	for j := range cols {
		cols[j] = newCells(tbl.Column(j).Data())
	}
	names := make([][]byte, tbl.NumCols())
	for j, f := range tbl.Schema().Fields() {
		names[j] = append(jsonw.AppendString(nil, f.Name), ':')
	}
	for i := range int(tbl.NumRows()) {
		b := t.buf[:0]
		if t.json {
			b = append(b, '{')
		}
		for j := range cols {
			if j > 0 {
				b = append(b, ',')
			}
			if t.json {
				b = append(b, names[j]...)
				b = cols[j].appendJSON(b, i)
			} else {
				b = cols[j].appendCSV(b, i)
			}
		}
		if t.json {
			b = append(b, '}')
		}
		b = append(b, '\n')
		if _, err := t.w.Write(b); err != nil {
			return err
		}
		t.buf = b
	}
	return nil
}

func (t *textWriter) close() error { return t.w.Flush() }

// cells reads the values of a chunked column by row.
type cells struct {
	chunks []arrow.Array
	starts []int // the row of each chunk's first value
	last   int   // the chunk of the last row read
}

func newCells(c *arrow.Chunked) cells {
	out := cells{chunks: c.Chunks()}
	at := 0
	for _, a := range out.chunks {
		out.starts = append(out.starts, at)
		at += a.Len()
	}
	return out
}

// at returns the chunk holding row i and the row's index in it.
func (c *cells) at(i int) (arrow.Array, int) {
	for c.last+1 < len(c.chunks) && i >= c.starts[c.last+1] {
		c.last++
	}
	for c.last > 0 && i < c.starts[c.last] {
		c.last--
	}
	return c.chunks[c.last], i - c.starts[c.last]
}

// value returns the array holding row i's value and its index there:
// the chunk holding row i, or for a dictionary array, its dictionary.
func (c *cells) value(i int) (arrow.Array, int) {
	a, i := c.at(i)
	if d, ok := a.(*array.Dictionary); ok && d.IsValid(i) {
		return d.Dictionary(), d.GetValueIndex(i)
	}
	return a, i
}

// appendJSON appends row i's value as JSON.
func (c *cells) appendJSON(b []byte, i int) []byte {
	a, i := c.value(i)
	if a.IsNull(i) {
		return append(b, "null"...)
	}
	switch a := a.(type) {
	case *array.Float64:
		v := a.Value(i)
		if v != v || v > 1.7976931348623157e308 || v < -1.7976931348623157e308 {
			return append(b, "null"...) // JSON has no NaN or infinity
		}
		return jsonw.AppendFloat(b, v, 64)
	case *array.Int64:
		return strconv.AppendInt(b, a.Value(i), 10)
	case *array.Boolean:
		return strconv.AppendBool(b, a.Value(i))
	case *array.String:
		return jsonw.AppendString(b, a.Value(i))
	case *array.Timestamp:
		return appendTime(append(b, '"'), a, i, '"')
	}
	return jsonw.AppendString(b, a.ValueStr(i))
}

// appendCSV appends row i's value as a CSV field.
func (c *cells) appendCSV(b []byte, i int) []byte {
	a, i := c.value(i)
	if a.IsNull(i) {
		return b
	}
	switch a := a.(type) {
	case *array.Float64:
		return strconv.AppendFloat(b, a.Value(i), 'g', -1, 64)
	case *array.Int64:
		return strconv.AppendInt(b, a.Value(i), 10)
	case *array.Boolean:
		return strconv.AppendBool(b, a.Value(i))
	case *array.String:
		return appendCSV(b, a.Value(i))
	case *array.Timestamp:
		return appendTime(b, a, i, 0)
	}
	return appendCSV(b, a.ValueStr(i))
}

// appendTime appends a timestamp as naive ISO 8601, then end if not 0.
func appendTime(b []byte, a *array.Timestamp, i int, end byte) []byte {
	unit := a.DataType().(*arrow.TimestampType).Unit
	t := a.Value(i).ToTime(unit).UTC()
	layout := "2006-01-02T15:04:05"
	if t.Nanosecond() != 0 {
		layout = "2006-01-02T15:04:05.999999999"
	}
	b = t.AppendFormat(b, layout)
	if end != 0 {
		b = append(b, end)
	}
	return b
}

// appendCSV appends s as a CSV field, quoted when it must be (as
// encoding/csv quotes).
func appendCSV(b []byte, s string) []byte {
	if s == "" || !strings.ContainsAny(s, ",\"\r\n") && s[0] != ' ' && s[0] != '\t' {
		return append(b, s...)
	}
	b = append(b, '"')
	b = append(b, strings.ReplaceAll(s, `"`, `""`)...)
	return append(b, '"')
}

// appendRow appends row i of tbl as a JSON object of its columns.
func appendRow(b []byte, tbl arrow.Table, i int) []byte {
	b = append(b, '{')
	for j, f := range tbl.Schema().Fields() {
		if j > 0 {
			b = append(b, ',')
		}
		b = append(jsonw.AppendString(b, f.Name), ':')
		c := newCells(tbl.Column(j).Data())
		b = c.appendJSON(b, i)
	}
	return append(b, '}')
}

// appendJSON appends the reject as one JSON object: where it is, why it
// was skipped, and its values.
func (r reject) appendJSON(b []byte) []byte {
	is := r.issue
	b = append(b, `{"file":`...)
	b = jsonw.AppendString(b, is.File)
	if is.Line > 0 {
		b = append(b, `,"line":`...)
		b = strconv.AppendInt(b, is.Line, 10)
	}
	if is.Row > 0 {
		b = append(b, `,"row":`...)
		b = strconv.AppendInt(b, is.Row, 10)
	}
	if is.RowGroup >= 0 {
		b = append(b, `,"row_group":`...)
		b = strconv.AppendInt(b, int64(is.RowGroup), 10)
	}
	if is.Column != "" {
		b = append(b, `,"column":`...)
		b = jsonw.AppendString(b, is.Column)
	}
	b = append(b, `,"code":`...)
	b = jsonw.AppendString(b, is.Code)
	b = append(b, `,"reason":`...)
	b = jsonw.AppendString(b, is.Message)
	if r.values != nil {
		b = append(b, `,"values":`...)
		b = append(b, r.values...)
	}
	return append(b, '}')
}
