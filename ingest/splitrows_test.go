package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"

	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/internal/tables"
)

// shuffledSources writes the fixture's rows out of time order to
// t.TempDir() as one Parquet file of 777-row row groups, and as four CSV
// files of 2,500 rows (a text file is one chunk, being under Scan's
// block size): two sources that Scan reads in many chunks.
func shuffledSources(t *testing.T) map[string]ingest.Source {
	t.Helper()
	whole, _ := shuffledTiles(t, 1, 10000)
	dir := t.TempDir()
	pq := filepath.Join(dir, "shuffled.parquet")
	f, err := os.Create(pq)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pqarrow.NewFileWriter(whole.Schema(), f, parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(777)), pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteTable(whole, 777); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	csvDir := filepath.Join(dir, "csv")
	if err := os.Mkdir(csvDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for k := int64(0); k < 4; k++ {
		part := tables.Slice(whole, k*2500, (k+1)*2500)
		writeCSV(t, filepath.Join(csvDir, fmt.Sprintf("part-%d.csv", k)), part)
		part.Release()
	}
	return map[string]ingest.Source{"parquet": {Path: pq}, "csv": {Path: csvDir}}
}

// writeCSV writes tbl (timestamps, integers and strings without commas
// or quotes) as a CSV file with a header.
func writeCSV(t *testing.T, path string, tbl arrow.Table) {
	t.Helper()
	var b strings.Builder
	for j, f := range tbl.Schema().Fields() {
		if j > 0 {
			b.WriteByte(',')
		}
		b.WriteString(f.Name)
	}
	b.WriteByte('\n')
	tr := array.NewTableReader(tbl, tbl.NumRows())
	defer tr.Release()
	for tr.Next() {
		rec := tr.Record()
		for i := 0; i < int(rec.NumRows()); i++ {
			for j, col := range rec.Columns() {
				if j > 0 {
					b.WriteByte(',')
				}
				if col.IsNull(i) {
					continue
				}
				switch a := col.(type) {
				case *array.Timestamp:
					b.WriteString(time.UnixMicro(int64(a.Value(i))).UTC().Format("2006-01-02T15:04:05.999999"))
				default:
					b.WriteString(a.ValueStr(i))
				}
			}
			b.WriteByte('\n')
		}
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// keepDelay is a keep rule for the tests: the rows whose delay is not a
// multiple of 3 (the rows without a value are dropped too).
func keepDelay(c *ingest.Chunk) ([]bool, error) {
	j := c.Table.Schema().FieldIndices("delay")[0]
	var keep []bool
	for _, a := range c.Table.Column(j).Data().Chunks() {
		d := a.(*array.Int64)
		for i := 0; i < d.Len(); i++ {
			keep = append(keep, d.IsValid(i) && d.Value(i)%3 != 0)
		}
	}
	return keep, nil
}

// kept is the rows of tbl that keepDelay keeps, as one table.
func kept(t *testing.T, tbl arrow.Table) arrow.Table {
	t.Helper()
	mask, _ := keepDelay(&ingest.Chunk{Table: tbl})
	var rows []int32
	for i, k := range mask {
		if k {
			rows = append(rows, int32(i))
		}
	}
	out, err := ingest.TakeRows(context.Background(), tbl, rows)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(out.Release)
	return out
}

// TestSplitRows: the ranges of each split of a source read by SplitRows,
// for several range sizes, with and without a keep rule, are the rows of
// that split of Load's table as Split gives them (value for value: the
// same fingerprint), in ranges of exactly the size asked for; and Take
// gives what TakeRows gives of the split's table.
func TestSplitRows(t *testing.T) {
	ctx := context.Background()
	schema := flights(t).Schema
	sizes := []int{1, 3, 1000, 65536}
	if testing.Short() {
		// make test's run under the race detector: ranges of one row
		// are most of this test's time there, and the run without
		// -short has checked them.
		sizes = []int{3, 65536}
	}
	for format, src := range shuffledSources(t) {
		ds, err := load(t, src.Path, schema)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		if err := ingest.Scan(ctx, src, schema, nil, func(*ingest.Chunk) error { n++; return nil }); err != nil || n < 4 {
			t.Fatalf("%s: %d chunks (%v), want several", format, n, err)
		}
		for _, keep := range []bool{false, true} {
			tbl, rule := ds.Table, (func(*ingest.Chunk) ([]bool, error))(nil)
			if keep {
				tbl, rule = kept(t, ds.Table), keepDelay
			}
			for _, tc := range splitCases(t) {
				last := latest(tbl, "date")
				sp, err := ingest.Split(ctx, tbl, tc.spec)
				if err != nil {
					t.Fatal(err)
				}
				for k, nt := range sp.Tables() {
					name := fmt.Sprintf("%s keep=%v %s %s", format, keep, tc.name, nt.Name)
					want, err := ingest.Fingerprint(ctx, nt.Table)
					if err != nil {
						t.Fatal(err)
					}
					s, err := ingest.SplitRows(src, schema, nil, tc.spec, last, k, nt.Table.NumRows(), rule)
					if err != nil {
						t.Fatal(err)
					}
					for _, size := range sizes {
						f := ingest.NewFingerprinter(s.Schema())
						var next int64
						err := s.Ranges(ctx, size, func(off int64, part arrow.Table) error {
							if off != next || (part.NumRows() != int64(size) && off+part.NumRows() != s.NumRows()) {
								return fmt.Errorf("a range of %d rows at %d (next %d)", part.NumRows(), off, next)
							}
							next += part.NumRows()
							return f.Add(ctx, part)
						})
						if err != nil {
							t.Fatalf("%s, ranges of %d: %v", name, size, err)
						}
						if got := f.Sum(); got != want || next != nt.Table.NumRows() {
							t.Errorf("%s, ranges of %d: %d rows %s, want %d %s", name, size, next, got, nt.Table.NumRows(), want)
						}
					}
					var rows []int32
					for i := int32(0); i < int32(nt.Table.NumRows()); i += 7 {
						rows = append(rows, i)
					}
					if r := int32(nt.Table.NumRows() - 1); rows[len(rows)-1] != r {
						rows = append(rows, r)
					}
					for _, rows := range [][]int32{rows, rows[len(rows)/2 : len(rows)/2+1], nil} {
						got, err := s.Take(ctx, rows)
						if err != nil {
							t.Fatal(err)
						}
						ref, err := ingest.TakeRows(ctx, nt.Table, rows)
						if err != nil {
							t.Fatal(err)
						}
						if g, w := describe(t, got), describe(t, ref); g != w {
							t.Errorf("%s: take %d rows: %s, want %s", name, len(rows), g, w)
						}
						got.Release()
						ref.Release()
					}
				}
				sp.Release()
			}
		}
	}
}

// TestSplitRowsStops: an error from fn stops the reading and comes back
// as it is; a cancelled context stops it; a source with a time window, a
// changed row count, a bad keep rule and bad rows to take are errors.
func TestSplitRowsStops(t *testing.T) {
	ctx := context.Background()
	schema := flights(t).Schema
	src := shuffledSources(t)["parquet"]
	spec := flights(t).Split
	const trainRows = 6597 // splitCases' "time"
	s, err := ingest.SplitRows(src, schema, nil, spec, time.Time{}, 0, trainRows, nil)
	if err != nil {
		t.Fatal(err)
	}
	stop := errors.New("stop")
	calls := 0
	err = s.Ranges(ctx, 10, func(int64, arrow.Table) error {
		calls++
		if calls == 2 {
			return stop
		}
		return nil
	})
	if err != stop || calls != 2 {
		t.Errorf("err %v after %d ranges, want stop after 2", err, calls)
	}
	cctx, cancel := context.WithCancel(ctx)
	calls = 0
	err = s.Ranges(cctx, 10, func(int64, arrow.Table) error {
		calls++
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) || calls != 1 {
		t.Errorf("cancelled in fn: err %v after %d ranges, want Canceled after 1", err, calls)
	}
	if _, err := s.Take(cctx, []int32{5000}); !errors.Is(err, context.Canceled) {
		t.Errorf("take, cancelled: err %v", err)
	}
	if _, err := s.Take(ctx, []int32{3, 3}); err == nil {
		t.Error("take of rows not ascending: no error")
	}
	if _, err := s.Take(ctx, []int32{trainRows}); err == nil {
		t.Error("take of a row past the end: no error")
	}

	more, err := ingest.SplitRows(src, schema, nil, spec, time.Time{}, 0, trainRows-1, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = more.Ranges(ctx, 100, func(int64, arrow.Table) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "has it changed") {
		t.Errorf("a changed row count: err %v", err)
	}
	bad := func(*ingest.Chunk) ([]bool, error) { return []bool{true}, nil }
	badKeep, err := ingest.SplitRows(src, schema, nil, spec, time.Time{}, 0, trainRows, bad)
	if err != nil {
		t.Fatal(err)
	}
	if err := badKeep.Ranges(ctx, 100, func(int64, arrow.Table) error { return nil }); err == nil || !strings.Contains(err.Error(), "keep gave 1 rows") {
		t.Errorf("a keep rule of the wrong length: err %v", err)
	}

	windowed := src
	windowed.Window = ingest.Window{Column: "date", LastDays: 7}
	if _, err := ingest.SplitRows(windowed, schema, nil, spec, time.Time{}, 0, trainRows, nil); err == nil || !strings.Contains(err.Error(), "time window") {
		t.Errorf("a source with a window: err %v", err)
	}
	if _, err := ingest.SplitRows(src, schema, nil, spec, time.Time{}, 3, trainRows, nil); err == nil {
		t.Error("split 3: no error")
	}
}
