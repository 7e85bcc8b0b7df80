package stream_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/internal/flightstest"
	"github.com/mlpipe/mlpipe/internal/stream"
	"github.com/mlpipe/mlpipe/internal/tables"
	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/gbdt"
)

// fixture returns the default task's config and, on the flights
// fixture, its training rows (January to April 2001) with their labels,
// and its validation rows (May) with theirs.
func fixture(t *testing.T) (cfg *config.Config, trainTbl arrow.Table, y []float64, valid arrow.Table, vy []float64) {
	t.Helper()
	sp := flightstest.Load(t, "../../testdata/flights-10k.parquet")
	return sp.Config, sp.Train, sp.YTrain, sp.Valid, sp.YValid
}

// TestRanges: whatever the range, every row is transformed once, in
// order, and counted; the predictions are those of the whole matrix; and
// gbdt fitted on the bins built by ranges (training and validation rows)
// makes the predictions of gbdt fitted on the whole matrices, bit for
// bit. A range skipped, or one read twice, fails it.
func TestRanges(t *testing.T) {
	ctx := context.Background()
	cfg, trainTbl, y, valid, vy := fixture(t)
	p, enc, err := features.FitEncoder(trainTbl, y, cfg.Features, cfg.Seed)
	if err != nil {
		t.Fatal(err)
	}
	xTrain, err := enc.Transform(trainTbl, 0)
	if err != nil {
		t.Fatal(err)
	}
	xValid, err := p.Transform(valid)
	if err != nil {
		t.Fatal(err)
	}
	tr := gbdt.New(gbdt.Params{Rounds: 30, MaxLeaves: 15, Seed: cfg.Seed})
	whole, err := tr.Fit(ctx, &train.Dataset{X: xTrain, Y: y, Classes: 2, ClassNames: []string{"0", "1"}},
		&train.Dataset{X: xValid, Y: vy, Classes: 2, ClassNames: []string{"0", "1"}})
	if err != nil {
		t.Fatal(err)
	}
	want := whole.Predict(xValid)

	rechunked := rechunk(trainTbl, 999)
	defer rechunked.Release()
	n := int(valid.NumRows())
	for _, size := range []int{1, 7, 300, n - 1, n, 1 << 20} {
		var done int64
		r := stream.Ranges{Size: size, Done: func(rows int64) { done += rows }}
		// Transform: the ranges, in order, are the whole matrix.
		var got [][]float64
		err := r.Transform(ctx, p, valid, func(x *features.Matrix) error {
			if x.Rows > size {
				t.Errorf("size %d: a range of %d rows", size, x.Rows)
			}
			for i := range x.Rows {
				row := make([]float64, len(x.Data))
				for j := range x.Data {
					row[j] = x.Data[j][i]
				}
				got = append(got, row)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if len(got) != n || done != int64(n) {
			t.Fatalf("size %d: %d rows transformed, %d counted, want %d", size, len(got), done, n)
		}
		for i, row := range got {
			for j, v := range row {
				if w := xValid.Data[j][i]; v != w && !(v != v && w != w) {
					t.Fatalf("size %d: row %d column %d: %v, want %v", size, i, j, v, w)
				}
			}
		}
		// Predict: the whole matrix's predictions.
		pred, err := r.Predict(ctx, p, whole, valid)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(pred, want) {
			t.Fatalf("size %d: predictions by ranges differ from the whole matrix's", size)
		}
		// TrainBins, ValidBins: the same model as the whole matrices.
		bb, err := tr.NewBinBuilder(p.Columns, enc.Rows())
		if err != nil {
			t.Fatal(err)
		}
		bins, err := r.TrainBins(ctx, trainTbl, enc, bb)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		// TrainBinsFrom over the training rows chunked otherwise: the
		// same bins, and the same rows counted.
		bb, err = tr.NewBinBuilder(p.Columns, enc.Rows())
		if err != nil {
			t.Fatal(err)
		}
		done = 0
		binsFrom, err := r.TrainBinsFrom(ctx, ingest.InMemory(rechunked), enc, bb)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if !reflect.DeepEqual(binsFrom, bins) {
			t.Fatalf("size %d: TrainBinsFrom's bins differ from TrainBins'", size)
		}
		if done != trainTbl.NumRows() {
			t.Fatalf("size %d: %d training rows counted, want %d", size, done, trainTbl.NumRows())
		}
		vbins, err := r.ValidBins(ctx, valid, p, bins)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		trainDS := &train.Dataset{X: &features.Matrix{Rows: len(y), Cols: p.Columns}, Y: y, Classes: 2, ClassNames: []string{"0", "1"}, Prebinned: bins}
		validDS := &train.Dataset{X: &features.Matrix{Rows: len(vy), Cols: p.Columns}, Y: vy, Classes: 2, ClassNames: []string{"0", "1"}, Prebinned: vbins}
		m, err := tr.Fit(ctx, trainDS, validDS)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(m.Predict(xValid), want) {
			t.Errorf("size %d: gbdt on bins built by ranges predicts otherwise than on the whole matrices", size)
		}
	}
}

func TestRangesErrors(t *testing.T) {
	ctx := context.Background()
	cfg, trainTbl, y, valid, _ := fixture(t)
	p, _, err := features.FitEncoder(trainTbl, y, cfg.Features, cfg.Seed)
	if err != nil {
		t.Fatal(err)
	}
	use := func(*features.Matrix) error { return nil }
	if err := (stream.Ranges{}).Transform(ctx, p, valid, use); err == nil {
		t.Error("a range of 0 rows: no error")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := (stream.Ranges{Size: 100}).Transform(cancelled, p, valid, use); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v, want context.Canceled", err)
	}
	stop := errors.New("stop")
	calls := 0
	err = stream.Ranges{Size: 100}.Transform(ctx, p, valid, func(*features.Matrix) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("use failed: %v after %d calls, want its error after 1", err, calls)
	}
}

// rechunk returns tbl's rows with its columns' chunks cut again every
// size rows (zero-copy).
func rechunk(tbl arrow.Table, size int64) arrow.Table {
	cols := make([]arrow.Column, tbl.NumCols())
	for j := range cols {
		var chunks []arrow.Array
		for lo := int64(0); lo < tbl.NumRows(); lo += size {
			part := array.NewChunkedSlice(tbl.Column(j).Data(), lo, min(lo+size, tbl.NumRows()))
			for _, a := range part.Chunks() {
				a.Retain()
				chunks = append(chunks, a)
			}
			part.Release()
		}
		ch := arrow.NewChunked(tbl.Column(j).DataType(), chunks)
		for _, a := range chunks {
			a.Release()
		}
		cols[j] = *arrow.NewColumn(tbl.Schema().Field(j), ch)
		ch.Release()
	}
	out := array.NewTable(tbl.Schema(), cols, tbl.NumRows())
	for j := range cols {
		cols[j].Release()
	}
	return out
}

// TestTrainBinsFromErrors: a source whose sample or ranges fail, or that
// gives a range twice, fails TrainBinsFrom instead of binning the wrong
// rows; so does a range of no rows.
func TestTrainBinsFromErrors(t *testing.T) {
	ctx := context.Background()
	cfg, trainTbl, y, _, _ := fixture(t)
	p, enc, err := features.FitEncoder(trainTbl, y, cfg.Features, cfg.Seed)
	if err != nil {
		t.Fatal(err)
	}
	tr := gbdt.New(gbdt.Params{Rounds: 30, MaxLeaves: 15, Seed: cfg.Seed})
	errRead := errors.New("read failed")
	mem := ingest.InMemory(trainTbl)
	for _, tc := range []struct {
		name string
		size int
		src  tables.Source
		want error // nil: any error
	}{
		{"no rows", 0, mem, nil},
		{"sample fails", 100, badSource{Source: mem, take: errRead}, errRead},
		{"range fails", 100, badSource{Source: mem, ranges: errRead}, errRead},
		{"range twice", 100, badSource{Source: mem, twice: true}, nil},
		{"wrong offset", 100, badSource{Source: mem, shift: 1}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bb, err := tr.NewBinBuilder(p.Columns, enc.Rows())
			if err != nil {
				t.Fatal(err)
			}
			_, err = stream.Ranges{Size: tc.size}.TrainBinsFrom(ctx, tc.src, enc, bb)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
		})
	}
}

// badSource is a source whose Take fails with take, whose third range
// fails with ranges, whose second range comes twice (twice), or whose
// second range's offset is off by shift.
type badSource struct {
	tables.Source
	take, ranges error
	twice        bool
	shift        int64
}

func (b badSource) Take(ctx context.Context, rows []int32) (arrow.Table, error) {
	if b.take != nil {
		return nil, b.take
	}
	return b.Source.Take(ctx, rows)
}

func (b badSource) Ranges(ctx context.Context, size int, fn func(int64, arrow.Table) error) error {
	k := 0
	return b.Source.Ranges(ctx, size, func(off int64, part arrow.Table) error {
		k++
		switch {
		case k == 3 && b.ranges != nil:
			return b.ranges
		case k == 2 && b.twice:
			if err := fn(off, part); err != nil {
				return err
			}
		case k == 2:
			off += b.shift
		}
		return fn(off, part)
	})
}
