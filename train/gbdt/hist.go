package gbdt

import "sync"

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
// rows of x, whose gradients are grad.
//
// A node with more than histPiece rows is cut into pieces of histPiece
// rows. Each piece is summed into a histogram of its own, by whichever
// goroutine is free, and the pieces' histograms are then added in piece
// order. Every bin is thus summed in the same order whatever the number
// of goroutines, so the histogram is bit-identical from run to run, and
// the goroutines share the rows: each reads only its pieces' rows, and
// the cache misses of reading scattered rows are not paid twice.
func (g *grower) buildHist(h histogram, rows []int32, grad []gradPair, cols []int) {
	pieces := (len(rows) + histPiece - 1) / histPiece
	if pieces <= 1 {
		buildPiece(h, g.x, rows, grad, cols)
		return
	}
	parts := make([]histogram, pieces)
	forChunks(g.p.Parallelism, len(rows), histPiece, func(c, lo, hi int) {
		parts[c] = g.newHist()
		buildPiece(parts[c], g.x, rows[lo:hi], grad, cols)
	})
	h.clearCols(cols)
	for _, p := range parts {
		h.addCols(p, cols)
		g.release(p)
	}
}

// buildPiece fills the bins of columns cols of h from rows.
func buildPiece(h histogram, x *binnedMatrix, rows []int32, grad []gradPair, cols []int) {
	h.clearCols(cols)
	buf := gatherPool.Get().(*gathered)
	accumulate(h, cols, x, rows, grad, buf)
	gatherPool.Put(buf)
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

// gatherBlock is how many rows accumulate copies out at a time.
const gatherBlock = 256

// gathered holds a block of rows copied out by accumulate.
type gathered struct {
	bins []uint8 // gatherBlock rows of bins, row-major
	grad [gatherBlock]gradPair
}

var gatherPool = sync.Pool{New: func() any { return new(gathered) }}

// accumulate adds each row's gradient pair to its bin in every column of
// group.
//
// It works a block of rows at a time, in two passes. The first copies the
// block's bins and gradients into buf; the second adds them up. Below the
// root, a node's rows are scattered over the training set, and each one
// read is a cache miss. The copy loop is short, so the CPU keeps many of
// those misses in flight at once; the adding loop, which is long (three
// read-modify-writes per column), then reads only from the small buffer.
// On scattered rows this is about twice as fast as one loop doing both.
// Each row's bins are one contiguous piece of the row-major matrix, and
// each row updates all of the group's columns, so those updates do not
// wait on each other.
//
// Measured and dropped (models bit for bit the same, CPU against this
// code): keeping each node's gradients and bins beside its rows, moved
// by partition, so that this loop reads them in order (3c2508b) cut the
// 4,095-leaf flights regression's fit to 0.94-0.96x but cost 255-leaf
// rounds 1.11-1.19x, partition then moving 20-28 bytes a row instead of
// 4; copying a row as 8-byte words instead of with copy was even or
// worse on both at load 4-6 (and again on 255-leaf rounds at load 1.2:
// 1.13, 0.90, 1.02x). Sorting the training rows first, so that a node's
// rows lie closer together (by route and hour, by airports and time, in
// a throwaway benchmark), was even too: the cost is not in finding
// scattered rows. Histograms with only the bins of a small
// node's rows live, cleared, subtracted and scanned (e3d374c; the same
// model) cost the backtest's fit 1.04-1.13x its CPU, and reading a
// block's bins before placing its rows in partition 1.06x (each run at
// the same time as this code, one CPU each, load 6-11). Summing a node
// whose rows cover at least half of their span straight from the
// matrix, without the copy, measured even on 255-leaf rounds of 2M rows
// (four pairs of BenchmarkRound255, one CPU each, at the same time). The
// size of a bin matters where nodes are small: bins padded from 24 to 32
// bytes cost the backtest's fit 5% more CPU (9.63, 9.69 against 9.19,
// 9.24 CPU s, in pairs), and 255-leaf rounds nothing measurable; so bins
// of 20 bytes (the counts in an array of their own) might save a few
// percent there. Not tried. What quantized gradients (LightGBM 4) could
// buy here, measured on 10 columns of 255 random bins, one CPU, in a
// throwaway benchmark: gradient and hessian as small integers packed in
// one int64 a bin summed 1.25-1.5 times as many rows a second as this
// loop, but only without a row count a bin; with the counts kept in an
// array beside it, no faster, and G and H without counts only 5-10%
// faster. The cost is the read-modify-writes a cell, not the float
// arithmetic, and the counts are what MinSamplesLeaf needs. In a whole
// 255-leaf round, with 8-bit gradients packed beside an exact count in
// one int64 a bin (24 bits each of g and h, 16 of n: no carries within a
// piece of histPiece rows), summed so for nodes of 4,096 rows or more
// and unpacked into this histogram, the round took 0.85-1.01x the time
// of this loop (four pairs, median 0.94x) before paying to quantize the
// gradients each round: not worth a second kind of histogram.
func accumulate(h histogram, group []int, x *binnedMatrix, rows []int32, grad []gradPair, buf *gathered) {
	nc := x.cols
	if len(buf.bins) < gatherBlock*nc {
		buf.bins = make([]uint8, gatherBlock*nc)
	}
	for len(rows) > 0 {
		block := rows[:min(gatherBlock, len(rows))]
		rows = rows[len(block):]
		for k, r := range block {
			buf.grad[k] = grad[r]
			copy(buf.bins[k*nc:(k+1)*nc], x.row(int(r)))
		}
		for k := range block {
			g, hess := float64(buf.grad[k].g), float64(buf.grad[k].h)
			row := buf.bins[k*nc : (k+1)*nc]
			for _, j := range group {
				b := &h[j][row[j]]
				b.G += g
				b.H += hess
				b.N++
			}
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
