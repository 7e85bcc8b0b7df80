package ingest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// textSchema is the contract of the text fixtures below: an id and a
// city, which may be null.
var textSchema = Schema{Columns: []ColumnSpec{{Name: "id", Type: "int64"}, {Name: "city", Type: "string", Nullable: true}}}

// csvRows is rows from to to of a CSV of textSchema, one a line.
func csvRows(from, to int) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		fmt.Fprintf(&b, "%d,c%d\n", i, i)
	}
	return b.String()
}

// jsonRows is csvRows as JSON Lines.
func jsonRows(from, to int) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		fmt.Fprintf(&b, "{\"id\":%d,\"city\":\"c%d\"}\n", i, i)
	}
	return b.String()
}

func gzipped(s string) string {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.String()
}

func zstded(s string) string {
	var b bytes.Buffer
	zw, _ := zstd.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.String()
}

// loadReport is what a loaded run reports: Load's data error as a
// report, or Validate's report.
func loadReport(t *testing.T, src Source, schema Schema) *Report {
	t.Helper()
	ds, err := Load(context.Background(), src, schema, &Options{Parallelism: 2})
	if err != nil {
		r := ReportFromError(err)
		if r == nil {
			t.Fatalf("load: %v", err)
		}
		return r
	}
	defer ds.Release()
	return Validate(ds, schema, LabelSpec{})
}

// scanReport is what a streamed run reports: Scan's data error as a
// report, or a Validator's report of Scan's chunks. block is the size of
// Scan's text blocks.
func scanReport(t *testing.T, src Source, schema Schema, block int) *Report {
	t.Helper()
	v, err := NewValidator(src, schema, LabelSpec{})
	if err != nil {
		t.Fatal(err)
	}
	err = scan(context.Background(), src, schema, &Options{Parallelism: 2}, block, func(c *Chunk) error {
		v.Add(c)
		return nil
	})
	if err != nil {
		r := ReportFromError(err)
		if r == nil {
			t.Fatalf("scan: %v", err)
		}
		return r
	}
	return v.Report()
}

// TestScanTextLikeLoad: a text file that Load refuses for its text (not
// UTF-8, a NUL byte, CR-only line ends, corrupt compression), or for the
// keys of its JSON Lines, makes Scan stop with the same issues, wherever
// in the file the problem is and whatever the block size; a file Load
// accepts gives the Validator Validate's report. want is in the one
// issue of a failing file, on line line; "" means the file passes.
func TestScanTextLikeLoad(t *testing.T) {
	extra := textSchema
	extra.AllowExtra = true
	country := Schema{Columns: append(append([]ColumnSpec(nil), textSchema.Columns...), ColumnSpec{Name: "country", Type: "string", Nullable: true})}
	full := gzipped("id,city\n" + csvRows(1, 400))
	headless := gzipped(csvRows(1, 400))
	for _, c := range []struct {
		name, file, text string
		schema           Schema
		skip             int
		want             string
		line             int64
		issues           int // issues of a failing file, when not 1
	}{
		{name: "csv ok", file: "a.csv", text: "id,city\n" + csvRows(1, 40)},
		{name: "csv crlf ok", file: "a.csv", text: strings.ReplaceAll("id,city\n"+csvRows(1, 40), "\n", "\r\n")},
		{name: "latin1", file: "a.csv", text: "id,city\n" + csvRows(1, 20) + "21,Z\xe9rich\n" + csvRows(22, 40),
			want: "byte 0xE9 is not UTF-8", line: 22},
		{name: "nul", file: "a.csv", text: "id,city\n" + csvRows(1, 28) + "29,a\x00b\n" + csvRows(30, 40),
			want: "a NUL byte", line: 30},
		{name: "cr only", file: "a.csv", text: "id,city\r1,a\r2,b\r",
			want: "CR alone (classic Mac OS line endings; about 4 lines)", line: 1},
		{name: "cr only, no end", file: "a.csv", text: "id,city\r1,a\r2,b",
			want: "about 3 lines", line: 1},
		// Load names the first NUL byte before the first byte that is
		// not UTF-8, even when it comes after.
		{name: "latin1, then nul", file: "a.csv", text: "id,city\n1,\xe9\n" + csvRows(2, 32) + "33,\x00\n" + csvRows(34, 40),
			want: "a NUL byte", line: 34},
		{name: "cr only, then latin1", file: "a.csv", text: "id,city\r1,a\r2,\xe9\r",
			want: "byte 0xE9", line: 1},
		// The text is checked before the header.
		{name: "latin1 header", file: "a.csv", text: "id,cit\xe9\n" + csvRows(1, 40),
			want: "byte 0xE9", line: 1},
		{name: "missing column, then latin1", file: "a.csv", text: "id,town\n" + csvRows(1, 30) + "31,\xe9\n",
			want: "byte 0xE9", line: 32},
		{name: "latin1 skipped line", file: "a.csv", skip: 1, text: "# r\xe9sum\xe9\nid,city\n" + csvRows(1, 40),
			want: "byte 0xE9", line: 1},
		{name: "bom, then latin1", file: "a.csv", text: "\xef\xbb\xbfid,city\n" + csvRows(1, 30) + "31,\xe9\n",
			want: "byte 0xE9", line: 32},
		{name: "bad rows, then latin1", file: "a.csv", text: "id,city\nx,a\n1,a,b\n" + csvRows(3, 30) + "31,\xe9\n",
			want: "byte 0xE9", line: 32},
		{name: "empty, then nul", file: "a.csv", text: "\n\n\x00\n",
			want: "a NUL byte", line: 3},
		{name: "tsv latin1", file: "a.tsv", text: "id\tcity\n1\ta\n2\t\xe9\n",
			want: "byte 0xE9", line: 3},
		{name: "gzip latin1", file: "a.csv.gz", text: gzipped("id,city\n" + csvRows(1, 30) + "31,\xe9\n"),
			want: "byte 0xE9", line: 32},
		{name: "gzip truncated", file: "a.csv.gz", text: full[:len(full)/2],
			want: "the gzip data is corrupt or truncated"},
		{name: "gzip truncated, no header", file: "a.csv.gz", text: headless[:len(headless)/2],
			want: "the gzip data is corrupt or truncated"},
		{name: "zstd latin1", file: "a.csv.zst", text: zstded("id,city\n" + csvRows(1, 30) + "31,\xe9\n"),
			want: "byte 0xE9", line: 32},

		{name: "jsonl ok", file: "a.jsonl", text: jsonRows(1, 40)},
		{name: "jsonl latin1", file: "a.jsonl", text: jsonRows(1, 30) + "{\"id\":31,\"city\":\"\xe9\"}\n",
			want: "byte 0xE9", line: 31},
		{name: "jsonl nul", file: "a.jsonl", text: jsonRows(1, 30) + "{\"id\":31}\x00\n",
			want: "a NUL byte", line: 31},
		// Load checks every key of the file against the contract.
		{name: "jsonl key not allowed, late", file: "a.jsonl", text: jsonRows(1, 30) + "{\"id\":31,\"zip\":\"x\"}\n" + jsonRows(32, 40),
			want: "unexpected column"},
		{name: "jsonl column first seen late", file: "a.jsonl", text: strings.Repeat("{\"id\":1}\n", 30) + jsonRows(31, 40)},
		{name: "jsonl extra keys allowed, late", file: "a.jsonl", schema: extra,
			text: "{\"id\":1,\"a\":1}\n" + jsonRows(2, 30) + "{\"id\":31,\"e\":1,\"d\":2,\"c\":3,\"b\":4,\"f\":5}\n" + jsonRows(32, 40)},
		{name: "jsonl missing and not allowed", file: "a.jsonl", schema: country,
			text: jsonRows(1, 30) + "{\"zip\":1,\"id\":31,\"aa\":2,\"zz\":3,\"mm\":4}\n" + jsonRows(32, 40),
			want: "unexpected column", issues: 5},
		{name: "jsonl not allowed, then nul", file: "a.jsonl", text: "{\"id\":1,\"zip\":2}\n" + jsonRows(2, 30) + "{\"id\":31}\x00\n",
			want: "a NUL byte", line: 31},
		{name: "jsonl bad rows, then not allowed", file: "a.jsonl", text: "{\"id\":\"x\"}\nnot json\n" + jsonRows(3, 30) + "{\"id\":31,\"zip\":2}\n",
			want: "unexpected column"},
	} {
		for _, block := range []int{scanBlock, 64} {
			t.Run(fmt.Sprintf("%s/block=%d", c.name, block), func(t *testing.T) {
				path := filepath.Join(t.TempDir(), c.file)
				if err := os.WriteFile(path, []byte(c.text), 0o644); err != nil {
					t.Fatal(err)
				}
				schema := c.schema
				if schema.Columns == nil {
					schema = textSchema
				}
				src := Source{Path: path, SkipRows: c.skip}
				want := loadReport(t, src, schema)
				got := scanReport(t, src, schema, block)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("scan reports\n%+v\nload reports\n%+v", got, want)
				}
				if c.want == "" {
					if !want.OK() {
						t.Errorf("load fails: %+v", want.Issues)
					}
					return
				}
				n := c.issues
				if n == 0 {
					n = 1
				}
				if len(want.Issues) != n || want.Errors != n || !strings.Contains(fmt.Sprint(want.Issues), c.want) || want.Issues[0].Line != c.line {
					t.Errorf("load reports %+v; want %d issue(s) with %q, on line %d", want.Issues, n, c.want, c.line)
				}
			})
		}
	}
}

// TestTextCheck: a textCheck given a text a block of lines at a time
// comes to checkText's verdict on the whole text, wherever the blocks
// end.
func TestTextCheck(t *testing.T) {
	for _, text := range []string{
		"a\nb\nc\n", "a\r\nb\r\n", "a\rb\rc", "a\rb\nc\rd\n", "a\nb\rc\r", "\r", "a\r",
		"a\n\xe9\nb\n\x00\n", "\x00\n\xe9\n", "a\n\xe9\n\xe8\n", "a\rb\n\xe9\n", "\xc3\xa9\n\xc3\n",
	} {
		want := checkText("f", []byte(text))
		var ends []int // the line ends: where a block may end
		for i := range len(text) {
			if text[i] == '\n' {
				ends = append(ends, i+1)
			}
		}
		// Every way to cut the text at line ends (up to 2^lines).
		for mask := 0; mask < 1<<len(ends); mask++ {
			tc := newTextCheck("f")
			start := 0
			for k, end := range ends {
				if mask&(1<<k) != 0 && end < len(text) {
					tc.add([]byte(text[start:end]))
					start = end
				}
			}
			tc.add([]byte(text[start:]))
			if got := tc.err(); !reflect.DeepEqual(got, want) {
				t.Errorf("%q cut by %b: %v, want %v", text, mask, got, want)
			}
		}
	}
}

// BenchmarkTextCheck is the cost of checkText, which Scan runs on every
// block before it is parsed, on one core: the flights CSV fixture.
func BenchmarkTextCheck(b *testing.B) {
	data, err := os.ReadFile("../testdata/flights-10k.csv")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := checkText("f", data); err != nil {
			b.Fatal(err)
		}
	}
}
