package ingest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
	"github.com/mlpipe/mlpipe/ingest"
)

// loadedReport is what a loaded run reports: Validate's report, or the
// report of Load's data error.
func loadedReport(t *testing.T, src ingest.Source, schema ingest.Schema, label ingest.LabelSpec) *ingest.Report {
	t.Helper()
	ds, err := ingest.Load(context.Background(), src, schema, nil)
	if err != nil {
		r := ingest.ReportFromError(err)
		if r == nil {
			t.Fatal(err)
		}
		return r
	}
	defer ds.Release()
	return ingest.Validate(ds, schema, label)
}

// scannedReport is what a streamed run reports: a Validator given the
// chunks of Scan, each cut again into chunks of size rows (0: as Scan
// gives them).
func scannedReport(t *testing.T, src ingest.Source, schema ingest.Schema, label ingest.LabelSpec, size int) *ingest.Report {
	t.Helper()
	v, err := ingest.NewValidator(src, schema, label)
	if err != nil {
		t.Fatal(err)
	}
	err = ingest.Scan(context.Background(), src, schema, &ingest.Options{Parallelism: 2}, func(c *ingest.Chunk) error {
		for _, part := range recut(c, size) {
			v.Add(part)
			part.Table.Release()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return v.Report()
}

// recut cuts a chunk into chunks of size rows (size 0: one, the chunk
// itself) as Scan would have made them with smaller blocks or row
// groups: each names its own rows (Row, Lines), the first has the
// file's warnings, and each has the issues of its lines. The caller
// releases their tables.
func recut(c *ingest.Chunk, size int) []*ingest.Chunk {
	n := int(c.Table.NumRows())
	if size <= 0 || n <= size {
		c.Table.Retain()
		return []*ingest.Chunk{c}
	}
	var out []*ingest.Chunk
	issues := c.Issues
	for lo := 0; lo < n; lo += size {
		hi := min(lo+size, n)
		part := *c
		part.Table = sliceTable(c.Table, int64(lo), int64(hi))
		if lo > 0 {
			part.Warnings = nil
		}
		if c.Lines != nil {
			part.Lines = c.Lines[lo:hi]
			// A line that is not a row is an issue of the chunk it
			// falls in (the last takes the rest).
			k := len(issues)
			if hi < n {
				k = 0
				for k < len(issues) && issues[k].Line < c.Lines[hi] {
					k++
				}
			}
			part.Issues, issues = issues[:k], issues[k:]
		} else {
			part.Row = c.Row + int64(lo)
		}
		out = append(out, &part)
	}
	return out
}

// sliceTable returns rows [i, j) of tbl, without copying.
func sliceTable(tbl arrow.Table, i, j int64) arrow.Table {
	cols := make([]arrow.Column, tbl.NumCols())
	for k := range cols {
		cols[k] = *array.NewColumnSlice(tbl.Column(k), i, j)
	}
	out := array.NewTable(tbl.Schema(), cols, j-i)
	for k := range cols {
		cols[k].Release()
	}
	return out
}

// writeParquet writes tbl to path with row groups of rows rows; rows 0
// writes a file of no row group (tbl must have no rows), which Scan
// gives no chunk for.
func writeParquet(t *testing.T, path string, tbl arrow.Table, rows int64) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close() // after the writer's Close, which may have closed it
	w, err := pqarrow.NewFileWriter(tbl.Schema(), f, parquet.NewWriterProperties(), pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	if rows > 0 {
		if err := w.WriteTable(tbl, rows); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// column returns the distinct values (as text) and the greatest value
// of column j of a file's rows.
func column(t *testing.T, path string, schema ingest.Schema, j int) (values []string, greatest int64) {
	t.Helper()
	ds, err := load(t, path, schema)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	greatest = -1 << 62
	for _, ch := range ds.Table.Column(j).Data().Chunks() {
		for i := 0; i < ch.Len(); i++ {
			if s := ch.ValueStr(i); !seen[s] {
				seen[s] = true
				values = append(values, s)
			}
			if a, ok := ch.(*array.Int64); ok {
				greatest = max(greatest, a.Value(i))
			}
		}
	}
	return values, greatest
}

// TestValidatorMatchesValidate: for every format and layout, and for
// every kind of issue, scanning with a Validator (at Scan's chunks and
// at chunks of 1, 7 and 1,000 rows) reports exactly what Validate
// reports of the loaded data, or, where Load fails on rows it cannot
// read, what ReportFromError makes of Load's error.
func TestValidatorMatchesValidate(t *testing.T) {
	cfg := flights(t)
	withColumn := func(s ingest.Schema, j int, f func(*ingest.ColumnSpec)) ingest.Schema {
		s.Columns = slices.Clone(s.Columns)
		f(&s.Columns[j])
		return s
	}
	ptr := func(x float64) *float64 { return &x }
	// Tight contracts, so the 10,000 rows break them often, from the
	// first row group or batch on: delay in [-5, 60], distance at most
	// 2,000 miles, and five origins.
	tight := withColumn(cfg.Schema, 1, func(c *ingest.ColumnSpec) { c.Min, c.Max = ptr(-5), ptr(60) })
	tight = withColumn(tight, 2, func(c *ingest.ColumnSpec) { c.Max = ptr(2000) })
	tight = withColumn(tight, 3, func(c *ingest.ColumnSpec) { c.Categories = []string{"ORD", "ATL", "DFW", "LAX", "DEN"} })
	floatDistance := withColumn(cfg.Schema, 2, func(c *ingest.ColumnSpec) { c.Type = "float64" })
	nullableDelay := withColumn(cfg.Schema, 1, func(c *ingest.ColumnSpec) { c.Nullable = true })

	// Contracts that January's rows meet and later months' do not: the
	// first offending row is in a later file.
	janOrigins, _ := column(t, "../testdata/monthly/2001-01.parquet", cfg.Schema, 3)
	_, janDelay := column(t, "../testdata/monthly/2001-01.parquet", cfg.Schema, 1)
	january := withColumn(cfg.Schema, 3, func(c *ingest.ColumnSpec) { c.Categories = janOrigins })
	january = withColumn(january, 1, func(c *ingest.ColumnSpec) { c.Max = ptr(float64(janDelay)) })

	dir := t.TempDir()
	// Parquet with row groups of 333 rows (31 groups), from the sample.
	sample, err := load(t, "../testdata/flights-10k.parquet", cfg.Schema)
	if err != nil {
		t.Fatal(err)
	}
	small := filepath.Join(dir, "small-groups.parquet")
	writeParquet(t, small, sample.Table, 333)
	// Parquet files of no rows (with no row group, or one of no rows),
	// alone and beside others.
	empty := sliceTable(sample.Table, 0, 0)
	defer empty.Release()
	writeParquet(t, filepath.Join(dir, "empty", "none.parquet"), empty, 0)
	writeParquet(t, filepath.Join(dir, "mixed", "a-none.parquet"), empty, 0)
	some := sliceTable(sample.Table, 100, 1100)
	defer some.Release()
	writeParquet(t, filepath.Join(dir, "mixed", "b.parquet"), some, 64)
	writeParquet(t, filepath.Join(dir, "mixed", "c-none.parquet"), empty, 333)
	// Directories of CSV files: with no rows; with bad rows in two of
	// three files.
	header := "date,delay,distance,origin,destination\n"
	writeFile(t, filepath.Join(dir, "headers", "a.csv"), header)
	writeFile(t, filepath.Join(dir, "headers", "b.csv"), header)
	good, _ := os.ReadFile("../testdata/bad/out-of-range.csv")
	ragged, _ := os.ReadFile("../testdata/bad/ragged.csv")
	nonnumeric, _ := os.ReadFile("../testdata/bad/nonnumeric.csv")
	writeFile(t, filepath.Join(dir, "bad", "a.csv"), string(good))
	writeFile(t, filepath.Join(dir, "bad", "b.csv"), string(ragged))
	writeFile(t, filepath.Join(dir, "bad", "c.csv"), string(nonnumeric))
	// Regression targets: constant (after a null row), and the same
	// value but one.
	target := ingest.Schema{Columns: []ingest.ColumnSpec{{Name: "x", Type: "int64"}, {Name: "y", Type: "float64", Nullable: true}}}
	var constant, varies strings.Builder
	constant.WriteString("x,y\n1,\n")
	varies.WriteString("x,y\n")
	for i := range 30 {
		fmt.Fprintf(&constant, "%d,2.5\n", i)
		y := 2.5
		if i == 23 {
			y = 3
		}
		fmt.Fprintf(&varies, "%d,%g\n", i, y)
	}
	writeFile(t, filepath.Join(dir, "constant.csv"), constant.String())
	// weather.csv with no weather on its last two lines.
	weather, _ := os.ReadFile("../testdata/ingest/weather.csv")
	lines := strings.SplitAfter(string(weather), "\n")
	for _, k := range []int{9, 10} {
		lines[k] = lines[k][:strings.LastIndexByte(lines[k], ',')+1] + "\n"
	}
	writeFile(t, filepath.Join(dir, "weather-last-unlabelled.csv"), strings.Join(lines, ""))
	writeFile(t, filepath.Join(dir, "varies.csv"), varies.String())

	delayed := cfg.Label
	minutes := ingest.LabelSpec{Name: "minutes", Column: "delay", Kind: ingest.KindRegression}
	log1p := minutes
	log1p.Transform = ingest.TransformLog1p
	y := ingest.LabelSpec{Name: "y", Column: "y", Kind: ingest.KindRegression, Missing: ingest.MissingDrop}
	rain := ingest.LabelSpec{Name: "rain", Column: "weather", Positive: "rain"}
	rainDrop := rain
	rainDrop.Missing = ingest.MissingDrop
	byOrigin := ingest.LabelSpec{Name: "origin", Column: "origin", Kind: ingest.KindRegression}
	films := ingest.Schema{Columns: []ingest.ColumnSpec{
		{Name: "Title", Type: "string"}, {Name: "Release Date", Type: "timestamp[us]", Format: "%b %d %Y"},
		{Name: "Production Budget", Type: "int64"}, {Name: "IMDB Rating", Type: "float64", Nullable: true, Min: ptr(0), Max: ptr(7)},
	}}

	tests := []struct {
		name   string
		path   string
		schema ingest.Schema
		label  ingest.LabelSpec
		// codes are the loaded report's issues, as "severity code", to
		// show what the case covers.
		codes []string
		// firstFile, if set, is the file the first issue must name.
		firstFile string
	}{
		{"ParquetOK", "../testdata/flights-10k.parquet", cfg.Schema, delayed, nil, ""},
		{"Parquet", "../testdata/flights-10k.parquet", tight, delayed,
			[]string{"error range", "error range", "error range", "warning category"}, ""},
		{"ParquetSmallGroups", small, tight, delayed,
			[]string{"error range", "error range", "error range", "warning category"}, ""},
		{"ArrowFile", "../testdata/flights-10k.arrow", tight, delayed,
			[]string{"error range", "error range", "error range", "warning category"}, ""},
		{"ArrowStream", "../testdata/flights-10k.arrows", tight, delayed,
			[]string{"error range", "error range", "error range", "warning category"}, ""},
		{"CSV", "../testdata/flights-10k.csv", tight, delayed,
			[]string{"error range", "error range", "error range", "warning category"}, ""},
		{"JSONL", "../testdata/flights-10k.jsonl", tight, delayed,
			[]string{"error range", "error range", "error range", "warning category"}, ""},
		{"ParquetFiles", "../testdata/monthly", january, delayed,
			[]string{"error range", "warning category"}, "../testdata/monthly/2001-02.parquet"},
		{"CSVFiles", "../testdata/monthly-csv/*.csv", january, delayed,
			[]string{"error range", "warning category"}, "../testdata/monthly-csv/2001-02.csv"},
		{"NullInNonNullable", "../testdata/bad/null-origin.csv", cfg.Schema, delayed, []string{"error null"}, ""},
		{"OutOfRange", "../testdata/bad/out-of-range.csv", cfg.Schema, delayed, []string{"error range"}, ""},
		{"NaNInf", "../testdata/bad/nan-inf.csv", floatDistance, delayed, []string{"error nan"}, ""},
		{"ExtraColumn", "../testdata/bad/extra-column.csv", ingest.Schema{Columns: cfg.Schema.Columns, AllowExtra: true}, delayed,
			[]string{"warning extra_column"}, ""},
		{"HeaderOnly", "../testdata/bad/header-only.csv", cfg.Schema, delayed, []string{"error empty"}, ""},
		{"HeadersOnly", filepath.Join(dir, "headers"), cfg.Schema, delayed, []string{"error empty"}, ""},
		{"EmptyParquet", filepath.Join(dir, "empty"), cfg.Schema, delayed, []string{"error empty"}, ""},
		{"EmptyParquetFiles", filepath.Join(dir, "mixed"), tight, delayed,
			[]string{"error range", "error range", "error range", "warning category"}, ""},
		{"LabelAllNull", "../testdata/bad/label-nulls.csv", nullableDelay, delayed, []string{"error label"}, ""},
		{"LabelAllNullNonNullable", "../testdata/bad/label-nulls.csv", cfg.Schema, delayed, []string{"error label"}, ""},
		{"LabelNullError", "../testdata/ingest/labels-missing.csv", weatherSchema, rain, []string{"error label"}, ""},
		{"LabelNullDrop", "../testdata/ingest/labels-missing.csv", weatherSchema, rainDrop, []string{"warning label"}, ""},
		{"LabelNullLast", filepath.Join(dir, "weather-last-unlabelled.csv"), weatherSchema, rain, []string{"error label"}, ""},
		{"JSONArray", "../testdata/ingest/films.json", films, ingest.LabelSpec{Name: "rating", Column: "IMDB Rating", Kind: ingest.KindRegression, Missing: ingest.MissingDrop},
			[]string{"error range", "warning label"}, ""},
		{"Regression", "../testdata/flights-10k.parquet", cfg.Schema, minutes, nil, ""},
		{"RegressionLog1p", "../testdata/flights-10k.csv", cfg.Schema, log1p, []string{"error label"}, ""},
		{"RegressionConstant", filepath.Join(dir, "constant.csv"), target, y, []string{"error label", "warning label"}, ""},
		{"RegressionVaries", filepath.Join(dir, "varies.csv"), target, y, nil, ""},
		{"RegressionNotNumber", "../testdata/flights-10k.parquet", cfg.Schema, byOrigin, []string{"error label"}, ""},
		// Rows that Load cannot read: the report of Load's error.
		{"Ragged", "../testdata/bad/ragged.csv", cfg.Schema, delayed, []string{"error parse"}, ""},
		{"NotANumber", "../testdata/bad/nonnumeric.csv", cfg.Schema, delayed, []string{"error parse"}, ""},
		{"BadDate", "../testdata/bad/bad-date.csv", cfg.Schema, delayed, []string{"error parse"}, ""},
		{"FloatsInIntColumn", "../testdata/bad/nan-inf.csv", cfg.Schema, delayed, slices.Repeat([]string{"error parse"}, 20), ""},
		{"BadJSONL", "../testdata/bad/bad.jsonl", cfg.Schema, delayed, []string{"error parse"}, ""},
		{"WrongTypeJSONL", "../testdata/bad/wrongtype.jsonl", cfg.Schema, delayed, []string{"error parse"}, ""},
		{"BadFiles", filepath.Join(dir, "bad"), cfg.Schema, delayed, []string{"error parse", "error parse"}, filepath.Join(dir, "bad", "b.csv")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := ingest.Source{Path: tt.path}
			want := loadedReport(t, src, tt.schema, tt.label)
			var codes []string
			for _, is := range want.Issues {
				codes = append(codes, string(is.Severity)+" "+is.Code)
			}
			if !slices.Equal(codes, tt.codes) {
				t.Fatalf("the loaded report's issues are %q, want %q: %+v", codes, tt.codes, want.Issues)
			}
			if tt.firstFile != "" && want.Issues[0].File != tt.firstFile {
				t.Fatalf("the first issue names %s, want %s", want.Issues[0].File, tt.firstFile)
			}
			for _, size := range []int{0, 1, 7, 1000} {
				if got := scannedReport(t, src, tt.schema, tt.label, size); !reflect.DeepEqual(got, want) {
					t.Errorf("chunks of %d rows: the Validator's report\n  %+v\nValidate's\n  %+v", size, got, want)
				}
			}
		})
	}
}

// TestKeep: under label.missing: drop, the rows that Keep keeps, chunk
// by chunk, are the rows DropUnlabelled leaves in the loaded table, in
// order; under the default policy Keep keeps every row (nil).
func TestKeep(t *testing.T) {
	const path = "../testdata/ingest/labels-missing.csv" // rows 3 and 7 have no weather
	rain := ingest.LabelSpec{Name: "rain", Column: "weather", Positive: "rain", Missing: ingest.MissingDrop}
	src := ingest.Source{Path: path}
	ds, err := loadSource(t, src, weatherSchema)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := ingest.DropUnlabelled(context.Background(), ds, rain); n != 2 || err != nil {
		t.Fatalf("DropUnlabelled = %d, %v; want 2", n, err)
	}
	dates := func(tbl arrow.Table) []string {
		var out []string
		for _, ch := range tbl.Column(0).Data().Chunks() {
			for i := 0; i < ch.Len(); i++ {
				out = append(out, ch.ValueStr(i))
			}
		}
		return out
	}
	want := dates(ds.Table)
	for _, size := range []int{0, 1, 3} {
		var got []string
		err := ingest.Scan(context.Background(), src, weatherSchema, nil, func(c *ingest.Chunk) error {
			for _, part := range recut(c, size) {
				keep, err := rain.Keep(part.Table)
				if err != nil {
					return err
				}
				for i, d := range dates(part.Table) {
					if keep == nil || keep[i] {
						got = append(got, d)
					}
				}
				part.Table.Release()
			}
			return nil
		})
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("chunks of %d rows: kept %q (%v), want %q", size, got, err, want)
		}
	}

	unlabelled, err := loadSource(t, src, weatherSchema) // with rows 3 and 7
	if err != nil {
		t.Fatal(err)
	}
	rain.Missing = ingest.MissingError
	if keep, err := rain.Keep(unlabelled.Table); keep != nil || err != nil {
		t.Errorf("policy error: Keep = %v, %v; want nil (every row stays)", keep, err)
	}
	rain.Missing, rain.Column = ingest.MissingDrop, "nope"
	if _, err := rain.Keep(ds.Table); err == nil || err.Error() != `label keep: column "nope" is not in the data` {
		t.Errorf("a missing column: %v", err)
	}
}

// TestValidatorParseIssues: past maxRowIssues (20) unreadable rows in a
// file, the Validator lists a file's first 20 and counts the rest in one
// last issue of that file, as Load does for each of its parallel chunks
// (Load's list then depends on its parallelism; the Validator's does not).
func TestValidatorParseIssues(t *testing.T) {
	cfg := flights(t)
	dir := t.TempDir()
	for _, f := range []struct {
		name string
		bad  int
	}{{"a.csv", 25}, {"b.csv", 3}} {
		var b strings.Builder
		b.WriteString("date,delay,distance,origin,destination\n")
		for range f.bad {
			b.WriteString("2001-01-01T08:00:00,x,300,ORD,SFO\n")
		}
		writeFile(t, filepath.Join(dir, f.name), b.String())
	}
	for _, size := range []int{0, 1, 7} {
		r := scannedReport(t, ingest.Source{Path: dir}, cfg.Schema, cfg.Label, size)
		var got []string
		for _, is := range r.Issues {
			got = append(got, fmt.Sprintf("%s %d %s", filepath.Base(is.File), is.Line, is.Message))
		}
		var want []string
		for line := 2; line <= 21; line++ {
			want = append(want, fmt.Sprintf(`a.csv %d "x" is not an int64`, line))
		}
		want = append(want, "a.csv 0 and 5 more parse errors",
			`b.csv 2 "x" is not an int64`, `b.csv 3 "x" is not an int64`, `b.csv 4 "x" is not an int64`)
		if !slices.Equal(got, want) || r.Errors != len(want) || r.Files != 2 || r.Rows != 0 {
			t.Errorf("chunks of %d rows: %d errors, %d files, %d rows, issues\n  %s\nwant %d errors, 2 files, 0 rows,\n  %s",
				size, r.Errors, r.Files, r.Rows, strings.Join(got, "\n  "), len(want), strings.Join(want, "\n  "))
		}
	}
}
