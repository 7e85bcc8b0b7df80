package ingest

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// Excel workbooks (.xlsx).
//
// A worksheet is read as the CSV text it would be saved as, and that
// text is read as a CSV file is: its first row names the columns (or,
// with header: false, the rows are the schema's columns in order),
// skip_rows skips rows above it, and every later step (types, nulls,
// errors naming the row) is the CSV reader's. The CSV's line N is the
// sheet's row N.
//
// The worksheet is the first that is not hidden, unless one is named. An
// empty row (or one only formatted) is an empty line, which the CSV
// reader skips while counting it. Each cell is written as it is stored,
// not as Excel displays it: a number as its full digits ("1234.5", where
// the sheet shows "$1,234.50"), a bool as true or false, text as it is,
// a formula as the value last computed. A date is a number of days in a
// workbook (since 1899-12-30, or 1904-01-01 in a 1904 workbook): the
// numbers of a column whose first number below the first row is
// formatted as a date or time are written as ISO 8601 (2024-03-31, or
// 2024-03-31T08:30:00 with a time of day), so that the column reads as
// timestamps; a number in the first row, which may be a header, only if
// its own cell is so formatted. The formats are read from the
// worksheet's XML (xlsxcells.go).

// FormatXLSX is an Excel workbook (.xlsx, .xlsm).
const FormatXLSX = "xlsx"

// An Excel 97-2003 workbook (.xls) is an OLE2 compound file, which
// excelize does not read.
const (
	oleMagic = "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
	oldExcel = "an Excel 97-2003 workbook (.xls), which mlpipe does not read: save it from Excel as .xlsx (or as CSV)"
)

// Workbook says whether src is read as Excel workbooks: its format says
// so, or with format "auto" its path ends in .xlsx or .xlsm.
func Workbook(src Source) bool {
	if src.Format == "" || src.Format == "auto" {
		f, _ := formatOf(src.Path)
		return f == FormatXLSX
	}
	return src.Format == FormatXLSX
}

// xlsxText returns the rows of the worksheet named sheet (the
// workbook's first visible one when "") of the workbook in data as CSV
// text.
func xlsxText(path string, data []byte, sheet string) ([]byte, error) {
	ws, err := openSheet(path, data, sheet)
	if err != nil {
		return nil, err
	}
	defer ws.close()
	var buf bytes.Buffer
	if err := ws.write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// xlsxReader is xlsxText as a stream: the rows are written as they are
// read from the worksheet, on a goroutine, and a reader that stops early
// (a header, a sample of rows) stops the work. done closes it.
func xlsxReader(path string, data []byte, sheet string) (r io.Reader, done func(), err error) {
	ws, err := openSheet(path, data, sheet)
	if err != nil {
		return nil, nil, err
	}
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(ws.write(pw)) // nil: io.EOF for the reader
		ws.close()
	}()
	return pr, func() { pr.Close() }, nil
}

// sheetCSV is a worksheet to write as CSV text, with what its rows'
// writing needs decided first: openSheet fails for a workbook or a
// worksheet that cannot be read before any row is written.
type sheetCSV struct {
	path, name string
	f          *excelize.File
	date1904   bool
	// A column's numbers are dates, its 0s and 1s FALSE and TRUE, as its
	// first such cell says; the first row, which may be a header, goes
	// by its own cell alone.
	isDate, isBool, firstRowDate map[int]bool
}

func openSheet(path string, data []byte, sheet string) (*sheetCSV, error) {
	f, err := openWorkbook(path, data)
	if err != nil {
		return nil, err
	}
	ws := &sheetCSV{path: path, f: f, isDate: map[int]bool{}, isBool: map[int]bool{}, firstRowDate: map[int]bool{}}
	fail := func(err error) (*sheetCSV, error) {
		f.Close()
		return nil, err
	}
	if ws.name, _, err = whichSheet(path, f, sheet); err != nil {
		return fail(err)
	}
	props, err := f.GetWorkbookProps()
	if err != nil {
		return fail(invalid(CodeRead, path, "", "cannot read the workbook's properties: %v", err))
	}
	ws.date1904 = props.Date1904 != nil && *props.Date1904
	kinds, err := firstCells(data, ws.name)
	if err != nil {
		return fail(invalid(CodeRead, path, "", "cannot read worksheet %q: %v", ws.name, err))
	}
	for j, k := range kinds {
		ws.isBool[j] = k[0].bool
		if k[0].row == 1 {
			ws.firstRowDate[j] = !k[0].bool && dateStyle(f, k[0].style)
			if k = k[1:]; len(k) == 0 {
				continue
			}
		}
		ws.isDate[j] = !k[0].bool && dateStyle(f, k[0].style)
	}
	return ws, nil
}

func (ws *sheetCSV) close() { ws.f.Close() }

// write writes the worksheet's rows to out as CSV text.
func (ws *sheetCSV) write(out io.Writer) error {
	path, sheet := ws.path, ws.name
	rows, err := ws.f.Rows(sheet)
	if err != nil {
		return invalid(CodeRead, path, "", "cannot read worksheet %q: %v", sheet, err)
	}
	defer rows.Close()
	w := csv.NewWriter(out)
	width := 0 // the fields of the widest row so far
	r := 0
	for ; rows.Next(); r++ {
		cells, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return invalid(CodeRead, path, "", "worksheet %q, row %d: %v", sheet, r+1, err)
		}
		if !slices.ContainsFunc(cells, func(v string) bool { return v != "" }) {
			// An empty row (or one only formatted, as Excel keeps many
			// below the data) is an empty line, which CSV skips.
			w.Flush()
			if _, err := out.Write([]byte{'\n'}); err != nil {
				return err
			}
			continue
		}
		width = max(width, len(cells))
		for len(cells) < width { // a row's empty cells at the end are not stored
			cells = append(cells, "")
		}
		for j, v := range cells {
			if ws.isBool[j] && (v == "0" || v == "1") {
				cells[j] = strconv.FormatBool(v == "1")
				continue
			}
			date := ws.isDate[j]
			if r == 0 {
				date = ws.firstRowDate[j]
			}
			if n, err := strconv.ParseFloat(v, 64); err == nil && date {
				cells[j] = excelTime(n, ws.date1904)
			}
		}
		if err := w.Write(cells); err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
	}
	if err := rows.Error(); err != nil {
		return invalid(CodeRead, path, "", "worksheet %q: %v", sheet, err)
	}
	w.Flush()
	if width == 0 {
		return invalid(CodeEmpty, path, "", "worksheet %q is empty: it needs a row naming the columns (or data.header: false and rows)", sheet)
	}
	return w.Error()
}

// whichSheet returns the worksheet of f to read, sheet or (when "") the
// first visible one, and the names of all of f's worksheets.
func whichSheet(path string, f *excelize.File, sheet string) (string, []string, error) {
	sheets := f.GetSheetList()
	switch {
	case len(sheets) == 0:
		return "", nil, invalid(CodeEmpty, path, "", "the workbook has no worksheet")
	case sheet == "":
		return firstVisible(f, sheets), sheets, nil
	case !slices.Contains(sheets, sheet):
		return "", nil, invalid(CodeRead, path, "", "no worksheet %q; the workbook has %s", sheet, strings.Join(quoteEach(sheets), ", "))
	}
	return sheet, sheets, nil
}

// workbookSheets is whichSheet of the workbook at path.
func workbookSheets(path, sheet string) (string, []string, error) {
	data, err := readRegular(path)
	if err != nil {
		return "", nil, err
	}
	f, err := openWorkbook(path, data)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	return whichSheet(path, f, sheet)
}

// readRegular returns the bytes of the regular file at path.
func readRegular(path string) ([]byte, error) {
	f, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return data, nil
}

// openWorkbook opens the workbook in data, read from path.
func openWorkbook(path string, data []byte) (*excelize.File, error) {
	if bytes.HasPrefix(data, []byte(oleMagic)) {
		return nil, invalid(CodeRead, path, "", "%s", oldExcel)
	}
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		return nil, invalid(CodeRead, path, "", "not a readable Excel workbook (.xlsx): %v", err)
	}
	return f, nil
}

// firstVisible is the first of sheets that is not hidden (the first of
// all if every one is).
func firstVisible(f *excelize.File, sheets []string) string {
	for _, s := range sheets {
		if visible, err := f.GetSheetVisible(s); err == nil && visible {
			return s
		}
	}
	return sheets[0]
}

// dateStyle says whether cell style id formats numbers as dates or
// times.
func dateStyle(f *excelize.File, id int) bool {
	if id == 0 {
		return false
	}
	style, err := f.GetStyle(id)
	if err != nil || style == nil {
		return false
	}
	if style.CustomNumFmt != nil {
		return dateFormat(*style.CustomNumFmt)
	}
	n := style.NumFmt
	// The built-in formats of dates and times (ECMA-376, 18.8.30): 14-22,
	// and 27-36, 45-47, 50-58 in East Asian locales.
	return n >= 14 && n <= 22 || n >= 27 && n <= 36 || n >= 45 && n <= 47 || n >= 50 && n <= 58
}

// dateFormat says whether a number format code shows a date or a time:
// whether, once its quoted text, escaped characters and bracketed parts
// ([Red], [$-409]; but [h], [mm], [ss], elapsed time, count) are taken
// out, it has one of the letters of a date or time: y m d h s (as
// openpyxl decides it).
func dateFormat(code string) bool {
	code = strings.SplitN(code, ";", 2)[0] // the section of positive numbers
	var b strings.Builder
	for i := 0; i < len(code); i++ {
		switch c := code[i]; c {
		case '"':
			if k := strings.IndexByte(code[i+1:], '"'); k >= 0 {
				i += k + 1
			} else {
				i = len(code)
			}
		case '\\', '_', '*':
			i++ // the next character is literal (or padding)
		case '[':
			k := strings.IndexByte(code[i:], ']')
			if k < 0 {
				i = len(code)
				break
			}
			inner := strings.ToLower(code[i+1 : i+k])
			if strings.Trim(inner, "hms") == "" {
				b.WriteString(inner) // elapsed time
			}
			i += k
		default:
			b.WriteByte(c)
		}
	}
	return strings.ContainsAny(strings.ToLower(b.String()), "ymdhs")
}

// excelTime writes a workbook's serial date as ISO 8601: the date alone
// at midnight, else with the time to the millisecond.
func excelTime(serial float64, date1904 bool) string {
	t, err := excelize.ExcelDateToTime(serial, date1904)
	if err != nil {
		return strconv.FormatFloat(serial, 'g', -1, 64) // not a date: left as the number
	}
	t = t.Round(time.Millisecond)
	switch {
	case t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0:
		return t.Format(time.DateOnly)
	case t.Nanosecond() == 0:
		return t.Format("2006-01-02T15:04:05")
	}
	return t.Format("2006-01-02T15:04:05.000")
}

// quoteEach returns each of names quoted.
func quoteEach(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strconv.Quote(n)
	}
	return out
}
