package ingest

import (
	"context"
	"testing"
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
