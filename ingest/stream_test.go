package ingest_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/mlpipe/mlpipe/ingest"
)

// The tests of the streaming pieces: each fed a table chunk by chunk
// must give what its whole-table counterpart gives, for every chunking.

// chunkSizes are the chunkings tried: 0 is the table as one chunk.
var chunkSizes = []int64{0, 1, 7, 1000}

// chunks returns tbl's rows as tables of size rows (the last shorter),
// or tbl itself if size is 0. The caller releases them.
func chunks(t testing.TB, tbl arrow.Table, size int64) []arrow.Table {
	t.Helper()
	if size == 0 {
		tbl.Retain()
		return []arrow.Table{tbl}
	}
	tr := array.NewTableReader(tbl, size)
	defer tr.Release()
	var out []arrow.Table
	for tr.Next() {
		out = append(out, array.NewTableFromRecords(tbl.Schema(), []arrow.Record{tr.Record()}))
	}
	if len(out) == 0 {
		t.Fatal("no chunks")
	}
	return out
}

func releaseAll(tables []arrow.Table) {
	for _, t := range tables {
		t.Release()
	}
}

// mixedTable is n seeded random rows of every contract type, each column
// with nulls: floats with NaN and infinities, times out of order, short,
// empty and (every 500th row) 70 kB strings, longer than the
// fingerprint's write buffer.
func mixedTable(t testing.TB, n int) arrow.Table {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	mem := memory.DefaultAllocator
	ib := array.NewInt64Builder(mem)
	fb := array.NewFloat64Builder(mem)
	tb := array.NewTimestampBuilder(mem, &arrow.TimestampType{Unit: arrow.Microsecond})
	bb := array.NewBooleanBuilder(mem)
	sb := array.NewStringBuilder(mem)
	long := strings.Repeat("x", 70<<10)
	start := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		null := func() bool { return rng.IntN(10) == 0 }
		if null() {
			ib.AppendNull()
		} else {
			ib.Append(rng.Int64() - math.MaxInt64/2)
		}
		switch {
		case null():
			fb.AppendNull()
		case i%97 == 0:
			fb.Append([]float64{math.NaN(), math.Inf(1), math.Inf(-1), 0}[i%4])
		default:
			fb.Append(rng.NormFloat64())
		}
		if null() {
			tb.AppendNull()
		} else {
			tb.Append(arrow.Timestamp(start.Add(time.Duration(rng.IntN(180*24)) * time.Hour).UnixMicro()))
		}
		if null() {
			bb.AppendNull()
		} else {
			bb.Append(rng.IntN(2) == 0)
		}
		switch {
		case null():
			sb.AppendNull()
		case i%500 == 0:
			sb.Append(long)
		default:
			sb.Append(strings.Repeat("ab", rng.IntN(4)))
		}
	}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "n", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "x", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "date", Type: &arrow.TimestampType{Unit: arrow.Microsecond}, Nullable: true},
		{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	var cols []arrow.Array
	for _, b := range []array.Builder{ib, fb, tb, bb, sb} {
		cols = append(cols, b.NewArray())
		b.Release()
	}
	rec := array.NewRecord(schema, cols, int64(n))
	for _, c := range cols {
		c.Release()
	}
	tbl := array.NewTableFromRecords(schema, []arrow.Record{rec})
	rec.Release()
	t.Cleanup(tbl.Release)
	return tbl
}

// TestFingerprinter feeds tables to a Fingerprinter in chunks of several
// sizes: each chunking gives Fingerprint of the whole table, which is
// pinned for the 10,000-row fixture (the value Fingerprint gave before
// it was built on the Fingerprinter), so that an encoding change shows.
func TestFingerprinter(t *testing.T) {
	ctx := context.Background()
	ds, err := load(t, "../testdata/flights-10k.parquet", flights(t).Schema)
	if err != nil {
		t.Fatal(err)
	}
	const flightsSum = "sha256:ed458fe1d8420a827ec715aae98e2e8a000376bd3ae02c0810684e817b76c173"
	if got, _ := ingest.Fingerprint(ctx, ds.Table); got != flightsSum {
		t.Errorf("flights-10k fingerprint %s, want %s", got, flightsSum)
	}
	for _, tc := range []struct {
		name string
		tbl  arrow.Table
	}{{"flights", ds.Table}, {"mixed", mixedTable(t, 3000)}} {
		want, err := ingest.Fingerprint(ctx, tc.tbl)
		if err != nil {
			t.Fatal(err)
		}
		for _, size := range chunkSizes {
			parts := chunks(t, tc.tbl, size)
			f := ingest.NewFingerprinter(tc.tbl.Schema())
			for _, p := range parts {
				if err := f.Add(ctx, p); err != nil {
					t.Fatal(err)
				}
			}
			releaseAll(parts)
			if got := f.Sum(); got != want {
				t.Errorf("%s in chunks of %d: %s, want %s", tc.name, size, got, want)
			}
		}
	}
}

// TestFingerprinterErrors: a chunk of another schema, and a cancelled
// context, are errors.
func TestFingerprinterErrors(t *testing.T) {
	tbl := mixedTable(t, 10)
	f := ingest.NewFingerprinter(smallTable(t).Schema())
	if err := f.Add(context.Background(), tbl); err == nil {
		t.Error("a chunk of another schema: no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f = ingest.NewFingerprinter(tbl.Schema())
	if err := f.Add(ctx, tbl); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
}
