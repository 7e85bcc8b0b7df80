package gbdt

import (
	"fmt"
	"math"
	"runtime"
	"slices"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/internal/parallel"
)

// Prediction.
//
// The saved Tree is a set of parallel arrays, compact and easy to check,
// that compares raw values with raw thresholds. To predict, a model first
// compiles all its trees into a form built for walking (compile):
//
//   - Inputs. A row's raw values become small integers, one per "slot"
//     (a column the trees test numerically, or one they test by
//     category). A numeric value becomes its rank among the thresholds
//     the trees compare that column with: x <= t_k exactly when
//     rank(x) <= k, where t_k is the k-th smallest threshold and rank(x)
//     counts the thresholds below x. NaN gets a rank of its own, above
//     every other. A category code stays itself, and a value that is not
//     a code the trees know gets one "invalid" value per slot.
//   - Nodes. Every split is then one 16-byte node and one test,
//     the same for numeric and categorical splits, with no branch:
//     go left when in <= k, or when bit `in` of the node's bitset is set.
//     A numeric split's bitset is all zeros, or (when NaN goes left) only
//     the NaN bit; a categorical split has k = -1 and its category set,
//     where the invalid value's bit says which side is the default. A
//     leaf is a node that always goes "left" to itself.
//   - Layout. Each tree's nodes are laid out breadth first, the two
//     children of a node side by side, so a node needs one child index,
//     and the top levels, which every row visits, share a few cache
//     lines.
//
// Every walk is a chain of dependent loads (node, input, bitset word,
// next node), and in a big model most of them miss the cache, so both
// ways of predicting run several independent walks side by side, which
// the CPU overlaps: Predict walks sixteen rows through a tree (a
// block of rows through one tree after another), and PredictRow walks
// one row through up to 64 trees at once, dropping the walks that
// reached their leaf once paths start to end. Both end at the same
// leaves and add the leaf values in tree order, so they agree bit for
// bit, and both reach the leaf the saved Tree's own rule leads to
// (TestCompiledMatchesSavedTree).

// compiled is a model's trees in the form prediction walks.
type compiled struct {
	nodes []walkNode // every tree's nodes, split nodes and leaves
	value []float64  // the value of each leaf node (0 for split nodes)
	roots []int32    // each tree's root node
	depth []int      // each tree's longest root-to-leaf path
	words []uint32   // bitsets: the all-zero one, the NaN one, then each categorical split's
	slots []slot     // the walk's inputs, computed from a raw row
	nan   int32      // the input value of a NaN numeric value
	saved []int32    // each node's id in its saved Tree (split i: i; leaf l: ^l)
}

// walkNode is one node of a compiled tree: go to child when in <= k or bit
// in of words[set:] is set, else to child+1. in is the row's input in
// slot.
type walkNode struct {
	k     int32 // numeric split: threshold rank; categorical: -1; leaf: MaxInt32
	set   int32 // first word of the node's bitset in compiled.words
	child int32 // the left child (the right one is child+1); a leaf: itself
	slot  int32 // the input tested
}

// slot says how one input is computed from a raw row.
type slot struct {
	col        int       // the raw column
	cat        bool      // tested by category, not by threshold
	thresholds []float64 // numeric: every threshold the trees use, ascending
	invalid    int32     // categorical: the input of a value that is not a code below it
}

// isLeaf reports whether the node is a leaf (its own child).
func (c *compiled) isLeaf(n int32) bool { return c.nodes[n].child == n }

// step returns the node after n for inputs in.
func (c *compiled) step(n int32, in []int32) int32 {
	nd := &c.nodes[n]
	return nd.next(in[nd.slot], c.words)
}

// next returns the node after nd for input x (the row's input in
// nd.slot), with the bitsets words: the one test of every split, without
// a branch on its outcome. The walks call it with the node and the words
// in their own variables (see walkBlock).
func (nd *walkNode) next(x int32, words []uint32) int32 {
	left := int32(words[nd.set+x>>5] >> (x & 31) & 1)
	if x <= nd.k {
		left = 1
	}
	return nd.child + 1 - left
}

// inputs fills in (len(c.slots)) from a raw row.
func (c *compiled) inputs(row []float64, in []int32) {
	for s := range c.slots {
		sl := &c.slots[s]
		x := row[sl.col]
		switch {
		case sl.cat:
			v := sl.invalid
			if x >= 0 && x < float64(sl.invalid) && x == math.Trunc(x) {
				v = int32(x)
			}
			in[s] = v
		case x != x:
			in[s] = c.nan
		default:
			in[s] = rank(sl.thresholds, x)
		}
	}
}

// rank returns how many of the ascending thresholds ts are below x. It
// halves the range without a branch on the comparison, which the CPU
// could not predict half of the time.
func rank(ts []float64, x float64) int32 {
	if len(ts) == 0 {
		return 0
	}
	lo, n := 0, len(ts)
	for n > 1 {
		half := n / 2
		lo += half * below(ts[lo+half-1], x)
		n -= half
	}
	return int32(lo + below(ts[lo], x))
}

// below is 1 when t < x, else 0 (a SETcc, not a branch).
func below(t, x float64) int {
	if t < x {
		return 1
	}
	return 0
}

// compiled returns the model's compiled trees, compiling them on first
// use.
func (m *Model) compiled() *compiled {
	m.once.Do(func() { m.flat = compile(m.Trees) })
	return m.flat
}

// slotKey names a slot: a column and how the trees test it.
type slotKey struct {
	col int32
	cat bool
}

// compile turns saved trees into the form prediction walks (see the top
// of this file).
func compile(trees []Tree) *compiled {
	c := &compiled{}
	// The slots, with every numeric column's thresholds and every
	// categorical column's widest set (as its invalid input, 32 per word).
	index := map[slotKey]int32{}
	for t := range trees {
		tr := &trees[t]
		for i, col := range tr.Col {
			key := slotKey{col, tr.Cat[i] >= 0}
			s, ok := index[key]
			if !ok {
				s = int32(len(c.slots))
				index[key] = s
				c.slots = append(c.slots, slot{col: int(col), cat: key.cat})
			}
			sl := &c.slots[s]
			if key.cat {
				sl.invalid = max(sl.invalid, int32(32*len(tr.CatSets[tr.Cat[i]])))
			} else if th := tr.Threshold[i]; th == th {
				sl.thresholds = append(sl.thresholds, th)
			}
		}
	}
	var top int32 // the largest input value of any slot
	for s := range c.slots {
		sl := &c.slots[s]
		if sl.cat {
			top = max(top, sl.invalid)
			continue
		}
		slices.Sort(sl.thresholds)
		sl.thresholds = slices.Clip(slices.Compact(sl.thresholds))
		c.nan = max(c.nan, int32(len(sl.thresholds))+1)
	}
	top = max(top, c.nan)
	// The all-zero bitset at 0 and the NaN one after it, wide enough for
	// any input.
	width := int32(top>>5 + 1)
	c.words = make([]uint32, 2*width)
	c.words[width+c.nan>>5] = 1 << (c.nan & 31)

	for t := range trees {
		tr := &trees[t]
		base := int32(len(c.nodes))
		// Saved ids (split i: i; leaf l: ^l) in breadth-first order, the
		// two children of a split side by side; a tree without splits is
		// leaf 0 alone.
		order := []int32{^int32(0)}
		if len(tr.Col) > 0 {
			order[0] = 0
		}
		for k := 0; k < len(order); k++ {
			if i := order[k]; i >= 0 {
				order = append(order, tr.Left[i], tr.Right[i])
			}
		}
		at := make(map[int32]int32, len(order)) // saved id -> compiled id
		for k, id := range order {
			at[id] = base + int32(k)
		}
		for k, id := range order {
			if id < 0 {
				self := base + int32(k)
				c.nodes = append(c.nodes, walkNode{k: math.MaxInt32, child: self})
				c.value = append(c.value, tr.Leaf[^id])
				c.saved = append(c.saved, id)
				continue
			}
			cat := tr.Cat[id] >= 0
			s := index[slotKey{tr.Col[id], cat}]
			nd := walkNode{k: -1, child: at[tr.Left[id]], slot: s}
			switch {
			case cat:
				nd.set = int32(len(c.words))
				c.words = append(c.words, catBits(tr.CatSets[tr.Cat[id]], c.slots[s].invalid, tr.DefaultLeft[id])...)
			default:
				if th := tr.Threshold[id]; th == th { // a NaN threshold sends every number right
					nd.k = rank(c.slots[s].thresholds, th)
				}
				if tr.DefaultLeft[id] {
					nd.set = width
				}
			}
			c.nodes = append(c.nodes, nd)
			c.value = append(c.value, 0)
			c.saved = append(c.saved, id)
		}
		c.roots = append(c.roots, base)
		c.depth = append(c.depth, treeDepth(tr))
	}
	return c
}

// catBits returns a categorical split's bitset over its slot's inputs
// 0..invalid: the saved set's bits, then the default side for the codes
// past the set and for invalid.
func catBits(set []uint32, invalid int32, defaultLeft bool) []uint32 {
	words := make([]uint32, invalid>>5+1)
	copy(words, set)
	if defaultLeft {
		for code := 32 * int32(len(set)); code <= invalid; code++ {
			words[code>>5] |= 1 << (code & 31)
		}
	}
	return words
}

// treeDepth is the longest root-to-leaf path of a saved tree. Children
// come after their parents, so one pass in order finds every depth.
func treeDepth(t *Tree) int {
	depth := make([]int, len(t.Col))
	deepest := 0
	for i := range t.Col {
		for _, c := range [2]int32{t.Left[i], t.Right[i]} {
			if c >= 0 {
				depth[c] = depth[i] + 1
			} else {
				deepest = max(deepest, depth[i]+1)
			}
		}
	}
	return deepest
}

// rowLanes is the most trees PredictRow walks side by side: enough for
// the default model (configs/flights.yaml: 40 rounds) in one group. With
// its 37 trees, one group of 37 took 5% less CPU per row than three of
// 12 or 13 (4.78 against 5.04 µs over 10,000 real rows, nine alternating
// rounds on a loaded machine): more walks in flight hide more cache misses.
const rowLanes = 64

// maxStackSlots is how many inputs PredictRow keeps on the stack.
const maxStackSlots = 32

// PredictRow scores one row into out (len Outputs()). The row holds at
// least the model's columns (len(m.Columns)), as Predict's matrix
// does. It gives exactly the numbers Predict gives for the same row.
func (m *Model) PredictRow(row []float64, out []float64) {
	m.marginRow(row, out)
	m.link(out[:m.Outputs()])
}

// marginRow writes one row's margins into out (len Outputs()): PredictRow
// before the link.
func (m *Model) marginRow(row []float64, out []float64) {
	c, k := m.compiled(), m.Outputs()
	var buf [maxStackSlots]int32
	in := buf[:]
	if len(c.slots) > len(buf) {
		in = make([]int32, len(c.slots))
	}
	c.inputs(row, in)
	copy(out[:k], m.Base)
	// The trees in groups of at most rowLanes, as even as can be (100
	// trees: 50 and 50, not 64 and 36), walked a group at a time.
	trees := len(c.roots)
	groups := (trees + rowLanes - 1) / rowLanes
	for g := range groups {
		lo, hi := g*trees/groups, (g+1)*trees/groups
		var leaf [rowLanes]int32
		c.walkRow(in, lo, hi, &leaf)
		// In tree order, as Predict adds them.
		for t := range hi - lo {
			out[(lo+t)%k] += c.value[leaf[t]]
		}
	}
}

// walkRow walks one row, whose inputs are in, through trees lo to hi-1
// side by side, and sets leaf[t] to the leaf tree lo+t ends at. Lane l
// walks tree lo+tree[l]. From half the depth down, where paths start to
// end, the lanes that reached their leaf are dropped after each step, so
// that the others no longer carry them. On the default model (37 trees
// of depth 20, whose paths average 15 steps) that is 11-16% less CPU for
// a row scored over and over (2.39-2.59 -> 2.06-2.19 µs), 2-10% over
// 20,000 different rows, than walking every lane to the full depth;
// dropping from the first step cost more than it saved. Like walkBlock,
// it is a function of its own so that the compiler keeps the walk's
// variables in registers.
func (c *compiled) walkRow(in []int32, lo, hi int, leaf *[rowLanes]int32) {
	nodes, words := c.nodes, c.words
	var at, tree [rowLanes]int32
	depth, live := 0, hi-lo
	for l := range live {
		at[l], tree[l], leaf[l] = c.roots[lo+l], int32(l), c.roots[lo+l]
		depth = max(depth, c.depth[lo+l])
	}
	for d := range depth {
		for l := range at[:live] {
			nd := &nodes[at[l]]
			at[l] = nd.next(in[nd.slot], words)
		}
		if d < depth/2 {
			continue
		}
		kept := 0
		for l := range at[:live] {
			n := at[l]
			leaf[tree[l]] = n
			at[kept], tree[kept] = n, tree[l]
			if nodes[n].child != n { // not a leaf
				kept++
			}
		}
		live = kept
	}
}

// link turns margins into probabilities in place; a regression's margin
// is its prediction.
func (m *Model) link(out []float64) {
	if m.Classes == 0 {
		return
	}
	if m.Outputs() == 1 {
		out[0] = Sigmoid(out[0])
		return
	}
	Softmax(out, out)
}

// predictBlock is the rows Predict scores together. It runs a block
// through one tree after another, so a tree's nodes stay in cache while
// every row of the block visits them, and the block's inputs stay in
// cache across trees.
const predictBlock = 4096

// predictLanes is how many rows walk a tree side by side.
const predictLanes = 16

// Predict scores every row of x and returns x.Rows·Outputs()
// probabilities, row-major. Blocks of rows are scored on GOMAXPROCS
// goroutines.
func (m *Model) Predict(x *features.Matrix) []float64 {
	if len(x.Cols) < len(m.Columns) {
		panic(fmt.Sprintf("gbdt: predict: the matrix has %d columns, the model reads %d", len(x.Cols), len(m.Columns)))
	}
	c, k := m.compiled(), m.Outputs()
	out := make([]float64, x.Rows*k)
	ns := max(1, len(c.slots))
	parallel.Chunks(runtime.GOMAXPROCS(0), x.Rows, predictBlock, func(_, lo, hi int) {
		n := hi - lo
		in := make([]int32, n*ns) // row-major: the inputs of row i at in[i*ns:]
		c.blockInputs(x, lo, hi, in, ns)
		marg := out[lo*k : hi*k]
		for i := range n {
			copy(marg[i*k:(i+1)*k], m.Base)
		}
		for t, root := range c.roots {
			for i := 0; i < n; i += predictLanes {
				var at [predictLanes]int32 // each lane's node
				var off [predictLanes]int  // where each lane's inputs start in in
				for l := range predictLanes {
					off[l] = min(i+l, n-1) * ns // spare lanes repeat the last row
					at[l] = root
				}
				c.walkBlock(&at, &off, in, c.depth[t])
				for l := 0; l < predictLanes && i+l < n; l++ {
					marg[(i+l)*k+t%k] += c.value[at[l]]
				}
			}
		}
		for i := range n {
			m.link(marg[i*k : (i+1)*k])
		}
	})
	return out
}

// walkBlock takes each lane's node at[l] depth steps down, for the row
// whose inputs start at in[off[l]]. It is a function of its own so that
// the compiler keeps more of its variables in registers than it did
// inside Predict's closure, which it reloaded from the stack at every
// step: 9-21% less CPU a row in 1,000-row batches of the default model
// (thread CPU time, three alternating runs on a loaded machine).
func (c *compiled) walkBlock(at *[predictLanes]int32, off *[predictLanes]int, in []int32, depth int) {
	nodes, words := c.nodes, c.words
	for range depth {
		for l := range predictLanes {
			// The lane's inputs are at off[l].
			nd := &nodes[at[l]]
			at[l] = nd.next(in[off[l]+int(nd.slot)], words)
		}
	}
}

// blockInputs fills in with the inputs of rows [lo, hi) of x, row-major
// with ns per row.
func (c *compiled) blockInputs(x *features.Matrix, lo, hi int, in []int32, ns int) {
	row := make([]float64, len(x.Data))
	for i := lo; i < hi; i++ {
		for j, col := range x.Data {
			row[j] = col[i]
		}
		c.inputs(row, in[(i-lo)*ns:(i-lo+1)*ns])
	}
}
