package ingest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// TestXLSXScan: a worksheet scanned a chunk at a time gives Load's rows
// of the same rows as CSV (scripts/fixtures/weather_xlsx.py wrote
// weather.xlsx from weather.csv), with each row's line its sheet row.
func TestXLSXScan(t *testing.T) {
	schema := Schema{Columns: []ColumnSpec{
		{Name: "date", Type: "timestamp[us]"}, {Name: "precipitation", Type: "float64"},
		{Name: "temp_max", Type: "float64"}, {Name: "temp_min", Type: "float64"},
		{Name: "wind", Type: "float64"}, {Name: "weather", Type: "string"},
	}}
	ctx := context.Background()
	ds, err := Load(ctx, Source{Path: "../testdata/ingest/weather.csv"}, schema, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Release()
	want, _ := Fingerprint(ctx, ds.Table)
	tbl, chunks, err := scanAll(t, Source{Path: "../testdata/ingest/weather.xlsx"}, schema)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := Fingerprint(ctx, tbl); got != want || tbl.NumRows() != 10 {
		t.Fatalf("scan: %d rows, fingerprint %s; weather.csv: 10 rows, %s", tbl.NumRows(), got, want)
	}
	if c := chunks[0]; c.Format != FormatXLSX || len(c.Lines) == 0 || c.Lines[0] != 2 {
		t.Errorf("first chunk: format %s, lines %v; want xlsx from line (sheet row) 2", c.Format, c.Lines)
	}
}

// TestDateFormat: which number formats show a date or a time (the cases
// of openpyxl's is_date_format, and formats with text or colours).
func TestDateFormat(t *testing.T) {
	for code, want := range map[string]bool{
		"m/d/yy": true, "yyyy-mm-dd": true, "dd/mm/yyyy hh:mm": true, "[h]:mm:ss": true, "mm:ss.0": true,
		`[$-409]mmmm d, yyyy;@`: true, `[Red]d-mmm`: true,
		"General": false, "0.00": false, "#,##0": false, "0%": false, "0.00E+00": false, "@": false,
		`0.0 "°C"`: false, `"Day "0`: false, `[Red]0.00;[Blue]-0.00`: false, `0.00\m`: false, `_(* #,##0_)`: false,
	} {
		if got := dateFormat(code); got != want {
			t.Errorf("dateFormat(%q) = %v, want %v", code, got, want)
		}
	}
}

// TestExcelTime: serial dates in the 1900 and 1904 systems, with and
// without a time of day (Excel's own values: 45000 is 2023-03-15).
func TestExcelTime(t *testing.T) {
	for _, tc := range []struct {
		serial   float64
		date1904 bool
		want     string
	}{
		{45000, false, "2023-03-15"},
		{45000.5, false, "2023-03-15T12:00:00"},
		{45000.354166666664, false, "2023-03-15T08:30:00"}, // 08:30 as Excel stores it
		{43538, true, "2023-03-15"},                        // 1,462 days less in a 1904 workbook
		{1.5, false, "1900-01-01T12:00:00"},
	} {
		if got := excelTime(tc.serial, tc.date1904); got != tc.want {
			t.Errorf("excelTime(%v, %v) = %s, want %s", tc.serial, tc.date1904, got, tc.want)
		}
	}
}

// TestXLSXEdges: workbooks as people leave them, made with excelize: an
// empty worksheet, a blank row inside the data and formatted empty rows
// below it, TRUE and FALSE cells, and a hidden first worksheet.
func TestXLSXEdges(t *testing.T) {
	ctx := context.Background()
	// write saves a workbook with rows in sheet "Sheet1" (cell by cell,
	// nil left empty), after edit.
	write := func(t *testing.T, rows [][]any, edit func(*excelize.File)) string {
		t.Helper()
		f := excelize.NewFile()
		defer f.Close()
		for r, row := range rows {
			for j, v := range row {
				if v == nil {
					continue
				}
				cell, _ := excelize.CoordinatesToCellName(j+1, r+1)
				if err := f.SetCellValue("Sheet1", cell, v); err != nil {
					t.Fatal(err)
				}
			}
		}
		if edit != nil {
			edit(f)
		}
		path := filepath.Join(t.TempDir(), "book.xlsx")
		if err := f.SaveAs(path); err != nil {
			t.Fatal(err)
		}
		return path
	}
	schema := Schema{Columns: []ColumnSpec{{Name: "n", Type: "int64"}, {Name: "ok", Type: "bool"}}}
	t.Run("empty", func(t *testing.T) {
		_, err := Load(ctx, Source{Path: write(t, nil, nil)}, schema, nil)
		if err == nil || !strings.Contains(err.Error(), `worksheet "Sheet1" is empty`) {
			t.Errorf("err = %v, want the empty worksheet named", err)
		}
	})
	t.Run("blank and formatted rows", func(t *testing.T) {
		path := write(t, [][]any{{"n", "ok"}, {1, true}, {nil, nil}, {2, false}}, func(f *excelize.File) {
			style, err := f.NewStyle(&excelize.Style{Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"FFFF00"}}})
			if err != nil {
				t.Fatal(err)
			}
			if err := f.SetRowStyle("Sheet1", 6, 40, style); err != nil { // yellow, and empty
				t.Fatal(err)
			}
		})
		ds, err := Load(ctx, Source{Path: path}, schema, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ds.Release()
		if got := tableText(ds); got != "1 true; 2 false" {
			t.Errorf("rows %q, want 1 true; 2 false (the blank and formatted rows skipped, TRUE and FALSE read as bools)", got)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		text, err := xlsxText(path, data, "")
		if err != nil {
			t.Fatal(err)
		}
		if want := "n,ok\n1,true\n\n2,false\n"; !strings.HasPrefix(string(text), want) || strings.Trim(string(text[len(want):]), "\n") != "" {
			t.Errorf("CSV text %q, want %q and empty lines", text, want)
		}
		bad := write(t, [][]any{{"n", "ok"}, {1, true}, {nil, nil}, {"x", false}}, nil)
		_, err = Load(ctx, Source{Path: bad}, schema, nil)
		if err == nil || !strings.Contains(err.Error(), `line 4, column "n"`) {
			t.Errorf("err = %v, want sheet row 4 named", err)
		}
	})
	t.Run("number in the header", func(t *testing.T) {
		// A header cell that is a number (a year) does not make its
		// column's dates plain numbers.
		path := write(t, [][]any{{2024, "ok"}, {time.Date(2021, 3, 4, 8, 30, 0, 0, time.UTC), true}}, nil)
		schema := Schema{Columns: []ColumnSpec{{Name: "2024", Type: "timestamp[us]"}, {Name: "ok", Type: "bool"}}}
		ds, err := Load(ctx, Source{Path: path}, schema, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ds.Release()
		if got := tableText(ds); got != "2021-03-04 08:30:00Z true" {
			t.Errorf("rows %q, want the date of 2021-03-04 08:30 and true", got)
		}
	})
	t.Run("hidden first sheet", func(t *testing.T) {
		path := write(t, [][]any{{"secret"}}, func(f *excelize.File) {
			if _, err := f.NewSheet("data"); err != nil {
				t.Fatal(err)
			}
			for j, v := range []any{"n", "ok", 7, true} {
				cell, _ := excelize.CoordinatesToCellName(j%2+1, j/2+1)
				if err := f.SetCellValue("data", cell, v); err != nil {
					t.Fatal(err)
				}
			}
			f.SetActiveSheet(1)
			if err := f.SetSheetVisible("Sheet1", false); err != nil {
				t.Fatal(err)
			}
		})
		ds, err := Load(ctx, Source{Path: path}, schema, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ds.Release()
		if got := tableText(ds); got != "7 true" {
			t.Errorf("rows %q, want sheet data's 7 true", got)
		}
	})
}

// tableText writes the rows of a dataset's table as "v v; v v".
func tableText(ds *Dataset) string {
	rows := make([][]string, ds.Table.NumRows())
	for j := range int(ds.Table.NumCols()) {
		i := 0
		for _, c := range ds.Table.Column(j).Data().Chunks() {
			for k := range c.Len() {
				rows[i] = append(rows[i], c.ValueStr(k))
				i++
			}
		}
	}
	var out []string
	for _, r := range rows {
		out = append(out, strings.Join(r, " "))
	}
	return strings.Join(out, "; ")
}
