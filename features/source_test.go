package features_test

import (
	"context"
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/internal/flightstest"
	"github.com/mlpipe/mlpipe/internal/tables"
)

// TestFitEncoderFrom: the pipeline and encoder fitted in one pass over a
// Source, whatever its range (1, 7 or 65,536 rows), are those fitted on
// the whole table read as one range, to the last bit: every count, sum
// and numeric value is taken in row order. It runs with a binary label
// and with a regression label (the delay, whose sums are not integers),
// each with target-encoded categoricals and a target-encoded cross.
func TestFitEncoderFrom(t *testing.T) {
	ctx := context.Background()
	cfg, err := config.Load("../testdata/flights-10k.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ds, err := ingest.Load(ctx, ingest.Source{Path: "../testdata/flights-10k.parquet"}, cfg.Schema, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Release()
	tbl := ds.Table
	n := int(tbl.NumRows())
	delay := flightstest.Int64s(tbl, "delay")
	regression := make([]float64, n)
	for i, d := range delay {
		regression[i] = float64(d) / 7 // thirds and sevenths: sums that round
	}
	regSpec := features.Spec{
		{Column: "distance", Transform: features.KindNumeric},
		{Column: "origin", Transform: features.KindCategorical, TargetEncoding: true, Smoothing: 3},
		{Column: "destination", Transform: features.KindCategorical, MinFrequency: 2, Codes: new(bool), TargetEncoding: true},
		{Columns: []string{"origin", "destination"}, Transform: features.KindCross, TargetEncoding: true},
		{Column: "date", Transform: features.KindTime, Parts: []string{"hour", "month"}},
	}
	for _, tc := range []struct {
		name string
		y    []float64
		spec features.Spec
	}{
		{"binary", labels(t, cfg, ds), spec},
		{"regression", regression, regSpec},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, size := range []int{1, 7, 1 << 16} {
				// The reference: the whole table as one range, fitted
				// afresh (a transform builds a pipeline's lookups, which
				// reflect.DeepEqual would see).
				restore := features.SetFitRows(n)
				wantP, wantEnc, err := features.FitEncoder(tbl, tc.y, tc.spec, 1)
				restore()
				if err != nil {
					t.Fatal(err)
				}
				restore = features.SetFitRows(size)
				p, enc, err := features.FitEncoderFrom(ctx, ingest.InMemory(tbl), tc.y, tc.spec, 1)
				restore()
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(p, wantP) {
					t.Fatalf("ranges of %d rows: the pipeline differs from the whole table's", size)
				}
				if !reflect.DeepEqual(enc, wantEnc) {
					t.Fatalf("ranges of %d rows: the encoder differs from the whole table's", size)
				}
				got, err := enc.Transform(tbl, 0)
				if err != nil {
					t.Fatal(err)
				}
				want, err := wantEnc.Transform(tbl, 0)
				if err != nil {
					t.Fatal(err)
				}
				for j := range want.Data {
					for i, w := range want.Data[j] {
						if math.Float64bits(got.Data[j][i]) != math.Float64bits(w) {
							t.Fatalf("ranges of %d rows: column %s row %d: %v, want %v", size, want.Cols[j].Name, i, got.Data[j][i], w)
						}
					}
				}
			}
		})
	}
}

// TestFitEncoderFromErrors: a source that fails, or that skips or
// repeats a range, fails the fit instead of fitting on the wrong rows.
func TestFitEncoderFromErrors(t *testing.T) {
	ctx := context.Background()
	cfg, err := config.Load("../testdata/flights-10k.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ds, err := ingest.Load(ctx, ingest.Source{Path: "../testdata/flights-10k.parquet"}, cfg.Schema, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Release()
	y := labels(t, cfg, ds)
	defer features.SetFitRows(1000)()
	errRead := errors.New("read failed")
	for _, tc := range []struct {
		name string
		src  tables.Source
		want error
	}{
		{"read error", faulty{ingest.InMemory(ds.Table), func(k int) (bool, error) { return k == 3, errRead }}, errRead},
		{"skipped range", faulty{ingest.InMemory(ds.Table), func(k int) (bool, error) { return k == 3, nil }}, nil},
		{"repeated range", repeat{ingest.InMemory(ds.Table)}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := features.FitEncoderFrom(ctx, tc.src, y, spec, 1)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
		})
	}
}

// faulty is a source whose range k is left out (skip true), or fails
// with err.
type faulty struct {
	tables.Source
	fault func(k int) (skip bool, err error)
}

func (f faulty) Ranges(ctx context.Context, size int, fn func(int64, arrow.Table) error) error {
	k := 0
	return f.Source.Ranges(ctx, size, func(off int64, part arrow.Table) error {
		k++
		if skip, err := f.fault(k - 1); skip {
			return err
		}
		return fn(off, part)
	})
}

// repeat is a source that hands its first range twice.
type repeat struct{ tables.Source }

func (r repeat) Ranges(ctx context.Context, size int, fn func(int64, arrow.Table) error) error {
	return r.Source.Ranges(ctx, size, func(off int64, part arrow.Table) error {
		if off == 0 {
			if err := fn(off, part); err != nil {
				return err
			}
		}
		return fn(off, part)
	})
}

// timeTable returns a table of two nullable timestamp columns: "date",
// with ts (nil a missing time), and "none", with no time at all.
func timeTable(t *testing.T, ts []*time.Time) arrow.Table {
	t.Helper()
	typ := &arrow.TimestampType{Unit: arrow.Microsecond}
	b := array.NewTimestampBuilder(memory.DefaultAllocator, typ)
	defer b.Release()
	for _, tm := range ts {
		if tm == nil {
			b.AppendNull()
		} else {
			b.Append(arrow.Timestamp(tm.UnixMicro()))
		}
	}
	date := b.NewArray()
	defer date.Release()
	for range ts {
		b.AppendNull()
	}
	none := b.NewArray()
	defer none.Release()
	schema := arrow.NewSchema([]arrow.Field{{Name: "date", Type: typ, Nullable: true}, {Name: "none", Type: typ, Nullable: true}}, nil)
	rec := array.NewRecord(schema, []arrow.Array{date, none}, int64(len(ts)))
	defer rec.Release()
	return array.NewTableFromRecords(schema, []arrow.Record{rec})
}

// TestConstantPartsFrom: over a Source read 1, 7 or 65,536 rows at a
// time, the constant parts are ConstantParts' on the table, where the
// first time comes after missing ones and most parts vary only on the
// last row; and the reading stops once every part varies.
func TestConstantPartsFrom(t *testing.T) {
	ctx := context.Background()
	at := func(tm time.Time) *time.Time { return &tm }
	ts := []*time.Time{nil, nil}
	for d := 0; d < 60; d++ { // 2012-01-01 .. 2012-02-29, midnights
		ts = append(ts, at(time.Date(2012, 1, 1+d, 0, 0, 0, 0, time.UTC)), nil)
	}
	ts = append(ts, at(time.Date(2013, 3, 1, 10, 30, 0, 0, time.UTC)))
	tbl := timeTable(t, ts)
	defer tbl.Release()
	spec := features.Spec{
		{Column: "date", Transform: features.KindTime,
			Parts: []string{"hour", "minute_of_day", "day_of_week", "month", "year", "quarter", "is_weekend"}},
		{Column: "none", Transform: features.KindTime},
		{Column: "absent", Transform: features.KindTime},
		{Column: "date", Transform: features.KindTime, Parts: []string{"quarter", "year"}},
	}
	// Only the last row brings an hour, a minute and a year; all rows are
	// in a first quarter.
	want := []string{"date: quarter", "date: quarter"}
	if got := features.ConstantParts(tbl, spec); !reflect.DeepEqual(got, want) {
		t.Fatalf("ConstantParts = %q, want %q", got, want)
	}
	for _, size := range []int{1, 7, 1 << 16} {
		restore := features.SetFitRows(size)
		got, err := features.ConstantPartsFrom(ctx, ingest.InMemory(tbl), spec)
		restore()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("ranges of %d rows: %q, want %q", size, got, want)
		}
	}

	// Every part varies within the first rows (after a missing time, a
	// time every 31 days and an hour from Tuesday 2011-11-15 22:00: the
	// year and quarter change with the third, and the seventh, Sunday
	// 2012-05-20, is the first in a weekend): of 1,001 ranges of a row,
	// the first eight are read.
	ts = []*time.Time{nil}
	for k := 0; k < 1000; k++ {
		ts = append(ts, at(time.Date(2011, 11, 15, 22, 0, 0, 0, time.UTC).Add(time.Duration(k)*745*time.Hour)))
	}
	varied := timeTable(t, ts)
	defer varied.Release()
	defer features.SetFitRows(1)()
	read := 0
	src := faulty{ingest.InMemory(varied), func(int) (bool, error) { read++; return false, nil }}
	got, err := features.ConstantPartsFrom(ctx, src, spec[:1])
	if err != nil || len(got) != 0 {
		t.Fatalf("ConstantPartsFrom = %q, %v; want no part, no error", got, err)
	}
	if read != 8 {
		t.Errorf("%d ranges read, want 8", read)
	}
	// A source that fails fails it.
	errRead := errors.New("read failed")
	src = faulty{ingest.InMemory(tbl), func(k int) (bool, error) { return k == 3, errRead }}
	if _, err := features.ConstantPartsFrom(ctx, src, spec); !errors.Is(err, errRead) {
		t.Errorf("a failing source: error %v, want %v", err, errRead)
	}
}
