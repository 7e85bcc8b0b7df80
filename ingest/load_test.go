package ingest_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/ingest"
)

// Row counts of the fixtures, from testdata/README.md (computed by
// scripts/fixtures when it cut them from data/flights-3m.parquet).
const (
	sampleRows = 10_000
	janRows    = 1_695
	febRows    = 1_527
	marRows    = 1_705
	aprRows    = 1_670
	mayRows    = 1_729
	junRows    = 1_674
)

// flights returns the default config, whose schema and split the tests
// use.
func flights(t testing.TB) *config.Config {
	t.Helper()
	cfg, err := config.Load("../configs/flights.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func load(t testing.TB, path string, schema ingest.Schema) (*ingest.Dataset, error) {
	t.Helper()
	ds, err := ingest.Load(context.Background(), ingest.Source{Path: path}, schema, nil)
	if err == nil {
		t.Cleanup(ds.Release)
	}
	return ds, err
}

// TestLoadFormats loads the same 10,000 rows from every format and
// layout, and checks that each gives the same table: the same row count
// and the same fingerprint (which hashes every value).
func TestLoadFormats(t *testing.T) {
	schema := flights(t).Schema
	ref, err := load(t, "../testdata/flights-10k.parquet", schema)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ingest.Fingerprint(context.Background(), ref.Table)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		parts      int
	}{
		{"parquet", "../testdata/flights-10k.parquet", 1},
		{"csv", "../testdata/flights-10k.csv", 1},
		{"jsonl", "../testdata/flights-10k.jsonl", 1},
		{"arrow-file", "../testdata/flights-10k.arrow", 1},
		{"arrow-stream", "../testdata/flights-10k.arrows", 1},
		{"parquet-dir", "../testdata/monthly", 6},
		{"parquet-glob", "../testdata/monthly/2001-0*.parquet", 6},
		{"csv-dir", "../testdata/monthly-csv", 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds, err := load(t, tt.path, schema)
			if err != nil {
				t.Fatal(err)
			}
			if got := ds.Table.NumRows(); got != sampleRows {
				t.Errorf("rows = %d, want %d", got, sampleRows)
			}
			if len(ds.Parts) != tt.parts {
				t.Errorf("parts = %d, want %d", len(ds.Parts), tt.parts)
			}
			for j, f := range ds.Table.Schema().Fields() {
				if f.Name != schema.Columns[j].Name {
					t.Errorf("column %d = %q, want %q", j, f.Name, schema.Columns[j].Name)
				}
			}
			got, err := ingest.Fingerprint(context.Background(), ds.Table)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("fingerprint = %s, want %s (the parquet file's)", got, want)
			}
		})
	}
}

// TestLoadBadInput covers every bad-input case of the ingest issue: each
// must give an error that says what is wrong and where, never a panic.
func TestLoadBadInput(t *testing.T) {
	schema := flights(t).Schema
	dir := t.TempDir()
	// An unreadable file: a symlink to itself fails to open (ELOOP) even
	// for root, whom file modes do not stop.
	unreadable := filepath.Join(dir, "unreadable.csv")
	if err := os.Symlink(unreadable, unreadable); err != nil {
		t.Fatal(err)
	}
	emptyDir := filepath.Join(dir, "empty")
	if err := os.Mkdir(emptyDir, 0o755); err != nil {
		t.Fatal(err)
	}
	noExt := filepath.Join(dir, "flights.data")
	if err := os.WriteFile(noExt, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		path   string
		is     error  // errors.Is target
		want   string // substring of the error
		code   string // code of the first issue, for data errors
		line   int64  // line of the first issue, for text formats
		column string // column of the first issue
	}{
		{"ErrTruncatedParquet", "../testdata/bad/truncated.parquet", ingest.ErrInvalid, "the Parquet file is truncated", ingest.CodeRead, 0, ""},
		{"ErrNotParquet", "../testdata/bad/not-parquet.parquet", ingest.ErrInvalid, "not a Parquet file", ingest.CodeRead, 0, ""},
		{"ErrRaggedCSV", "../testdata/bad/ragged.csv", ingest.ErrInvalid, "line 5: the row has 4 fields, the header has 5", ingest.CodeParse, 5, ""},
		{"ErrNonNumeric", "../testdata/bad/nonnumeric.csv", ingest.ErrInvalid, `line 7, column "delay": "abc" is not an int64`, ingest.CodeParse, 7, "delay"},
		{"ErrBadDate", "../testdata/bad/bad-date.csv", ingest.ErrInvalid, `line 9, column "date": "2001-13-45T99:00:00" is not an ISO 8601 timestamp`, ingest.CodeParse, 9, "date"},
		{"ErrMissingColumn", "../testdata/bad/missing-column.csv", ingest.ErrInvalid, `column "distance": missing column`, ingest.CodeMissingColumn, 0, "distance"},
		{"ErrExtraColumn", "../testdata/bad/extra-column.csv", ingest.ErrInvalid, `column "carrier": unexpected column`, ingest.CodeExtraColumn, 0, "carrier"},
		{"ErrEmptyFile", "../testdata/bad/empty.csv", ingest.ErrInvalid, "the file is empty", ingest.CodeEmpty, 0, ""},
		{"ErrBadJSON", "../testdata/bad/bad.jsonl", ingest.ErrInvalid, "line 4: not a JSON object", ingest.CodeParse, 4, ""},
		{"ErrJSONWrongType", "../testdata/bad/wrongtype.jsonl", ingest.ErrInvalid, `line 6, column "delay": "late" is a string, not int64`, ingest.CodeParse, 6, "delay"},
		{"ErrParquetWrongType", "../testdata/bad/string-delay.parquet", ingest.ErrInvalid, `column "delay": wrong type: it is large_utf8 and cannot be cast to int64`, ingest.CodeType, 0, "delay"},
		{"ErrFloatInIntColumn", "../testdata/bad/nan-inf.csv", ingest.ErrInvalid, `line 2, column "distance": "2176.0" is not an int64`, ingest.CodeParse, 2, "distance"},
		{"ErrGlobMatchesNothing", "../testdata/nothing-*.parquet", ingest.ErrNoFiles, "the glob matches no files", "", 0, ""},
		{"ErrNoSuchFile", "../testdata/nope.parquet", ingest.ErrNoFiles, "no such file or directory", "", 0, ""},
		{"ErrEmptyDir", emptyDir, ingest.ErrNoFiles, "the directory holds no data files", "", 0, ""},
		{"ErrUnknownExtension", noExt, ingest.ErrInvalid, `cannot tell the format from the extension ".data"`, ingest.CodeRead, 0, ""},
		{"ErrUnreadable", unreadable, nil, "too many levels of symbolic links", "", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, tt.path, schema)
			if err == nil {
				t.Fatal("no error")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
			if tt.is == nil && errors.Is(err, ingest.ErrInvalid) {
				t.Errorf("an I/O error must not be reported as invalid data: %v", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error\n  %v\nwant it to contain\n  %s", err, tt.want)
			}
			if tt.code == "" {
				return
			}
			issues := ingest.Issues(err)
			if len(issues) == 0 {
				t.Fatalf("error carries no issues: %v", err)
			}
			first := issues[0]
			if first.Code != tt.code || first.Line != tt.line || first.Column != tt.column {
				t.Errorf("first issue = {code %q line %d column %q}, want {%q %d %q}", first.Code, first.Line, first.Column, tt.code, tt.line, tt.column)
			}
			if first.File != tt.path {
				t.Errorf("issue file = %q, want %q", first.File, tt.path)
			}
		})
	}
}

func TestLoadCast(t *testing.T) {
	// int32 columns are a compatible type: Load casts them to int64.
	ds, err := load(t, "../testdata/bad/int32-delay.parquet", flights(t).Schema)
	if err != nil {
		t.Fatal(err)
	}
	if got := ds.Table.Schema().Field(1).Type.String(); got != "int64" {
		t.Errorf("delay type = %s, want int64", got)
	}
	if ds.Table.NumRows() != 20 { // the 20 rows of the file (testdata/README.md)
		t.Errorf("rows = %d, want 20", ds.Table.NumRows())
	}
}

func TestLoadAllowExtra(t *testing.T) {
	schema := flights(t).Schema
	schema.AllowExtra = true
	ds, err := load(t, "../testdata/bad/extra-column.csv", schema)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Table.NumCols() != 5 {
		t.Errorf("columns = %d, want the contract's 5", ds.Table.NumCols())
	}
	if len(ds.Warnings) != 1 || ds.Warnings[0].Column != "carrier" || ds.Warnings[0].Severity != ingest.Warning {
		t.Errorf("warnings = %+v, want one about carrier", ds.Warnings)
	}
}

func TestLoadWindow(t *testing.T) {
	schema := flights(t).Schema
	day := func(s string) time.Time {
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			panic(err)
		}
		return t
	}
	tests := []struct {
		name   string
		window ingest.Window
		now    time.Time
		want   int64
	}{
		{"OK/since-until", ingest.Window{Column: "date", Since: day("2001-02-01"), Until: day("2001-04-01")}, time.Time{}, febRows + marRows},
		{"OK/since", ingest.Window{Column: "date", Since: day("2001-06-01")}, time.Time{}, junRows},
		{"OK/until", ingest.Window{Column: "date", Until: day("2001-02-01")}, time.Time{}, janRows},
		// May has 31 days: the last 31 days before June 1 are May.
		{"OK/last-days", ingest.Window{Column: "date", LastDays: 31, Until: day("2001-06-01")}, time.Time{}, mayRows},
		{"OK/last-days-now", ingest.Window{Column: "date", LastDays: 30}, day("2001-07-01"), junRows},
		{"OK/empty-window", ingest.Window{Column: "date", Since: day("2002-01-01")}, time.Time{}, 0},
	}
	for _, tt := range tests {
		for _, path := range []string{"../testdata/flights-10k.parquet", "../testdata/monthly-csv"} {
			t.Run(tt.name+"/"+filepath.Base(path), func(t *testing.T) {
				ds, err := ingest.Load(context.Background(), ingest.Source{Path: path, Window: tt.window}, schema, &ingest.Options{Now: tt.now})
				if err != nil {
					t.Fatal(err)
				}
				defer ds.Release()
				if got := ds.Table.NumRows(); got != tt.want {
					t.Errorf("rows = %d, want %d", got, tt.want)
				}
			})
		}
	}
}

// TestLocate checks that a table row maps back to its file and row after
// several files are joined and a window has dropped rows.
func TestLocate(t *testing.T) {
	schema := flights(t).Schema
	since, _ := time.Parse("2006-01-02", "2001-03-01")
	ds, err := ingest.Load(context.Background(), ingest.Source{Path: "../testdata/monthly-csv", Window: ingest.Window{Column: "date", Since: since}}, schema, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Release()
	// Table row 0 is the first row of March; row marRows is the first of April.
	for _, tt := range []struct {
		row      int64
		file     string
		fileRow  int64
		rowGroup int
	}{
		{0, "2001-03.csv", 1, -1},
		{marRows, "2001-04.csv", 1, -1},
		{marRows + 9, "2001-04.csv", 10, -1},
	} {
		p, r, g := ds.Locate(tt.row)
		if p == nil || filepath.Base(p.Path) != tt.file || r != tt.fileRow || g != tt.rowGroup {
			t.Errorf("Locate(%d) = %v, %d, %d; want %s row %d group %d", tt.row, p, r, g, tt.file, tt.fileRow, tt.rowGroup)
		}
	}
	// Parquet row groups: flights-10k.parquet has 4 groups of 2,500 rows.
	pq, err := load(t, "../testdata/flights-10k.parquet", schema)
	if err != nil {
		t.Fatal(err)
	}
	if _, r, g := pq.Locate(7_500); r != 7_501 || g != 3 {
		t.Errorf("Locate(7500) = row %d group %d, want row 7501 group 3", r, g)
	}
}

func TestLoadCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := ingest.Load(ctx, ingest.Source{Path: "../testdata/monthly"}, flights(t).Schema, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// TestLoadPermissionDenied checks a file that the user may not read. Root
// may read anything, so it only runs as another user.
func TestLoadPermissionDenied(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root can read a mode-000 file")
	}
	path := filepath.Join(t.TempDir(), "secret.csv")
	if err := os.WriteFile(path, []byte("date\n"), 0o000); err != nil {
		t.Fatal(err)
	}
	_, err := load(t, path, flights(t).Schema)
	if !errors.Is(err, fs.ErrPermission) || errors.Is(err, ingest.ErrInvalid) {
		t.Fatalf("err = %v, want a permission error that is not ErrInvalid", err)
	}
}

// TestLoadQuotedCSV checks the quote-aware path of the CSV reader: the
// fixture with every origin quoted loads to the same table as the plain
// file, and a quoted line break does not throw off line numbers.
func TestLoadQuotedCSV(t *testing.T) {
	schema := flights(t).Schema
	plain, err := os.ReadFile("../testdata/flights-10k.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(plain), "\n"), "\n")
	for i := 1; i < len(lines); i++ {
		f := strings.Split(lines[i], ",")
		f[3] = `"` + f[3] + `"`
		lines[i] = strings.Join(f, ",")
	}
	dir := t.TempDir()
	quoted := filepath.Join(dir, "quoted.csv")
	if err := os.WriteFile(quoted, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := load(t, "../testdata/flights-10k.csv", schema)
	if err != nil {
		t.Fatal(err)
	}
	// Parallelism 4 cuts the file into 16 pieces, so cuts fall between
	// quoted fields.
	b, err := ingest.Load(context.Background(), ingest.Source{Path: quoted}, schema, &ingest.Options{Parallelism: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	fa, _ := ingest.Fingerprint(context.Background(), a.Table)
	fb, _ := ingest.Fingerprint(context.Background(), b.Table)
	if fa != fb {
		t.Errorf("quoted CSV loads to a different table")
	}

	// The first row spans lines 2 and 3 (a quoted line break), so the
	// third row, with the bad value, is on line 5.
	broken := "date,delay,distance,origin,destination\n" +
		"2001-01-01T00:01:00,1,100,\"A\nB\",X\n" +
		"2001-01-01T00:02:00,2,100,C,\"D,E\"\n" +
		"2001-01-01T00:03:00,x,100,C,D\n"
	path := filepath.Join(dir, "broken.csv")
	if err := os.WriteFile(path, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = load(t, path, schema)
	is := ingest.Issues(err)
	if len(is) != 1 || is[0].Line != 5 || is[0].Column != "delay" {
		t.Fatalf("issues = %+v, want one at line 5, column delay", is)
	}
}
