package features_test

import (
	"context"
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"

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
