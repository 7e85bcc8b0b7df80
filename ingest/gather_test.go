package ingest_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/compute"
	"github.com/apache/arrow/go/v17/arrow/ipc"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/ingest"
)

// countingAllocator counts the bytes asked of it: how much a split copies.
type countingAllocator struct {
	memory.Allocator
	bytes atomic.Int64
}

func (a *countingAllocator) Allocate(size int) []byte {
	a.bytes.Add(int64(size))
	return a.Allocator.Allocate(size)
}

func (a *countingAllocator) Reallocate(size int, b []byte) []byte {
	a.bytes.Add(int64(size))
	return a.Allocator.Reallocate(size, b)
}

// shuffledTiles is the 10,000-row fixture tiled tiles times, the rows in
// a seeded random order, as one chunk per column, and the same rows cut
// into chunks of chunkRows (zero-copy slices of it).
func shuffledTiles(t testing.TB, tiles, chunkRows int64) (whole, chunked arrow.Table) {
	t.Helper()
	cfg := flights(t)
	ds, err := load(t, "../testdata/flights-10k.parquet", cfg.Schema)
	if err != nil {
		t.Fatal(err)
	}
	n := ds.Table.NumRows()
	perm := rand.New(rand.NewPCG(1, 2)).Perm(int(n * tiles))
	idx := make([]int64, len(perm))
	for i, p := range perm {
		idx[i] = int64(p) % n
	}
	b := array.NewInt64Builder(memory.DefaultAllocator)
	b.AppendValues(idx, nil)
	ia := b.NewArray()
	b.Release()
	defer ia.Release()
	one := concat(t, ds.Table) // one chunk per column
	out, err := compute.Take(context.Background(), *compute.DefaultTakeOptions(), compute.NewDatum(one), compute.NewDatum(ia))
	if err != nil {
		t.Fatal(err)
	}
	whole = out.(*compute.TableDatum).Value
	t.Cleanup(whole.Release)
	r := array.NewTableReader(whole, chunkRows)
	defer r.Release()
	var recs []arrow.Record
	for r.Next() {
		rec := r.Record()
		rec.Retain()
		recs = append(recs, rec)
	}
	chunked = array.NewTableFromRecords(whole.Schema(), recs)
	for _, rec := range recs {
		rec.Release()
	}
	t.Cleanup(chunked.Release)
	if got, want := len(chunked.Column(0).Data().Chunks()), (n*tiles+chunkRows-1)/chunkRows; int64(got) != want {
		t.Fatalf("%d chunks, want %d", got, want)
	}
	return whole, chunked
}

// TestSplitAnyOrder: on 100,000 shuffled rows in 1,000 chunks, the split
// and TimeSlice give the right rows and copy each kept row about once.
// The work is bounded by the bytes they allocate, not timed: one copy of
// the rows kept (every row goes to one split), plus up to 64 bytes of
// padding per buffer made (Arrow rounds each buffer up to 64 bytes; a
// validity bitmap of 33 rows takes 64), plus 25% (builders round their
// capacity up, and outputs get bitmaps the input had none of; measured:
// 21% on one chunk). Arrow's own Take over the same
// table asked for 697 MB, 180 copies: its string kernel is quadratic.
func TestSplitAnyOrder(t *testing.T) {
	cfg := flights(t)
	tiles, chunkRows := anyOrderTiles()
	whole, chunked := shuffledTiles(t, tiles, chunkRows)
	once := tableBytes(whole)
	limit := func(tables ...arrow.Table) int64 {
		var rows, buffers int64
		for _, t := range tables {
			rows += t.NumRows()
			for j := 0; j < int(t.NumCols()); j++ {
				for _, ch := range t.Column(j).Data().Chunks() {
					buffers += int64(len(ch.Data().Buffers()))
				}
			}
		}
		return int64(1.25*float64(once*rows/whole.NumRows())) + 64*buffers
	}

	// The expected split sizes, from the raw time column.
	var want [3]int64
	for _, ch := range whole.Column(0).Data().Chunks() {
		for _, v := range ch.(*array.Timestamp).TimestampValues() {
			switch at := time.UnixMicro(int64(v)).UTC(); {
			case at.Before(cfg.Split.ValidFrom):
				want[0]++
			case at.Before(cfg.Split.TestFrom):
				want[1]++
			default:
				want[2]++
			}
		}
	}
	if want != [3]int64{tiles * (janRows + febRows + marRows + aprRows), tiles * mayRows, tiles * junRows} {
		t.Fatalf("split sizes %v disagree with the monthly fixtures", want)
	}

	for _, tc := range []struct {
		name string
		tbl  arrow.Table
	}{{"one chunk", whole}, {"1000 chunks", chunked}} {
		t.Run(tc.name, func(t *testing.T) {
			mem := &countingAllocator{Allocator: memory.NewGoAllocator()}
			ctx := compute.WithAllocator(context.Background(), mem)
			sp, err := ingest.Split(ctx, tc.tbl, cfg.Split)
			if err != nil {
				t.Fatal(err)
			}
			defer sp.Release()
			for k, nt := range sp.Tables() {
				if nt.Table.NumRows() != want[k] {
					t.Errorf("%s: %d rows, want %d", nt.Name, nt.Table.NumRows(), want[k])
				}
			}
			if lo, hi, _ := ingest.TimeBounds(sp.Valid, "date"); lo.Month() != time.May || hi.Month() != time.May {
				t.Errorf("validation spans %s .. %s, want May", lo, hi)
			}
			if got, max := mem.bytes.Load(), limit(sp.Train, sp.Valid, sp.Test); got > max {
				t.Errorf("split allocated %d bytes, want at most %d (one copy of the table is %d)", got, max, once)
			}

			mem.bytes.Store(0)
			june, err := ingest.TimeSlice(ctx, tc.tbl, "date", cfg.Split.TestFrom, cfg.Split.TestFrom.AddDate(0, 1, 0))
			if err != nil {
				t.Fatal(err)
			}
			defer june.Release()
			if june.NumRows() != want[2] {
				t.Errorf("time slice: %d rows, want %d", june.NumRows(), want[2])
			}
			if got, max := mem.bytes.Load(), limit(june); got > max {
				t.Errorf("time slice allocated %d bytes, want at most %d", got, max)
			}
		})
	}
}

// anyOrderTiles is the tiles of the 10,000-row fixture and the rows of a
// chunk that TestSplitAnyOrder and TestWindowAnyOrder read: 100,000 rows
// in 1,000 chunks, or under -short (make test's race detector run, where
// the two took a minute) 20,000 rows in 1,000 chunks.
func anyOrderTiles() (tiles, chunkRows int64) {
	if testing.Short() {
		return 2, 20
	}
	return 10, 100
}

// BenchmarkSplitShuffled splits shuffled rows at three sizes, in chunks
// of 65,536 rows (a Parquet reader's batch): the time per row must not
// grow with the size. Measured at 91671b8 (Arrow's Take) and then with
// gather, one after the other on a machine at load 26: 1.27 s, 8.19 s and
// 36.8 s at 100k, 200k and 400k rows (quadratic), against 0.13, 0.20 and
// 0.27 s.
func BenchmarkSplitShuffled(b *testing.B) {
	cfg := flights(b)
	for _, tiles := range []int64{10, 20, 40} {
		_, chunked := shuffledTiles(b, tiles, 1<<16)
		b.Run(fmt.Sprintf("rows=%d", chunked.NumRows()), func(b *testing.B) {
			for b.Loop() {
				sp, err := ingest.Split(context.Background(), chunked, cfg.Split)
				if err != nil {
					b.Fatal(err)
				}
				sp.Release()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(chunked.NumRows()), "ns/row")
		})
	}
}

// TestWindowAnyOrder: the window filter of a load keeps the right rows of
// 100,000 shuffled rows read as one record batch and as 1,000, and copies
// each kept row about once. The work is bounded by bytes allocated, as in
// TestSplitAnyOrder: what the load with the window asks of the allocator
// beyond the same load without it is at most one copy of the rows kept
// (with the same allowance for padding and rounding).
func TestWindowAnyOrder(t *testing.T) {
	cfg := flights(t)
	tiles, chunkRows := anyOrderTiles()
	whole, chunked := shuffledTiles(t, tiles, chunkRows)
	for _, tc := range []struct {
		name string
		tbl  arrow.Table
	}{{"one chunk", whole}, {"1000 chunks", chunked}} {
		t.Run(tc.name, func(t *testing.T) { windowAnyOrder(t, cfg, tc.tbl) })
	}
}

// windowAnyOrder writes tbl to an Arrow file, a record batch per chunk,
// and checks the window filter of loading it.
func windowAnyOrder(t *testing.T, cfg *config.Config, chunked arrow.Table) {
	path := filepath.Join(t.TempDir(), "shuffled.arrow")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := ipc.NewFileWriter(f, ipc.WithSchema(chunked.Schema()))
	if err != nil {
		t.Fatal(err)
	}
	r := array.NewTableReader(chunked, chunked.NumRows())
	for r.Next() {
		if err := w.Write(r.Record()); err != nil {
			t.Fatal(err)
		}
	}
	r.Release()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	june := cfg.Split.TestFrom
	var want int64
	for _, ch := range chunked.Column(0).Data().Chunks() {
		for _, v := range ch.(*array.Timestamp).TimestampValues() {
			if !time.UnixMicro(int64(v)).UTC().Before(june) {
				want++
			}
		}
	}
	loadWith := func(win ingest.Window) (*ingest.Dataset, int64) {
		mem := &countingAllocator{Allocator: memory.NewGoAllocator()}
		ds, err := ingest.Load(context.Background(), ingest.Source{Path: path, Window: win}, cfg.Schema,
			&ingest.Options{Parallelism: 1, Allocator: mem})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(ds.Release)
		return ds, mem.bytes.Load()
	}
	all, base := loadWith(ingest.Window{})
	if got, want := len(all.Table.Column(0).Data().Chunks()), len(chunked.Column(0).Data().Chunks()); got != want {
		t.Fatalf("the load has %d chunks, want %d", got, want)
	}
	kept, withWindow := loadWith(ingest.Window{Column: "date", Since: june})
	if kept.Table.NumRows() != want {
		t.Errorf("window kept %d rows, want %d", kept.Table.NumRows(), want)
	}
	if lo, _, _ := ingest.TimeBounds(kept.Table, "date"); lo.Before(june) {
		t.Errorf("window kept a row at %s, before %s", lo, june)
	}
	var buffers int64
	for j := 0; j < int(kept.Table.NumCols()); j++ {
		for _, ch := range kept.Table.Column(j).Data().Chunks() {
			buffers += int64(len(ch.Data().Buffers()))
		}
	}
	once := tableBytes(all.Table)
	if extra, max := withWindow-base, int64(1.25*float64(once*want/all.Table.NumRows()))+64*buffers; extra > max {
		t.Errorf("the window allocated %d bytes, want at most %d (one copy of the table is %d)", extra, max, once)
	}
}
