package gbdt

// Tree growth.
//
// A tree grows leaf-wise (best-first, as in LightGBM): of all current
// leaves, the one whose best split gains most is split next, until the
// tree has MaxLeaves leaves or no leaf can gain. For the same number of
// leaves this lowers the training loss more than growing level by level,
// since it spends leaves where the data needs them; MaxDepth and
// MinSamplesLeaf keep it from chasing a few rows down a long path.
//
// The rows of the tree are kept in one array, and every leaf owns a
// contiguous range of it. Splitting a leaf partitions its range in place
// (stably, so each range stays in ascending row order, which keeps the
// reads of the binned matrix moving forward through memory).

// node is a node of a tree being grown, in bins.
type node struct {
	split       split // gain 0 for a leaf
	left, right int   // children, for a split node
	lo, hi      int   // the node's rows: grower.rows[lo:hi]
	sum         sums
	depth       int
	value       float64 // leaf value, after the learning rate
	isSplit     bool
	hist        histogram // while the node is a leaf that may be split
}

// grownTree is a tree as the grower leaves it: nodes in bins, node 0 the
// root, and each leaf's rows in the grower's row array.
type grownTree struct {
	nodes []node
}

// grower grows trees on one binned training matrix; it owns the buffers
// that every tree reuses.
type grower struct {
	x       *binnedMatrix
	maps    []binMapper
	lay     histLayout
	rules   splitRules
	p       Params
	rows    []int32 // the rows of the current tree, leaf by leaf
	scratch []int32 // partition buffer, as long as rows
	free    []histogram
}

func newGrower(x *binnedMatrix, maps []binMapper, p Params) *grower {
	return &grower{
		x:       x,
		maps:    maps,
		lay:     newHistLayout(maps),
		rules:   splitRules{lambda: p.Lambda, minChildWeight: p.MinChildWeight, minSamplesLeaf: p.MinSamplesLeaf},
		p:       p,
		rows:    make([]int32, x.rows),
		scratch: make([]int32, x.rows),
	}
}

// newHist returns a histogram from the free list, or a new one. Only the
// bins of the columns being built are cleared (by buildHist).
func (g *grower) newHist() histogram {
	if n := len(g.free); n > 0 {
		h := g.free[n-1]
		g.free = g.free[:n-1]
		return h
	}
	return make(histogram, g.lay.size())
}

func (g *grower) release(h histogram) {
	if h != nil {
		g.free = append(g.free, h)
	}
}

// grow grows one tree on the rows sample (ascending) with gradients grad,
// splitting only on columns cols.
func (g *grower) grow(grad []gradPair, sample []int32, cols []int) *grownTree {
	n := copy(g.rows, sample)
	var total sums
	for _, r := range sample {
		total.G += grad[r].g
		total.H += grad[r].h
	}
	total.N = n
	t := &grownTree{nodes: []node{{lo: 0, hi: n, sum: total}}}
	if g.splittable(&t.nodes[0]) {
		t.nodes[0].hist = g.newHist()
		buildHist(t.nodes[0].hist, g.lay, g.x, g.rows[:n], grad, cols, g.p.Parallelism)
		t.nodes[0].split = g.rules.bestSplit(t.nodes[0].hist, g.lay, g.maps, cols, total)
	}
	// open holds the leaves that have a split with positive gain.
	var open []int
	if t.nodes[0].split.gain > 0 {
		open = append(open, 0)
	} else {
		g.release(t.nodes[0].hist)
	}
	for leaves := 1; leaves < g.p.MaxLeaves && len(open) > 0; leaves++ {
		k := bestOpen(t, open)
		id := open[k]
		open = append(open[:k], open[k+1:]...)
		for _, c := range g.splitNode(t, id, grad, cols) {
			if t.nodes[c].split.gain > 0 {
				open = append(open, c)
			}
		}
	}
	for _, id := range open {
		g.release(t.nodes[id].hist)
		t.nodes[id].hist = nil
		t.nodes[id].split = split{}
	}
	for i := range t.nodes {
		if nd := &t.nodes[i]; !nd.isSplit {
			nd.value = g.p.LearningRate * g.rules.leafValue(nd.sum)
		}
	}
	return t
}

// bestOpen returns the index in open of the leaf with the largest gain;
// ties go to the older node (the lower id), so growth is deterministic.
func bestOpen(t *grownTree, open []int) int {
	best := 0
	for k, id := range open {
		b := open[best]
		if gk, gb := t.nodes[id].split.gain, t.nodes[b].split.gain; gk > gb || (gk == gb && id < b) {
			best = k
		}
	}
	return best
}

// splittable says whether a node may be split at all.
func (g *grower) splittable(nd *node) bool {
	return nd.depth < g.p.MaxDepth && nd.sum.N >= 2*g.p.MinSamplesLeaf
}

// splitNode splits leaf id by its best split: it partitions the leaf's
// rows, builds the histogram of the child with fewer rows, derives the
// other child's by subtraction from the parent's, and finds each child's
// best split. It returns the two children's ids.
func (g *grower) splitNode(t *grownTree, id int, grad []gradPair, cols []int) [2]int {
	p := t.nodes[id]
	mid := g.partition(p.lo, p.hi, p.split.col, &p.split.left)
	l, r := len(t.nodes), len(t.nodes)+1
	t.nodes[id].isSplit, t.nodes[id].left, t.nodes[id].right, t.nodes[id].hist = true, l, r, nil
	t.nodes = append(t.nodes,
		node{lo: p.lo, hi: mid, sum: p.split.lsum, depth: p.depth + 1},
		node{lo: mid, hi: p.hi, sum: p.split.rsum, depth: p.depth + 1})

	small, large := &t.nodes[l], &t.nodes[r]
	if small.sum.N > large.sum.N {
		small, large = large, small
	}
	// The small child has no more rows than the large one at the same
	// depth, so if the large child cannot be split, neither can it.
	if !g.splittable(large) {
		g.release(p.hist)
		return [2]int{l, r}
	}
	// The large child's histogram is the parent's minus the small
	// child's, so the small one is built even if it won't be split.
	small.hist = g.newHist()
	buildHist(small.hist, g.lay, g.x, g.rows[small.lo:small.hi], grad, cols, g.p.Parallelism)
	subtractHist(p.hist, small.hist, g.lay, cols)
	large.hist = p.hist
	for _, kid := range []*node{&t.nodes[l], &t.nodes[r]} {
		if g.splittable(kid) {
			kid.split = g.rules.bestSplit(kid.hist, g.lay, g.maps, cols, kid.sum)
		}
		if kid.split.gain <= 0 {
			g.release(kid.hist)
			kid.hist = nil
		}
	}
	return [2]int{l, r}
}

// partitionChunk is the rows each goroutine partitions at a time.
const partitionChunk = 1 << 15

// partition reorders rows[lo:hi] so that the rows whose bin in column col
// is in left come first, keeping the order within each side, and returns
// where the right side starts.
//
// Large ranges are cut into fixed chunks partitioned in parallel: each
// chunk writes its left rows forward from its start in the scratch
// buffer and its right rows backward from its end; then each chunk's two
// pieces are copied to their final places, found from the counts of the
// chunks before it. Chunks depend only on the range, so the result does
// not depend on the number of goroutines.
func (g *grower) partition(lo, hi, col int, left *binSet) int {
	rows, scratch := g.rows[lo:hi], g.scratch[lo:hi]
	bins, nc := g.x.bins, g.x.cols
	chunks := (len(rows) + partitionChunk - 1) / partitionChunk
	nLeft := make([]int, chunks)
	workers := g.p.Parallelism
	if len(rows) < minParallelCells {
		workers = 1
	}
	forChunks(workers, len(rows), partitionChunk, func(c, a, b int) {
		l, r := a, b
		for _, row := range rows[a:b] {
			if left.has(bins[int(row)*nc+col]) {
				scratch[l] = row
				l++
			} else {
				r--
				scratch[r] = row
			}
		}
		nLeft[c] = l - a
	})
	// Offsets of each chunk's left and right pieces in the result.
	leftAt, rightAt := make([]int, chunks), make([]int, chunks)
	totalLeft := 0
	for c := range chunks {
		leftAt[c] = totalLeft
		totalLeft += nLeft[c]
	}
	for c, at := 0, totalLeft; c < chunks; c++ {
		rightAt[c] = at
		a, b := c*partitionChunk, min((c+1)*partitionChunk, len(rows))
		at += b - a - nLeft[c]
	}
	forChunks(workers, len(rows), partitionChunk, func(c, a, b int) {
		nl := nLeft[c]
		copy(rows[leftAt[c]:], scratch[a:a+nl])
		// The right rows were written backward: reverse them back.
		dst := rows[rightAt[c] : rightAt[c]+(b-a-nl)]
		for i, k := 0, b-1; i < len(dst); i, k = i+1, k-1 {
			dst[i] = scratch[k]
		}
	})
	return lo + totalLeft
}
