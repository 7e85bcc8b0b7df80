package gbdt

import "math"

// A grown tree leaves the grower in bins (grownTree) and takes two flat
// forms: binTree, in bins, to add the new tree's values to the rows it
// was not grown on (validation rows, rows left out by Subsample) during
// training; and Tree, in raw values, the saved form (see model/gbdt/predict.go).

// binTree is a grown tree in a compact form for running binned rows down
// it. Nodes are numbered as in grownTree. A leaf's children are the leaf
// itself, so a row that reaches a leaf stays there: every row can take
// exactly depth steps, with no test for "is this a leaf", which lets the
// steps of several rows run interleaved (see addTo).
type binTree struct {
	nodes []binNode
	value []float64 // value of each node (leaves only)
	depth int       // the longest root-to-leaf path
}

type binNode struct {
	left  binSet   // bins that go left (empty for a leaf)
	col   int32    // column tested
	child [2]int32 // right and left child, indexed by left.bit(bin)
}

// binTree returns the tree's compact form in bins.
func (t *grownTree) binTree() *binTree {
	out := &binTree{nodes: make([]binNode, len(t.nodes)), value: make([]float64, len(t.nodes))}
	for i, nd := range t.nodes {
		if !nd.isSplit {
			out.nodes[i].child = [2]int32{int32(i), int32(i)}
			out.value[i] = nd.value
			out.depth = max(out.depth, nd.depth)
			continue
		}
		out.nodes[i] = binNode{left: nd.split.left, col: int32(nd.split.col), child: [2]int32{int32(nd.right), int32(nd.left)}}
	}
	return out
}

// lanes is how many rows addTo runs down a tree side by side. One row's
// walk is a chain of dependent loads (node, then bin, then child); eight
// independent chains keep the CPU busy while each waits.
const lanes = 8

// addTo adds the tree's value for each row in rows of x to that row's
// margin c: margins[r*k+c].
func (t *binTree) addTo(x *binnedMatrix, rows []int32, margins []float64, k, c int) {
	for len(rows) > 0 {
		m := min(lanes, len(rows))
		var at [lanes]int     // where each lane's row starts in x.bins
		var node [lanes]int32 // each lane's current node
		for l := range lanes {
			at[l] = int(rows[min(l, m-1)]) * x.cols // spare lanes repeat the last row
		}
		for range t.depth {
			for l := range lanes {
				nd := &t.nodes[node[l]]
				node[l] = nd.child[nd.left.bit(x.bins[at[l]+int(nd.col)])]
			}
		}
		for l, r := range rows[:m] {
			margins[int(r)*k+c] += t.value[node[l]]
		}
		rows = rows[m:]
	}
}

// numbering gives every node its index in the saved Tree: split nodes
// are numbered 0, 1, ... and leaf l is ^l, both in node order, so
// children always come after their parent.
func (t *grownTree) numbering() []int32 {
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
	return index
}

// export turns a tree grown in bins into its saved form in raw values:
// a numeric split "bins 1..b go left" becomes x <= upper[b-1], a
// categorical split's set of bins becomes a set of codes. Each node's
// cover is the number of rows it was grown on.
func (t *grownTree) export(maps []binMapper) Tree {
	index := t.numbering()
	var out Tree
	for _, nd := range t.nodes {
		if !nd.isSplit {
			out.Leaf = append(out.Leaf, nd.value)
			out.LeafCover = append(out.LeafCover, float64(nd.sum.N))
			continue
		}
		out.Cover = append(out.Cover, float64(nd.sum.N))
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
