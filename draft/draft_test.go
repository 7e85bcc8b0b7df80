package draft_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/draft"
	"github.com/mlpipe/mlpipe/ingest"
)

var update = flag.Bool("update", false, "rewrite the golden drafts in testdata/")

// parse drafts a config for path and parses it as config.Load would,
// the data path resolved against the repository.
func parse(t *testing.T, src ingest.Source, opt draft.Options) (*config.Config, []byte) {
	t.Helper()
	b, err := draft.Write(context.Background(), src, opt)
	if err != nil {
		t.Fatalf("%s: %v", src.Path, err)
	}
	cfg, err := config.Parse(b, src.Path)
	if err != nil {
		t.Fatalf("%s: the draft does not parse: %v\n%s", src.Path, err, b)
	}
	return cfg, b
}

// load reads the whole of a draft's data with its schema: the types
// inferred from a sample hold for every row.
func load(t *testing.T, cfg *config.Config) *ingest.Dataset {
	t.Helper()
	ds, err := ingest.Load(context.Background(), cfg.Data, cfg.Schema, nil)
	if err != nil {
		t.Fatalf("load %s with the drafted schema: %v", cfg.Data.Path, err)
	}
	t.Cleanup(ds.Release)
	return ds
}

// TestFormats: every format of the flights sample drafts the same
// config: the Parquet and Arrow types and the text formats' inferred
// ones agree, and the time split's dates are those of the 70th and 85th
// percentile of the 10,000 dates (testdata/README.md: January to June
// 2001).
func TestFormats(t *testing.T) {
	for _, ext := range []string{"csv", "jsonl", "parquet", "arrow", "arrows"} {
		t.Run(ext, func(t *testing.T) {
			path := "../testdata/flights-10k." + ext
			cfg, _ := parse(t, ingest.Source{Path: path}, draft.Options{Label: "delay", Path: path})
			var types []string
			for _, c := range cfg.Schema.Columns {
				types = append(types, c.Name+" "+c.Type)
			}
			if got, want := strings.Join(types, ", "), "date timestamp[us], delay int64, distance int64, origin string, destination string"; got != want {
				t.Errorf("schema %s, want %s", got, want)
			}
			if cfg.Label.Kind != draft.KindRegression || cfg.Label.Column != "delay" {
				t.Errorf("label %+v, want a regression on delay", cfg.Label)
			}
			s := cfg.Split
			if s.Method != "time" || s.Column != "date" || s.ValidFrom.Format(time.DateOnly) != "2001-05-08" || s.TestFrom.Format(time.DateOnly) != "2001-06-04" {
				t.Errorf("split %+v, want time on date from 2001-05-08 and 2001-06-04", s)
			}
			var feats []string
			for _, f := range cfg.Features {
				feats = append(feats, f.Column+" "+f.Transform)
			}
			if got, want := strings.Join(feats, ", "), "date time, distance numeric, origin categorical, destination categorical"; got != want {
				t.Errorf("features %s, want %s", got, want)
			}
			if n := load(t, cfg).Table.NumRows(); n != 10000 {
				t.Errorf("loaded %d rows, want 10,000", n)
			}
		})
	}
}

// TestWorkbook: an Excel worksheet drafts the config its CSV drafts
// (scripts/fixtures/weather_xlsx.py wrote weather.xlsx from weather.csv,
// with the dates as Excel dates): the same but for the path and
// data.sheet, which names the worksheet read, the one asked for or the
// first visible one (with the others in a comment).
func TestWorkbook(t *testing.T) {
	ctx := context.Background()
	opt := draft.Options{Label: "weather"}
	want, err := draft.Write(ctx, ingest.Source{Path: "../testdata/ingest/weather.csv"}, opt)
	if err != nil {
		t.Fatal(err)
	}
	got, err := draft.Write(ctx, ingest.Source{Path: "../testdata/ingest/weather.xlsx"}, opt)
	if err != nil {
		t.Fatal(err)
	}
	const named = "\n  sheet: weather                 # the first visible of 2: weather, notes\n"
	if !strings.Contains(string(got), named) {
		t.Errorf("the workbook's draft does not name its sheet (%q):\n%s", named, got)
	}
	g := strings.Replace(strings.ReplaceAll(string(got), "weather.xlsx", "weather.csv"), named, "\n", 1)
	if g != string(want) {
		t.Errorf("the workbook's draft:\n%s\nthe CSV's:\n%s", got, want)
	}
	sheet, err := draft.Write(ctx, ingest.Source{Path: "../testdata/ingest/weather.xlsx", Sheet: "weather"}, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(sheet), "\n  sheet: weather\n") {
		t.Errorf("a draft of sheet weather has no data.sheet:\n%s", sheet)
	}
	cfg, err := config.Parse(sheet, "the draft")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Data.Path = "../testdata/ingest/weather.xlsx"
	if n := load(t, cfg).Table.NumRows(); n != 10 {
		t.Errorf("loaded %d rows of the drafted sheet, want 10", n)
	}
}

// TestGolden compares whole drafts with testdata/draft/*.yaml (go test
// -update rewrites them). customers.csv has a ';' delimiter, dates as
// %d/%m/%Y, a row number, numbers with "NA", missing numbers, a column
// of one value and a yes/no label, "yes" the rarer; measurements.csv
// has no header and a label of three integers; weather-noheader.csv
// scikit-learn's line of counts first.
func TestGolden(t *testing.T) {
	cases := []struct {
		name string
		src  ingest.Source
		opt  draft.Options
	}{
		{"customers", ingest.Source{Path: "../testdata/draft/customers.csv"}, draft.Options{Label: "churned"}},
		{"measurements", ingest.Source{Path: "../testdata/draft/measurements.csv"}, draft.Options{Label: "column_4"}},
		{"weather-noheader", ingest.Source{Path: "../testdata/ingest/weather-noheader.csv", SkipRows: 1, Header: new(bool)}, draft.Options{Label: "column_6"}},
		{"films", ingest.Source{Path: "../testdata/ingest/films.json"}, draft.Options{Label: "IMDB Rating"}},
		// Four rows a traveller: a random split of the travellers (split.group).
		{"modechoice", ingest.Source{Path: "../data/modechoice.csv"}, draft.Options{Label: "choice"}},
		{"weather-rain", ingest.Source{Path: "../testdata/ingest/weather.csv"}, draft.Options{Label: "precipitation", Kind: draft.KindRegression, Rows: 5}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.opt.Path = filepath.Base(c.src.Path)
			cfg, b := parse(t, c.src, c.opt)
			golden := filepath.Join("..", "testdata", "draft", c.name+".yaml")
			if *update {
				if err := os.WriteFile(golden, b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test -update writes it)", err)
			}
			if !bytes.Equal(b, want) {
				t.Errorf("draft differs from %s (go test -update rewrites it):\n%s", golden, b)
			}
			cfg.Data.Path = c.src.Path
			load(t, cfg)
		})
	}
}

// TestLabelErrors: a label that cannot be drafted is an ErrLabel naming
// the column and why, before anything is written.
func TestLabelErrors(t *testing.T) {
	weather := ingest.Source{Path: "../testdata/ingest/weather.csv"}
	cases := []struct {
		name string
		src  ingest.Source
		opt  draft.Options
		want string
	}{
		{"none", weather, draft.Options{}, "label: name the label column; the columns are date, precipitation, temp_max, temp_min, wind, weather"},
		{"misspelt", weather, draft.Options{Label: "wether"}, `has no column "wether" (did you mean "weather"?)`},
		{"time", weather, draft.Options{Label: "date"}, `the label column "date" is a timestamp[us] column: mlpipe predicts a class or a number`},
		{"kind", weather, draft.Options{Label: "weather", Kind: "ordinal"}, `unknown kind "ordinal"`},
		{"not two", weather, draft.Options{Label: "weather", Kind: draft.KindBinary}, `the label column "weather" has 3 distinct values in 10 rows, not 2`},
		{"text regression", weather, draft.Options{Label: "weather", Kind: draft.KindRegression}, `the label column "weather" is string column, not a number`},
		{"too many classes", ingest.Source{Path: "../testdata/flights-10k.csv"}, draft.Options{Label: "origin"}, `the label column "origin" has 209 distinct text values in 10,000 rows: too many classes`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := draft.Write(context.Background(), c.src, c.opt)
			if !errors.Is(err, draft.ErrLabel) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want an ErrLabel with %q", err, c.want)
			}
		})
	}
}

// TestSampleTypes: the types are those of the rows read. A column of
// integers with a word after the rows read stays int64 (loading the whole
// file then names the row); read up to the word, it is text. A JSON
// column of numbers and strings is text: the numbers' text alone parses
// as int64, but a JSON string is not an int64 to the reader, and the
// sample read again with the types says so.
func TestSampleTypes(t *testing.T) {
	dir := t.TempDir()
	var csv, jsonl strings.Builder
	csv.WriteString("n,y\n")
	for i := range 30 {
		n, y := "7", []string{"a", "b"}[i%2]
		if i == 25 {
			n = "seven"
		}
		csv.WriteString(n + "," + y + "\n")
		n = "7"
		if i == 25 {
			n = `"7"`
		}
		jsonl.WriteString(`{"n": ` + n + `, "y": "` + y + `"}` + "\n")
	}
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	csvPath, jsonlPath := write("late.csv", csv.String()), write("mixed.jsonl", jsonl.String())
	for _, c := range []struct {
		path string
		rows int
		want string
	}{{csvPath, 100, "string"}, {csvPath, 10, "int64"}, {jsonlPath, 100, "string"}, {jsonlPath, 10, "int64"}} {
		cfg, _ := parse(t, ingest.Source{Path: c.path}, draft.Options{Label: "y", Rows: c.rows, Path: c.path})
		if got := cfg.Schema.Columns[0].Type; got != c.want {
			t.Errorf("%s, %d rows: n is %s, want %s", filepath.Base(c.path), c.rows, got, c.want)
		}
	}
}

// TestOddFiles: files a draft must not trip on. Each case is a small
// file written here, and what the draft (or its error) must say.
func TestOddFiles(t *testing.T) {
	cases := []struct {
		name, file, text string
		want             []string // lines of the draft, or the error
		err              error
	}{
		{"duplicate column", "dup.csv", "a,a,y\n1,2,x\n3,4,z\n",
			[]string{`the column "a" appears more than once; rename one`}, ingest.ErrInvalid},
		{"one label value", "one.csv", "a,y\n1,1\n2,1\n3,1\n",
			[]string{`the label column "y" has one value in 3 rows: there is nothing to predict`}, draft.ErrLabel},
		{"quoted names", "names.csv", "\"we\"\"ird\",\"new\nline\",y\n1,2,a\n3,4,b\n",
			[]string{`    - {name: "we\"ird", type: int64}`, `    - {name: "new\nline", type: int64}`}, nil},
		{"nested JSON", "nested.jsonl", `{"a": {"x": 1}, "b": 1, "y": 1}` + "\n" + `{"a": [2], "b": 2, "y": 0}` + "\n",
			[]string{"    - {name: b, type: int64}", `  allow_extra_columns: true         # not read: a (it holds values that are not text, numbers or bools ({"x": 1} is an object or array, not string))`}, nil},
		{"missing words", "words.csv", "y,sex,n\n1,MALE,1\n0,FEMALE,NA\n1,.,3\n0,MALE,4\n",
			[]string{"  - {column: sex, transform: categorical}  # 3 distinct values", `#   n: text: "NA" 1 times; mlpipe reads only an empty field as missing`}, nil},
		{"pandas index", "index.csv", ",a,y\n0,2,x\n1,4,z\n2,6,x\n",
			[]string{"    - {name: a, type: int64}", "  allow_extra_columns: true         # not read: a column (no name in the header (an index written by pandas?))"}, nil},
		{"file name", "_données 2024!.csv", "y,x\n1,2\n0,3\n",
			[]string{"name: donn-es-2024"}, nil},
		{"years only", "years.csv", years(),
			[]string{"#   t: only its month or year differ, and the test period's are unseen in training"}, nil},
		{"zoned times", "zoned.csv", "y,t\n1,2020-01-01T00:00:00Z\n0,2020-01-02T05:00:00+02:00\n1,2021-03-04\n",
			[]string{`    - {name: t, type: "timestamp[us]"}  # times with a zone (Z or an offset) are read as the wall clock they name there; set timezone to convert them to one zone`}, nil},
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, c.file)
			if err := os.WriteFile(path, []byte(c.text), 0o644); err != nil {
				t.Fatal(err)
			}
			b, err := draft.Write(context.Background(), ingest.Source{Path: path}, draft.Options{Label: "y"})
			if c.err != nil {
				if !errors.Is(err, c.err) || !strings.Contains(err.Error(), c.want[0]) {
					t.Fatalf("got %v, want %v with %q", err, c.err, c.want[0])
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range c.want {
				if !strings.Contains(string(b), line+"\n") {
					t.Errorf("the draft lacks the line %s\n%s", line, b)
				}
			}
		})
	}
}

// years is a CSV of a label and the first of January of 20 years.
func years() string {
	var b strings.Builder
	b.WriteString("y,t,x\n")
	for i := range 20 {
		fmt.Fprintf(&b, "%d,%d-01-01,%d\n", i%2, 2000+i, i%7)
	}
	return b.String()
}
