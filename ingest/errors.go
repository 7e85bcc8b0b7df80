package ingest

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Every error that Load, Validate or Split returns about
// the data itself wraps ErrInvalid, so the CLI can tell "your data broke
// its contract" (exit 3) from an I/O failure.
var (
	// ErrInvalid means the data does not meet its contract: it cannot be
	// parsed, has the wrong columns or types, or fails validation.
	ErrInvalid = errors.New("invalid data")
	// ErrNoFiles means a source path, glob or directory matched no files.
	ErrNoFiles = errors.New("no input files")
)

// Severity says whether an Issue fails the stage.
type Severity string

const (
	// Error issues fail the stage.
	Error Severity = "error"
	// Warning issues are reported but do not fail the stage (a category
	// never seen before, an extra column that the contract allows).
	Warning Severity = "warning"
)

// Issue is one problem found in the data. It names where the problem is
// as precisely as the format allows: the file, the column, and the row
// (1-based, counting data rows only) or, for text formats, the line
// (1-based, counting the header as line 1).
type Issue struct {
	Severity Severity `json:"severity"`
	// Code is a stable, machine-readable kind: see the Code* constants.
	Code   string `json:"code"`
	File   string `json:"file,omitempty"`
	Column string `json:"column,omitempty"`
	// Row is the first affected data row within File (1-based); 0 if the
	// issue is not about a row.
	Row int64 `json:"row,omitempty"`
	// Line is the line of a text file (CSV, JSON Lines), 0 otherwise.
	Line int64 `json:"line,omitempty"`
	// RowGroup is the Parquet row group (or Arrow IPC record batch) that
	// holds Row, or -1.
	RowGroup int `json:"row_group"`
	// Count is how many rows have this problem (1 for a single-row issue).
	Count   int64  `json:"count,omitempty"`
	Message string `json:"message"`
}

// Issue codes.
const (
	CodeRead          = "read"           // the file cannot be read or is not in its format
	CodeParse         = "parse"          // a value or a row cannot be parsed
	CodeMissingColumn = "missing_column" // the contract names a column the data lacks
	CodeExtraColumn   = "extra_column"   // the data has a column the contract does not name
	CodeType          = "type"           // a column's type cannot be cast to the contract's
	CodeEmpty         = "empty"          // no rows
	CodeNull          = "null"           // nulls in a non-nullable column
	CodeRange         = "range"          // a value outside [min, max]
	CodeNaN           = "nan"            // NaN or ±Inf in a float column
	CodeCategory      = "category"       // a string outside the allowed categories
	CodeLabel         = "label"          // the label cannot be derived, or is null
	CodeConstant      = "constant"       // a feature that never changes on the training split
)

func (is Issue) String() string {
	var b strings.Builder
	if is.File != "" {
		b.WriteString(is.File)
		b.WriteString(": ")
	}
	var where []string
	if is.Line > 0 {
		where = append(where, fmt.Sprintf("line %d", is.Line))
	} else if is.Row > 0 {
		where = append(where, fmt.Sprintf("row %d", is.Row))
	}
	if is.RowGroup >= 0 && is.Row > 0 {
		where = append(where, fmt.Sprintf("row group %d", is.RowGroup))
	}
	if is.Column != "" {
		where = append(where, fmt.Sprintf("column %q", is.Column))
	}
	if len(where) > 0 {
		b.WriteString(strings.Join(where, ", "))
		b.WriteString(": ")
	}
	b.WriteString(is.Message)
	return b.String()
}

// InvalidError carries the issues that made data invalid. It wraps
// ErrInvalid. Its message shows the first few issues; Issues has them all.
type InvalidError struct {
	Issues []Issue
}

// maxShown is how many issues an InvalidError's message lists.
const maxShown = 5

func (e *InvalidError) Error() string {
	var errs []Issue
	for _, is := range e.Issues {
		if is.Severity == Error {
			errs = append(errs, is)
		}
	}
	var b strings.Builder
	b.WriteString(ErrInvalid.Error())
	for i, is := range errs {
		if i == maxShown {
			fmt.Fprintf(&b, "; and %d more", len(errs)-maxShown)
			break
		}
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(is.String())
	}
	return b.String()
}

func (e *InvalidError) Unwrap() error { return ErrInvalid }

// Issues returns the issues carried by err if it is (or wraps) an
// *InvalidError, and nil otherwise.
func Issues(err error) []Issue {
	var ie *InvalidError
	if errors.As(err, &ie) {
		return ie.Issues
	}
	return nil
}

// invalid returns an *InvalidError holding one error issue.
func invalid(code, file, column string, format string, args ...any) *InvalidError {
	return &InvalidError{Issues: []Issue{{
		Severity: Error, Code: code, File: file, Column: column,
		RowGroup: -1, Message: fmt.Sprintf(format, args...),
	}}}
}
