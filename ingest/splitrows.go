package ingest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/mlpipe/mlpipe/internal/tables"
)

// SplitRows returns one split of a source as a tables.Source that reads
// the source again (with Scan) each time it is read, keeping only that
// split's rows: the later passes of a streaming run read the training
// rows range by range, and the split is never held whole. Its rows are
// those of the split table that Split gives of Load's table (in order,
// value for value), with the same spec and latest as NewAssigner takes.
//
// which is the split: 0 train, 1 validation, 2 test (Splits.Tables'
// order). rows is the split's row count, known from the first pass (an
// Assigner's Counts), so that NumRows needs no read; a read that finds
// another count (the files changed) fails. keep, if not nil, says which
// rows of a chunk exist for the split (nil: all of them): the others are
// dropped before the rows are assigned, as DropUnlabelled's rows are
// before Split (a random split draws only for the rows kept). A source
// with a time window is an error: Scan cannot read one.
//
// Memory: the chunks that Scan reads ahead, and the rows of one range
// and of the chunk that completes it. The rows of a chunk are copied out
// of it unless they are all of it, so that rows waiting for their range
// do not hold the rest of their chunks.
func SplitRows(src Source, schema Schema, opts *Options, spec SplitSpec, latest time.Time, which int, rows int64, keep func(*Chunk) ([]bool, error)) (tables.Source, error) {
	if src.Window != (Window{}) {
		return nil, errors.New("split rows: the source has a time window, which Scan does not apply: keep the window's rows with keep instead")
	}
	if which < 0 || which > 2 {
		return nil, fmt.Errorf("split rows: split %d, want 0 (train), 1 (validation) or 2 (test)", which)
	}
	target, err := schema.ArrowSchema()
	if err != nil {
		return nil, fmt.Errorf("split rows: %w", err)
	}
	if _, err := NewAssigner(spec, target, latest); err != nil {
		return nil, fmt.Errorf("split rows: %w", err)
	}
	return &splitRows{src: src, schema: schema, opts: opts, spec: spec, latest: latest,
		which: int8(which), rows: rows, keep: keep, target: target}, nil
}

type splitRows struct {
	src    Source
	schema Schema
	opts   *Options
	spec   SplitSpec
	latest time.Time
	which  int8
	rows   int64
	keep   func(*Chunk) ([]bool, error)
	target *arrow.Schema
}

func (s *splitRows) Schema() *arrow.Schema { return s.target }
func (s *splitRows) NumRows() int64        { return s.rows }

// errDone stops a scan that has what it wants.
var errDone = errors.New("done")

// scan reads the source and calls fn with each chunk's table, pick (0
// for the rows of the split, -1 for the others) and the count of the
// split's rows in it. An error from fn is returned as it is.
func (s *splitRows) scan(ctx context.Context, fn func(tbl arrow.Table, pick []int8, n int) error) error {
	a, err := NewAssigner(s.spec, s.target, s.latest)
	if err != nil {
		return err
	}
	var seen int64
	var fnErr error
	err = Scan(ctx, s.src, s.schema, s.opts, func(c *Chunk) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		var mask []bool
		if s.keep != nil {
			var err error
			if mask, err = s.keep(c); err != nil {
				return err
			}
			if mask != nil && len(mask) != int(c.Table.NumRows()) {
				return fmt.Errorf("keep gave %d rows for a chunk of %d", len(mask), c.Table.NumRows())
			}
		}
		pick, err := a.assign(c.Table, mask)
		if err != nil {
			return err
		}
		n := 0
		for i, k := range pick {
			if k == s.which {
				pick[i] = 0
				n++
			} else {
				pick[i] = -1
			}
		}
		if seen += int64(n); seen > s.rows {
			return s.changed(seen, ">")
		}
		if fnErr = fn(c.Table, pick, n); fnErr != nil {
			return fnErr
		}
		return nil
	})
	switch {
	case fnErr != nil:
		return fnErr
	case err != nil:
		return fmt.Errorf("split rows: %w", err)
	case ctx.Err() != nil:
		// Scan stops without an error when ctx ends between chunks.
		return fmt.Errorf("split rows: %w", ctx.Err())
	case seen != s.rows:
		return fmt.Errorf("split rows: %w", s.changed(seen, ""))
	}
	return nil
}

func (s *splitRows) changed(seen int64, more string) error {
	return fmt.Errorf("the source has %s%d rows of the %s split, want %d: has it changed since it was split?",
		more, seen, []string{SplitTrain, SplitValid, SplitTest}[s.which], s.rows)
}

// Ranges hands out the split's rows size at a time: the rows picked
// from each chunk wait until there are size of them, so a range's rows
// may come from several chunks and a chunk's rows go to several ranges.
func (s *splitRows) Ranges(ctx context.Context, size int, fn func(off int64, part arrow.Table) error) error {
	if size <= 0 {
		return fmt.Errorf("ranges: a range of %d rows", size)
	}
	var pending []arrow.Table // the rows picked and not handed out yet
	defer func() { releaseTables(pending) }()
	var waiting, off int64
	// flush hands out the pending rows in ranges of size, and the rest
	// too if last.
	flush := func(last bool) error {
		all := concatTables(s.target, pending)
		releaseTables(pending)
		pending = nil
		defer all.Release()
		n, lo := all.NumRows(), int64(0)
		for ; n-lo >= int64(size) || (last && lo < n); lo += int64(size) {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("split rows: %w", err)
			}
			hi := min(lo+int64(size), n)
			part := tables.Slice(all, lo, hi)
			err := fn(off, part)
			part.Release()
			if err != nil {
				return err
			}
			off += hi - lo
		}
		if lo < n {
			pending = []arrow.Table{tables.Slice(all, lo, n)}
		}
		waiting = n - min(lo, n)
		return nil
	}
	var fnErr error
	err := s.scan(ctx, func(tbl arrow.Table, pick []int8, n int) error {
		if n == 0 {
			return nil
		}
		t, err := pickCopy(ctx, tbl, pick, n)
		if err != nil {
			return fmt.Errorf("split rows: %w", err)
		}
		pending = append(pending, t)
		if waiting += int64(n); waiting >= int64(size) {
			fnErr = flush(false)
			return fnErr
		}
		return nil
	})
	if err != nil {
		return err
	}
	if waiting > 0 {
		return flush(true)
	}
	return nil
}

// Take reads the source once, copying out the rows asked for, and stops
// at the chunk that holds the last of them.
func (s *splitRows) Take(ctx context.Context, rows []int32) (arrow.Table, error) {
	for k, r := range rows {
		if r < 0 || int64(r) >= s.rows || (k > 0 && r <= rows[k-1]) {
			return nil, fmt.Errorf("take rows: row %d: want ascending rows in [0, %d)", r, s.rows)
		}
	}
	var pieces []arrow.Table
	if len(rows) > 0 {
		var base int64 // the split's rows in the chunks before
		err := s.scan(ctx, func(tbl arrow.Table, pick []int8, n int) error {
			want, split := 0, base // split: the split's row of the next pick
			for i, k := range pick {
				if k != 0 {
					continue
				}
				if len(rows) > 0 && int64(rows[0]) == split {
					rows, want = rows[1:], want+1
				} else {
					pick[i] = -1
				}
				split++
			}
			base += int64(n)
			if want > 0 {
				t, err := pickCopy(ctx, tbl, pick, want)
				if err != nil {
					return fmt.Errorf("take rows: %w", err)
				}
				pieces = append(pieces, t)
			}
			if len(rows) == 0 {
				return errDone
			}
			return nil
		})
		if err != nil && err != errDone {
			releaseTables(pieces)
			return nil, err
		}
	}
	out := concatTables(s.target, pieces)
	releaseTables(pieces)
	return out, nil
}

// pickCopy returns the n rows i of tbl with pick[i] == 0, in order: tbl
// itself if that is all of it, else the rows copied out of it (gather's
// picks, its contiguous runs copied too), so that the result does not
// hold tbl's buffers. The caller releases the result.
func pickCopy(ctx context.Context, tbl arrow.Table, pick []int8, n int) (arrow.Table, error) {
	if int64(n) == tbl.NumRows() {
		tbl.Retain()
		return tbl, nil
	}
	cols := make([]arrow.Column, tbl.NumCols())
	release := func() {
		for j := range cols {
			if cols[j].Data() != nil {
				cols[j].Release()
			}
		}
	}
	var layout []int
	var picks []chunkPick
	for j := range cols {
		col := tbl.Column(j).Data()
		if l := chunkLens(col); picks == nil || !slices.Equal(l, layout) {
			layout, picks = l, pickRows(l, pick, 1)[0]
			for p, cp := range picks {
				if cp.idx == nil && cp.hi-cp.lo < layout[cp.chunk] {
					idx := make([]int32, 0, cp.hi-cp.lo)
					for i := cp.lo; i < cp.hi; i++ {
						idx = append(idx, int32(i))
					}
					picks[p] = chunkPick{chunk: cp.chunk, idx: idx}
				}
			}
		}
		chunks, err := takeChunks(ctx, col, picks)
		if err != nil {
			release()
			return nil, err
		}
		ch := arrow.NewChunked(col.DataType(), chunks)
		releaseArrays(chunks)
		cols[j] = *arrow.NewColumn(tbl.Schema().Field(j), ch)
		ch.Release()
	}
	out := array.NewTable(tbl.Schema(), cols, int64(n))
	release()
	return out, nil
}

func releaseTables(tbls []arrow.Table) {
	for _, t := range tbls {
		t.Release()
	}
}
