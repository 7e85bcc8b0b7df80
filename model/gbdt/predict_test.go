package gbdt

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/mlpipe/mlpipe/features"
)

// savedLeaf returns the value of the leaf a raw row reaches in a saved
// tree, following the rule Tree's documentation states, step by step:
// the reference the compiled walk must agree with.
func savedLeaf(tr *Tree, row []float64) float64 {
	if len(tr.Col) == 0 {
		return tr.Leaf[0]
	}
	i := int32(0)
	for {
		next := savedNext(tr, i, row)
		if next < 0 {
			return tr.Leaf[^next]
		}
		i = next
	}
}

// savedNext returns the child (a saved id) a raw row goes to from split
// node i of a saved tree, by the rule Tree's documentation states.
func savedNext(tr *Tree, i int32, row []float64) int32 {
	x := row[tr.Col[i]]
	left := tr.DefaultLeft[i]
	if s := tr.Cat[i]; s < 0 {
		if !math.IsNaN(x) {
			left = x <= tr.Threshold[i]
		}
	} else if set := tr.CatSets[s]; x >= 0 && x < float64(32*len(set)) && x == math.Trunc(x) {
		code := int(x)
		left = set[code/32]&(1<<(code%32)) != 0
	}
	if left {
		return tr.Left[i]
	}
	return tr.Right[i]
}

// checkCompiled checks that the compiled trees reach, for every row of x,
// the leaf the saved rule reaches.
func checkCompiled(t *testing.T, trees []Tree, x *features.Matrix) {
	t.Helper()
	c := compile(trees)
	in := make([]int32, max(1, len(c.slots)))
	for i := range x.Rows {
		row := x.Row(i, nil)
		c.inputs(row, in)
		for tr := range trees {
			n := c.roots[tr]
			for range c.depth[tr] {
				n = c.step(n, in)
			}
			if !c.isLeaf(n) {
				t.Fatalf("row %d %v, tree %d: the walk ends at node %d, not a leaf", i, row, tr, n)
			}
			if got, want := c.value[n], savedLeaf(&trees[tr], row); got != want {
				t.Fatalf("row %d %v, tree %d: compiled walk gives %g, saved tree %g", i, row, tr, got, want)
			}
		}
	}
}

// TestCompiledMatchesSavedTree: the compiled walk (ranks, one test per
// node) reaches the leaf the saved rule reaches, on random trees built to
// hit its corners: thresholds shared between nodes, ±0, ±Inf and NaN
// thresholds, category sets of different widths on one column, a column
// tested both numerically and by category, a tree that is one leaf; and
// rows of NaN, ±Inf, values on and next to every threshold, and codes
// that are negative, fractional, past a set or far past every set.
func TestCompiledMatchesSavedTree(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	negZero := math.Copysign(0, -1)
	pool := []float64{-1.5, negZero, 0, 0.25, 1, 3, 1e9, math.Inf(1), math.Inf(-1), math.NaN()}
	// Each numeric column draws its thresholds from its own part of the
	// pool, so the columns have different numbers of thresholds, and
	// column 0, which has the most, has values above all of them; column 4
	// has only NaN thresholds (every number goes right).
	thresholds := [][]float64{pool[:7], {-1.5, 0, math.Inf(1), math.NaN()}, nil, pool[5:], {math.NaN()}}
	const cols = 5 // column 3 is tested both ways
	var trees []Tree
	for range 2*rowLanes + 11 { // PredictRow walks them in three groups of unequal size
		var tr Tree
		var grow func(depth int) int32 // returns the saved id
		grow = func(depth int) int32 {
			if depth == 0 || rng.IntN(5) == 0 {
				tr.Leaf = append(tr.Leaf, rng.NormFloat64())
				return ^int32(len(tr.Leaf) - 1)
			}
			i := int32(len(tr.Col))
			col := int32(rng.IntN(cols))
			tr.Col = append(tr.Col, col)
			tr.DefaultLeft = append(tr.DefaultLeft, rng.IntN(2) == 0)
			tr.Left = append(tr.Left, 0)
			tr.Right = append(tr.Right, 0)
			if col == 2 || (col == 3 && rng.IntN(2) == 0) {
				set := make([]uint32, 1+rng.IntN(3))
				for w := range set {
					set[w] = rng.Uint32()
				}
				tr.Cat = append(tr.Cat, int32(len(tr.CatSets)))
				tr.CatSets = append(tr.CatSets, set)
				tr.Threshold = append(tr.Threshold, 0)
			} else {
				tr.Cat = append(tr.Cat, -1)
				tr.Threshold = append(tr.Threshold, thresholds[col][rng.IntN(len(thresholds[col]))])
			}
			l := grow(depth - 1)
			r := grow(depth - 1)
			tr.Left[i], tr.Right[i] = l, r
			return i
		}
		grow(1 + rng.IntN(7))
		if err := tr.check(cols); err != nil {
			t.Fatal(err)
		}
		trees = append(trees, tr)
	}
	values := append([]float64{-1, 0.5, 31, 32, 33, 63, 64, 95, 96, 1e12, negZero}, pool...)
	for _, v := range pool {
		values = append(values, math.Nextafter(v, math.Inf(-1)), math.Nextafter(v, math.Inf(1)))
	}
	x := features.NewMatrix(5000, []features.ColumnInfo{
		{Name: "a", Kind: features.Numeric}, {Name: "b", Kind: features.Numeric},
		{Name: "c", Kind: features.Categorical, Card: 100}, {Name: "d", Kind: features.Numeric},
		{Name: "e", Kind: features.Numeric},
	})
	for j := range cols {
		for i := range x.Rows {
			if rng.IntN(2) == 0 {
				x.Data[j][i] = values[rng.IntN(len(values))]
			} else {
				x.Data[j][i] = float64(rng.IntN(100))
			}
		}
	}
	checkCompiled(t, trees, x)

	// PredictRow and Predict add the same leaves in the same order.
	m := &Model{Classes: 2, Columns: []string{"a", "b", "c", "d", "e"}, Base: []float64{0.1}, Trees: trees}
	probs := m.Predict(x)
	out := make([]float64, 1)
	for i := range x.Rows {
		m.PredictRow(x.Row(i, nil), out)
		want := 0.1
		for tr := range trees {
			want += savedLeaf(&trees[tr], x.Row(i, nil))
		}
		if out[0] != probs[i] || out[0] != Sigmoid(want) {
			t.Fatalf("row %d: PredictRow %v, Predict %v, the saved trees %v", i, out[0], probs[i], Sigmoid(want))
		}
	}

	// Trees without a split (depth 0: the walk takes no step) give their
	// leaves.
	stumps := &Model{Classes: 2, Columns: m.Columns, Base: []float64{0.1}, Trees: []Tree{{Leaf: []float64{0.5}}, {Leaf: []float64{-2}}}}
	stumps.PredictRow(x.Row(0, nil), out)
	if want := Sigmoid(0.1 + 0.5 - 2); out[0] != want || stumps.Predict(x)[0] != want {
		t.Errorf("trees without a split: PredictRow %v, Predict %v, want %v", out[0], stumps.Predict(x)[0], want)
	}
}

// TestRank compares rank with counting the thresholds below x one by
// one, for every length up to 40 and values at, between and beyond the
// thresholds (±0, ±Inf, NaN).
func TestRank(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for n := range 41 {
		ts := make([]float64, 0, n)
		for range n {
			ts = append(ts, float64(rng.IntN(60)-30)/2)
		}
		slices.Sort(ts)
		ts = slices.Compact(ts)
		xs := []float64{math.Inf(-1), math.Inf(1), math.NaN(), 0, math.Copysign(0, -1)}
		for _, v := range ts {
			xs = append(xs, v, math.Nextafter(v, math.Inf(-1)), math.Nextafter(v, math.Inf(1)))
		}
		for _, x := range xs {
			want := int32(0)
			for _, v := range ts {
				if v < x {
					want++
				}
			}
			if got := rank(ts, x); got != want {
				t.Fatalf("rank(%v, %v) = %d, want %d", ts, x, got, want)
			}
		}
	}
}
