package ingest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
)

// flightsSchema is configs/flights.yaml's schema contract.
var flightsSchema = Schema{Columns: []ColumnSpec{
	{Name: "date", Type: "timestamp[us]"}, {Name: "delay", Type: "int64"}, {Name: "distance", Type: "int64"},
	{Name: "origin", Type: "string"}, {Name: "destination", Type: "string"},
}}

// scanAll scans src and returns the chunks' tables joined, and the chunks
// (with their tables released).
func scanAll(t *testing.T, src Source, schema Schema) (arrow.Table, []Chunk, error) {
	t.Helper()
	var tables []arrow.Table
	var chunks []Chunk
	err := Scan(context.Background(), src, schema, &Options{Parallelism: 3}, func(c *Chunk) error {
		c.Table.Retain()
		tables = append(tables, c.Table)
		chunks = append(chunks, *c)
		return nil
	})
	target, _ := schema.ArrowSchema()
	tbl := concatTables(target, tables)
	for _, tt := range tables {
		tt.Release()
	}
	t.Cleanup(tbl.Release)
	return tbl, chunks, err
}

// TestScanMatchesLoad: scanning every format and layout of the fixture
// gives Load's rows in Load's order (the same fingerprint), with chunks
// that say where their rows come from.
func TestScanMatchesLoad(t *testing.T) {
	ctx := context.Background()
	for _, path := range []string{
		"../testdata/flights-10k.parquet", "../testdata/flights-10k.arrow", "../testdata/flights-10k.arrows",
		"../testdata/flights-10k.csv", "../testdata/flights-10k.jsonl", "../testdata/monthly", "../testdata/monthly-csv/*.csv",
	} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			ds, err := Load(ctx, Source{Path: path}, flightsSchema, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ds.Release()
			want, _ := Fingerprint(ctx, ds.Table)
			tbl, chunks, err := scanAll(t, Source{Path: path}, flightsSchema)
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := Fingerprint(ctx, tbl); got != want || tbl.NumRows() != ds.Table.NumRows() {
				t.Fatalf("scan: %d rows, fingerprint %s; load: %d rows, %s", tbl.NumRows(), got, ds.Table.NumRows(), want)
			}
			var at int64 // the Load row of the chunk's first row
			for _, c := range chunks {
				n := c.Table.NumRows()
				part, fileRow, group := ds.Locate(at)
				if part.Path != c.File || (c.Lines == nil && (c.Row != fileRow || c.Group != group)) {
					t.Errorf("chunk at row %d: %s row %d group %d; load says %s row %d group %d", at, c.File, c.Row, c.Group, part.Path, fileRow, group)
				}
				header := int64(0) // a CSV file's first row is on line 2
				if c.Format == FormatCSV {
					header = 1
				}
				if c.Lines != nil && (len(c.Lines) != int(n) || c.Lines[0] != fileRow+header) {
					t.Errorf("chunk at row %d: %d lines for %d rows, the first %d; want line %d", at, len(c.Lines), n, c.Lines[0], fileRow+header)
				}
				at += n
			}
		})
	}
}

// TestScanBadRows: a CSV with a ragged line and unparseable values
// scans to the end; the good rows are in the tables, the ragged line is
// not, and every problem is an issue naming its line (and column).
func TestScanBadRows(t *testing.T) {
	csv := "date,delay,distance,origin,destination\n" +
		"2001-01-01T08:00:00,5,300,ORD,SFO\n" +
		"2001-01-01T09:00:00,x,300,ORD,SFO\n" + // line 3: delay is not an int64
		"2001-01-01T10:00:00,5,300,ORD\n" + // line 4: ragged
		"not a date,5,300,ORD,SFO\n" + // line 5
		"2001-01-01T11:00:00,7,400,\"O\nRD\",SFO\n" // lines 6-7: a quoted line break
	path := filepath.Join(t.TempDir(), "bad.csv")
	if err := os.WriteFile(path, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	tbl, chunks, err := scanAll(t, Source{Path: path}, flightsSchema)
	if err != nil {
		t.Fatal(err)
	}
	if tbl.NumRows() != 4 {
		t.Fatalf("%d rows, want 4 (the ragged line left out)", tbl.NumRows())
	}
	var issues []string
	for _, c := range chunks {
		for _, is := range c.Issues {
			issues = append(issues, is.String())
		}
		if !slices.Equal(c.Lines, []int64{2, 3, 5, 6}) {
			t.Errorf("lines %v, want [2 3 5 6]", c.Lines)
		}
	}
	for i, want := range []string{`line 3, column "delay"`, "line 4: the row has 4 fields", `line 5, column "date"`} {
		if i >= len(issues) || !strings.Contains(issues[i], want) {
			t.Errorf("issue %d: %q, want it to contain %q (all: %q)", i, issues, want, issues)
		}
	}
	origin := tbl.Column(3).Data().Chunk(0).(*array.String)
	if origin.Value(3) != "O\nRD" {
		t.Errorf("the quoted value is %q", origin.Value(3))
	}
}

// TestBlocks: blocks end at line ends outside quotes, a row longer than
// the block size grows the block, and the lines are counted.
func TestBlocks(t *testing.T) {
	text := "a,b\n1,\"x\ny\"\n22,3\n" + strings.Repeat("9", 40) + ",1\n4,5"
	for _, size := range []int{1, 3, 8, 64} {
		b := &blocks{r: strings.NewReader(text), size: size, csv: true, line: 1}
		var got []string
		var lines []int64
		for {
			blk, line, err := b.next()
			if err != nil {
				t.Fatal(err)
			}
			if blk == nil {
				break
			}
			got = append(got, string(blk))
			lines = append(lines, line)
		}
		if strings.Join(got, "") != text {
			t.Fatalf("size %d: blocks %q do not make the text", size, got)
		}
		for i, blk := range got {
			if i < len(got)-1 && !strings.HasSuffix(blk, "\n") || strings.Count(blk, "\"")%2 != 0 {
				t.Errorf("size %d: block %q does not end a row", size, blk)
			}
			want := int64(1 + strings.Count(strings.Join(got[:i], ""), "\n"))
			if lines[i] != want {
				t.Errorf("size %d: block %d starts at line %d, want %d", size, i, lines[i], want)
			}
		}
	}
}

// TestScanStops: an error from fn stops the scan and comes back as it
// is; a structural problem is an InvalidError.
func TestScanStops(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := Scan(context.Background(), Source{Path: "../testdata/monthly"}, flightsSchema, nil, func(*Chunk) error {
		n++
		return stop
	})
	if err != stop || n != 1 {
		t.Errorf("err %v after %d chunks, want stop after 1", err, n)
	}
	missing := Schema{Columns: append(slices.Clone(flightsSchema.Columns), ColumnSpec{Name: "tail", Type: "string"})}
	err = Scan(context.Background(), Source{Path: "../testdata/flights-10k.parquet"}, missing, nil, func(*Chunk) error { return nil })
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "tail") {
		t.Errorf("a missing column: %v", err)
	}
}
