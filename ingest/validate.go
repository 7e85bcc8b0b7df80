package ingest

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
)

// Report is the result of validating a dataset against its contract.
type Report struct {
	Rows int64 `json:"rows"`
	// Dropped is how many rows were left out because their label is
	// null (label.missing: drop); Rows counts them.
	Dropped int64   `json:"dropped_rows,omitempty"`
	Columns int     `json:"columns"`
	Files   int     `json:"files"`
	Errors  int     `json:"errors"`
	Issues  []Issue `json:"issues"`
}

// OK reports whether the data passed: no issue is an error.
func (r *Report) OK() bool { return r.Errors == 0 }

// Err returns nil if the data passed, and otherwise an *InvalidError
// (wrapping ErrInvalid) that carries the issues.
func (r *Report) Err() error {
	if r.OK() {
		return nil
	}
	return &InvalidError{Issues: r.Issues}
}

func (r *Report) add(is Issue) {
	if is.Severity == Error {
		r.Errors++
	}
	r.Issues = append(r.Issues, is)
}

// ReportFromError builds the report of a dataset that failed to load
// with a data error (so that it is printed and saved like any other);
// it returns nil if err carries no issues.
func ReportFromError(err error) *Report {
	is := Issues(err)
	if is == nil {
		return nil
	}
	r := &Report{}
	files := map[string]bool{}
	for _, i := range is {
		r.add(i)
		files[i.File] = true
	}
	r.Files = len(files)
	return r
}

// Validate checks the values of a loaded dataset against its contract
// and the label: empty input, nulls in non-nullable columns, values out
// of [min, max], NaN and ±Inf, categories outside the allowed set (a
// warning), a label column with no values, rows with a null label (an
// error, or a warning and a count in Dropped under label.missing: drop;
// DropUnlabelled then leaves them out), and a regression target that is
// constant or (with log1p) at or below -1. Each issue names the
// first offending file, row and column, and counts the rows affected.
//
// Load has already checked the structure (columns, types, parsing), and
// its warnings are included here.
//
// Validate is a Validator given the whole table at once.
func Validate(ds *Dataset, schema Schema, label LabelSpec) *Report {
	files := make([]string, len(ds.Parts))
	for k, p := range ds.Parts {
		files[k] = p.Path
	}
	v := newValidator(files, schema, label)
	v.columns = int(ds.Table.NumCols())
	v.warnings = ds.Warnings
	v.add(ds.Table, func(i int64) Issue {
		part, fileRow, group := ds.Locate(i)
		is := Issue{Row: fileRow, RowGroup: group}
		if part != nil {
			is.File = part.Path
		}
		return is
	})
	return v.Report()
}

// Validator validates a source a chunk at a time, as Scan hands the
// chunks over, and reports what Validate reports for the same rows
// loaded whole: the same counts and the same issues, in the same order,
// naming the same first offending file and row (a text file's data row,
// as Validate does, not its line). Its memory does not grow with the
// rows: each check keeps a count and its first offending row.
//
// Scan puts the rows of a text file that cannot be read in Chunk.Issues
// where Load fails; a loaded run then reports ReportFromError(err) and
// validates nothing. So once a chunk has issues, the Validator stops
// checking values and Report returns those issues the way
// ReportFromError(Load's error) has them: each file's issues in line
// order, files in order, and Files the number of files they name. It
// keeps the first maxRowIssues of a file and counts the rest in a last
// "and N more parse errors" issue; Load keeps the first maxRowIssues of
// each of its parallel chunks of the file, so past that many the two
// differ in which rows are listed (Load's list depends on its
// parallelism).
//
// Where a streamed run still differs from a loaded one, Scan is the
// cause: a structural problem (a missing column, an unreadable file)
// stops Scan with an error, which the caller reports as
// ReportFromError(err) without the issues of the files before it that
// Load would list too; and a file that gives no chunk (a Parquet file of
// no row group) brings no warnings. (Scan refuses text that is not UTF-8,
// holds a NUL byte or ends its lines with CR alone as Load does:
// TestScanTextLikeLoad.)
//
// A Validator is for one goroutine; Scan calls its fn on one.
type Validator struct {
	schema  Schema
	label   LabelSpec
	files   []string // every file of the source, in order
	columns int      // the table's columns

	checks   []*columnCheck // per contract column
	labelCol int            // the label column's index in checks, or -1
	nulls    counter        // rows whose label is null
	target   *targetCheck   // a regression's target; nil otherwise

	rows     int64
	warnings []Issue

	// file is the file of the last chunk added, fileRows the rows of it
	// added so far: a text chunk's row i is the file's row fileRows+i+1.
	file     string
	fileRows int64

	// parse holds the issues of rows that could not be read, per file.
	parse []parseIssues
}

// parseIssues are one file's unreadable rows: the first maxRowIssues,
// and how many more there are.
type parseIssues struct {
	file   string
	issues []Issue
	more   int64
}

// NewValidator returns a Validator of src's rows. It lists src's files
// as Scan does, since a file that holds no rows may give no chunk but
// counts in Report.Files (as Load's Dataset has a part for it). A time
// window is not supported, as in Scan.
func NewValidator(src Source, schema Schema, label LabelSpec) (*Validator, error) {
	if src.Window != (Window{}) {
		return nil, errors.New("validator: a time window is not supported")
	}
	files, err := resolve(src)
	if err != nil {
		return nil, fmt.Errorf("validator: %w", err)
	}
	paths := make([]string, len(files))
	for k, f := range files {
		paths[k] = f.path
	}
	return newValidator(paths, schema, label), nil
}

func newValidator(files []string, schema Schema, label LabelSpec) *Validator {
	v := &Validator{schema: schema, label: label, files: files, columns: len(schema.Columns), labelCol: -1}
	for j, spec := range schema.Columns {
		if spec.Name == label.Column {
			spec.Nullable = true // the label policy judges its nulls, in Report
			v.labelCol = j
			if label.Regression() {
				v.target = &targetCheck{label: label, first: math.NaN()}
			}
		}
		v.checks = append(v.checks, newColumnCheck(spec))
	}
	return v
}

// Add checks the rows of one chunk of the source; chunks must come in
// Scan's order. It counts the chunk's Warnings as Load's warnings, and
// its Issues as the rows Load would have failed on.
func (v *Validator) Add(c *Chunk) {
	if c.File != v.file {
		v.file, v.fileRows = c.File, 0
	}
	v.warnings = append(v.warnings, c.Warnings...)
	for _, is := range c.Issues {
		if n := len(v.parse); n == 0 || v.parse[n-1].file != c.File {
			v.parse = append(v.parse, parseIssues{file: c.File})
		}
		p := &v.parse[len(v.parse)-1]
		if len(p.issues) < maxRowIssues {
			p.issues = append(p.issues, is)
		} else {
			p.more++
		}
	}
	n := c.Table.NumRows()
	if len(v.parse) > 0 {
		v.rows += n // the values of a source that does not load are not checked
	} else {
		base := v.fileRows
		v.add(c.Table, func(i int64) Issue {
			is := c.Where(int(i))
			if c.Lines != nil {
				is.Line, is.Row = 0, base+i+1 // Validate names a text file's data row
			}
			return is
		})
	}
	v.fileRows += n
}

// add checks a table's rows; at names row i of tbl (0-based) in an
// issue's File, Row and RowGroup.
func (v *Validator) add(tbl arrow.Table, at func(i int64) Issue) {
	for j, chk := range v.checks {
		var off int64
		for _, a := range tbl.Column(j).Data().Chunks() {
			chk.add(a, off, at)
			if j == v.labelCol {
				if a.NullN() > 0 {
					for k := 0; k < a.Len(); k++ {
						if a.IsNull(k) {
							v.nulls.hit(at, off+int64(k), nil)
						}
					}
				}
				if v.target != nil {
					v.target.add(a, off, at)
				}
			}
			off += int64(a.Len())
		}
	}
	v.rows += tbl.NumRows()
}

// Report returns the report of every row added so far.
func (v *Validator) Report() *Report {
	if len(v.parse) > 0 {
		r := &Report{Files: len(v.parse)}
		for _, p := range v.parse {
			for _, is := range p.issues {
				r.add(is)
			}
			if p.more > 0 {
				r.add(Issue{Severity: Error, Code: CodeParse, File: p.file, RowGroup: -1,
					Message: fmt.Sprintf("and %d more parse errors", p.more)})
			}
		}
		return r
	}
	r := &Report{Rows: v.rows, Columns: v.columns, Files: len(v.files)}
	for _, w := range v.warnings {
		r.add(w)
	}
	if r.Rows == 0 {
		is := Issue{Severity: Error, Code: CodeEmpty, RowGroup: -1, Message: "the data has no rows"}
		if len(v.files) == 1 {
			is.File = v.files[0]
		} else {
			is.Message = fmt.Sprintf("the data has no rows (%d files)", len(v.files))
		}
		r.add(is)
		return r
	}
	for j, chk := range v.checks {
		chk.emit(r)
		if j != v.labelCol {
			continue
		}
		name := chk.spec.Name
		if v.target != nil {
			v.target.emit(r)
		}
		switch {
		case v.nulls.n == 0:
		case v.nulls.n == r.Rows:
			r.add(Issue{Severity: Error, Code: CodeLabel, Column: name, RowGroup: -1,
				Message: fmt.Sprintf("the label %q is computed from this column, which has no values (every row is null)", v.label.Name)})
		case v.label.Missing == MissingDrop:
			r.Dropped = v.nulls.n
			emit(r, name, &v.nulls, Warning, CodeLabel, fmt.Sprintf("no label (the column is null): the row is dropped (label.missing: drop); %d of %d rows", v.nulls.n, r.Rows))
		default:
			emit(r, name, &v.nulls, Error, CodeLabel, "no label (the column is null): set label.missing: drop to leave such rows out")
		}
	}
	return r
}

// columnCheck validates one column, counting each kind of problem and
// remembering its first row.
type columnCheck struct {
	spec    ColumnSpec
	allowed map[string]bool // the allowed categories; empty: any
	lo, hi  float64         // [min, max], infinite where the spec has none

	nulls, low, high, nan, unknown counter
	newCats                        map[string]int64
}

func newColumnCheck(s ColumnSpec) *columnCheck {
	v := &columnCheck{spec: s, allowed: map[string]bool{}, lo: math.Inf(-1), hi: math.Inf(1)}
	for _, c := range s.Categories {
		v.allowed[c] = true
	}
	if s.Min != nil {
		v.lo = *s.Min
	}
	if s.Max != nil {
		v.hi = *s.Max
	}
	return v
}

// counter counts rows with one problem and keeps where the first is
// (File, Row, RowGroup) and its value.
type counter struct {
	n     int64
	at    Issue
	value string
}

// hit counts row i, which at names.
func (c *counter) hit(at func(int64) Issue, i int64, value func() string) {
	if c.n == 0 {
		c.at = at(i)
		if value != nil {
			c.value = value()
		}
	}
	c.n++
}

// add checks one array of the column, whose row k is row off+k of what
// at names.
func (v *columnCheck) add(chunk arrow.Array, off int64, at func(int64) Issue) {
	s := v.spec
	n := chunk.Len()
	if !s.Nullable && chunk.NullN() > 0 {
		for i := 0; i < n; i++ {
			if chunk.IsNull(i) {
				v.nulls.hit(at, off+int64(i), nil)
			}
		}
	}
	switch a := chunk.(type) {
	case *array.Int64:
		if s.Min == nil && s.Max == nil {
			break
		}
		lo, hi := v.lo, v.hi
		for i, x := range a.Int64Values() {
			if a.IsValid(i) {
				f := float64(x)
				if f < lo {
					v.low.hit(at, off+int64(i), func() string { return fmt.Sprint(x) })
				} else if f > hi {
					v.high.hit(at, off+int64(i), func() string { return fmt.Sprint(x) })
				}
			}
		}
	case *array.Float64:
		lo, hi := v.lo, v.hi
		for i, x := range a.Float64Values() {
			if !a.IsValid(i) {
				continue
			}
			switch {
			case math.IsNaN(x) || math.IsInf(x, 0):
				v.nan.hit(at, off+int64(i), func() string { return fmt.Sprint(x) })
			case x < lo:
				v.low.hit(at, off+int64(i), func() string { return fmt.Sprint(x) })
			case x > hi:
				v.high.hit(at, off+int64(i), func() string { return fmt.Sprint(x) })
			}
		}
	case *array.String:
		if len(v.allowed) == 0 {
			break
		}
		for i := 0; i < n; i++ {
			if a.IsValid(i) && !v.allowed[a.Value(i)] {
				if v.newCats == nil {
					v.newCats = map[string]int64{}
				}
				val := a.Value(i)
				v.newCats[val]++
				v.unknown.hit(at, off+int64(i), func() string { return val })
			}
		}
	}
}

// emit adds the column's issues to r.
func (v *columnCheck) emit(r *Report) {
	s, name := v.spec, v.spec.Name
	emit(r, name, &v.nulls, Error, CodeNull, "null in a non-nullable column (set nullable: true in the schema if nulls are expected)")
	emit(r, name, &v.nan, Error, CodeNaN, "NaN or infinite value %s")
	if s.Min != nil {
		emit(r, name, &v.low, Error, CodeRange, fmt.Sprintf("value %%s is below the minimum %g", *s.Min))
	}
	if s.Max != nil {
		emit(r, name, &v.high, Error, CodeRange, fmt.Sprintf("value %%s is above the maximum %g", *s.Max))
	}
	if v.unknown.n > 0 {
		names := make([]string, 0, len(v.newCats))
		for k := range v.newCats {
			names = append(names, k)
		}
		sort.Strings(names)
		if len(names) > 10 {
			names = append(names[:10], "…")
		}
		emit(r, name, &v.unknown, Warning, CodeCategory, fmt.Sprintf("category %%q is not in the allowed set (%d new categories: %q)", len(v.newCats), names))
	}
}

// emit adds to r an issue about column for a counter that was hit;
// format may hold one %s (or %q) for the first offending value.
func emit(r *Report, column string, c *counter, sev Severity, code, format string) {
	if c.n == 0 {
		return
	}
	is := Issue{Severity: sev, Code: code, File: c.at.File, Column: column, Row: c.at.Row, RowGroup: c.at.RowGroup, Count: c.n}
	if c.value != "" || containsVerb(format) {
		is.Message = fmt.Sprintf(format, c.value)
	} else {
		is.Message = format
	}
	if c.n > 1 {
		is.Message += fmt.Sprintf(" (%d rows; this is the first)", c.n)
	}
	r.add(is)
}

func containsVerb(f string) bool {
	for i := 0; i+1 < len(f); i++ {
		if f[i] == '%' && f[i+1] != '%' {
			return true
		}
		if f[i] == '%' {
			i++
		}
	}
	return false
}
