package gbdt

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/train"
)

// Training from bins built a chunk at a time.
//
// Fit bins the float training matrix it is given. A caller that cannot
// hold that matrix whole (8 bytes a cell; the bins are 1) builds the
// bins instead with a BinBuilder, from the matrix a range of rows at a
// time, and hands them to Fit in train.Dataset.Prebinned with a
// shape-only X (Rows and Cols, Data nil). The bins are the ones Fit
// would have made, bit for bit, so the model is too:
//
//  1. SampleRows names the training rows numeric bin boundaries come
//     from (the same seeded sample Fit draws); SetSample takes the matrix
//     of those rows and fixes the boundaries.
//  2. Add takes each range of rows in turn: numeric values are binned at
//     once; categorical codes are kept (a byte each, or 4 for a column of
//     more than 255 codes) and counted.
//  3. Bins maps the codes to their bins, now that every code's count is
//     known, and returns what Fit takes.
//
// The validation rows Fit stops early on are walked down each new tree
// in bins too, binned with the training bins' boundaries. A caller that
// does not hold the float validation matrix either bins it a range at a
// time with the training Bins' RowBinner and hands the result to Fit in
// the validation Dataset's Prebinned. Each value is binned as Fit bins
// the float validation matrix (binMapper.bin), so the validation losses,
// the best round and the model are the same.

// Bins is a matrix in gbdt's binned form: a training matrix made by a
// BinBuilder, or validation rows made by a RowBinner with the bins of
// the training matrix (of).
type Bins struct {
	maps    []binMapper
	x       binnedMatrix
	maxBins int
	seed    uint64
	workers int   // the fit's Parallelism, for binning further rows
	of      *Bins // the training bins whose boundaries binned these rows (nil: these are training bins)
}

// BinBuilder builds the Bins of a training matrix of known shape, a
// range of rows at a time. It is not safe for concurrent use.
type BinBuilder struct {
	cols   []features.ColumnInfo
	rows   int
	p      Params
	sample []int32
	maps   []binMapper
	ready  bool      // SetSample was called
	next   int       // the next row Add expects
	counts [][]int   // per categorical column: rows per code
	wide   [][]int32 // per categorical column of more than 255 codes: each row's code (-1: not a code)
	x      binnedMatrix
}

// notACode marks, in a narrow categorical column's bytes before Bins
// maps them, a value that is not one of its codes.
const notACode = math.MaxUint8

// NewBinBuilder returns a builder of the bins of a rows × len(cols)
// training matrix, for a fit with t's parameters.
func (t *Trainer) NewBinBuilder(cols []features.ColumnInfo, rows int) (*BinBuilder, error) {
	p, err := t.params.resolve()
	if err != nil {
		return nil, fmt.Errorf("gbdt bins: %w", err)
	}
	if rows > math.MaxInt32 {
		return nil, fmt.Errorf("gbdt bins: %d rows, at most %d are supported", rows, math.MaxInt32)
	}
	nc := len(cols)
	b := &BinBuilder{
		cols: cols, rows: rows, p: p,
		sample: sampleRows(rows, binSampleRows, rand.New(rand.NewPCG(p.Seed, seedBins))),
		maps:   make([]binMapper, nc),
		counts: make([][]int, nc),
		wide:   make([][]int32, nc),
		x:      binnedMatrix{rows: rows, cols: nc, bins: make([]uint8, rows*nc), numBins: make([]int, nc)},
	}
	for j, c := range cols {
		if c.Kind != features.Categorical {
			continue
		}
		b.counts[j] = make([]int, c.Card)
		if c.Card >= notACode {
			b.wide[j] = make([]int32, rows)
		}
	}
	return b, nil
}

// SampleRows returns the training rows, ascending, whose values fix the
// numeric bin boundaries: SetSample wants the matrix of these rows.
func (b *BinBuilder) SampleRows() []int32 { return b.sample }

// SetSample fixes the numeric bin boundaries from x, the matrix of the
// rows SampleRows names, in that order.
func (b *BinBuilder) SetSample(x *features.Matrix) error {
	if x.Rows != len(b.sample) || len(x.Cols) != len(b.cols) {
		return fmt.Errorf("gbdt bins: a sample of %d × %d, want %d × %d", x.Rows, len(x.Cols), len(b.sample), len(b.cols))
	}
	forEach(b.p.Parallelism, len(b.cols), func(j int) {
		if b.cols[j].Kind == features.Categorical {
			return
		}
		vals := make([]float64, 0, x.Rows)
		for _, v := range x.Data[j] {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				vals = append(vals, v)
			}
		}
		b.maps[j] = binMapper{upper: quantileBounds(vals, b.p.MaxBins)}
	})
	b.ready = true
	return nil
}

// Add bins x, the training matrix's rows from b's next row on (the
// ranges come in order, each once).
func (b *BinBuilder) Add(x *features.Matrix) error {
	switch {
	case !b.ready:
		return errors.New("gbdt bins: Add before SetSample")
	case len(x.Cols) != len(b.cols):
		return fmt.Errorf("gbdt bins: %d columns, want %d", len(x.Cols), len(b.cols))
	case b.next+x.Rows > b.rows:
		return fmt.Errorf("gbdt bins: rows %d to %d of %d", b.next, b.next+x.Rows, b.rows)
	}
	nc, lo := len(b.cols), b.next
	forEach(b.p.Parallelism, nc, func(j int) {
		col, out := x.Data[j], b.x.bins[lo*nc+j:]
		if b.cols[j].Kind != features.Categorical {
			m := &b.maps[j]
			for i, v := range col {
				out[i*nc] = m.bin(v)
			}
			return
		}
		counts, wide := b.counts[j], b.wide[j]
		for i, v := range col {
			code := -1
			if v >= 0 && v < float64(len(counts)) && v == math.Trunc(v) {
				code = int(v)
				counts[code]++
			}
			switch {
			case wide != nil:
				wide[lo+i] = int32(code)
			case code < 0:
				out[i*nc] = notACode
			default:
				out[i*nc] = uint8(code)
			}
		}
	})
	b.next += x.Rows
	return nil
}

// Bins returns the training matrix's bins, once every row was added.
func (b *BinBuilder) Bins() (*Bins, error) {
	if b.next != b.rows {
		return nil, fmt.Errorf("gbdt bins: %d of %d rows added", b.next, b.rows)
	}
	nc := len(b.cols)
	forEach(b.p.Parallelism, nc, func(j int) {
		if b.cols[j].Kind != features.Categorical {
			return
		}
		m := categoricalMapperCounts(b.counts[j], b.p.MaxBins)
		b.maps[j] = m
		if wide := b.wide[j]; wide != nil {
			for i, code := range wide {
				bin := uint8(0)
				if code >= 0 {
					bin = m.codeBin[code]
				}
				b.x.bins[i*nc+j] = bin
			}
			b.wide[j] = nil
			return
		}
		for i := range b.rows {
			if c := b.x.bins[i*nc+j]; c == notACode {
				b.x.bins[i*nc+j] = 0
			} else {
				b.x.bins[i*nc+j] = m.codeBin[c]
			}
		}
	})
	for j := range b.maps {
		b.x.numBins[j] = b.maps[j].numBins()
	}
	return &Bins{maps: b.maps, x: b.x, maxBins: b.p.MaxBins, seed: b.p.Seed, workers: b.p.Parallelism}, nil
}

// RowBinner bins further rows, a range at a time, with the boundaries of
// a training matrix's Bins: the validation rows a fit on those bins
// stops early on. It is not safe for concurrent use.
type RowBinner struct {
	of   *Bins
	next int
	x    binnedMatrix
}

// RowBinner returns a binner of rows further rows (a validation
// matrix) with the boundaries of bs, a training matrix's bins.
func (bs *Bins) RowBinner(rows int) *RowBinner {
	nc := len(bs.maps)
	x := binnedMatrix{rows: rows, cols: nc, bins: make([]uint8, rows*nc), numBins: bs.x.numBins}
	return &RowBinner{of: bs, x: x}
}

// Add bins x, the rows from r's next row on (the ranges come in order,
// each once): every value as Fit bins a float validation matrix.
func (r *RowBinner) Add(x *features.Matrix) error {
	nc := r.x.cols
	switch {
	case len(x.Cols) != nc:
		return fmt.Errorf("gbdt bins: %d columns, want %d", len(x.Cols), nc)
	case r.next+x.Rows > r.x.rows:
		return fmt.Errorf("gbdt bins: rows %d to %d of %d", r.next, r.next+x.Rows, r.x.rows)
	}
	lo := r.next
	forEach(r.of.workers, nc, func(j int) {
		m, out := &r.of.maps[j], r.x.bins[lo*nc+j:]
		for i, v := range x.Data[j] {
			out[i*nc] = m.bin(v)
		}
	})
	r.next += x.Rows
	return nil
}

// Bins returns the rows' bins, once every row was added.
func (r *RowBinner) Bins() (*Bins, error) {
	if r.next != r.x.rows {
		return nil, fmt.Errorf("gbdt bins: %d of %d rows added", r.next, r.x.rows)
	}
	of := r.of
	return &Bins{maps: of.maps, x: r.x, maxBins: of.maxBins, seed: of.seed, workers: of.workers, of: of}, nil
}

// Rows is the number of rows of the binned matrix.
func (bs *Bins) Rows() int { return bs.x.rows }

// Bytes is the memory the bins hold, in bytes.
func (bs *Bins) Bytes() int64 { return int64(len(bs.x.bins)) }

// checkPrebinned checks that tr's bins, if it has any, are gbdt's and
// were built for its rows with p's binning parameters; and that without
// bins tr holds its matrix.
func checkPrebinned(tr *train.Dataset, p Params) error {
	if tr.Prebinned == nil {
		return tr.CheckFloats()
	}
	bs, ok := tr.Prebinned.(*Bins)
	switch {
	case !ok:
		return fmt.Errorf("training set: %w (%T)", train.ErrPrebinned, tr.Prebinned)
	case bs.of != nil:
		return errors.New("training set: bins made by a RowBinner, not a BinBuilder")
	case bs.x.rows != tr.X.Rows || bs.x.cols != len(tr.X.Cols):
		return fmt.Errorf("training set: bins of %d × %d for a matrix of %d × %d", bs.x.rows, bs.x.cols, tr.X.Rows, len(tr.X.Cols))
	case bs.maxBins != p.MaxBins || bs.seed != p.Seed:
		return fmt.Errorf("training set: bins built with max_bins %d and seed %d, the fit has %d and %d", bs.maxBins, bs.seed, p.MaxBins, p.Seed)
	}
	return nil
}

// checkValidBins checks that valid's bins, if it has any, were binned
// with tr's training bins; and that without bins valid holds its matrix.
func checkValidBins(tr, valid *train.Dataset) error {
	if valid == nil {
		return nil
	}
	if valid.Prebinned == nil {
		if err := valid.CheckFloats(); err != nil {
			return fmt.Errorf("validation set: %w", err)
		}
		return nil
	}
	vb, ok := valid.Prebinned.(*Bins)
	switch {
	case !ok:
		return fmt.Errorf("validation set: %w (%T)", train.ErrPrebinned, valid.Prebinned)
	case vb.of == nil || vb.of != tr.Prebinned:
		return errors.New("validation set: bins not made with the training set's bins (Bins.RowBinner)")
	case vb.x.rows != valid.X.Rows:
		return fmt.Errorf("validation set: bins of %d rows for a matrix of %d", vb.x.rows, valid.X.Rows)
	}
	return nil
}
