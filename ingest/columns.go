package ingest

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
)

// Layout is what Columns finds out about the first file of a source,
// before any schema is known: enough to write one.
type Layout struct {
	File   string // the file read
	Format string // its format (FormatCSV, ...)
	// Delimiter is the CSV field delimiter: the source's, or, when it
	// sets none, the one of ',', '\t', ';' and '|' that the header line
	// holds most of (a space when it holds none but has spaces; else ',').
	Delimiter byte
	// Header is false when a CSV file has no header line: the source
	// says so, or every field of its first line is a number. The
	// columns are then named column_1, column_2, ...
	Header bool
	// Sheet is the worksheet an Excel workbook's columns were read from
	// (the source's, or its first visible one), and Sheets all of its
	// worksheets, in workbook order.
	Sheet  string
	Sheets []string
	// Columns are the file's columns in file order. Type is the Arrow
	// type a Parquet or Arrow file stores; nil for the text formats,
	// whose values are text until a schema types them.
	Columns []arrow.Field
}

// layoutRows is how many objects of a JSON Lines or JSON file Columns
// reads for their keys: the keys of an object, in the order the first
// object to have them writes them.
const layoutRows = 1000

// Columns reads the column names (and, for Parquet and Arrow, the types)
// of the first file of src, reading no more of a text file than its
// first lines. In object storage it reads Parquet objects only, as Scan
// does. Errors are those of Load for the same file: a file of
// another kind than its name says, or one that cannot be parsed, is an
// *InvalidError.
func Columns(ctx context.Context, src Source) (*Layout, error) {
	files, err := resolve(src)
	if err != nil {
		return nil, err
	}
	f := files[0]
	if err := chunkable(f); err != nil {
		return nil, fmt.Errorf("columns: %w", err)
	}
	l := &Layout{File: f.path, Format: f.format, Header: true}
	switch f.format {
	case FormatXLSX:
		if l.Sheet, l.Sheets, err = workbookSheets(f.path, src.Sheet); err == nil {
			err = l.csvColumns(src)
		}
	case FormatCSV, FormatTSV:
		err = l.csvColumns(src)
	case FormatJSONL, FormatJSON:
		err = l.jsonColumns()
	default:
		var schema *arrow.Schema
		if schema, err = fileSchema(ctx, f); schema != nil {
			l.Columns = schema.Fields()
		}
	}
	if err != nil {
		return nil, err
	}
	if len(l.Columns) == 0 {
		return nil, invalid(CodeEmpty, l.File, "", "no columns found")
	}
	return l, nil
}

func (l *Layout) csvColumns(src Source) error {
	r, done, err := openText(l.File, l.Format, src.Sheet)
	if err != nil {
		return err
	}
	defer done()
	br := bufio.NewReader(r)
	for range src.SkipRows {
		if _, err := br.ReadString('\n'); err != nil {
			break
		}
	}
	first, err := br.ReadString('\n')
	var bad *InvalidError
	switch {
	case errors.As(err, &bad):
		return err // it names the file (a worksheet written as it is read)
	case err != nil && !errors.Is(err, io.EOF):
		return fmt.Errorf("read %s: %w", l.File, err)
	}
	first = strings.TrimPrefix(first, "\ufeff")
	if strings.TrimSpace(first) == "" {
		return invalid(CodeEmpty, l.File, "", "the file is empty (after skip_rows): a CSV file needs a header line")
	}
	if err := checkText(l.File, []byte(first)); err != nil {
		return err
	}
	switch {
	case l.Format == FormatXLSX:
		l.Delimiter = ','
	case src.Delimiter != "":
		if l.Delimiter, err = Delimiter(src.Delimiter); err != nil {
			return err
		}
	case l.Format == FormatTSV:
		l.Delimiter = '\t'
	default:
		l.Delimiter = guessDelimiter(first)
	}
	// The header may go on past its first line, in a quoted name.
	cr := csv.NewReader(io.MultiReader(strings.NewReader(first), br))
	cr.Comma = rune(l.Delimiter)
	fields, err := cr.Read()
	if err != nil {
		return invalid(CodeParse, l.File, "", "cannot read the header line: %v", err)
	}
	l.Header = src.Header == nil || *src.Header
	if l.Header && allNumbers(fields) {
		l.Header = false
	}
	for j, name := range fields {
		if !l.Header {
			name = "column_" + strconv.Itoa(j+1)
		}
		l.Columns = append(l.Columns, arrow.Field{Name: name})
	}
	return nil
}

// guessDelimiter is the one of ',', '\t', ';' and '|' that line holds
// most of; if it holds none of them, a space if it has one (numbers
// written by a program that pads with spaces), else ','.
func guessDelimiter(line string) byte {
	best, most := byte(','), 0
	for _, d := range []byte{',', '\t', ';', '|'} {
		if n := strings.Count(line, string(d)); n > most {
			best, most = d, n
		}
	}
	if most == 0 && strings.Contains(strings.TrimSpace(line), " ") {
		return ' '
	}
	return best
}

// allNumbers says whether every field is a number: a first line that
// names no columns.
func allNumbers(fields []string) bool {
	for _, f := range fields {
		if _, err := strconv.ParseFloat(strings.TrimSpace(f), 64); err != nil {
			return false
		}
	}
	return true
}

func (l *Layout) jsonColumns() error {
	r, done, err := openText(l.File, l.Format, "")
	if err != nil {
		return err
	}
	defer done()
	dec := json.NewDecoder(r)
	if l.Format == FormatJSON {
		tok, err := dec.Token()
		if d, ok := tok.(json.Delim); err != nil || !ok || d != '[' {
			return invalid(CodeParse, l.File, "", "a JSON file must hold one array of objects, one per row ([{...}, {...}])")
		}
	}
	seen := map[string]bool{}
	for n := 0; n < layoutRows && dec.More(); n++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			if n == 0 {
				return invalid(CodeParse, l.File, "", "invalid JSON in the first object: %v", err)
			}
			break // Load reports where; the keys so far are the columns
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			return invalid(CodeParse, l.File, "", "object %d is not a JSON object: %v", n+1, err)
		}
		for _, k := range objectKeys(raw, obj) {
			if !seen[k] {
				seen[k] = true
				l.Columns = append(l.Columns, arrow.Field{Name: k})
			}
		}
	}
	return nil
}
