package ingest

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/compute"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/mlpipe/mlpipe/storage"
	"golang.org/x/sync/errgroup"
)

// Options tune Load. The zero value is ready to use.
type Options struct {
	// Now is the time a Window with LastDays and no Until counts back
	// from. Zero means time.Now().
	Now time.Time
	// Parallelism bounds how many files (or row groups, or CSV chunks) are
	// read at once. Zero means runtime.GOMAXPROCS(0).
	Parallelism int
	// Allocator for Arrow buffers. Nil means memory.DefaultAllocator.
	Allocator memory.Allocator
	// Progress, if set, is called with the number of rows just read each
	// time a Parquet row group, an Arrow record batch or a chunk of a text
	// file has been read (before the window filter). It is called from
	// the reading goroutines, so it must be safe for concurrent use.
	Progress func(rows int64)
}

func (o *Options) progress() func(int64) {
	if o == nil || o.Progress == nil {
		return func(int64) {}
	}
	return o.Progress
}

func (o *Options) parallelism() int {
	if o == nil || o.Parallelism <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return o.Parallelism
}

func (o *Options) allocator() memory.Allocator {
	if o == nil || o.Allocator == nil {
		return memory.DefaultAllocator
	}
	return o.Allocator
}

func (o *Options) now() time.Time {
	if o == nil || o.Now.IsZero() {
		return time.Now()
	}
	return o.Now
}

// Dataset is a loaded table with the provenance of its rows, so that an
// issue about row i can name the file and the row within it.
type Dataset struct {
	// Table has the contract's columns, in contract order and types.
	Table arrow.Table
	// Parts lists the files that make up Table, in row order. Part k holds
	// rows [Parts[k].Offset, Parts[k].Offset+Parts[k].Rows) of Table.
	Parts []Part
	// Warnings are issues found while loading that did not fail it (an
	// extra column that the contract allows, for example).
	Warnings []Issue
}

// Part is one source file's share of a Dataset.
type Part struct {
	Path   string `json:"path"`
	Format string `json:"format"`
	// Offset is the Table row of the part's first row; Rows how many of
	// the Table's rows it holds.
	Offset int64 `json:"offset"`
	Rows   int64 `json:"rows"`
	// FileRows is how many rows the file holds before the window filter.
	FileRows int64 `json:"file_rows"`
	// Groups is the number of rows in each Parquet row group or Arrow
	// record batch, in file order; nil for text formats.
	Groups []int64 `json:"groups,omitempty"`
	// kept maps the part's rows to their rows in the file (0-based) when
	// the window filter dropped some; nil means row i is file row i.
	kept []int64
}

// Locate returns the part that holds Table row i (0-based), the row's
// 1-based number within its file, and its row group (-1 for formats
// without groups).
func (d *Dataset) Locate(i int64) (p *Part, fileRow int64, group int) {
	for k := range d.Parts {
		p = &d.Parts[k]
		if i < p.Offset || i >= p.Offset+p.Rows {
			continue
		}
		r := i - p.Offset
		if p.kept != nil {
			r = p.kept[r]
		}
		group = -1
		var start int64
		for g, n := range p.Groups {
			if r < start+n {
				group = g
				break
			}
			start += n
		}
		return p, r + 1, group
	}
	return nil, 0, -1
}

// Release releases the table's memory.
func (d *Dataset) Release() {
	if d != nil && d.Table != nil {
		d.Table.Release()
	}
}

// piece is what reading one file produces: a table in the contract's
// schema (before the window filter) and where its rows came from.
type piece struct {
	table    arrow.Table
	fileRows int64 // rows in the file, before the window filter
	groups   []int64
	warnings []Issue
	kept     []int64
}

// Load reads a source into one Arrow table that meets the schema
// contract: the contract's columns, in its order, with its types.
// Compatible types are cast (an int32 column to int64, a dictionary of
// strings to strings); anything else is an error.
//
// Files are read in parallel. Every data error wraps ErrInvalid (as an
// *InvalidError whose issues name the file, column and row); a source
// that matches no file wraps ErrNoFiles. Load checks the structure of
// the data (columns, types, parseability); Validate checks its values.
func Load(ctx context.Context, src Source, schema Schema, opts *Options) (*Dataset, error) {
	target, err := schema.ArrowSchema()
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	files, err := resolve(src)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	window, err := src.Window.bounds(opts.now())
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	c, err := newContract(src, schema, target, opts.allocator())
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	c.progress = opts.progress()

	pieces := make([]*piece, len(files))
	errs := make([]error, len(files))
	g, gctx := errgroup.WithContext(ctx)
	// One file at a time gets every worker; many files get one each.
	inner := opts.parallelism()
	if len(files) > 1 {
		inner = 1
	}
	g.SetLimit(opts.parallelism())
	for i, f := range files {
		g.Go(func() error {
			p, err := readFile(gctx, f, c, inner)
			if err == nil && window.active() {
				err = window.apply(gctx, p, c)
			}
			pieces[i], errs[i] = p, err
			if err != nil && gctx.Err() == nil {
				if _, isData := err.(*InvalidError); !isData {
					return err // an I/O error stops the other readers
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	// Data errors from every file are reported together.
	var issues []Issue
	for i, err := range errs {
		if err == nil {
			continue
		}
		is := Issues(err)
		if is == nil {
			return nil, fmt.Errorf("load %s: %w", files[i].path, err)
		}
		issues = append(issues, is...)
	}
	if len(issues) > 0 {
		releasePieces(pieces)
		return nil, fmt.Errorf("load: %w", &InvalidError{Issues: issues})
	}
	return assemble(target, files, pieces), nil
}

func releasePieces(ps []*piece) {
	for _, p := range ps {
		if p != nil && p.table != nil {
			p.table.Release()
		}
	}
}

// assemble concatenates the pieces into one dataset without copying
// column data.
func assemble(target *arrow.Schema, files []inputFile, pieces []*piece) *Dataset {
	ds := &Dataset{Parts: make([]Part, len(pieces))}
	tables := make([]arrow.Table, len(pieces))
	var rows int64
	for k, p := range pieces {
		n := p.table.NumRows()
		ds.Parts[k] = Part{Path: files[k].path, Format: files[k].format, Offset: rows, Rows: n, FileRows: p.fileRows, Groups: p.groups, kept: p.kept}
		ds.Warnings = append(ds.Warnings, p.warnings...)
		tables[k] = p.table
		rows += n
	}
	ds.Table = concatTables(target, tables)
	releasePieces(pieces)
	return ds
}

// contract is the schema contract prepared for readers.
type contract struct {
	schema Schema
	target *arrow.Schema
	mem    memory.Allocator
	times  []*timeParser // per contract column: how its text is read (nil if not a timestamp)
	csv    csvOptions
	// scan: the text readers keep every row issue and the line of every
	// row, for Scan.
	scan bool
	// progress is told the rows of each group or chunk read (nil: no one
	// listens).
	progress func(rows int64)
}

// read reports n rows read.
func (c *contract) read(n int64) {
	if c.progress != nil {
		c.progress(n)
	}
}

// csvOptions are a source's CSV settings (an Excel worksheet is read as
// CSV text: xlsx.go).
type csvOptions struct {
	delim    byte // 0: by format ("," or a tab)
	noHeader bool
	skip     int
	sheet    string // an Excel workbook's worksheet ("": the first)
}

// delimiter is the field delimiter of a file of format: the one set, or
// the format's (a tab for TSV, else a comma). A worksheet's CSV text is
// written with commas, whatever is set.
func (o csvOptions) delimiter(format string) byte {
	switch {
	case format == FormatXLSX:
		return ','
	case o.delim != 0:
		return o.delim
	case format == FormatTSV:
		return '\t'
	}
	return ','
}

func newContract(src Source, schema Schema, target *arrow.Schema, mem memory.Allocator) (*contract, error) {
	c := &contract{schema: schema, target: target, mem: mem, times: make([]*timeParser, len(schema.Columns))}
	for j, col := range schema.Columns {
		if _, ok := target.Field(j).Type.(*arrow.TimestampType); !ok {
			if col.Format != "" || col.Timezone != "" {
				return nil, fmt.Errorf("schema: column %q: format and timezone apply to timestamp columns", col.Name)
			}
			continue
		}
		tp, err := newTimeParser(col.Format, col.Timezone)
		if err != nil {
			return nil, fmt.Errorf("schema: column %q: %w", col.Name, err)
		}
		c.times[j] = tp
	}
	d, err := Delimiter(src.Delimiter)
	if err != nil {
		return nil, err
	}
	c.csv = csvOptions{delim: d, noHeader: src.Header != nil && !*src.Header, skip: src.SkipRows, sheet: src.Sheet}
	if c.csv.skip < 0 {
		return nil, fmt.Errorf("skip_rows must be >= 0, got %d", c.csv.skip)
	}
	return c, nil
}

// Delimiter checks a CSV delimiter setting and returns its byte (0 for
// the format's default). It must be one ASCII byte other than a quote,
// CR or LF; "\t" written out (a backslash and a t) also means a tab.
func Delimiter(s string) (byte, error) {
	switch s {
	case "":
		return 0, nil
	case `\t`, "tab":
		return '\t', nil
	}
	if len(s) != 1 || s[0] >= 0x80 || s[0] == '"' || s[0] == '\r' || s[0] == '\n' {
		return 0, fmt.Errorf("delimiter %q: want one ASCII character other than a quote, CR or LF (such as \",\", \";\", \"|\", \" \" or \"\\t\")", s)
	}
	return s[0], nil
}

// readFile reads one file with the reader for its format.
func readFile(ctx context.Context, f inputFile, c *contract, parallelism int) (*piece, error) {
	if storage.IsURL(f.path) && f.format != FormatParquet {
		local, remove, err := downloadURL(ctx, f.path)
		if err != nil {
			return nil, err
		}
		defer remove()
		p, err := readFile(ctx, inputFile{path: local, format: f.format}, c, parallelism)
		if err != nil {
			err = fmt.Errorf("%s (downloaded): %w", f.path, err)
		}
		return p, err
	}
	switch f.format {
	case FormatParquet:
		return readParquet(ctx, f.path, c, parallelism)
	case FormatArrowFile:
		return readIPCFile(ctx, f.path, c)
	case FormatArrowStream:
		return readIPCStream(ctx, f.path, c)
	case FormatCSV, FormatTSV, FormatXLSX:
		return readCSV(ctx, f.path, f.format, c, parallelism)
	case FormatJSONL:
		return readJSONL(ctx, f.path, c, parallelism)
	case FormatJSON:
		return readJSON(ctx, f.path, c, parallelism)
	}
	return nil, invalid(CodeRead, f.path, "", "unknown format %q", f.format)
}

// columnPlan matches a file's columns to the contract: src[j] is the
// file's column index for contract column j. Missing columns, extra
// columns (unless allowed) and types that cannot be cast are issues.
func (c *contract) columnPlan(file string, have *arrow.Schema) (src []int, warnings []Issue, err error) {
	names := make([]string, len(have.Fields()))
	types := make([]arrow.DataType, len(have.Fields()))
	for i, f := range have.Fields() {
		names[i], types[i] = f.Name, f.Type
	}
	return c.plan(file, names, types)
}

// plan is columnPlan over column names, and types if the format has them
// (types is nil for text formats, whose values are parsed into the
// contract's types).
func (c *contract) plan(file string, names []string, types []arrow.DataType) (src []int, warnings []Issue, err error) {
	var issues []Issue
	index := make(map[string][]int, len(names))
	for i, n := range names {
		index[n] = append(index[n], i)
	}
	src = make([]int, len(c.target.Fields()))
	for j, want := range c.target.Fields() {
		idx := index[want.Name]
		if len(idx) == 0 {
			issues = append(issues, Issue{Severity: Error, Code: CodeMissingColumn, File: file, Column: want.Name, RowGroup: -1,
				Message: fmt.Sprintf("missing column (the schema contract requires it; the file has %q)", names)})
			continue
		}
		if len(idx) > 1 {
			issues = append(issues, Issue{Severity: Error, Code: CodeExtraColumn, File: file, Column: want.Name, RowGroup: -1,
				Message: fmt.Sprintf("the column appears %d times", len(idx))})
			continue
		}
		src[j] = idx[0]
		if types == nil {
			continue
		}
		if ok, why := castable(types[idx[0]], want.Type); !ok {
			issues = append(issues, Issue{Severity: Error, Code: CodeType, File: file, Column: want.Name, RowGroup: -1,
				Message: "wrong type: " + why})
		}
	}
	for _, n := range names {
		if c.schema.Column(n) != nil {
			continue
		}
		is := Issue{Severity: Error, Code: CodeExtraColumn, File: file, Column: n, RowGroup: -1,
			Message: "unexpected column (not in the schema contract; set schema.allow_extra_columns to drop such columns)"}
		if c.schema.AllowExtra {
			is.Severity, is.Message = Warning, "column not in the schema contract; dropped"
			warnings = append(warnings, is)
			continue
		}
		issues = append(issues, is)
	}
	if len(issues) > 0 {
		return nil, nil, &InvalidError{Issues: issues}
	}
	return src, warnings, nil
}

// wallClock turns a zoned Arrow timestamp column (UTC instants and a zone
// name) into contract column j's naive timestamps: the wall-clock time in
// the column's timezone if it has one, else in the data's own zone (the
// time as the writer saw it, as text timestamps keep theirs).
func (c *contract) wallClock(a *array.Timestamp, j int) (arrow.Array, error) {
	ts := a.DataType().(*arrow.TimestampType)
	loc := c.times[j].loc
	if loc == nil {
		var err error
		if loc, err = time.LoadLocation(ts.TimeZone); err != nil {
			return nil, fmt.Errorf("the data's time zone %q is unknown (%v); set the column's timezone", ts.TimeZone, err)
		}
	}
	unit := c.target.Field(j).Type.(*arrow.TimestampType).Unit
	b := array.NewTimestampBuilder(c.mem, c.target.Field(j).Type.(*arrow.TimestampType))
	defer b.Release()
	b.Reserve(a.Len())
	for i, v := range a.TimestampValues() {
		if a.IsNull(i) {
			b.AppendNull()
			continue
		}
		b.Append(arrow.Timestamp(toUnit(naive(fromUnit(int64(v), ts.Unit).In(loc)), unit)))
	}
	return b.NewArray(), nil
}

// conform turns a table with the file's schema into one with the
// contract's, selecting and casting columns by plan. group names the row
// group or batch in errors (-1 for none).
func (c *contract) conform(ctx context.Context, file string, tbl arrow.Table, plan []int, group int) (arrow.Table, error) {
	cols := make([]arrow.Column, len(plan))
	defer func() {
		for j := range cols {
			if cols[j].Data() != nil {
				cols[j].Release()
			}
		}
	}()
	for j, k := range plan {
		want := c.target.Field(j)
		have := tbl.Column(k).Data()
		var chunks []arrow.Array
		for _, a := range have.Chunks() {
			if arrow.TypeEqual(a.DataType(), want.Type) {
				a.Retain()
				chunks = append(chunks, a)
				continue
			}
			if ts, ok := a.DataType().(*arrow.TimestampType); ok && ts.TimeZone != "" {
				out, err := c.wallClock(a.(*array.Timestamp), j)
				if err != nil {
					for _, ch := range chunks {
						ch.Release()
					}
					return nil, &InvalidError{Issues: []Issue{{Severity: Error, Code: CodeType, File: file, Column: want.Name, RowGroup: group,
						Message: err.Error()}}}
				}
				chunks = append(chunks, out)
				continue
			}
			out, err := compute.CastArray(ctx, a, compute.SafeCastOptions(want.Type))
			if err != nil {
				for _, ch := range chunks {
					ch.Release()
				}
				return nil, &InvalidError{Issues: []Issue{{Severity: Error, Code: CodeType, File: file, Column: want.Name, RowGroup: group,
					Message: fmt.Sprintf("cannot cast %s to %s: %v", a.DataType(), want.Type, err)}}}
			}
			chunks = append(chunks, out)
		}
		ch := arrow.NewChunked(want.Type, chunks)
		for _, a := range chunks {
			a.Release()
		}
		cols[j] = *arrow.NewColumn(want, ch)
		ch.Release()
	}
	c.read(tbl.NumRows())
	return array.NewTable(c.target, cols, tbl.NumRows()), nil
}
