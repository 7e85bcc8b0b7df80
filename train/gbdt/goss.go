package gbdt

import (
	"math"
	"math/rand/v2"
	"slices"
)

// Gradient-based one-side sampling (GOSS; Ke et al. 2017, "LightGBM: A
// Highly Efficient Gradient Boosting Decision Tree", section 3).
//
// Rows with small gradients are already fitted well, and add little to
// the gain of any split, so a tree can be grown on fewer of them without
// losing much. With GOSS = s, each round keeps the share a = 2s/3 of the
// rows with the largest gradients (in absolute value, summed over the
// outputs), and of the rest draws the share b = s/3 of all rows at random
// (LightGBM's top_rate 0.2 and other_rate 0.1 for s = 0.3), multiplying
// their gradients and hessians by (1-a)/b so that the sums the tree sees
// stay unbiased. Trees are grown on the share s of the rows; the rows
// left out still get the tree's values. As in LightGBM, the first
// 1/LearningRate rounds use every row: early on, every row's gradient is
// large.
//
// It pays where building histograms from many rows is most of a round.
// With big trees it does not: on the setting configs/flights-quality.yaml
// had then (1,023 leaves, learning rate 0.1, lambda 1) GOSS 0.3 fitted in 75.3 s to a test
// ROC AUC of 0.7754, against 67.8 s and 0.7853 without it
// (BenchmarkFlightsQuality with MLPIPE_BENCH_PARAMS='{"goss":0.3}'), as
// a tree's fixed costs per leaf do not shrink with its rows.

// gossSampleRows is how many rows, at most, the gradient threshold of the
// top share is estimated from (a seeded sample, as for the bins).
const gossSampleRows = 1 << 16

// gossRows returns the rows (ascending) this round's trees are grown on,
// and scales the gradients of the drawn small-gradient rows. Every row's
// gradients must have been computed.
func (b *booster) gossRows(round int) []int32 {
	if round < int(math.Ceil(1/b.p.LearningRate)) {
		return b.all
	}
	top, other := 2*b.p.GOSS/3, b.p.GOSS/3
	weight := func(r int32) float64 {
		var w float64
		for c := range b.k {
			w += math.Abs(float64(b.grads[c][r].g))
		}
		return w
	}
	if b.gossSample == nil {
		b.gossSample = sampleRows(len(b.all), gossSampleRows, rand.New(rand.NewPCG(b.p.Seed, seedGOSS)))
	}
	ws := make([]float64, len(b.gossSample))
	for i, r := range b.gossSample {
		ws[i] = weight(r)
	}
	slices.Sort(ws)
	threshold := ws[min(len(ws)-1, int((1-top)*float64(len(ws))))]
	keep := uint64(other / (1 - top) * (1 << 63)) // draw a small-gradient row with probability b/(1-a)
	scale := float32((1 - top) / other)
	rows := b.sample[:0]
	for _, r := range b.all {
		if weight(r) >= threshold {
			rows = append(rows, r)
			continue
		}
		if b.rowRNG.Uint64()>>1 < keep {
			rows = append(rows, r)
			for c := range b.k {
				g := &b.grads[c][r]
				g.g *= scale
				g.h *= scale
			}
		}
	}
	b.sample = rows
	return rows
}
