package monitor

import (
	"context"
	"fmt"
	"iter"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/ingest/profile"
	"github.com/mlpipe/mlpipe/internal/tables"
)

// This file is the monitor without a bundle or a prediction log: a
// baseline built in memory from a training table, and a window given as
// a table. A backtest that replays history week by week uses it.

// NewBaseline builds in memory the baseline that a bundle registered
// from train would hold: the profile of train, and the reference sample
// that WriteReference would write (n rows drawn with seed; validScores,
// if any, as the probability's baseline). inputs name the columns to
// watch; their types are train's. The baseline has no name, version or
// test metrics.
func NewBaseline(ctx context.Context, train arrow.Table, inputs []string, validScores []float64, n int, seed uint64) (*Baseline, error) {
	t, err := Summarize(ctx, train, inputs, n, seed)
	if err != nil {
		return nil, err
	}
	defer t.Release()
	return t.Baseline(validScores)
}

// Training is what a model bundle's monitor files need of its training
// split, taken from the table (Summarize) or from its rows read a range
// at a time (SummarizeFrom) so that the rows can be released before the
// model, and so its validation scores, exists: the split's profile and
// the reference sample of its inputs. Baseline and WriteReference then
// give what NewBaseline and WriteReference give on the table, byte for
// byte (TestSummarize, TestSummarizeFrom). It holds a few thousand rows,
// whatever the split's size.
type Training struct {
	// Profile is the training split's profile (profile.Table's): the
	// bundle's profile.json and the baseline's.
	Profile *profile.Profile
	sample  *drawn
}

// Summarize profiles train and draws the reference sample of its columns
// named by inputs (n rows with seed; see WriteReference). The caller
// releases the result. It is SummarizeFrom on train held whole, but for
// the profile, which is profile.Table's: that holds one numeric column's
// values per core where a profile.Builder holds every numeric column's
// (the same profile, bit for bit: package profile's tests).
func Summarize(ctx context.Context, train arrow.Table, inputs []string, n int, seed uint64) (*Training, error) {
	return summarize(ctx, tables.Whole(train), inputs, n, seed, func() (*profile.Profile, error) {
		return profile.Table(ctx, train, nil)
	})
}

// SummarizeFrom is Summarize on the rows of src, which it reads twice:
// all of them, summaryRows at a time, for the profile (a
// profile.Builder), and the sampled ones (src.Take). Its result is
// Summarize's on the same rows, however src holds or reads them. The
// caller releases the result.
func SummarizeFrom(ctx context.Context, src tables.Source, inputs []string, n int, seed uint64) (*Training, error) {
	return summarize(ctx, src, inputs, n, seed, func() (*profile.Profile, error) {
		b := profile.NewBuilder(src.Schema(), nil)
		b.Grow(int(src.NumRows())) // 8 bytes a numeric value, no more
		err := src.Ranges(ctx, summaryRows, func(_ int64, part arrow.Table) error { return b.Add(part) })
		if err != nil {
			return nil, err
		}
		return b.Profile(ctx)
	})
}

// summaryRows is the rows SummarizeFrom profiles at a time: internal/
// stream.Rows (64 Ki), which the monitor may not import (it links the
// trainers); a part's size changes nothing in the profile.
const summaryRows = 1 << 16

// summarize draws the reference sample of src's inputs, then profiles
// the rows with prof. The sample comes first so that a bad input fails
// before the longer profile.
func summarize(ctx context.Context, src tables.Source, inputs []string, n int, seed uint64, prof func() (*profile.Profile, error)) (*Training, error) {
	const op = "new baseline"
	d, err := drawFrom(ctx, src, inputs, n, seed)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	p, err := prof()
	if err != nil {
		d.release()
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return &Training{Profile: p, sample: d}, nil
}

// Release releases the reference sample's memory.
func (t *Training) Release() {
	if t != nil && t.sample != nil {
		t.sample.release()
		t.sample = nil
	}
}

// Baseline returns the baseline NewBaseline builds from the training
// table and validScores (nil: without the probability's baseline, as
// Calibrate needs it).
func (t *Training) Baseline(validScores []float64) (*Baseline, error) {
	const op = "new baseline"
	d := t.sample
	scores, err := d.drawScores(validScores)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	ref := &Reference{Inputs: map[string][]any{}, Types: map[string]string{}, Rows: d.rows, TrainRows: d.trainRows,
		Scores: scores, ValidRows: int64(len(validScores)), Seed: d.seed}
	b := &Baseline{Profile: t.Profile, Reference: ref}
	for k, f := range d.fields {
		vals, err := values(d.arrays[k])
		if err != nil {
			return nil, fmt.Errorf("%s: input %q: %w", op, f.Name, err)
		}
		ref.Inputs[f.Name] = vals
		ref.Types[f.Name] = typeName(f.Type)
		b.Inputs = append(b.Inputs, features.Input{Name: f.Name, Type: typeName(f.Type)})
	}
	return b, nil
}

// WriteReference writes the reference files WriteReference writes from
// the training table and validScores into the bundle directory dir.
func (t *Training) WriteReference(dir string, validScores []float64) error {
	return t.sample.write(dir, validScores)
}

// CompareTable compares a window given as a table (its columns named as
// b's inputs; a missing column counts as missing values) and, if proba
// is not nil, the model's probabilities on its rows (one per row) with
// b. It is Compute for data that is not in a prediction log: no labels,
// so no performance. The domain classifier, a cross-validated fit, runs
// only under the estimated policy, whose rule reads it. ctx stops it. It
// fails on bad thresholds or a proba of the wrong length.
func CompareTable(ctx context.Context, b *Baseline, win arrow.Table, proba []float64, t Thresholds) (*Report, error) {
	rows := int(win.NumRows())
	if proba != nil && len(proba) != rows {
		return nil, fmt.Errorf("monitor: %d probabilities for %d rows", len(proba), rows)
	}
	r, t, err := newReport(b, t)
	if err != nil {
		return nil, err
	}
	r.Predictions = rows
	cols := map[string][]any{}
	for _, in := range b.Inputs {
		j := win.Schema().FieldIndices(in.Name)
		if len(j) != 1 {
			r.Notes = append(r.Notes, fmt.Sprintf("the window has no column %q: its values count as missing", in.Name))
			continue
		}
		var vals []any
		for _, ch := range win.Column(j[0]).Data().Chunks() {
			v, err := values(ch)
			if err != nil {
				return nil, fmt.Errorf("monitor: column %q: %w", in.Name, err)
			}
			vals = append(vals, v...)
		}
		cols[in.Name] = vals
	}
	w := window{rows: rows, inputs: func(name string) iter.Seq[any] {
		vals, ok := cols[name]
		return func(yield func(any) bool) {
			for i := range rows {
				var v any
				if ok {
					v = vals[i]
				}
				if !yield(v) {
					return
				}
			}
		}
	}}
	if proba != nil {
		w.scores = func(yield func(float64) bool) {
			for _, p := range proba {
				if !yield(p) {
					return
				}
			}
		}
	}
	compare(b, r, t, w)
	estimateWindow(b, r, t, w)
	if t.Policy == PolicyEstimated {
		domainWindow(ctx, b, r, t, w)
	}
	decide(r, t)
	return r, nil
}
