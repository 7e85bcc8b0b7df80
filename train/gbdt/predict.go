package gbdt

import (
	"fmt"
	"math"
	"runtime"

	"github.com/mlpipe/mlpipe/features"
)

// Prediction.
//
// The saved Tree is a set of parallel arrays, compact and easy to check.
// To predict, a model first compiles all its trees into one array of
// 32-byte nodes, so that each step down a tree reads one node, and in
// which a leaf is a node whose two children are itself. Then PredictProba
// can take every row the same number of steps through a tree (its
// depth), with no test for "have I reached a leaf", and walk eight rows
// through a tree side by side: each walk is a chain of dependent loads,
// and eight independent chains keep the CPU busy while each one waits.
// PredictRow, with one row to walk, stops at the leaf instead.
// Both PredictRow and PredictProba end at the same leaf for a row and add
// the same values in the same order, so they agree bit for bit.

// compiled is a model's trees in the form prediction walks.
type compiled struct {
	nodes []flatNode // every tree's nodes, split nodes and leaves
	value []float64  // the value of each leaf node (0 for split nodes)
	roots []int32    // each tree's root node
	depth []int      // each tree's longest root-to-leaf path
	words []uint32   // the category bitsets of every categorical node
}

// flatNode is one node of a compiled tree.
type flatNode struct {
	threshold float64  // numeric split: x <= threshold goes left
	col       int32    // column tested
	set       int32    // categorical split: words[set : set+setLen]; -1 for a numeric split or leaf
	setLen    int32    // words in the category set
	defLeft   int32    // 1 when NaN or an unknown code goes left
	child     [2]int32 // right and left child (for a leaf: itself, twice)
}

// next returns the child of n that value x goes to.
func (c *compiled) next(n *flatNode, x float64) int32 {
	if n.set >= 0 {
		return c.nextCategorical(n, x)
	}
	return n.nextNumeric(x)
}

// nextNumeric is next for a numeric split or a leaf. It is small enough
// for the compiler to inline.
func (n *flatNode) nextNumeric(x float64) int32 {
	left := 0
	if x <= n.threshold {
		left = 1
	}
	if x != x { // NaN
		left = int(n.defLeft)
	}
	return n.child[left]
}

// nextCategorical is next for a categorical split.
func (c *compiled) nextCategorical(n *flatNode, x float64) int32 {
	left := int(n.defLeft)
	if x >= 0 && x < float64(32*n.setLen) && x == math.Trunc(x) {
		code := int(x)
		left = int(c.words[int(n.set)+code>>5] >> (code & 31) & 1)
	}
	return n.child[left]
}

// compiled returns the model's compiled trees, compiling them on first
// use.
func (m *Model) compiled() *compiled {
	m.once.Do(func() { m.flat = compile(m.Trees) })
	return m.flat
}

// compile turns saved trees into one array of flat nodes. Each tree's
// nodes, split nodes and leaves alike, are laid out breadth first: the
// top levels, which every row visits, share a few cache lines.
func compile(trees []Tree) *compiled {
	c := &compiled{}
	for t := range trees {
		tr := &trees[t]
		base := int32(len(c.nodes))
		// Saved ids (split i: i; leaf l: ^l) in breadth-first order; a
		// tree without splits is leaf 0 alone.
		order := []int32{^int32(0)}
		if len(tr.Col) > 0 {
			order[0] = 0
		}
		for k := 0; k < len(order); k++ {
			if i := order[k]; i >= 0 {
				order = append(order, tr.Left[i], tr.Right[i])
			}
		}
		at := make(map[int32]int32, len(order)) // saved id -> flat id
		for k, id := range order {
			at[id] = base + int32(k)
		}
		for k, id := range order {
			self := base + int32(k)
			if id < 0 { // a leaf: its children are itself
				c.nodes = append(c.nodes, flatNode{set: -1, child: [2]int32{self, self}})
				c.value = append(c.value, tr.Leaf[^id])
				continue
			}
			n := flatNode{
				threshold: tr.Threshold[id],
				col:       tr.Col[id],
				set:       -1,
				child:     [2]int32{at[tr.Right[id]], at[tr.Left[id]]},
			}
			if tr.DefaultLeft[id] {
				n.defLeft = 1
			}
			if s := tr.Cat[id]; s >= 0 {
				n.set, n.setLen = int32(len(c.words)), int32(len(tr.CatSets[s]))
				c.words = append(c.words, tr.CatSets[s]...)
			}
			c.nodes = append(c.nodes, n)
			c.value = append(c.value, 0)
		}
		c.roots = append(c.roots, base)
		c.depth = append(c.depth, treeDepth(tr))
	}
	return c
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

// PredictRow scores one row into out (len Outputs()). The row holds at
// least the model's columns (len(m.Columns)), as PredictProba's matrix
// does. It gives exactly the numbers PredictProba gives for the same row.
func (m *Model) PredictRow(row []float64, out []float64) {
	c, k := m.compiled(), m.Outputs()
	copy(out[:k], m.Base)
	for t, n := range c.roots {
		// One row walks until it reaches a leaf (a node whose children
		// are itself) rather than for the tree's full depth: the same
		// leaf, in fewer steps (leaves are 15 deep on average in the
		// flights model, against a depth of 20).
		for range c.depth[t] {
			nd := &c.nodes[n]
			if nd.child[0] == n {
				break
			}
			n = c.next(nd, row[nd.col])
		}
		out[t%k] += c.value[n]
	}
	m.link(out[:k])
}

// link turns margins into probabilities in place.
func (m *Model) link(out []float64) {
	if m.Outputs() == 1 {
		out[0] = sigmoid(out[0])
		return
	}
	softmax(out, out)
}

// predictBlock is the rows PredictProba scores together. It runs a block
// through one tree after another, so a tree's nodes stay in cache while
// every row of the block visits them, and the block's rows (copied
// row-major) stay in cache across trees.
const predictBlock = 4096

// predictLanes is how many rows walk a tree side by side.
const predictLanes = 8

// PredictProba scores every row of x and returns x.Rows·Outputs()
// probabilities, row-major. Blocks of rows are scored on GOMAXPROCS
// goroutines.
func (m *Model) PredictProba(x *features.Matrix) []float64 {
	if len(x.Cols) < len(m.Columns) {
		panic(fmt.Sprintf("gbdt: predict: the matrix has %d columns, the model reads %d", len(x.Cols), len(m.Columns)))
	}
	c, k := m.compiled(), m.Outputs()
	out := make([]float64, x.Rows*k)
	nc := len(x.Cols)
	forChunks(runtime.GOMAXPROCS(0), x.Rows, predictBlock, func(_, lo, hi int) {
		n := hi - lo
		rows := make([]float64, n*nc)
		for j, col := range x.Data {
			for i, v := range col[lo:hi] {
				rows[i*nc+j] = v
			}
		}
		marg := out[lo*k : hi*k]
		for i := range n {
			copy(marg[i*k:(i+1)*k], m.Base)
		}
		for t, root := range c.roots {
			for i := 0; i < n; i += predictLanes {
				var at [predictLanes]int // where each lane's row starts in rows
				var node [predictLanes]int32
				for l := range predictLanes {
					at[l] = min(i+l, n-1) * nc // spare lanes repeat the last row
					node[l] = root
				}
				for range c.depth[t] {
					for l := range predictLanes {
						// c.next, inlined by hand: it is too big for the compiler to.
						nd := &c.nodes[node[l]]
						if x := rows[at[l]+int(nd.col)]; nd.set < 0 {
							node[l] = nd.nextNumeric(x)
						} else {
							node[l] = c.nextCategorical(nd, x)
						}
					}
				}
				for l := 0; l < predictLanes && i+l < n; l++ {
					marg[(i+l)*k+t%k] += c.value[node[l]]
				}
			}
		}
		for i := range n {
			m.link(marg[i*k : (i+1)*k])
		}
	})
	return out
}
