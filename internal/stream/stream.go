// Package stream turns the rows of a raw Arrow table into what a fit or
// a score needs a range of rows at a time, so that the float feature
// matrix (8 bytes a cell) is never held whole: one range's floats at a
// time.
//
// In: a table, a fitted feature pipeline (or the training rows'
// features.TrainEncoder, with the training rows as a table or a
// tables.Source), and the range size. Out: gbdt's bins of the
// training rows (TrainBins) or of validation rows binned with the
// training bins' boundaries (ValidBins), or a model's outputs on every
// row (Predict). Each is bit for bit what the whole matrix gives: the
// bins are the ones gbdt makes from the whole matrix (train/gbdt
// prebinned.go), and a model scores each row on its own (model.Model:
// Predict gives PredictRow's numbers, row-major).
//
// The pipeline's features, train and evaluate stages (pipeline/stream.go)
// and the backtest's fits and weekly scores use it.
package stream

import (
	"context"
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/internal/tables"
	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/gbdt"
)

// Rows is the default range: 64 Ki rows are 5 MB of floats at the
// default config's 10 columns, small beside the bins of millions of
// rows, and many enough that per-range overhead (a slice of the table,
// category lookups) stays negligible.
const Rows = 1 << 16

// Ranges transforms a table Size rows at a time. Done, if not nil, is
// told the rows of each range once it is used (progress).
type Ranges struct {
	Size int
	Done func(rows int64)
}

// Transform transforms tbl with p a range at a time and hands each
// range's matrix, in row order, to use.
func (r Ranges) Transform(ctx context.Context, p *features.Pipeline, tbl arrow.Table, use func(*features.Matrix) error) error {
	return r.each(ctx, tbl, func(part arrow.Table, lo, hi int) error {
		x, err := p.Transform(part)
		if err != nil {
			return fmt.Errorf("rows %d to %d: %w", lo, hi, err)
		}
		return use(x)
	})
}

// Predict returns the outputs of model m, with the feature pipeline p,
// on every row of tbl (tbl.NumRows()·m.Outputs() of them, row-major).
func (r Ranges) Predict(ctx context.Context, p *features.Pipeline, m train.Model, tbl arrow.Table) ([]float64, error) {
	out := make([]float64, 0, int(tbl.NumRows())*m.Outputs())
	err := r.Transform(ctx, p, tbl, func(x *features.Matrix) error {
		out = append(out, m.Predict(x)...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// TrainBins bins the training table tbl, whose rows enc was fitted on,
// with bb: first the rows of the binning sample (gathered, then
// transformed), then every range in order. It is TrainBinsFrom over the
// table's rows.
func (r Ranges) TrainBins(ctx context.Context, tbl arrow.Table, enc *features.TrainEncoder, bb *gbdt.BinBuilder) (*gbdt.Bins, error) {
	return r.TrainBinsFrom(ctx, ingest.InMemory(tbl), enc, bb)
}

// TrainBinsFrom bins the training rows of src, the rows enc was fitted
// on, with bb: first the rows of the binning sample (src.Take, then
// transformed), then every range of r.Size rows (src.Ranges), in order.
// The bins are TrainBins' on the same rows, bit for bit, however src is
// chunked or read; only a range's floats and the sample are held at a
// time.
func (r Ranges) TrainBinsFrom(ctx context.Context, src tables.Source, enc *features.TrainEncoder, bb *gbdt.BinBuilder) (*gbdt.Bins, error) {
	if r.Size <= 0 {
		return nil, fmt.Errorf("stream: a range of %d rows", r.Size)
	}
	sampleRows := bb.SampleRows()
	sample, err := src.Take(ctx, sampleRows)
	if err != nil {
		return nil, err
	}
	x, err := enc.TransformRows(sample, sampleRows)
	sample.Release()
	if err != nil {
		return nil, err
	}
	if err := bb.SetSample(x); err != nil {
		return nil, err
	}
	next := 0
	err = src.Ranges(ctx, r.Size, func(off int64, part arrow.Table) error {
		lo, hi := int(off), int(off)+int(part.NumRows())
		if lo != next {
			return fmt.Errorf("training rows %d to %d: the source gave them where row %d was next", lo, hi, next)
		}
		x, err := enc.Transform(part, lo)
		if err != nil {
			return fmt.Errorf("training rows %d to %d: %w", lo, hi, err)
		}
		if err := bb.Add(x); err != nil {
			return err
		}
		next = hi
		if r.Done != nil {
			r.Done(int64(hi - lo))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return bb.Bins()
}

// ValidBins bins tbl, rows gbdt stops early on, with the feature
// pipeline p and the boundaries of the training bins.
func (r Ranges) ValidBins(ctx context.Context, tbl arrow.Table, p *features.Pipeline, bins *gbdt.Bins) (*gbdt.Bins, error) {
	rb := bins.RowBinner(int(tbl.NumRows()))
	if err := r.Transform(ctx, p, tbl, rb.Add); err != nil {
		return nil, err
	}
	return rb.Bins()
}

// each hands use each range of tbl's rows, [lo, hi), as a slice of the
// table, in row order, and counts it.
func (r Ranges) each(ctx context.Context, tbl arrow.Table, use func(part arrow.Table, lo, hi int) error) error {
	if r.Size <= 0 {
		return fmt.Errorf("stream: a range of %d rows", r.Size)
	}
	n := int(tbl.NumRows())
	for lo := 0; lo < n; lo += r.Size {
		if err := ctx.Err(); err != nil {
			return err
		}
		hi := min(lo+r.Size, n)
		part := tables.Slice(tbl, int64(lo), int64(hi))
		err := use(part, lo, hi)
		part.Release()
		if err != nil {
			return err
		}
		if r.Done != nil {
			r.Done(int64(hi - lo))
		}
	}
	return nil
}
