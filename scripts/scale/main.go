// Command scale builds the scaling inputs of issue 23: the real flights
// rows of data/flights-3m.parquet tiled to 6M, 12M and 30M rows. Run it
// from the repository root:
//
//	go run ./scripts/scale -out /tmp/scale            # 6M, 12M and 30M
//	go run ./scripts/scale -out /tmp/scale -sizes 6   # 6M only
//
// It writes -out/flights-{N}m.parquet (do not commit them: 30, 61 and
// 152 MB; 22 s for 12M rows, 89 s for 30M on this 2-core VM under load). Tile k (k = 0, 1, ...) is the whole input with every date
// moved k whole years back (time.AddDate(-k, 0, 0)), so the newest tile is
// the input itself: the default config's time split (train before May
// 2001, validation May, test June 2001) keeps the same validation and
// test rows and trains on more history, and the split stays meaningful.
// The rows are not in time order: the output's row groups take the
// input's row groups in turn, and each turn writes that row group of
// every tile, newest first (Jan 2001, Jan 2000, ..., then the next row
// group), the way several yearly exports concatenated, or files read in
// parallel, arrive.
//
// The output has the input's schema and ZSTD compression, and is made one
// input row group at a time (memory stays at about one row group). It is
// deterministic: the same input gives the same bytes.
//
// Measured with it (`mlpipe ingest --config configs/flights.yaml --data
// /tmp/scale/flights-Nm.parquet`), the split stage of unsorted rows took
// 0.56 s at 6M, 1.34 s at 12M and 3.19 s at 30M (wall, machine at load
// 26), against issue 23's 168 s at 6M and 614 s at 12M before.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/compress"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
)

func main() {
	in := flag.String("in", "data/flights-3m.parquet", "the input Parquet file")
	out := flag.String("out", "", "the output directory (required)")
	sizes := flag.String("sizes", "6,12,30", "output sizes in millions of rows, multiples of the input's size")
	flag.Parse()
	if err := run(context.Background(), *in, *out, *sizes); err != nil {
		fmt.Fprintln(os.Stderr, "scale:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, in, out, sizes string) error {
	if out == "" {
		return errors.New("-out is required")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	f, err := file.OpenParquetFile(in, false)
	if err != nil {
		return err
	}
	defer f.Close()
	rows := f.NumRows()
	for _, s := range strings.Split(sizes, ",") {
		m, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || m <= 0 || int64(m)*1_000_000%rows != 0 {
			return fmt.Errorf("size %q: want a positive multiple of the input's %d rows, in millions", s, rows)
		}
		tiles := int(int64(m) * 1_000_000 / rows)
		path := filepath.Join(out, fmt.Sprintf("flights-%dm.parquet", m))
		start := time.Now()
		if err := write(ctx, f, path, tiles); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		fmt.Printf("%s: %d rows (%d tiles) in %.1fs\n", path, int64(tiles)*rows, tiles, time.Since(start).Seconds())
	}
	return nil
}

// write writes tiles shifted copies of the input to path, row group by
// row group.
func write(ctx context.Context, f *file.Reader, path string, tiles int) error {
	fr, err := pqarrow.NewFileReader(f, pqarrow.ArrowReadProperties{BatchSize: 64 << 10}, memory.DefaultAllocator)
	if err != nil {
		return err
	}
	schema, err := fr.Schema()
	if err != nil {
		return err
	}
	dateCol := schema.FieldIndices("date")
	if len(dateCol) != 1 {
		return errors.New("the input has no date column")
	}
	leaves := make([]int, f.MetaData().Schema.NumColumns())
	for i := range leaves {
		leaves[i] = i
	}
	tmp := path + ".tmp"
	w, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd), parquet.WithDictionaryDefault(true))
	pw, err := pqarrow.NewFileWriter(schema, w, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		w.Close()
		return err
	}
	for rg := 0; rg < f.NumRowGroups(); rg++ {
		tbl, err := fr.ReadRowGroups(ctx, leaves, []int{rg})
		if err != nil {
			pw.Close()
			return err
		}
		for k := 0; k < tiles; k++ {
			shifted := shiftYears(tbl, dateCol[0], -k)
			err := pw.WriteTable(shifted, shifted.NumRows())
			shifted.Release()
			if err != nil {
				tbl.Release()
				pw.Close()
				return err
			}
		}
		tbl.Release()
	}
	if err := pw.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// shiftYears returns tbl with column j (naive timestamps, microseconds)
// moved by years whole years.
func shiftYears(tbl arrow.Table, j, years int) arrow.Table {
	if years == 0 {
		tbl.Retain()
		return tbl
	}
	cols := make([]arrow.Column, tbl.NumCols())
	for c := range cols {
		col := tbl.Column(c)
		if c != j {
			col.Retain()
			cols[c] = *col
			continue
		}
		var chunks []arrow.Array
		for _, ch := range col.Data().Chunks() {
			a := ch.(*array.Timestamp)
			b := array.NewTimestampBuilder(memory.DefaultAllocator, a.DataType().(*arrow.TimestampType))
			b.Reserve(a.Len())
			for i, v := range a.TimestampValues() {
				if a.IsNull(i) {
					b.AppendNull()
					continue
				}
				t := time.UnixMicro(int64(v)).UTC().AddDate(years, 0, 0)
				b.Append(arrow.Timestamp(t.UnixMicro()))
			}
			chunks = append(chunks, b.NewArray())
			b.Release()
		}
		ch := arrow.NewChunked(col.DataType(), chunks)
		for _, a := range chunks {
			a.Release()
		}
		cols[c] = *arrow.NewColumn(col.Field(), ch)
		ch.Release()
	}
	out := array.NewTable(tbl.Schema(), cols, tbl.NumRows())
	for c := range cols {
		cols[c].Release()
	}
	return out
}
