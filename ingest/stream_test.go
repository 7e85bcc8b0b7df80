package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
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

// splitCases are split specs of the flights fixture, with what Split
// gave on shuffledTiles(t, 1, 10000) before it was built on the
// Assigner: each split's rows and fingerprint.
func splitCases(t testing.TB) []splitCase {
	base := flights(t).Split
	until := base
	until.TestUntil = time.Date(2001, 6, 15, 0, 0, 0, 0, time.UTC)
	return []splitCase{
		{"time", base, [3]string{
			"6597 sha256:bbd9618746d36ab17cd6ecaaf1a870a8fa53a8addea93d6e286887c39ce3d4b1",
			"1729 sha256:daca075ee104cb89496c398f3fa7fc80735a461cb74d428948581380cf76214d",
			"1674 sha256:49c053d1adca646d8b417960e1fb5ffbe32ba8035a7cfa6230b8c302651cb211"}},
		{"time until", until, [3]string{
			"6597 sha256:bbd9618746d36ab17cd6ecaaf1a870a8fa53a8addea93d6e286887c39ce3d4b1",
			"1729 sha256:daca075ee104cb89496c398f3fa7fc80735a461cb74d428948581380cf76214d",
			"778 sha256:e11b677d9877a84333780321c02564b6159649953a076eed089d61caf21dc383"}},
		{"time days", ingest.SplitSpec{Column: "date", TestDays: 7, ValidDays: 14}, [3]string{
			"8822 sha256:31f1a40a81c80da65031400e636943aa1cf4663e94325295383929a84cf6c136",
			"780 sha256:a18e0510d086ad26671b81079a2b37ca1003daf36506a3ec737366c9f2258cfa",
			"398 sha256:4a3d60ac0e905fc9de01e9e09983d902e8c49d7f5ff980e159d13576fc699140"}},
		{"random", ingest.SplitSpec{Method: "random", ValidFraction: 0.2, TestFraction: 0.1, Seed: 7}, [3]string{
			"6999 sha256:f00457f39a98e28307b3817cf879c124f3d2f395665e3b27917561b18e7ad660",
			"2019 sha256:ed5f58a557182a3edda8e7722bae635ff5d97fc83f3daba4bfc4009f183746b1",
			"982 sha256:68482a93f3a6a282b1dde10f994ab05b2a4bd4c19a6b16200195f3654cfb1c7c"}},
		// By origin airport: each airport's flights in one split. (The
		// digests were this code's at the change that made groups:
		// they catch a later change of which group goes where.)
		{"random by group", ingest.SplitSpec{Method: "random", ValidFraction: 0.2, TestFraction: 0.1, Seed: 7, Group: "origin"}, [3]string{
			"7374 sha256:6b5a5d6f853d6eb88364bc5d51a16981683113db8b8914069b660c31da54e81e",
			"1336 sha256:b0acc506fac0bcebd936c5796e23ed4f1304abc4b98bfccfbdde80fedb6885ae",
			"1290 sha256:824dc517957e1d21280caf4367c8ad0c3b40a8bf2178c6e617123acb5a3a7410"}},
	}
}

type splitCase struct {
	name string
	spec ingest.SplitSpec
	want [3]string // each split's rows and fingerprint
}

// latest is the latest time of tbl's column, for NewAssigner.
func latest(tbl arrow.Table, column string) time.Time {
	_, hi, _ := ingest.TimeBounds(tbl, column)
	return hi
}

// describe gives a table's rows and fingerprint, as splitCase.want.
func describe(t testing.TB, tbl arrow.Table) string {
	t.Helper()
	f, err := ingest.Fingerprint(context.Background(), tbl)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d %s", tbl.NumRows(), f)
}

// TestSplitPinned: Split on rows out of time order gives what it gave
// before it was built on the Assigner.
func TestSplitPinned(t *testing.T) {
	whole, _ := shuffledTiles(t, 1, 10000)
	for _, tc := range splitCases(t) {
		sp, err := ingest.Split(context.Background(), whole, tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		for k, nt := range sp.Tables() {
			if got := describe(t, nt.Table); got != tc.want[k] {
				t.Errorf("%s: %s: %s, want %s", tc.name, nt.Name, got, tc.want[k])
			}
		}
		sp.Release()
	}
}

// TestAssigner: an Assigner fed a table in chunks of several sizes gives
// each row the split it gives it fed the whole table, which is the
// split Split gives it (the rows it assigns to each split are Split's
// tables), and the same counts.
func TestAssigner(t *testing.T) {
	ctx := context.Background()
	whole, _ := shuffledTiles(t, 1, 10000)
	for _, tc := range splitCases(t) {
		a, err := ingest.NewAssigner(tc.spec, whole.Schema(), latest(whole, "date"))
		if err != nil {
			t.Fatal(err)
		}
		want, err := a.Assign(whole)
		if err != nil {
			t.Fatal(err)
		}
		wantCounts := a.Counts()
		for k := range 3 {
			var rows []int32
			for i, s := range want {
				if int(s) == k {
					rows = append(rows, int32(i))
				}
			}
			part, err := ingest.TakeRows(ctx, whole, rows)
			if err != nil {
				t.Fatal(err)
			}
			if got := describe(t, part); got != tc.want[k] || int64(len(rows)) != wantCounts[k] {
				t.Errorf("%s: split %d: %s (counted %d), want %s", tc.name, k, got, wantCounts[k], tc.want[k])
			}
			part.Release()
		}
		for _, size := range chunkSizes[1:] {
			a, err := ingest.NewAssigner(tc.spec, whole.Schema(), latest(whole, "date"))
			if err != nil {
				t.Fatal(err)
			}
			var got []int8
			parts := chunks(t, whole, size)
			for _, p := range parts {
				s, err := a.Assign(p)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, s...)
			}
			releaseAll(parts)
			if !slices.Equal(got, want) {
				t.Errorf("%s in chunks of %d: another assignment", tc.name, size)
			}
			if a.Counts() != wantCounts || a.Check() != nil {
				t.Errorf("%s in chunks of %d: counts %v, want %v (%v)", tc.name, size, a.Counts(), wantCounts, a.Check())
			}
		}
	}
}

// TestAssignerErrors: a null time is the same error, naming the same row,
// however the rows are chunked; an empty split is Split's error; a
// trailing-days split without the latest time is an error.
func TestAssignerErrors(t *testing.T) {
	tbl := mixedTable(t, 3000) // its date column has nulls
	spec := flights(t).Split
	var first string
	for _, size := range chunkSizes {
		a, err := ingest.NewAssigner(spec, tbl.Schema(), time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		parts := chunks(t, tbl, size)
		for _, p := range parts {
			if _, err = a.Assign(p); err != nil {
				break
			}
		}
		releaseAll(parts)
		if !errors.Is(err, ingest.ErrInvalid) || !strings.Contains(err.Error(), "the time column of the split is null") {
			t.Fatalf("chunks of %d: err = %v, want a null time", size, err)
		}
		if first == "" {
			first = err.Error()
		} else if err.Error() != first {
			t.Errorf("chunks of %d: err = %v, want %s", size, err, first)
		}
	}
	whole, _ := shuffledTiles(t, 1, 10000)
	spec.TestFrom = time.Date(2002, 1, 1, 0, 0, 0, 0, time.UTC)
	a, err := ingest.NewAssigner(spec, whole.Schema(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Assign(whole); err != nil {
		t.Fatal(err)
	}
	want := `split: invalid data: column "date": the test split is empty (no rows with date >= 2002-01-01)`
	if err := a.Check(); err == nil || err.Error() != want {
		t.Errorf("empty test split: err = %v, want %s", err, want)
	}
	days := ingest.SplitSpec{Column: "date", TestDays: 7}
	if _, err := ingest.NewAssigner(days, whole.Schema(), time.Time{}); err == nil {
		t.Error("trailing days without the latest time: no error")
	}
}
