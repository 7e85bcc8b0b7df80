package gbdt

import (
	"container/heap"
	"sync"
)

// Tree growth.
//
// A tree grows leaf-wise (best-first, as in LightGBM): of all current
// leaves, the one whose best split gains most is split next, until the
// tree has MaxLeaves leaves or no leaf can gain. For the same number of
// leaves this lowers the training loss more than growing level by level,
// since it spends leaves where the data needs them; MaxDepth and
// MinSamplesLeaf keep it from chasing a few rows down a long path.
//
// The rows of the tree are kept in two arrays of the same length, and
// every node owns the same contiguous range [lo, hi) of both; its rows are
// in one of them (node.buf). Splitting a node copies its rows, partitioned,
// into the same range of the other array: left rows first, then right
// rows. The copy is stable, so each node's rows stay in ascending order,
// which keeps the reads of the training data moving forward through
// memory.

// Growing one leaf at a time is serial by nature: which leaf comes next
// depends on the gains of the children just made. A big tree has
// thousands of small leaves, each too small to share among goroutines,
// so the grower works on several at once instead. Expanding an open leaf
// (partitioning its rows, building its children's histograms, finding
// their best splits) depends only on that leaf, so while the tree waits
// for the expansion of its best open leaf, the next few open leaves in
// gain order are expanded too, speculatively, each on a goroutine of its
// own, Parallelism of them at a time (see expansions). Each of those is
// split later unless the tree runs out of leaves first. Leaves are still
// committed one at a time in best-first order, so the tree is exactly the
// one serial best-first growth makes, whatever the parallelism; only the
// few expansions still running when the tree is full are wasted.

// node is a node of a tree being grown, in bins.
type node struct {
	split       split // gain 0 for a leaf
	left, right int   // children, for a split node
	lo, hi      int   // the node's rows: grower.rows[buf][lo:hi]
	buf         int
	sum         sums
	depth       int
	value       float64 // leaf value, after the learning rate
	isSplit     bool
	hist        histogram // while the node is a leaf that may be split
	kids        *[2]node  // the expansion of an open leaf, once made
	expanding   bool      // an expansion of this leaf has been started
}

// grownTree is a tree as the grower leaves it: nodes in bins, node 0 the
// root, and each leaf's rows in the grower's row arrays (see rowsOf).
type grownTree struct {
	nodes []node
}

// grower grows trees on one binned training matrix; it owns the buffers
// that every tree reuses.
type grower struct {
	x     *binnedMatrix
	maps  []binMapper
	rules splitRules
	p     Params
	rows  [2][]int32 // the rows of the current tree's nodes
	mu    sync.Mutex // guards free
	free  []histogram
	// rebuild is rebuildRows; a test changes it.
	rebuild int
}

func newGrower(x *binnedMatrix, maps []binMapper, p Params) *grower {
	return &grower{
		x:       x,
		maps:    maps,
		rules:   p.splitRules(),
		p:       p,
		rows:    [2][]int32{make([]int32, x.rows), make([]int32, x.rows)},
		rebuild: rebuildRows,
	}
}

// newHist returns a histogram from the free list, or a new one. Its bins
// hold anything: only those of the columns being built are cleared (by
// buildHist).
func (g *grower) newHist() histogram {
	g.mu.Lock()
	defer g.mu.Unlock()
	if n := len(g.free); n > 0 {
		h := g.free[n-1]
		g.free = g.free[:n-1]
		return h
	}
	return newHistogram(g.x)
}

func (g *grower) release(h histogram) {
	if h != nil {
		g.mu.Lock()
		g.free = append(g.free, h)
		g.mu.Unlock()
	}
}

// rowsOf returns the training rows of node nd.
func (g *grower) rowsOf(nd *node) []int32 { return g.rows[nd.buf][nd.lo:nd.hi] }

// grow grows one tree on the rows sample (ascending) with gradients grad,
// splitting only on columns cols.
func (g *grower) grow(grad []gradPair, sample []int32, cols []int) *grownTree {
	n := copy(g.rows[0], sample)
	root := node{lo: 0, hi: n}
	for _, r := range sample {
		root.sum.G += float64(grad[r].g)
		root.sum.H += float64(grad[r].h)
	}
	root.sum.N = n
	if g.splittable(&root) {
		root.hist = g.newHist()
		g.buildHist(root.hist, sample, grad, cols)
		root.split = g.rules.bestSplit(root.hist, g.maps, cols, root.sum)
	}
	t := &grownTree{nodes: []node{root}}
	open := &openLeaves{t: t} // the leaves with a split of positive gain
	g.keepIfOpen(open, 0)
	ex := &expansions{g: g, t: t, grad: grad, cols: cols, done: make(chan expanded)}
	for leaves := 1; leaves < g.p.MaxLeaves && open.Len() > 0; leaves++ {
		id := heap.Pop(open).(int)
		ex.await(id, open, g.p.MaxLeaves-leaves-1)
		l, r := g.commit(t, id)
		g.keepIfOpen(open, l)
		g.keepIfOpen(open, r)
	}
	for ex.running > 0 { // expansions the full tree no longer needs
		ex.receive()
	}
	for _, id := range open.ids { // leaves left open stay leaves
		nd := &t.nodes[id]
		if nd.kids != nil {
			g.release(nd.kids[0].hist)
			g.release(nd.kids[1].hist)
			nd.kids = nil
		}
		g.release(nd.hist)
		nd.hist, nd.split = nil, split{}
	}
	for i := range t.nodes {
		if nd := &t.nodes[i]; !nd.isSplit {
			nd.value = g.p.LearningRate * g.rules.leafValue(nd.sum)
		}
	}
	return t
}

// expansions runs the expansions of a tree's open leaves, each on a
// goroutine of its own. The goroutines work on copies of the leaves and
// send the children back; only the grower's loop, which receives them,
// touches the tree, so the tree may grow meanwhile.
type expansions struct {
	g       *grower
	t       *grownTree
	grad    []gradPair
	cols    []int
	running int // expansions started and not yet received
	done    chan expanded
}

// expanded is the result of one expansion: leaf id's children.
type expanded struct {
	id   int
	kids *[2]node
}

// await returns once leaf id, just taken off open as the best one, is
// expanded. Meanwhile it keeps Parallelism expansions running: id's, and
// those of the open leaves next in gain order, but at most spare of
// those (the leaves the tree has room for after id).
func (e *expansions) await(id int, open *openLeaves, spare int) {
	if !e.t.nodes[id].expanding {
		e.start(id)
	}
	for e.t.nodes[id].kids == nil {
		e.speculate(open, spare)
		e.receive()
	}
}

// lookahead is how many of the best open leaves, at most, are expanded
// speculatively: enough to keep every goroutine busy, few enough that
// little is wasted when the tree fills up.
func (e *expansions) lookahead() int { return 4*e.g.p.Parallelism - 1 }

// speculate starts the expansions of the best open leaves not yet
// started, while fewer than Parallelism run.
func (e *expansions) speculate(open *openLeaves, spare int) {
	if e.running >= e.g.p.Parallelism {
		return
	}
	for _, id := range open.top(min(e.lookahead(), spare)) {
		if e.running >= e.g.p.Parallelism {
			return
		}
		if !e.t.nodes[id].expanding {
			e.start(id)
		}
	}
}

// start expands leaf id on a goroutine of its own.
func (e *expansions) start(id int) {
	nd := &e.t.nodes[id]
	nd.expanding = true
	e.running++
	leaf := *nd
	go func() { e.done <- expanded{id, e.g.expand(&leaf, e.grad, e.cols)} }()
}

// receive waits for one expansion to end and gives the leaf its
// children. The expansion has used up the leaf's histogram: it is freed,
// or it is the larger child's now.
func (e *expansions) receive() {
	r := <-e.done
	e.running--
	nd := &e.t.nodes[r.id]
	nd.kids, nd.hist = r.kids, nil
}

// keepIfOpen adds node id to open if it has a split to make, and
// otherwise frees its histogram.
func (g *grower) keepIfOpen(open *openLeaves, id int) {
	if nd := &open.t.nodes[id]; nd.split.gain > 0 {
		heap.Push(open, id)
	} else {
		g.release(nd.hist)
		nd.hist = nil
	}
}

// splittable says whether a node may be split at all.
func (g *grower) splittable(nd *node) bool {
	return nd.depth < g.p.maxDepth() && nd.sum.N >= 2*g.p.MinSamplesLeaf
}

// expand works out the children of leaf nd by its best split, without
// adding them to the tree: it partitions the leaf's rows, builds the
// histogram of the child with fewer rows, derives the other child's by
// subtraction from the parent's, and finds each child's best split. The
// leaf's histogram is used up: freed, or handed to the larger child.
// Expansions of different leaves touch disjoint data, so two can run at
// once.
func (g *grower) expand(nd *node, grad []gradPair, cols []int) *[2]node {
	if nd.hist == nil { // dropped (see rebuildRows): build it again
		nd.hist = g.newHist()
		g.buildHist(nd.hist, g.rowsOf(nd), grad, cols)
	}
	s := &nd.split
	mid, buf := nd.lo+s.lsum.N, 1-nd.buf
	g.partition(g.rowsOf(nd), g.rows[buf][nd.lo:nd.hi], s.col, &s.left, s.lsum.N)
	kids := &[2]node{
		{lo: nd.lo, hi: mid, buf: buf, sum: s.lsum, depth: nd.depth + 1},
		{lo: mid, hi: nd.hi, buf: buf, sum: s.rsum, depth: nd.depth + 1},
	}
	small, large := &kids[0], &kids[1]
	if small.sum.N > large.sum.N {
		small, large = large, small
	}
	// The small child has no more rows than the large one at the same
	// depth, so if the large child cannot be split, neither can it.
	if !g.splittable(large) {
		g.release(nd.hist)
		nd.hist = nil
		return kids
	}
	// The large child's histogram is the parent's minus the small
	// child's, so the small one is built even if it won't be split.
	small.hist = g.newHist()
	g.buildHist(small.hist, g.rowsOf(small), grad, cols)
	subtractHist(nd.hist, small.hist, g.x, cols)
	large.hist, nd.hist = nd.hist, nil
	for k := range kids {
		if kid := &kids[k]; g.splittable(kid) {
			kid.split = g.rules.bestSplit(kid.hist, g.maps, cols, kid.sum)
		}
	}
	if small.sum.N < g.rebuild {
		g.release(small.hist)
		small.hist = nil
	}
	return kids
}

// rebuildRows is the fewest rows of a leaf whose histogram, built from
// its rows, is kept until the leaf is split. A leaf with fewer rows
// drops it once its best split is found and builds it again, from the
// same rows in the same order, so bit for bit the same, if and when it
// is split. A big tree has thousands of open leaves, each holding a
// histogram of every column's bins (42 KB on flights); by the time one
// is split, its histogram is long out of cache, while the one the free
// list hands out then was just released and is in cache. Filling that
// one again from a few hundred rows costs less than the cache misses of
// clearing, subtracting and scanning the old one, and the tree holds far
// fewer histograms. The number only changes the speed, never the model.
// On the backtest's fit (BenchmarkFitBacktest, one CPU), alternated
// with keeping every histogram on a quiet machine: about 2-3% less CPU
// (10.76, 11.73, 11.94, 12.22 CPU s against 11.86, 11.24, 12.26, 12.42)
// and 12% less peak RSS (1,019 and 1,034 MB against 1,163 and 1,185);
// 4,096 or 16,384 rows were no faster (11.71-12.17). Run side by side
// under load (9-13) it had read 0.78x the CPU.
const rebuildRows = 1024

// commit turns the expanded leaf id into a split node with its two
// children, and returns the children's ids.
func (g *grower) commit(t *grownTree, id int) (left, right int) {
	kids := t.nodes[id].kids
	left, right = len(t.nodes), len(t.nodes)+1
	t.nodes = append(t.nodes, kids[0], kids[1])
	nd := &t.nodes[id]
	nd.isSplit, nd.left, nd.right, nd.kids = true, left, right, nil
	return left, right
}

// openLeaves is a heap of the ids of the leaves waiting to be split, the
// largest gain on top; ties go to the older node (the lower id), so
// growth is deterministic.
type openLeaves struct {
	t   *grownTree
	ids []int
}

func (o *openLeaves) Len() int { return len(o.ids) }
func (o *openLeaves) Less(i, j int) bool {
	a, b := o.ids[i], o.ids[j]
	ga, gb := o.t.nodes[a].split.gain, o.t.nodes[b].split.gain
	return ga > gb || (ga == gb && a < b)
}
func (o *openLeaves) Swap(i, j int) { o.ids[i], o.ids[j] = o.ids[j], o.ids[i] }
func (o *openLeaves) Push(x any)    { o.ids = append(o.ids, x.(int)) }
func (o *openLeaves) Pop() any {
	id := o.ids[len(o.ids)-1]
	o.ids = o.ids[:len(o.ids)-1]
	return id
}

// top returns the ids of the top k leaves of the heap, in heap order.
func (o *openLeaves) top(k int) []int {
	var out []int
	for len(out) < k && o.Len() > 0 {
		out = append(out, heap.Pop(o).(int))
	}
	for _, id := range out {
		heap.Push(o, id)
	}
	return out
}

// partition copies src into dst (of the same length), stably, the rows
// whose bin in column col is in left first. nLeft, the number of those,
// is known beforehand: it is the row count of the split's left side.
//
// Knowing nLeft, each side's place in dst is known, so one pass suffices.
// For a large node two goroutines share the work without any reduction:
// one walks the first half of src forward, writing its left rows from
// dst[0] and its right rows from dst[nLeft] on; the other walks the
// second half backward, writing its left rows backward from dst[nLeft-1]
// and its right rows backward from the end. The four pieces meet exactly,
// and where each row lands depends only on the data.
func (g *grower) partition(src, dst []int32, col int, left *binSet, nLeft int) {
	bins := g.x.byCol[col]
	half, workers := len(src), 1 // the forward walk's share
	if g.p.Parallelism > 1 && len(src) >= minParallelCells {
		half, workers = len(src)/2, 2
	}
	var fl, fr, bl, br int // where the two walks stop
	forEach(workers, 2, func(k int) {
		if k == 0 {
			fl, fr = forward(src[:half], dst, bins, left, 0, nLeft)
		} else {
			bl, br = backward(src[half:], dst, bins, left, nLeft-1, len(dst)-1)
		}
	})
	if fl != bl+1 || fr != br+1 {
		panic("gbdt: partition: the count of left rows is wrong") // a bug, not bad data
	}
}

// forward writes the rows of src in order, left rows to dst[l], dst[l+1],
// ... and right rows to dst[r], dst[r+1], ..., and returns where the two
// sequences end.
//
// It does not branch on the side: which way a row goes is as good as
// random to the branch predictor, and a mispredicted branch costs several
// times this loop body. The destination is computed instead.
func forward(src, dst []int32, bins []uint8, left *binSet, l, r int) (int, int) {
	for _, row := range src {
		isLeft := left.bit(bins[row])
		dst[r+(l-r)*isLeft] = row // dst[l] if left, else dst[r]
		l += isLeft
		r += 1 - isLeft
	}
	return l, r
}

// backward is forward walking src from its end, and dst downward from l
// and r.
func backward(src, dst []int32, bins []uint8, left *binSet, l, r int) (int, int) {
	for i := len(src) - 1; i >= 0; i-- {
		row := src[i]
		isLeft := left.bit(bins[row])
		dst[r+(l-r)*isLeft] = row
		l -= isLeft
		r -= 1 - isLeft
	}
	return l, r
}
