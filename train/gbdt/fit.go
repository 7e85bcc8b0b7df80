package gbdt

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/mlpipe/mlpipe/train"
)

// Trainer fits gradient-boosted tree models. It implements train.Trainer.
type Trainer struct {
	params Params
}

// New returns a trainer with parameters p (zero fields take defaults).
func New(p Params) *Trainer { return &Trainer{params: p} }

// Name returns "gbdt".
func (t *Trainer) Name() string { return Name }

// Second words of the PCG seeds: one random stream per purpose, so that,
// for example, changing Subsample does not change the binning sample.
const (
	seedBins = 0x62696e73 // "bins"
	seedRows = 0x726f7773 // "rows"
	seedCols = 0x636f6c73 // "cols"
)

// Fit trains a model on tr, using valid (which may be nil) for early
// stopping. It returns an error wrapping train.ErrOneClass when the
// training labels hold a single class, and ctx's error when ctx is
// cancelled (checked between trees).
func (t *Trainer) Fit(ctx context.Context, tr, valid *train.Dataset) (train.Model, error) {
	m, err := t.fit(ctx, tr, valid)
	if err != nil {
		return nil, fmt.Errorf("gbdt fit: %w", err)
	}
	return m, nil
}

func (t *Trainer) fit(ctx context.Context, tr, valid *train.Dataset) (*Model, error) {
	p, err := t.params.resolve()
	if err != nil {
		return nil, err
	}
	if err := checkData(tr, valid); err != nil {
		return nil, err
	}
	b := newBooster(tr, valid, p)
	if err := b.run(ctx); err != nil {
		return nil, err
	}
	return b.model(tr), nil
}

// checkData validates both datasets and that they agree.
func checkData(tr, valid *train.Dataset) error {
	if err := tr.Validate(); err != nil {
		return fmt.Errorf("training set: %w", err)
	}
	if tr.X.Rows > math.MaxInt32 {
		return fmt.Errorf("training set: %d rows, at most %d are supported", tr.X.Rows, math.MaxInt32)
	}
	seen := make(map[float64]bool)
	for _, y := range tr.Y {
		if seen[y] = true; len(seen) > 1 {
			break
		}
	}
	if len(seen) < 2 {
		return fmt.Errorf("training set: %w: every label is the same", train.ErrOneClass)
	}
	if valid == nil {
		return nil
	}
	if err := valid.Validate(); err != nil {
		return fmt.Errorf("validation set: %w", err)
	}
	if valid.Classes != tr.Classes {
		return fmt.Errorf("validation set: %d classes, training set %d", valid.Classes, tr.Classes)
	}
	if len(valid.X.Cols) != len(tr.X.Cols) {
		return fmt.Errorf("validation set: %d columns, training set %d", len(valid.X.Cols), len(tr.X.Cols))
	}
	for j, c := range tr.X.Cols {
		if v := valid.X.Cols[j]; v.Kind != c.Kind || v.Card != c.Card {
			return fmt.Errorf("validation set: column %d (%s) is %s with %d codes, in the training set %s with %d", j, c.Name, v.Kind, v.Card, c.Kind, c.Card)
		}
	}
	return nil
}

// booster runs the boosting rounds.
type booster struct {
	p       Params
	k       int // outputs: trees per round
	maps    []binMapper
	x, vx   binnedMatrix // training and validation bins
	y, vy   []float64
	scores  []float64 // training margins, n × k
	vscores []float64 // validation margins
	grads   [][]gradPair
	grower  *grower
	rowRNG  *rand.Rand
	colRNG  *rand.Rand
	all     []int32 // every training row, for rounds without row sampling

	trees     []Tree
	gain      []float64 // gain per column so far
	bestGain  []float64 // gain per column at the best round
	bestRound int
	bestLoss  float64
	base      []float64
	hasValid  bool
}

func newBooster(tr, valid *train.Dataset, p Params) *booster {
	b := &booster{
		p:      p,
		k:      outputs(tr.Classes),
		y:      tr.Y,
		rowRNG: rand.New(rand.NewPCG(p.Seed, seedRows)),
		colRNG: rand.New(rand.NewPCG(p.Seed, seedCols)),
		gain:   make([]float64, len(tr.X.Cols)),
	}
	b.maps = newBinMappers(tr.X, p.MaxBins, p.Seed, p.Parallelism)
	b.x = binMatrix(tr.X, b.maps, p.Parallelism)
	b.grower = newGrower(&b.x, b.maps, p)
	b.base = baseMargins(tr.Y, tr.Classes)
	b.scores = startMargins(tr.X.Rows, b.base)
	b.grads = make([][]gradPair, b.k)
	for c := range b.grads {
		b.grads[c] = make([]gradPair, tr.X.Rows)
	}
	b.all = make([]int32, tr.X.Rows)
	for i := range b.all {
		b.all[i] = int32(i)
	}
	if valid != nil {
		b.hasValid = true
		b.vx = binMatrix(valid.X, b.maps, p.Parallelism)
		b.vy = valid.Y
		b.vscores = startMargins(valid.X.Rows, b.base)
	}
	return b
}

func outputs(classes int) int {
	if classes == 2 {
		return 1
	}
	return classes
}

// startMargins returns n rows of margins, each a copy of base.
func startMargins(n int, base []float64) []float64 {
	s := make([]float64, n*len(base))
	for i := range n {
		copy(s[i*len(base):], base)
	}
	return s
}

// run boosts until Rounds rounds are done or early stopping ends it.
func (b *booster) run(ctx context.Context) error {
	for round := range b.p.Rounds {
		rows := b.sampleRows()
		gradients(b.scores, b.y, b.grads, b.p.Parallelism)
		for c := range b.k {
			if err := ctx.Err(); err != nil {
				return err
			}
			b.addTree(b.grower.grow(b.grads[c], rows, b.sampleCols()), c, len(rows) < len(b.all))
		}
		if b.endRound(round) {
			break
		}
	}
	return nil
}

// endRound does the bookkeeping of a finished round and says whether to
// stop early.
func (b *booster) endRound(round int) (stop bool) {
	validLoss := math.NaN()
	if b.hasValid {
		validLoss = meanLoss(b.vscores, b.vy, b.k, b.p.Parallelism)
	}
	if b.p.Progress != nil {
		b.p.Progress(round, meanLoss(b.scores, b.y, b.k, b.p.Parallelism), validLoss)
	}
	if !b.hasValid || round == 0 || validLoss < b.bestLoss {
		b.bestRound, b.bestLoss = round, validLoss
		b.bestGain = append(b.bestGain[:0], b.gain...)
		return false
	}
	return b.p.EarlyStoppingRounds > 0 && round-b.bestRound >= b.p.EarlyStoppingRounds
}

// sampleRows returns this round's training rows, ascending: all of them,
// or a seeded sample of Subsample of them drawn without replacement.
func (b *booster) sampleRows() []int32 {
	if b.p.Subsample >= 1 {
		return b.all
	}
	n := len(b.all)
	return sampleRows(n, max(1, int(math.Round(b.p.Subsample*float64(n)))), b.rowRNG)
}

// sampleCols returns the columns the next tree may split on, ascending:
// all of them, or a seeded sample of ColSample of them (at least one).
func (b *booster) sampleCols() []int {
	n := len(b.maps)
	k := max(1, int(math.Round(b.p.ColSample*float64(n))))
	if k >= n {
		cols := make([]int, n)
		for j := range cols {
			cols[j] = j
		}
		return cols
	}
	cols := b.colRNG.Perm(n)[:k]
	slices.Sort(cols)
	return cols
}

// addTree adds a grown tree for output c to the margins of every training
// and validation row and to the model. The rows the tree was grown on are
// found leaf by leaf in the grower's row array; the rest (when rows were
// subsampled) and the validation rows are run down the tree in bins.
func (b *booster) addTree(t *grownTree, c int, subsampled bool) {
	k, rows, workers := b.k, b.grower.rows, b.p.Parallelism
	forEach(workers, len(t.nodes), func(i int) {
		if nd := &t.nodes[i]; !nd.isSplit {
			for _, r := range rows[nd.lo:nd.hi] {
				b.scores[int(r)*k+c] += nd.value
			}
		}
	})
	if subsampled {
		inTree := make([]bool, len(b.all))
		for _, r := range rows[:t.nodes[0].hi] {
			inTree[r] = true
		}
		forChunks(workers, len(b.all), lossChunk, func(_, lo, hi int) {
			for i := lo; i < hi; i++ {
				if !inTree[i] {
					b.scores[i*k+c] += t.predictBinned(&b.x, i)
				}
			}
		})
	}
	if b.hasValid {
		forChunks(workers, b.vx.rows, lossChunk, func(_, lo, hi int) {
			for i := lo; i < hi; i++ {
				b.vscores[i*k+c] += t.predictBinned(&b.vx, i)
			}
		})
	}
	for _, nd := range t.nodes {
		if nd.isSplit {
			b.gain[nd.split.col] += nd.split.gain
		}
	}
	b.trees = append(b.trees, t.export(b.maps))
}

// predictBinned returns the leaf value that row i of x falls in.
func (t *grownTree) predictBinned(x *binnedMatrix, i int) float64 {
	row := x.bins[i*x.cols : (i+1)*x.cols]
	nd := &t.nodes[0]
	for nd.isSplit {
		if nd.split.left.has(row[nd.split.col]) {
			nd = &t.nodes[nd.left]
		} else {
			nd = &t.nodes[nd.right]
		}
	}
	return nd.value
}

// model returns the fitted model, cut back to the best round.
func (b *booster) model(tr *train.Dataset) *Model {
	names := make([]string, len(tr.X.Cols))
	for j, c := range tr.X.Cols {
		names[j] = c.Name
	}
	p := b.p
	p.Progress = nil
	return &Model{
		Classes:    tr.Classes,
		ClassNames: tr.ClassNames,
		Columns:    names,
		Base:       b.base,
		Trees:      b.trees[:(b.bestRound+1)*b.k],
		BestRound:  b.bestRound,
		Gain:       b.bestGain,
		Params:     p,
	}
}

// export turns a tree grown in bins into its saved form in raw values:
// a numeric split "bins 1..b go left" becomes x <= upper[b-1], a
// categorical split's set of bins becomes a set of codes.
func (t *grownTree) export(maps []binMapper) Tree {
	// Number split nodes and leaves in node order; children always come
	// after their parent.
	index := make([]int32, len(t.nodes))
	var splits, leaves int32
	for i, nd := range t.nodes {
		if nd.isSplit {
			index[i] = splits
			splits++
		} else {
			index[i] = ^leaves
			leaves++
		}
	}
	var out Tree
	for _, nd := range t.nodes {
		if !nd.isSplit {
			out.Leaf = append(out.Leaf, nd.value)
			continue
		}
		s := &nd.split
		m := &maps[s.col]
		out.Col = append(out.Col, int32(s.col))
		out.DefaultLeft = append(out.DefaultLeft, s.defaultLeft)
		out.Left = append(out.Left, index[nd.left])
		out.Right = append(out.Right, index[nd.right])
		if !s.categorical {
			out.Threshold = append(out.Threshold, m.upper[s.bin-1])
			out.Cat = append(out.Cat, -1)
			continue
		}
		out.Threshold = append(out.Threshold, 0)
		out.Cat = append(out.Cat, int32(len(out.CatSets)))
		out.CatSets = append(out.CatSets, codeSet(m, &s.left, s.defaultLeft))
	}
	return out
}

// codeSet turns a set of bins into the bitset of the codes that go left.
// Codes in the "other" bin follow bin 0, which is on the default side.
// Bits past the last code are set to the default side too, and trailing
// words that say only "default" are dropped: a code past the end of the
// set goes to the default side anyway.
func codeSet(m *binMapper, left *binSet, defaultLeft bool) []uint32 {
	words := make([]uint32, (m.card+31)/32)
	for code := range 32 * len(words) {
		goLeft := defaultLeft
		if code < m.card {
			goLeft = left.has(m.codeBin[code])
		}
		if goLeft {
			words[code>>5] |= 1 << (code & 31)
		}
	}
	var fill uint32
	if defaultLeft {
		fill = math.MaxUint32
	}
	for len(words) > 0 && words[len(words)-1] == fill {
		words = words[:len(words)-1]
	}
	return words
}
