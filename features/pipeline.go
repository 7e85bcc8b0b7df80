package features

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/mlpipe/mlpipe/internal/tables"
)

// ErrInput means a raw value cannot be read as its column's type: a
// missing column in a table, or a wrong type in a single row.
var ErrInput = errors.New("bad input")

// Version is the version of the fitted-pipeline format.
const Version = 1

// Pipeline is a fitted feature pipeline. It is plain data: its JSON is
// the whole fitted state, and a Pipeline read back from JSON transforms
// exactly as the one that was fitted. It is safe for concurrent use.
type Pipeline struct {
	Version int `json:"version"`
	// Inputs are the raw columns the pipeline reads, with their contract
	// types: the model's input signature.
	Inputs []Input `json:"inputs"`
	Steps  []Step  `json:"steps"`
	// Columns describe the output matrix, in order.
	Columns []ColumnInfo `json:"columns"`

	once  sync.Once
	index []stepIndex // per step: lookups built from the fitted state
}

// Input is one raw column the pipeline reads.
type Input struct {
	Name string `json:"name"`
	Type string `json:"type"` // contract type name: int64, float64, bool, string, timestamp[us]
}

// Step is one fitted transform. Which fields are set depends on
// Transform.
type Step struct {
	Transform string   `json:"transform"`
	Column    string   `json:"column,omitempty"`
	Columns   []string `json:"columns,omitempty"`

	// time
	Parts []string `json:"parts,omitempty"`
	// numeric: x → (log1p?(x or Median if missing) - Mean) / Std
	Log    bool    `json:"log,omitempty"`
	Median float64 `json:"median,omitempty"`
	Mean   float64 `json:"mean,omitempty"`
	Std    float64 `json:"std,omitempty"`
	// categorical and cross: Levels[k] has code k+1; code 0 is unknown.
	Codes  bool     `json:"codes,omitempty"`
	Levels []string `json:"levels,omitempty"`
	// Target encoding: the smoothed positive rate of each category seen
	// in training; an unseen or missing category gets Prior.
	TE *TargetEncoding `json:"target_encoding,omitempty"`
}

// TargetEncoding is the fitted state of a target encoding.
type TargetEncoding struct {
	Prior     float64            `json:"prior"`
	Smoothing float64            `json:"smoothing"`
	Values    map[string]float64 `json:"values"`
}

type stepIndex struct {
	levels map[string]int32
}

func (p *Pipeline) prepare() {
	p.once.Do(func() {
		p.index = make([]stepIndex, len(p.Steps))
		for i, st := range p.Steps {
			if len(st.Levels) > 0 {
				m := make(map[string]int32, len(st.Levels))
				for k, l := range st.Levels {
					m[l] = int32(k + 1)
				}
				p.index[i].levels = m
			}
		}
	})
}

// Width is the number of output columns.
func (p *Pipeline) Width() int { return len(p.Columns) }

// --- Fitting -----------------------------------------------------------

// Defaults of a TransformSpec.
const (
	DefaultSmoothing = 20
	// Folds is the number of folds of the out-of-fold target encoding.
	Folds = 5
)

// Fit fits the spec's transforms on a training table and returns the
// pipeline and the training matrix. y holds the label of each row, 0 or
// 1 or a regression target (needed only for target encodings; nil
// otherwise).
//
// The training matrix differs from Transform(train) in one way: its
// target encodings are out of fold. Each row's encoding is fitted on the
// other folds (rows are assigned to Folds folds by a draw seeded with
// seed), so a row's own label never leaks into its feature. Other tables
// use the encoding fitted on all training rows.
//
// Fit is FitEncoder, then the encoder's Transform of every row: a caller
// that cannot hold the whole training matrix transforms it a range at a
// time with the encoder instead, bit for bit the same.
func Fit(tbl arrow.Table, y []float64, spec Spec, seed uint64) (*Pipeline, *Matrix, error) {
	p, enc, err := FitEncoder(tbl, y, spec, seed)
	if err != nil {
		return nil, nil, err
	}
	m, err := enc.Transform(tbl, 0)
	if err != nil {
		return nil, nil, err
	}
	return p, m, nil
}

// FitEncoder fits the spec's transforms on a training table, as Fit
// does, and returns the pipeline and the encoder of the training rows
// (out-of-fold target encodings), without transforming them. It is
// FitEncoderFrom over the table's rows.
func FitEncoder(tbl arrow.Table, y []float64, spec Spec, seed uint64) (*Pipeline, *TrainEncoder, error) {
	return fitEncoder(context.Background(), inMemory{tbl}, y, nil, spec, seed)
}

// FitEncoderFrom is FitEncoder over the training rows of src, read in
// one pass, fitRows rows at a time: every step's category counts,
// target-encoding sums and numeric values are gathered range by range,
// in row order, so the pipeline and encoder are FitEncoder's on the same
// rows, bit for bit, and the training table is never held whole. It
// holds the numeric columns' values (8 bytes a row each, to take their
// medians) and the rows' folds (1 byte a row, with target encodings).
// y[i] is the label of src's row i. An error reading src, or a source
// that gives its rows out of order, fails the fit.
func FitEncoderFrom(ctx context.Context, src tables.Source, y []float64, spec Spec, seed uint64) (*Pipeline, *TrainEncoder, error) {
	return fitEncoder(ctx, src, y, nil, spec, seed)
}

// FitEncoderGroups is FitEncoderFrom for rows in groups (split.group):
// groups[i] is the group of src's row i (ingest.GroupIDs). The target
// encodings' folds then keep each group's rows together, so that a row's
// out-of-fold encoding never uses the labels of its own group's other
// rows, which are as good as its own (a traveller's one choice among
// four). With nil groups it is FitEncoderFrom.
func FitEncoderGroups(ctx context.Context, src tables.Source, y []float64, groups []int, spec Spec, seed uint64) (*Pipeline, *TrainEncoder, error) {
	if groups != nil && len(groups) != int(src.NumRows()) {
		return nil, nil, fmt.Errorf("fit: %d groups for %d rows", len(groups), src.NumRows())
	}
	return fitEncoder(ctx, src, y, groups, spec, seed)
}

// rangeReader is what a fit reads of a tables.Source: FitEncoder's table
// needs no Take.
type rangeReader interface {
	Schema() *arrow.Schema
	NumRows() int64
	Ranges(ctx context.Context, size int, fn func(off int64, part arrow.Table) error) error
}

// inMemory is a table's rows as a rangeReader.
type inMemory struct{ tbl arrow.Table }

func (m inMemory) Schema() *arrow.Schema { return m.tbl.Schema() }
func (m inMemory) NumRows() int64        { return m.tbl.NumRows() }
func (m inMemory) Ranges(ctx context.Context, size int, fn func(off int64, part arrow.Table) error) error {
	return tables.Ranges(ctx, m.tbl, size, fn)
}

// stepFit is what a step gathers from the rows, a range at a time.
type stepFit struct {
	cols   []string       // the step's input columns
	xs     []float64      // numeric: the values present, in row order
	counts map[string]int // categorical, cross with codes: rows per key
	te     *teStats       // target encoding on every row
	oof    *oofStats      // out-of-fold target encoding
}

// add gathers rows [off, off+part.NumRows()) of the training rows.
func (f *stepFit) add(st *Step, part arrow.Table, off int, y []float64, folds []uint8) {
	switch st.Transform {
	case KindNumeric:
		eachFloat(column(part, st.Column), func(_ int, v float64, ok bool) {
			if ok {
				f.xs = append(f.xs, v)
			}
		})
	case KindCategorical, KindCross:
		if f.counts == nil && f.te == nil {
			return
		}
		// Only a range's category keys (16 bytes a row, and a new string
		// a row for a cross) are held at a time.
		keys := categoryKeys(part, f.cols)
		if f.counts != nil {
			countKeys(f.counts, keys)
		}
		if f.te != nil {
			hi := off + len(keys)
			f.te.add(keys, y[off:hi], nil, -1)
			f.oof.add(keys, y[off:hi], folds[off:hi])
		}
	}
}

func fitEncoder(ctx context.Context, src rangeReader, y []float64, groups []int, spec Spec, seed uint64) (*Pipeline, *TrainEncoder, error) {
	n := int(src.NumRows())
	if y != nil && len(y) != n {
		panic(fmt.Sprintf("features: %d labels for %d rows", len(y), n))
	}
	schema := src.Schema()
	p := &Pipeline{Version: Version}
	enc := &TrainEncoder{p: p, rows: n}
	seen := map[string]bool{}
	addInput := func(name string) error {
		j := schema.FieldIndices(name)
		if len(j) != 1 {
			return fmt.Errorf("fit: %w: column %q is not in the table", ErrInput, name)
		}
		if !seen[name] {
			seen[name] = true
			p.Inputs = append(p.Inputs, Input{Name: name, Type: typeName(schema.Field(j[0]).Type)})
		}
		return nil
	}
	// The steps and what each gathers, checked in spec order before any
	// row is read.
	fits := make([]stepFit, len(spec))
	for i, t := range spec {
		st := Step{Transform: t.Transform, Column: t.Column, Columns: t.Columns, Log: t.Log}
		cols := t.Columns
		if t.Column != "" {
			cols = []string{t.Column}
		}
		for _, c := range cols {
			if err := addInput(c); err != nil {
				return nil, nil, err
			}
		}
		f := &fits[i]
		f.cols = cols
		switch t.Transform {
		case KindTime:
			st.Parts = t.Parts
			if len(st.Parts) == 0 {
				st.Parts = defaultParts
			}
		case KindNumeric:
		case KindCategorical, KindCross:
			st.Codes = t.Transform == KindCategorical
			if t.Codes != nil {
				st.Codes = *t.Codes
			}
			if st.Codes {
				f.counts = map[string]int{}
			}
			if t.TargetEncoding {
				if y == nil {
					return nil, nil, fmt.Errorf("fit: target encoding of %s needs labels", stepName(st))
				}
				sm := t.Smoothing
				if sm == 0 {
					sm = DefaultSmoothing
				}
				f.te, f.oof = newTEStats(sm), newOOFStats(sm)
				if enc.folds == nil {
					enc.folds = assignFolds(n, seed, groups)
				}
			}
		default:
			return nil, nil, fmt.Errorf("fit: unknown transform %q", t.Transform)
		}
		p.Steps = append(p.Steps, st)
	}
	// One pass over the rows, a range at a time, in order: every sum is
	// taken in row order, as over the whole column.
	next := 0
	err := src.Ranges(ctx, fitRows, func(off int64, part arrow.Table) error {
		if int(off) != next || int(off)+int(part.NumRows()) > n {
			return fmt.Errorf("the source gave rows %d to %d of %d where row %d was next", off, int(off)+int(part.NumRows()), n, next)
		}
		for i := range fits {
			fits[i].add(&p.Steps[i], part, next, y, enc.folds)
		}
		next += int(part.NumRows())
		return nil
	})
	if err == nil && next != n {
		err = fmt.Errorf("the source gave %d rows of %d", next, n)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("fit: %w", err)
	}
	for i := range fits {
		st, f := &p.Steps[i], &fits[i]
		switch st.Transform {
		case KindNumeric:
			fitNumeric(st, f.xs)
		case KindCategorical, KindCross:
			if f.counts != nil {
				st.Levels = levelsOf(f.counts, max(spec[i].MinFrequency, 1))
			}
			if f.te != nil {
				st.TE = f.te.encoding()
				f.oof.finish()
			}
		}
		enc.oof = append(enc.oof, f.oof)
	}
	p.Columns = p.outputColumns()
	return p, enc, nil
}

func stepInputs(st Step) []string {
	if st.Column != "" {
		return []string{st.Column}
	}
	return st.Columns
}

func stepName(st Step) string {
	if st.Column != "" {
		return st.Column
	}
	return st.Columns[0] + "_x_" + st.Columns[1]
}

// fitNumeric fits a numeric step on xs, the values present in the
// training rows, in row order. It sorts xs.
func fitNumeric(st *Step, xs []float64) {
	st.Std = 1
	if len(xs) == 0 {
		return
	}
	sort.Float64s(xs)
	st.Median = xs[len(xs)/2]
	if len(xs)%2 == 0 {
		st.Median = (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
	}
	// Mean and variance of the values as the model will see them (after
	// the optional log), each divided by scale.
	moments := func(scale float64) (mean, v float64) {
		var sum, sumsq float64
		for _, x := range xs {
			y := st.logf(x) / scale
			sum += y
			sumsq += y * y
		}
		n := float64(len(xs))
		mean = sum / n
		return mean, sumsq/n - mean*mean
	}
	scale := 1.0
	m, v := moments(scale)
	if math.IsInf(v, 0) || math.IsNaN(v) || math.IsInf(m, 0) {
		// Values beyond about 1e154 overflow the sum of squares (or of
		// values), and a step with an infinite mean or spread could
		// neither be saved nor scale anything: take the statistics of
		// the values scaled to at most 1 in magnitude, then scale back.
		// Ordinary data never comes here.
		scale = max(math.Abs(st.logf(xs[0])), math.Abs(st.logf(xs[len(xs)-1])))
		m, v = moments(scale)
	}
	st.Mean = m * scale
	if v > 1e-24 {
		st.Std = min(math.Sqrt(v)*scale, math.MaxFloat64)
	}
}

func (st *Step) logf(x float64) float64 {
	if !st.Log {
		return x
	}
	if x < 0 {
		return -math.Log1p(-x)
	}
	return math.Log1p(x)
}

// numeric maps one raw value (ok false if missing) to its feature.
func (st *Step) numeric(v float64, ok bool) float64 {
	if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
		v = st.Median
	}
	d := st.logf(v) - st.Mean
	if math.IsInf(d, 0) { // a span beyond float64's, as from -1.7e308 to 1.7e308
		return st.logf(v)/st.Std - st.Mean/st.Std
	}
	return d / st.Std
}

// countKeys adds the rows of each key of keys (missing ones left out) to
// counts.
func countKeys(counts map[string]int, keys []string) {
	for _, k := range keys {
		if k != missingKey {
			counts[k]++
		}
	}
}

// levelsOf returns the keys counted at least minFreq times, most
// frequent first (ties by key), so that codes are stable for the same
// data.
func levelsOf(counts map[string]int, minFreq int) []string {
	var levels []string
	for k, c := range counts {
		if c >= minFreq {
			levels = append(levels, k)
		}
	}
	sort.Slice(levels, func(a, b int) bool {
		ca, cb := counts[levels[a]], counts[levels[b]]
		if ca != cb {
			return ca > cb
		}
		return levels[a] < levels[b]
	})
	return levels
}

// fitTE fits a target encoding on the rows whose fold is not skip (all
// rows when folds is nil).
func fitTE(keys []string, y []float64, smoothing float64, folds []uint8, skip int) *TargetEncoding {
	te := newTEStats(smoothing)
	te.add(keys, y, folds, skip)
	return te.encoding()
}

// teStats gathers a target encoding's counts a range of rows at a time.
type teStats struct {
	smoothing float64
	stats     map[string]*teStat
	n, pos    float64
}

type teStat struct{ n, pos float64 }

func newTEStats(smoothing float64) *teStats {
	return &teStats{smoothing: smoothing, stats: map[string]*teStat{}}
}

// add counts the rows of keys (labels y) whose fold is not skip.
func (t *teStats) add(keys []string, y []float64, folds []uint8, skip int) {
	for r, k := range keys {
		if folds != nil && int(folds[r]) == skip {
			continue
		}
		t.n++
		t.pos += y[r]
		if k == missingKey {
			continue
		}
		s := t.stats[k]
		if s == nil {
			s = &teStat{}
			t.stats[k] = s
		}
		s.n++
		s.pos += y[r]
	}
}

// encoding is the target encoding of the rows counted.
func (t *teStats) encoding() *TargetEncoding {
	te := &TargetEncoding{Smoothing: t.smoothing, Values: make(map[string]float64, len(t.stats))}
	if t.n > 0 {
		te.Prior = t.pos / t.n
	}
	for k, s := range t.stats {
		te.Values[k] = (s.pos + t.smoothing*te.Prior) / (s.n + t.smoothing)
	}
	return te
}

// oofStats holds what the out-of-fold target encoding of a training row
// needs: per key and per fold, the rows and positives (as fitTE counts
// them), and the prior of each fold's complement. It is gathered a range
// of rows at a time (add), then finished.
type oofStats struct {
	smoothing float64
	keys      map[string]*foldStat
	n, pos    [Folds]float64
	prior     [Folds]float64
}

type foldStat struct{ n, pos [Folds]float64 }

func newOOFStats(smoothing float64) *oofStats {
	return &oofStats{smoothing: smoothing, keys: map[string]*foldStat{}}
}

// add counts the rows of keys, with labels y and folds folds.
func (o *oofStats) add(keys []string, y []float64, folds []uint8) {
	for r, k := range keys {
		f := folds[r]
		o.n[f]++
		o.pos[f] += y[r]
		if k == missingKey {
			continue
		}
		s := o.keys[k]
		if s == nil {
			s = &foldStat{}
			o.keys[k] = s
		}
		s.n[f]++
		s.pos[f] += y[r]
	}
}

// finish computes each fold's prior, once every row was added.
func (o *oofStats) finish() {
	for f := range o.prior {
		var nn, pp float64
		for g := 0; g < Folds; g++ {
			if g != f {
				nn += o.n[g]
				pp += o.pos[g]
			}
		}
		if nn > 0 {
			o.prior[f] = pp / nn
		}
	}
}

// encode writes into dst[r] the out-of-fold target encoding of keys[r],
// a row of fold folds[r]: the encoding fitted (as fitTE does) on the rows
// of the other folds, that is the totals minus the row's own fold's.
func (o *oofStats) encode(keys []string, folds []uint8, dst []float64) {
	for r, k := range keys {
		f := folds[r]
		s := o.keys[k]
		if s == nil {
			dst[r] = o.prior[f]
			continue
		}
		var nn, pp float64
		for g := 0; g < Folds; g++ {
			if g != int(f) {
				nn += s.n[g]
				pp += s.pos[g]
			}
		}
		if nn == 0 {
			dst[r] = o.prior[f] // the category occurs only in this row's fold
			continue
		}
		dst[r] = (pp + o.smoothing*o.prior[f]) / (nn + o.smoothing)
	}
}

func (te *TargetEncoding) encode(key string) float64 {
	if v, ok := te.Values[key]; ok {
		return v
	}
	return te.Prior
}

// assignFolds draws each of n rows a fold, seeded; with groups (the
// group of each row, numbered from 0), each group a fold, drawn in the
// order of the groups' numbers, for all its rows.
func assignFolds(n int, seed uint64, groups []int) []uint8 {
	rng := rand.New(rand.NewPCG(seed, 0x666f6c6473)) // "folds"
	f := make([]uint8, n)
	if groups == nil {
		for i := range f {
			f[i] = uint8(rng.IntN(Folds))
		}
		return f
	}
	if n == 0 {
		return f
	}
	byGroup := make([]uint8, slices.Max(groups)+1)
	for g := range byGroup {
		byGroup[g] = uint8(rng.IntN(Folds))
	}
	for i, g := range groups {
		f[i] = byGroup[g]
	}
	return f
}

// outputColumns lists the output columns of the fitted steps.
func (p *Pipeline) outputColumns() []ColumnInfo {
	var cols []ColumnInfo
	for _, st := range p.Steps {
		name := stepName(st)
		switch st.Transform {
		case KindTime:
			for _, part := range st.Parts {
				c := ColumnInfo{Name: part, Kind: timeParts[part]}
				if c.Kind == Categorical {
					c.Card = partCard(part)
				}
				cols = append(cols, c)
			}
		case KindNumeric:
			cols = append(cols, ColumnInfo{Name: name, Kind: Numeric})
		case KindCategorical, KindCross:
			if st.Codes {
				cols = append(cols, ColumnInfo{Name: name, Kind: Categorical, Card: len(st.Levels) + 1,
					Levels: append([]string{"(unknown)"}, st.Levels...)})
			}
			if st.TE != nil {
				cols = append(cols, ColumnInfo{Name: name + "_te", Kind: Numeric})
			}
		}
	}
	return cols
}

// ColumnInputs names, for each output column, the raw input it is
// computed from: the input column's name, or "a × b" for a cross of a
// and b. Explanations and importances are summed by these names.
func (p *Pipeline) ColumnInputs() []string {
	out := make([]string, 0, len(p.Columns))
	for i, st := range p.Steps {
		in := st.Column
		if in == "" {
			in = strings.Join(st.Columns, " × ")
		}
		for range p.stepWidth(i) {
			out = append(out, in)
		}
	}
	return out
}

// stepWidth is the number of output columns of step i.
func (p *Pipeline) stepWidth(i int) int {
	st := p.Steps[i]
	switch st.Transform {
	case KindTime:
		return len(st.Parts)
	case KindNumeric:
		return 1
	}
	w := 0
	if st.Codes {
		w++
	}
	if st.TE != nil {
		w++
	}
	return w
}

// partCard is the number of codes of a categorical time part: the
// values plus code 0 for a missing time.
func partCard(part string) int {
	switch part {
	case "hour":
		return 24 + 1
	case "day_of_week":
		return 7 + 1
	}
	return 0
}

// typeName is the contract's name for an Arrow type.
func typeName(dt arrow.DataType) string {
	if dt.ID() == arrow.STRING {
		return "string"
	}
	return dt.String()
}

// missingKey stands for a missing category in key lists. It cannot occur
// as a real key: real keys never contain a NUL byte followed by this text.
const missingKey = "\x00missing"

func formatKey(parts []string) string {
	if len(parts) == 1 {
		return parts[0]
	}
	return parts[0] + "\x1f" + parts[1] // unit separator: not in real codes
}
