package ingest

import (
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
func Validate(ds *Dataset, schema Schema, label LabelSpec) *Report {
	r := &Report{Rows: ds.Table.NumRows(), Columns: int(ds.Table.NumCols()), Files: len(ds.Parts)}
	for _, w := range ds.Warnings {
		r.add(w)
	}
	if r.Rows == 0 {
		is := Issue{Severity: Error, Code: CodeEmpty, RowGroup: -1, Message: "the data has no rows"}
		if len(ds.Parts) == 1 {
			is.File = ds.Parts[0].Path
		} else {
			is.Message = fmt.Sprintf("the data has no rows (%d files)", len(ds.Parts))
		}
		r.add(is)
		return r
	}
	for j, spec := range schema.Columns {
		col := ds.Table.Column(j).Data()
		isLabel := spec.Name == label.Column
		if isLabel {
			spec.Nullable = true // the label policy judges its nulls, below
		}
		v := &columnCheck{ds: ds, spec: spec, report: r}
		v.run(col)
		if !isLabel {
			continue
		}
		if label.Regression() {
			checkTarget(ds, j, label, r)
		}
		if col.NullN() == 0 {
			continue
		}
		if int64(col.NullN()) == r.Rows {
			r.add(Issue{Severity: Error, Code: CodeLabel, Column: spec.Name, RowGroup: -1,
				Message: fmt.Sprintf("the label %q is computed from this column, which has no values (every row is null)", label.Name)})
			continue
		}
		nulls := &columnCheck{ds: ds, spec: spec, report: r}
		for i, row := 0, int64(0); i < len(col.Chunks()); i++ {
			ch := col.Chunk(i)
			for k := 0; k < ch.Len(); k++ {
				if ch.IsNull(k) {
					nulls.nulls.hit(row+int64(k), nil)
				}
			}
			row += int64(ch.Len())
		}
		if label.Missing == MissingDrop {
			r.Dropped = nulls.nulls.n
			nulls.emit(&nulls.nulls, Warning, CodeLabel, fmt.Sprintf("no label (the column is null): the row is dropped (label.missing: drop); %d of %d rows", nulls.nulls.n, r.Rows))
		} else {
			nulls.emit(&nulls.nulls, Error, CodeLabel, "no label (the column is null): set label.missing: drop to leave such rows out")
		}
	}
	return r
}

// columnCheck validates one column, counting each kind of problem and
// remembering its first row.
type columnCheck struct {
	ds     *Dataset
	spec   ColumnSpec
	report *Report

	nulls, low, high, nan, unknown counter
	newCats                        map[string]int64
}

// counter counts rows with one problem and keeps the first (0-based
// table row) and its value.
type counter struct {
	n     int64
	first int64
	value string
}

func (c *counter) hit(row int64, value func() string) {
	if c.n == 0 {
		c.first = row
		if value != nil {
			c.value = value()
		}
	}
	c.n++
}

func (v *columnCheck) run(col *arrow.Chunked) {
	var row int64
	s := v.spec
	allowed := map[string]bool{}
	for _, c := range s.Categories {
		allowed[c] = true
	}
	lo, hi := math.Inf(-1), math.Inf(1)
	if s.Min != nil {
		lo = *s.Min
	}
	if s.Max != nil {
		hi = *s.Max
	}
	for _, chunk := range col.Chunks() {
		n := chunk.Len()
		if !s.Nullable && chunk.NullN() > 0 {
			for i := 0; i < n; i++ {
				if chunk.IsNull(i) {
					v.nulls.hit(row+int64(i), nil)
				}
			}
		}
		switch a := chunk.(type) {
		case *array.Int64:
			if s.Min == nil && s.Max == nil {
				break
			}
			for i, x := range a.Int64Values() {
				if a.IsValid(i) {
					f := float64(x)
					if f < lo {
						v.low.hit(row+int64(i), func() string { return fmt.Sprint(x) })
					} else if f > hi {
						v.high.hit(row+int64(i), func() string { return fmt.Sprint(x) })
					}
				}
			}
		case *array.Float64:
			for i, x := range a.Float64Values() {
				if !a.IsValid(i) {
					continue
				}
				switch {
				case math.IsNaN(x) || math.IsInf(x, 0):
					v.nan.hit(row+int64(i), func() string { return fmt.Sprint(x) })
				case x < lo:
					v.low.hit(row+int64(i), func() string { return fmt.Sprint(x) })
				case x > hi:
					v.high.hit(row+int64(i), func() string { return fmt.Sprint(x) })
				}
			}
		case *array.String:
			if len(allowed) == 0 {
				break
			}
			for i := 0; i < n; i++ {
				if a.IsValid(i) && !allowed[a.Value(i)] {
					if v.newCats == nil {
						v.newCats = map[string]int64{}
					}
					val := a.Value(i)
					v.newCats[val]++
					v.unknown.hit(row+int64(i), func() string { return val })
				}
			}
		}
		row += int64(n)
	}
	v.emit(&v.nulls, Error, CodeNull, "null in a non-nullable column (set nullable: true in the schema if nulls are expected)")
	v.emit(&v.nan, Error, CodeNaN, "NaN or infinite value %s")
	if s.Min != nil {
		v.emit(&v.low, Error, CodeRange, fmt.Sprintf("value %%s is below the minimum %g", *s.Min))
	}
	if s.Max != nil {
		v.emit(&v.high, Error, CodeRange, fmt.Sprintf("value %%s is above the maximum %g", *s.Max))
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
		v.emit(&v.unknown, Warning, CodeCategory, fmt.Sprintf("category %%q is not in the allowed set (%d new categories: %q)", len(v.newCats), names))
	}
}

// emit adds an issue for a counter that was hit; format may hold one %s
// (or %q) for the first offending value.
func (v *columnCheck) emit(c *counter, sev Severity, code, format string) {
	if c.n == 0 {
		return
	}
	part, fileRow, group := v.ds.Locate(c.first)
	is := Issue{Severity: sev, Code: code, Column: v.spec.Name, Row: fileRow, RowGroup: group, Count: c.n}
	if part != nil {
		is.File = part.Path
	}
	if c.value != "" || containsVerb(format) {
		is.Message = fmt.Sprintf(format, c.value)
	} else {
		is.Message = format
	}
	if c.n > 1 {
		is.Message += fmt.Sprintf(" (%d rows; this is the first)", c.n)
	}
	v.report.add(is)
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
