package ingest_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/ipc"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/mlpipe/mlpipe/ingest"
)

// weatherSchema is the contract of the testdata/ingest/weather* fixtures:
// the first ten days of vega-datasets' seattle-weather.csv.
var weatherSchema = ingest.Schema{Columns: []ingest.ColumnSpec{
	{Name: "date", Type: "timestamp[us]"},
	{Name: "precipitation", Type: "float64"},
	{Name: "temp_max", Type: "float64"},
	{Name: "temp_min", Type: "float64"},
	{Name: "wind", Type: "float64"},
	{Name: "weather", Type: "string"},
}}

func loadSource(t testing.TB, src ingest.Source, schema ingest.Schema) (*ingest.Dataset, error) {
	t.Helper()
	ds, err := ingest.Load(context.Background(), src, schema, &ingest.Options{Parallelism: 2})
	if err == nil {
		t.Cleanup(ds.Release)
	}
	return ds, err
}

// TestLoadTextFormats reads the same ten rows from every text format,
// delimiter and compression, and checks that each gives the table of the
// plain CSV (the same fingerprint, which hashes every value).
func TestLoadTextFormats(t *testing.T) {
	const dir = "../testdata/ingest/"
	ref, err := loadSource(t, ingest.Source{Path: dir + "weather.csv"}, weatherSchema)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ingest.Fingerprint(context.Background(), ref.Table)
	if err != nil {
		t.Fatal(err)
	}
	no := false
	for _, tc := range []struct {
		name   string
		src    ingest.Source
		format string // the part's format
	}{
		{"tsv", ingest.Source{Path: dir + "weather.tsv"}, ingest.FormatTSV},
		{"delimiter", ingest.Source{Path: dir + "weather-semicolon.csv", Delimiter: ";"}, ingest.FormatCSV},
		{"no header, skip rows", ingest.Source{Path: dir + "weather-noheader.csv", Header: &no, SkipRows: 1}, ingest.FormatCSV},
		{"csv gzip", ingest.Source{Path: dir + "weather.csv.gz"}, ingest.FormatCSV},
		{"gzip named csv", ingest.Source{Path: dir + "weather-gzipped.csv"}, ingest.FormatCSV},
		{"jsonl", ingest.Source{Path: dir + "weather.jsonl"}, ingest.FormatJSONL},
		{"jsonl zstd", ingest.Source{Path: dir + "weather.jsonl.zst"}, ingest.FormatJSONL},
		{"json array", ingest.Source{Path: dir + "weather.json"}, ingest.FormatJSON},
		{"json array gzip", ingest.Source{Path: dir + "weather.json.gz"}, ingest.FormatJSON},
		{"json named", ingest.Source{Path: dir + "weather.json", Format: "json"}, ingest.FormatJSON},
		// An Excel workbook (scripts/fixtures/weather_xlsx.py): dates as
		// Excel dates shown m/d/yy, numbers with display formats.
		{"xlsx", ingest.Source{Path: dir + "weather.xlsx"}, ingest.FormatXLSX},
		{"xlsx sheet", ingest.Source{Path: dir + "weather.xlsx", Sheet: "weather"}, ingest.FormatXLSX},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds, err := loadSource(t, tc.src, weatherSchema)
			if err != nil {
				t.Fatal(err)
			}
			if ds.Table.NumRows() != 10 || ds.Parts[0].Format != tc.format {
				t.Errorf("%d rows as %s, want 10 as %s", ds.Table.NumRows(), ds.Parts[0].Format, tc.format)
			}
			got, err := ingest.Fingerprint(context.Background(), ds.Table)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("fingerprint %s, want %s (weather.csv's)", got, want)
			}
		})
	}
}

// TestLoadBadText: every bad text file gets one error that says what is
// wrong, where, and what to do.
func TestLoadBadText(t *testing.T) {
	const dir = "../testdata/ingest/bad/"
	tmp := t.TempDir()
	fifo := filepath.Join(tmp, "pipe.csv")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	no := false
	for _, tc := range []struct {
		name string
		src  ingest.Source
		want string // the whole error
	}{
		{"fifo", ingest.Source{Path: fifo},
			"load: invalid data: " + fifo + ": a named pipe (FIFO), not a regular file: mlpipe reads files whole and in parallel, so save the data to a file first"},
		{"device", ingest.Source{Path: "/dev/null", Format: "csv"},
			"load: invalid data: /dev/null: a device, not a regular file: mlpipe reads files whole and in parallel, so save the data to a file first"},
		{"cr only", ingest.Source{Path: dir + "cr-only.csv"},
			"load: invalid data: " + dir + "cr-only.csv: line 1: the lines end with CR alone (classic Mac OS line endings; about 12 lines), so the file reads as one line: convert them to LF, e.g. tr '\\r' '\\n' < in > out"},
		{"latin-1", ingest.Source{Path: dir + "latin1.csv"},
			"load: invalid data: " + dir + "latin1.csv: line 4: byte 0xE9 is not UTF-8: the file is probably Latin-1 or Windows-1252; convert it, e.g. iconv -f WINDOWS-1252 -t UTF-8"},
		{"nul", ingest.Source{Path: dir + "nul.csv"},
			"load: invalid data: " + dir + "nul.csv: line 3: a NUL byte: the file is binary, or text in UTF-16 or UTF-32; mlpipe reads UTF-8 text"},
		{"utf-16", ingest.Source{Path: dir + "utf16.csv"},
			"load: invalid data: " + dir + "utf16.csv: the file is UTF-16 text (it starts with a UTF-16 byte order mark); mlpipe reads UTF-8: convert it, e.g. iconv -f UTF-16 -t UTF-8"},
		{"xz", ingest.Source{Path: dir + "xz.csv"},
			"load: invalid data: " + dir + "xz.csv: the file is xz-compressed, which mlpipe does not read: decompress it, or recompress it with gzip or zstd"},
		{"truncated gzip", ingest.Source{Path: dir + "truncated.csv.gz"},
			"load: invalid data: " + dir + "truncated.csv.gz: the gzip data is corrupt or truncated: unexpected EOF"},
		{"truncated zstd", ingest.Source{Path: dir + "truncated.jsonl.zst"},
			"load: invalid data: " + dir + "truncated.jsonl.zst: the zstd data is corrupt or truncated: unexpected EOF"},
		{"ragged tsv", ingest.Source{Path: dir + "ragged.tsv"},
			"load: invalid data: " + dir + "ragged.tsv: line 4: the row has 5 fields, the header has 6"},
		{"parquet named csv", ingest.Source{Path: "../testdata/flights-10k.parquet", Format: "csv"},
			"load: invalid data: ../testdata/flights-10k.parquet: the file is Parquet, not csv: name it .parquet or set data.format: parquet"},
		{"json object", ingest.Source{Path: dir + "object.json"},
			"load: invalid data: " + dir + "object.json: line 1: a JSON file must hold one array of objects, one per row ([{...}, {...}]); this one holds an object; for one object per line, name the file .jsonl or set data.format: jsonl"},
		{"json syntax", ingest.Source{Path: dir + "bad-array.json"},
			"load: invalid data: " + dir + "bad-array.json: line 6: invalid JSON: unexpected '{', want a member name"},
		{"json wrong type", ingest.Source{Path: dir + "wrongtype.json"},
			"load: invalid data: " + dir + "wrongtype.json: line 7, column \"temp_max\": \"warm\" is a string, not float64"},
		{"date format", ingest.Source{Path: dir + "other-date.csv"},
			"load: invalid data: " + dir + "other-date.csv: line 9, column \"date\": \"Jan 8 2012\" is not an ISO 8601 timestamp (2001-06-15T08:30:00; set the column's format for others)"},
		{"no header, wrong field count", ingest.Source{Path: "../testdata/ingest/weather.csv", Header: &no, SkipRows: 1, Delimiter: ";"},
			"load: invalid data: ../testdata/ingest/weather.csv: line 2: the row has 1 fields, the schema has 6 columns (with header: false, the fields are the schema's columns in order); " +
				"../testdata/ingest/weather.csv: line 3: the row has 1 fields, the schema has 6 columns (with header: false, the fields are the schema's columns in order); " +
				"../testdata/ingest/weather.csv: line 4: the row has 1 fields, the schema has 6 columns (with header: false, the fields are the schema's columns in order); " +
				"../testdata/ingest/weather.csv: line 5: the row has 1 fields, the schema has 6 columns (with header: false, the fields are the schema's columns in order); " +
				"../testdata/ingest/weather.csv: line 6: the row has 1 fields, the schema has 6 columns (with header: false, the fields are the schema's columns in order); and 5 more"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() { _, err := loadSource(t, tc.src, weatherSchema); done <- err }()
			var err error
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Load blocked for 10 s")
			}
			if !errors.Is(err, ingest.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if err.Error() != tc.want {
				t.Errorf("error\n  %v\nwant\n  %s", err, tc.want)
			}
		})
	}
}

// TestTimeFormats reads times.csv, whose columns write the same kinds of
// instant in every supported way, with and without a column time zone.
func TestTimeFormats(t *testing.T) {
	ts := func(name, format, zone string) ingest.ColumnSpec {
		return ingest.ColumnSpec{Name: name, Type: "timestamp[ms]", Format: format, Timezone: zone}
	}
	d := func(y int, m time.Month, day, h, mi, s, ms int) time.Time {
		return time.Date(y, m, day, h, mi, s, ms*1e6, time.UTC)
	}
	for _, tc := range []struct {
		col  ingest.ColumnSpec
		want [3]time.Time // wall-clock values of rows 1-3
	}{
		{ts("iso", "", ""), [3]time.Time{d(2001, 6, 15, 8, 30, 0, 0), d(2001, 6, 15, 8, 30, 0, 250), d(2001, 12, 31, 23, 59, 59, 0)}},
		// No zone: the wall clock as written, the offset dropped.
		{ts("zoned", "", ""), [3]time.Time{d(2001, 6, 15, 8, 30, 0, 0), d(2001, 6, 15, 10, 30, 0, 0), d(2001, 12, 31, 18, 59, 59, 0)}},
		// A zone: instants converted to it (Paris is UTC+2 in June, +1 in December).
		{ts("zoned", "", "Europe/Paris"), [3]time.Time{d(2001, 6, 15, 10, 30, 0, 0), d(2001, 6, 15, 10, 30, 0, 0), d(2002, 1, 1, 0, 59, 59, 0)}},
		{ts("zoned", "", "UTC"), [3]time.Time{d(2001, 6, 15, 8, 30, 0, 0), d(2001, 6, 15, 8, 30, 0, 0), d(2001, 12, 31, 23, 59, 59, 0)}},
		// A naive value in a zoned column is taken as already in the zone.
		{ts("iso", "", "Europe/Paris"), [3]time.Time{d(2001, 6, 15, 8, 30, 0, 0), d(2001, 6, 15, 8, 30, 0, 250), d(2001, 12, 31, 23, 59, 59, 0)}},
		{ts("date_only", "%Y-%m-%d", ""), [3]time.Time{d(2001, 6, 15, 0, 0, 0, 0), d(2001, 6, 15, 0, 0, 0, 0), d(2001, 12, 31, 0, 0, 0, 0)}},
		{ts("text", "%b %d %Y %H:%M", ""), [3]time.Time{d(2001, 6, 15, 8, 30, 0, 0), d(2001, 6, 1, 8, 5, 0, 0), d(2001, 12, 31, 23, 59, 0, 0)}},
		{ts("epoch_s", ingest.EpochSeconds, ""), [3]time.Time{d(2001, 6, 15, 8, 30, 0, 0), d(2001, 6, 15, 8, 30, 0, 250), d(2001, 12, 31, 23, 59, 59, 0)}},
		{ts("epoch_s", ingest.EpochSeconds, "America/New_York"), [3]time.Time{d(2001, 6, 15, 4, 30, 0, 0), d(2001, 6, 15, 4, 30, 0, 250), d(2001, 12, 31, 18, 59, 59, 0)}},
		{ts("epoch_ms", ingest.EpochMilliseconds, ""), [3]time.Time{d(2001, 6, 15, 8, 30, 0, 0), d(2001, 6, 15, 8, 30, 0, 250), d(2001, 12, 31, 23, 59, 59, 0)}},
	} {
		t.Run(tc.col.Name+"/"+tc.col.Format+"/"+tc.col.Timezone, func(t *testing.T) {
			schema := ingest.Schema{AllowExtra: true, Columns: []ingest.ColumnSpec{tc.col}}
			ds, err := loadSource(t, ingest.Source{Path: "../testdata/ingest/times.csv"}, schema)
			if err != nil {
				t.Fatal(err)
			}
			var got []time.Time
			for _, ch := range ds.Table.Column(0).Data().Chunks() {
				for _, v := range ch.(*array.Timestamp).TimestampValues() {
					got = append(got, time.UnixMilli(int64(v)).UTC())
				}
			}
			if len(got) != 3 {
				t.Fatalf("%d rows, want 3", len(got))
			}
			for i := range got {
				if !got[i].Equal(tc.want[i]) {
					t.Errorf("row %d = %s, want %s", i+1, got[i], tc.want[i])
				}
			}
		})
	}
}

// TestTimeFormatErrors: bad formats and zones are refused before any data
// is read, and a value that does not fit the format names its line.
func TestTimeFormatErrors(t *testing.T) {
	for _, tc := range []struct {
		format, zone, want string
	}{
		{"%Y-%q", "", `format "%Y-%q": unknown directive %q (known: %Y %y %m %d %e %j %b %B %a %A %H %I %M %S %f %p %z %Z %F %T %R %D %%)`},
		{"%Y 1st", "", `format "%Y 1st": the literal text " 1st" holds a digit, which a layout cannot say`},
		{"%H:%M.%f", "", `format "%H:%M.%f": %f must follow %S and a dot or comma`},
		{"%Y%", "", `format "%Y%" ends with a lone %`},
		{"", "Mars/Olympus", `time zone "Mars/Olympus": unknown time zone Mars/Olympus`},
	} {
		if err := ingest.CheckTimeFormat(tc.format, tc.zone); err == nil || err.Error() != tc.want {
			t.Errorf("CheckTimeFormat(%q, %q) = %v, want %s", tc.format, tc.zone, err, tc.want)
		}
	}
	schema := ingest.Schema{AllowExtra: true, Columns: []ingest.ColumnSpec{{Name: "text", Type: "timestamp[us]", Format: "%Y-%m-%d"}}}
	_, err := loadSource(t, ingest.Source{Path: "../testdata/ingest/times.csv"}, schema)
	want := `load: invalid data: ../testdata/ingest/times.csv: line 2, column "text": "Jun 15 2001 08:30" is not a timestamp in the format "%Y-%m-%d"; ` +
		`../testdata/ingest/times.csv: line 3, column "text": "Jun  1 2001 8:05" is not a timestamp in the format "%Y-%m-%d"; ` +
		`../testdata/ingest/times.csv: line 4, column "text": "Dec 31 2001 23:59" is not a timestamp in the format "%Y-%m-%d"`
	if err == nil || err.Error() != want {
		t.Errorf("error\n  %v\nwant\n  %s", err, want)
	}
	// The first bad value of a column read with each kind of format.
	for _, tc := range []struct{ col, format, want string }{
		{"iso", ingest.EpochSeconds, `line 2, column "iso": "2001-06-15T08:30:00" is not seconds since 1970-01-01 (epoch_s)`},
		{"text", ingest.EpochMilliseconds, `line 2, column "text": "Jun 15 2001 08:30" is not milliseconds since 1970-01-01 (epoch_ms)`},
		{"epoch_ms", "%Y-%m-%d", `line 2, column "epoch_ms": "992593800000" is not a timestamp in the format "%Y-%m-%d"`},
		{"date_only", "", `line 3, column "date_only": "2001-6-15" is not an ISO 8601 timestamp (2001-06-15T08:30:00; set the column's format for others)`},
	} {
		schema := ingest.Schema{AllowExtra: true, Columns: []ingest.ColumnSpec{{Name: tc.col, Type: "timestamp[us]", Format: tc.format}}}
		_, err := loadSource(t, ingest.Source{Path: "../testdata/ingest/times.csv"}, schema)
		if is := ingest.Issues(err); len(is) == 0 || is[0].String() != "../testdata/ingest/times.csv: "+tc.want {
			t.Errorf("%s as %q: error %v\nwant it to start\n  %s", tc.col, tc.format, err, tc.want)
		}
	}
	schema.Columns[0] = ingest.ColumnSpec{Name: "epoch_s", Type: "timestamp[us]"}
	_, err = loadSource(t, ingest.Source{Path: "../testdata/ingest/films.json"}, ingest.Schema{Columns: []ingest.ColumnSpec{
		{Name: "Title", Type: "string"}, {Name: "Release Date", Type: "timestamp[us]"},
		{Name: "Production Budget", Type: "timestamp[us]"}, {Name: "IMDB Rating", Type: "float64", Nullable: true}}})
	want = `load: invalid data: ../testdata/ingest/films.json: line 2, column "Release Date": "Jun 12 1998" is not an ISO 8601 timestamp (2001-06-15T08:30:00; set the column's format for others); ` +
		`../testdata/ingest/films.json: line 2, column "Production Budget": 8000000 is a number, not a timestamp (for seconds or milliseconds since 1970, set the column's format to epoch_s or epoch_ms)`
	if err == nil || len(ingest.Issues(err)) != 8 || ingest.Issues(err)[0].String()+"; "+ingest.Issues(err)[1].String() != want[len("load: invalid data: "):] {
		t.Errorf("error\n  %v\nwant it to start\n  %s", err, want)
	}
}

// TestStringsLikeNumbers: a string column takes a value that looks like a
// number, from CSV (as text) and from JSON (a bare number): the film
// titled 1776, in JSON as movies.json writes it.
func TestStringsLikeNumbers(t *testing.T) {
	schema := ingest.Schema{Columns: []ingest.ColumnSpec{
		{Name: "Title", Type: "string"},
		{Name: "Release Date", Type: "timestamp[us]", Format: "%b %d %Y"},
		{Name: "Production Budget", Type: "int64"},
		{Name: "IMDB Rating", Type: "float64", Nullable: true},
	}}
	for _, path := range []string{"../testdata/ingest/films.json", "../testdata/ingest/films.csv"} {
		ds, err := loadSource(t, ingest.Source{Path: path}, schema)
		if err != nil {
			t.Fatal(err)
		}
		var titles []string
		var dates []time.Time
		for _, ch := range ds.Table.Column(0).Data().Chunks() {
			for i := 0; i < ch.Len(); i++ {
				titles = append(titles, ch.(*array.String).Value(i))
			}
		}
		for _, ch := range ds.Table.Column(1).Data().Chunks() {
			for _, v := range ch.(*array.Timestamp).TimestampValues() {
				dates = append(dates, time.UnixMicro(int64(v)).UTC())
			}
		}
		if len(titles) != 4 || titles[1] != "1776" || titles[3] != "9" {
			t.Errorf("%s: titles %q, want 1776 second and 9 fourth", path, titles)
		}
		if len(dates) != 4 || !dates[0].Equal(time.Date(1998, 6, 12, 0, 0, 0, 0, time.UTC)) || !dates[3].Equal(time.Date(2009, 9, 9, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("%s: release dates %v, want 1998-06-12 first, 2009-09-09 last", path, dates)
		}
	}
}

// TestNonRegularInDirectory: a FIFO among a directory's data files is
// refused too, and the load does not block.
func TestNonRegularInDirectory(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile("../testdata/ingest/weather.csv")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.csv"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "b.csv"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = loadSource(t, ingest.Source{Path: dir}, weatherSchema)
	if want := "a named pipe (FIFO), not a regular file"; err == nil || !errors.Is(err, ingest.ErrInvalid) || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want ErrInvalid with %q", err, want)
	}
}

// TestRelativePathHint: a path from a config that does not resolve says
// where relative paths resolve, which is not the working directory.
func TestRelativePathHint(t *testing.T) {
	_, err := loadSource(t, ingest.Source{Path: "elsewhere/../data/weather.csv", ConfigDir: "elsewhere"}, weatherSchema)
	want := `load: resolve elsewhere/../data/weather.csv: no input files: no such file or directory (data.path "../data/weather.csv" is relative, and relative paths resolve against the config file's directory, elsewhere, not the working directory: move the config back, or make the path absolute or relative to elsewhere)`
	if !errors.Is(err, ingest.ErrNoFiles) || err.Error() != want {
		t.Errorf("error\n  %v\nwant\n  %s", err, want)
	}
}

// TestZonedArrowTimestamps: an Arrow column of zoned timestamps (UTC
// instants with a zone name, as pandas and Spark write them) becomes
// naive wall-clock time: in the data's own zone by default, in the
// column's timezone when it has one.
func TestZonedArrowTimestamps(t *testing.T) {
	instant := time.Date(2001, 6, 15, 12, 30, 0, 0, time.UTC)
	typ := &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "America/New_York"}
	b := array.NewTimestampBuilder(memory.DefaultAllocator, typ)
	b.Append(arrow.Timestamp(instant.UnixMilli()))
	b.AppendNull()
	a := b.NewArray()
	b.Release()
	schema := arrow.NewSchema([]arrow.Field{{Name: "t", Type: typ, Nullable: true}}, nil)
	rec := array.NewRecord(schema, []arrow.Array{a}, 2)
	a.Release()
	path := filepath.Join(t.TempDir(), "zoned.arrow")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := ipc.NewFileWriter(f, ipc.WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	rec.Release()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, tc := range []struct {
		zone string
		want time.Time
	}{
		{"", time.Date(2001, 6, 15, 8, 30, 0, 0, time.UTC)},              // New York, UTC-4 in June
		{"Europe/Paris", time.Date(2001, 6, 15, 14, 30, 0, 0, time.UTC)}, // UTC+2
		{"UTC", instant},
	} {
		col := ingest.ColumnSpec{Name: "t", Type: "timestamp[us]", Nullable: true, Timezone: tc.zone}
		ds, err := loadSource(t, ingest.Source{Path: path}, ingest.Schema{Columns: []ingest.ColumnSpec{col}})
		if err != nil {
			t.Fatal(err)
		}
		got := ds.Table.Column(0).Data().Chunk(0).(*array.Timestamp)
		if v := time.UnixMicro(int64(got.Value(0))).UTC(); !v.Equal(tc.want) || !got.IsNull(1) {
			t.Errorf("zone %q: %s (null %v), want %s and a null", tc.zone, v, got.IsNull(1), tc.want)
		}
	}
}
