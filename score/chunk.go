package score

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/compute"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/mlpipe/mlpipe/explain"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/model"
)

// result is what scoring one chunk gives the writer.
type result struct {
	table   arrow.Table // the output rows (nil when none)
	rejects []reject
	rows    int64   // rows read (and ragged lines)
	unknown int64   // rows with an input in the unknown bucket
	read    float64 // the share of the input read
}

func (r *result) release() {
	if r.table != nil {
		r.table.Release()
	}
}

// run scans src and scores its chunks, up to Parallelism at once, and
// hands the results to write in input order.
func (s *scorer) run(ctx context.Context, src ingest.Source, write func(*result) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type pending struct {
		res  *result
		err  error
		done chan struct{}
	}
	queue := make(chan *pending, s.opts.Parallelism)
	var scanErr error
	go func() {
		defer close(queue)
		// One reader is enough: reading a chunk takes a small part of
		// the time scoring it does, and each chunk read ahead is memory.
		scanErr = ingest.Scan(ctx, src, s.schema, &ingest.Options{Parallelism: 1}, func(c *ingest.Chunk) error {
			c.Table.Retain() // Scan releases it when this returns
			p := &pending{done: make(chan struct{})}
			go func() {
				defer close(p.done)
				defer c.Table.Release()
				p.res, p.err = s.chunk(ctx, c)
			}()
			select {
			case queue <- p:
				return nil
			case <-ctx.Done():
				<-p.done
				if p.res != nil {
					p.res.release()
				}
				return ctx.Err()
			}
		})
	}()
	var first error
	for p := range queue {
		<-p.done
		switch {
		case first != nil:
		case p.err != nil:
			first = p.err
			cancel()
		default:
			if err := write(p.res); err != nil {
				first = err
				cancel()
			}
		}
		if p.res != nil {
			p.res.release()
		}
	}
	if first == nil {
		first = scanErr // set before the queue was closed
	}
	return first
}

// chunk checks, scores and explains one chunk.
func (s *scorer) chunk(ctx context.Context, c *ingest.Chunk) (*result, error) {
	tbl := c.Table
	res := &result{rows: tbl.NumRows(), read: c.Progress}
	probs := s.check(c)
	if len(probs) > 0 && !s.opts.Skip {
		is := probs[0].issue
		is.Message += " (--on-error skip leaves such rows out and writes them to a rejects file)"
		return nil, &ingest.InvalidError{Issues: []ingest.Issue{is}}
	}
	bad := make([]bool, tbl.NumRows())
	for _, p := range probs {
		if p.row < 0 {
			res.rows++ // a line that is not a row
		} else {
			bad[p.row] = true
		}
		res.rejects = append(res.rejects, s.reject(c, p))
	}
	tbl.Retain()
	if slices.Contains(bad, true) {
		good, err := filter(ctx, tbl, bad)
		tbl.Release()
		if err != nil {
			return nil, err
		}
		tbl = good
	}
	defer tbl.Release()
	if tbl.NumRows() == 0 {
		return res, nil
	}
	x, err := s.pipe.Transform(tbl)
	if err != nil {
		return nil, fmt.Errorf("score %s: %w", c.File, err)
	}
	unseen, err := s.pipe.UnseenTable(tbl, x)
	if err != nil {
		return nil, fmt.Errorf("score %s: %w", c.File, err)
	}
	probsOut := s.model.Predict(x)
	var xs []explain.Explanation
	if s.ex != nil {
		// One goroutine: chunks are explained in parallel already.
		if xs, err = s.ex.Sample(ctx, x, nil, 1); err != nil {
			return nil, err
		}
	}
	res.table, res.unknown = s.output(tbl, probsOut, unseen, xs)
	return res, nil
}

// filter returns the rows of tbl that are not bad.
func filter(ctx context.Context, tbl arrow.Table, bad []bool) (arrow.Table, error) {
	b := array.NewBooleanBuilder(memory.DefaultAllocator)
	defer b.Release()
	for _, x := range bad {
		b.Append(!x)
	}
	mask := b.NewArray()
	defer mask.Release()
	out, err := compute.FilterTable(ctx, tbl, compute.NewDatum(mask), compute.DefaultFilterOptions())
	if err != nil {
		return nil, fmt.Errorf("score: drop bad rows: %w", err)
	}
	return out, nil
}

// output builds the output table of rows already scored.
func (s *scorer) output(tbl arrow.Table, probs []float64, unseen []bool, xs []explain.Explanation) (arrow.Table, int64) {
	n := int(tbl.NumRows())
	k := s.m.Outputs()
	mem := memory.DefaultAllocator
	var cols []arrow.Column
	add := func(a arrow.Array) {
		f := s.out.Field(len(cols))
		ch := arrow.NewChunked(f.Type, []arrow.Array{a})
		cols = append(cols, *arrow.NewColumn(f, ch))
		ch.Release()
		a.Release()
	}
	for j, col := range s.keep {
		c := tbl.Column(col)
		cols = append(cols, *arrow.NewColumn(s.out.Field(j), c.Data()))
	}
	floats := func(f func(i int) float64) arrow.Array {
		b := array.NewFloat64Builder(mem)
		b.Reserve(n)
		for i := range n {
			b.UnsafeAppend(f(i))
		}
		defer b.Release()
		return b.NewArray()
	}
	strs := func(f func(i int) string) arrow.Array {
		b := array.NewStringBuilder(mem)
		b.Reserve(n)
		for i := range n {
			b.Append(f(i))
		}
		defer b.Release()
		return b.NewArray()
	}
	for out := range k {
		add(floats(func(i int) float64 { return probs[i*k+out] }))
	}
	// indices returns a dictionary column: row i has value at(i) of dict.
	indices := func(dict arrow.Array, at func(i int) int) arrow.Array {
		b := array.NewInt32Builder(mem)
		defer b.Release()
		b.Reserve(n)
		for i := range n {
			b.UnsafeAppend(int32(at(i)))
		}
		idx := b.NewArray()
		defer idx.Release()
		return array.NewDictionaryArray(s.out.Field(len(cols)).Type, idx, dict)
	}
	labels := make([]int, n)
	if s.model.Task() != model.Regression {
		for i := range n {
			labels[i] = s.m.Label(probs[i*k : (i+1)*k])
		}
		add(indices(s.labelDict, func(i int) int { return labels[i] }))
	}
	nIn := len(s.rules)
	var unknown int64
	add(strs(func(i int) string {
		var names []string
		for j, u := range unseen[i*nIn : (i+1)*nIn] {
			if u {
				names = append(names, s.rules[j].Name)
			}
		}
		if names != nil {
			unknown++
		}
		return strings.Join(names, ",")
	}))
	add(indices(s.nameDict, func(int) int { return 0 }))
	vb := array.NewInt64Builder(mem)
	for range n {
		if s.version > 0 {
			vb.Append(s.version)
		} else {
			vb.AppendNull()
		}
	}
	add(vb.NewArray())
	vb.Release()
	if s.ex != nil {
		// The explanation of the predicted class's margin (for a binary
		// model, the one margin, the log-odds of the positive class).
		class := func(i int) int {
			if k == 1 {
				return 0
			}
			return labels[i]
		}
		add(floats(func(i int) float64 { return s.ex.Base()[class(i)] }))
		if s.opts.Top > 0 {
			tops := make([][]int, n)
			for i := range n {
				tops[i] = explain.Top(xs[i].Output(class(i)), s.opts.Top, nil)
			}
			for r := range min(s.opts.Top, len(s.ex.Inputs())) {
				add(strs(func(i int) string { return s.ex.Inputs()[tops[i][r]] }))
				add(floats(func(i int) float64 { return xs[i].Output(class(i))[tops[i][r]] }))
			}
		} else {
			for g := range s.ex.Inputs() {
				add(floats(func(i int) float64 { return xs[i].Output(class(i))[g] }))
			}
		}
	}
	t := array.NewTable(s.out, cols, int64(n))
	for i := range cols {
		cols[i].Release()
	}
	return t, unknown
}

// problem is a bad row (or a line that is not a row: row -1) of a chunk.
type problem struct {
	row   int
	issue ingest.Issue
}

// check finds the chunk's bad rows, in row order, the first problem of
// each: what the reader could not read, then the values that break the
// serving rules.
func (s *scorer) check(c *ingest.Chunk) []problem {
	var out []problem
	seen := map[int]bool{}
	for _, is := range c.Issues {
		row := -1
		if is.Column != "" {
			if i, found := slices.BinarySearch(c.Lines, is.Line); found {
				row = i
			}
		}
		if row >= 0 && seen[row] {
			continue
		}
		seen[row] = row >= 0
		out = append(out, problem{row: row, issue: is})
	}
	for j := range s.rules {
		r := &s.rules[j]
		col := c.Table.Column(s.input[j]).Data()
		at := 0
		for _, a := range col.Chunks() {
			note := func(i int, code, msg string) {
				if seen[at+i] {
					return
				}
				seen[at+i] = true
				is := c.Where(at + i)
				is.Severity, is.Code, is.Column, is.Message = ingest.Error, code, r.Name, msg
				out = append(out, problem{row: at + i, issue: is})
			}
			if a.NullN() > 0 && !r.Nullable {
				for i := range a.Len() {
					if a.IsNull(i) {
						note(i, ingest.CodeNull, "null is not allowed: the model needs a value (the training data had none missing)")
					}
				}
			}
			number := func(i int, f float64) {
				if a.IsValid(i) {
					if err := r.CheckNumber(f); err != nil {
						code := ingest.CodeRange
						if math.IsNaN(f) || math.IsInf(f, 0) {
							code = ingest.CodeNaN
						}
						note(i, code, err.Error())
					}
				}
			}
			switch a := a.(type) {
			case *array.Int64:
				for i, v := range a.Int64Values() {
					number(i, float64(v))
				}
			case *array.Float64:
				for i, v := range a.Float64Values() {
					number(i, v)
				}
			}
			at += a.Len()
		}
	}
	slices.SortStableFunc(out, func(a, b problem) int {
		return compareWhere(a.issue, b.issue)
	})
	return out
}

// compareWhere orders issues by their place in the file.
func compareWhere(a, b ingest.Issue) int {
	if a.Line != b.Line {
		return int(a.Line - b.Line)
	}
	return int(a.Row - b.Row)
}

// reject is a skipped row, for the rejects file.
type reject struct {
	issue  ingest.Issue
	values []byte // the row's values as a JSON object (nil for a line that is not a row)
}

func (s *scorer) reject(c *ingest.Chunk, p problem) reject {
	r := reject{issue: p.issue}
	if p.row >= 0 {
		r.values = appendRow(nil, c.Table, p.row)
	}
	return r
}
