package ingest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mlpipe/mlpipe/ingest"
)

// TestColumns: the columns of each kind of file, read from its first
// lines (or its schema), and the errors of files that have none.
func TestColumns(t *testing.T) {
	weather := "date,precipitation,temp_max,temp_min,wind,weather"
	noHeader := false
	cases := []struct {
		name  string
		src   ingest.Source
		want  string // names, comma-separated; or the error
		delim byte
	}{
		{"csv", ingest.Source{Path: "../testdata/ingest/weather.csv"}, weather, ','},
		{"gzip", ingest.Source{Path: "../testdata/ingest/weather.csv.gz"}, weather, ','},
		{"gzip named csv", ingest.Source{Path: "../testdata/ingest/weather-gzipped.csv"}, weather, ','},
		{"semicolon guessed", ingest.Source{Path: "../testdata/ingest/weather-semicolon.csv"}, weather, ';'},
		{"tsv", ingest.Source{Path: "../testdata/ingest/weather.tsv"}, weather, '\t'},
		{"counts line skipped", ingest.Source{Path: "../testdata/ingest/weather-noheader.csv", SkipRows: 1, Header: &noHeader}, "column_1,column_2,column_3,column_4,column_5,column_6", ','},
		{"jsonl", ingest.Source{Path: "../testdata/ingest/weather.jsonl"}, weather, 0},
		{"json.gz", ingest.Source{Path: "../testdata/ingest/weather.json.gz"}, weather, 0},
		{"zstd", ingest.Source{Path: "../testdata/ingest/weather.jsonl.zst"}, weather, 0},
		{"xlsx", ingest.Source{Path: "../testdata/ingest/weather.xlsx"}, weather, ','},
		{"xlsx sheet", ingest.Source{Path: "../testdata/ingest/weather.xlsx", Sheet: "notes"}, "note", ','},
		{"xlsx no sheet", ingest.Source{Path: "../testdata/ingest/weather.xlsx", Sheet: "Sheet1"}, `error: no worksheet "Sheet1"; the workbook has "weather", "notes"`, 0},
		{"xlsx named csv", ingest.Source{Path: "../testdata/ingest/weather.xlsx", Format: "csv"}, "error: an Excel workbook is one (name it .xlsx or set data.format: xlsx)", 0},
		{"not a workbook", ingest.Source{Path: "../testdata/ingest/weather.csv", Format: "xlsx"}, "error: not a readable Excel workbook (.xlsx)", 0},
		{"xls", ingest.Source{Path: "../testdata/ingest/bad/excel97.xls"}, "error: an Excel 97-2003 workbook (.xls), which mlpipe does not read: save it from Excel as .xlsx", 0},
		{"xls named xlsx", ingest.Source{Path: "../testdata/ingest/bad/excel97.xlsx"}, "error: an Excel 97-2003 workbook (.xls), which mlpipe does not read", 0},
		{"parquet", ingest.Source{Path: "../testdata/flights-10k.parquet"}, "date,delay,distance,origin,destination", 0},
		{"arrow stream", ingest.Source{Path: "../testdata/flights-10k.arrows"}, "date,delay,distance,origin,destination", 0},
		{"object, not array", ingest.Source{Path: "../testdata/ingest/bad/object.json"}, "error: a JSON file must hold one array of objects", 0},
		{"utf-16", ingest.Source{Path: "../testdata/ingest/bad/utf16.csv"}, "error: the file is UTF-16 text", 0},
		{"xz", ingest.Source{Path: "../testdata/ingest/bad/xz.csv"}, "error: the file is xz-compressed", 0},
		{"no file", ingest.Source{Path: "../testdata/ingest/none.csv"}, "error: resolve ../testdata/ingest/none.csv: no input files: no such file or directory", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l, err := ingest.Columns(context.Background(), c.src)
			if strings.HasPrefix(c.want, "error: ") {
				if err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(c.want, "error: ")) {
					t.Fatalf("got %v, want an error with %q", err, strings.TrimPrefix(c.want, "error: "))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, f := range l.Columns {
				names = append(names, f.Name)
			}
			if got := strings.Join(names, ","); got != c.want {
				t.Errorf("columns %s, want %s", got, c.want)
			}
			if l.Delimiter != c.delim {
				t.Errorf("delimiter %q, want %q", l.Delimiter, c.delim)
			}
			if l.Format == ingest.FormatXLSX {
				want := c.src.Sheet
				if want == "" {
					want = "weather" // the first (visible) worksheet
				}
				if l.Sheet != want || strings.Join(l.Sheets, ",") != "weather,notes" {
					t.Errorf("sheet %q of %v, want %q of [weather notes]", l.Sheet, l.Sheets, want)
				}
			}
		})
	}
}
