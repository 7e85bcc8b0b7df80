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

// gradPair is the gradient and hessian of the loss at one row. They are
// stored as float32, as XGBoost and LightGBM store them: that halves what
// the histogram loop reads per row, and 7 significant digits is far more
// than a split needs. Every sum of them is a float64.
type gradPair struct{ g, h float32 }

// sums are the totals of the rows of a node, a side or a histogram bin.
type sums struct {
	G, H float64 // sums of gradients and hessians
	N    int     // number of rows
}

func (s sums) add(o sums) sums { return sums{s.G + o.G, s.H + o.H, s.N + o.N} }
func (s sums) sub(o sums) sums { return sums{s.G - o.G, s.H - o.H, s.N - o.N} }

// histogram holds the bins of every column: h[j][b] is bin b of column
// j. The columns share one allocation, each as long as its number of
// bins, because a big tree keeps a histogram for each of its open leaves:
// thousands of them. Only the bins of the columns a tree samples are
// filled.
type histogram [][]sums

// newHistogram allocates a histogram for the columns of x.
func newHistogram(x *binnedMatrix) histogram {
	total := 0
	for _, n := range x.numBins {
		total += n
	}
	all := make([]sums, total)
	h := make(histogram, x.cols)
	for j, n := range x.numBins {
		h[j], all = all[:n:n], all[n:]
	}
	return h
}

// minParallelCells is the least rows × columns work that is split
// across goroutines; below it, starting goroutines costs more than it
// saves.
const minParallelCells = 1 << 14

// histPiece is the most rows of one piece of a histogram (see buildHist).
const histPiece = 1 << 15

// buildHist fills the bins of columns cols (ascending) of h from the rows
// of set.
//
// A node with more than histPiece rows is cut into pieces of histPiece
// rows. Each piece is summed into a histogram of its own, by whichever
// goroutine is free, and the pieces' histograms are then added in piece
// order. Every bin is thus summed in the same order whatever the number
// of goroutines, so the histogram is bit-identical from run to run.
func (g *grower) buildHist(h histogram, set rowSet, cols []int) {
	n := len(set.rows)
	pieces := (n + histPiece - 1) / histPiece
	if pieces <= 1 {
		h.clearCols(cols)
		accumulate(h, cols, set)
		return
	}
	parts := make([]histogram, pieces)
	forChunks(g.p.Parallelism, n, histPiece, func(c, lo, hi int) {
		parts[c] = g.newHist()
		parts[c].clearCols(cols)
		accumulate(parts[c], cols, set.slice(lo, hi))
	})
	h.clearCols(cols)
	for _, p := range parts {
		h.addCols(p, cols)
		g.release(p)
	}
}

// clearCols zeroes the bins of columns cols.
func (h histogram) clearCols(cols []int) {
	for _, j := range cols {
		clear(h[j])
	}
}

// addCols adds o's bins of columns cols to h's.
func (h histogram) addCols(o histogram, cols []int) {
	for _, j := range cols {
		d, s := h[j], o[j]
		for b := range d {
			d[b] = d[b].add(s[b])
		}
	}
}

// accumulate adds each row's gradient pair of set to its bin in every
// column of group.
//
// The rows' gradients and bins lie in order in set (see rowSet), so the
// loop reads memory sequentially, however scattered over the training
// set the node's rows are. Each row updates all of the group's columns,
// so those updates do not wait on each other.
func accumulate(h histogram, group []int, set rowSet) {
	for k, gp := range set.grad {
		g, hess := float64(gp.g), float64(gp.h)
		row := set.row(k)
		for _, j := range group {
			b := &h[j][row[j]]
			b.G += g
			b.H += hess
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
func subtractHist(parent, child histogram, x *binnedMatrix, cols []int) {
	for _, j := range cols {
		p, c := parent[j], child[j]
		for b := range p {
			p[b] = p[b].sub(c[b])
		}
	}
}
