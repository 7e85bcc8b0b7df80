package gbdt

// Gradient histograms.
//
// Boosting fits each tree to the first and second derivatives of the loss
// (gradient g and hessian h of every row). A split is judged only by the
// sums G, H of its two sides, so the best threshold of a column is found
// from a histogram holding, per bin, the sums of g and h (and the row
// count) of the node's rows in that bin: a scan over the bins gives the
// sums of every "bins <= b" side. Building the histogram is the costly
// part of training, one pass over the node's rows; the scan is cheap.

// gradPair is the gradient and hessian of the loss at one row.
type gradPair struct{ g, h float64 }

// sums are the totals of the rows of a node, a side or a histogram bin.
type sums struct {
	G, H float64 // sums of gradients and hessians
	N    int     // number of rows
}

func (s sums) add(o sums) sums { return sums{s.G + o.G, s.H + o.H, s.N + o.N} }
func (s sums) sub(o sums) sums { return sums{s.G - o.G, s.H - o.H, s.N - o.N} }

// histogram holds the bins of every column side by side: column j's bins
// are hist[off[j]:off[j+1]] (see histLayout).
type histogram []sums

// histLayout says where each column's bins sit in a histogram.
type histLayout struct {
	off []int // len cols+1; column j is [off[j], off[j+1])
}

func newHistLayout(maps []binMapper) histLayout {
	off := make([]int, len(maps)+1)
	for j := range maps {
		off[j+1] = off[j] + maps[j].numBins()
	}
	return histLayout{off: off}
}

func (l histLayout) size() int { return l.off[len(l.off)-1] }

// minParallelCells is the least rows × columns work that is split across
// goroutines; below it, starting goroutines costs more than it saves.
const minParallelCells = 1 << 16

// buildHist fills the bins of columns cols (ascending) of h from the rows
// rows of x, whose gradients are grad.
//
// The work is split by column: each goroutine owns a group of columns and
// sums over all the rows in their order, so every bin is summed in the
// same order whatever the number of goroutines or their scheduling, and
// the histogram is bit-identical from run to run without any reduction
// step.
func buildHist(h histogram, lay histLayout, x *binnedMatrix, rows []int32, grad []gradPair, cols []int, workers int) {
	groups := min(workers, len(cols))
	if len(rows)*len(cols) < minParallelCells {
		groups = 1
	}
	forEach(groups, groups, func(k int) {
		group := cols[k*len(cols)/groups : (k+1)*len(cols)/groups]
		offs := make([]int, len(group))
		for i, j := range group {
			offs[i] = lay.off[j]
			clear(h[lay.off[j]:lay.off[j+1]])
		}
		accumulate(h, offs, group, x, rows, grad)
	})
}

// accumulate adds each row's gradient pair to its bin in every column of
// group; column group[i]'s bins start at h[offs[i]].
func accumulate(h histogram, offs, group []int, x *binnedMatrix, rows []int32, grad []gradPair) {
	nc := x.cols
	for _, r := range rows {
		gp := grad[r]
		row := x.bins[int(r)*nc : int(r)*nc+nc]
		for i, j := range group {
			b := &h[offs[i]+int(row[j])]
			b.G += gp.g
			b.H += gp.h
			b.N++
		}
	}
}

// subtractHist turns parent's bins of columns cols into those of the
// parent's other child, given child's: a parent's rows are exactly its two
// children's, so each bin of one child is the parent's minus the other's.
// This is histogram subtraction: after a split, only the child with fewer
// rows is built from its rows, and its sibling costs one pass over the
// bins, which at least halves the work of every level.
func subtractHist(parent, child histogram, lay histLayout, cols []int) {
	for _, j := range cols {
		p, c := parent[lay.off[j]:lay.off[j+1]], child[lay.off[j]:lay.off[j+1]]
		for b := range p {
			p[b] = p[b].sub(c[b])
		}
	}
}
