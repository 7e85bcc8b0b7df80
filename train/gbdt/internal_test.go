package gbdt

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/train"
)

func TestQuantileBounds(t *testing.T) {
	tests := []struct {
		name    string
		vals    []float64
		maxBins int
		want    []float64
	}{
		{"empty", nil, 4, nil},
		{"one value", []float64{3, 3, 3}, 4, nil},
		// Few distinct values: one bin each, boundaries halfway.
		{"few distinct", []float64{2, 1, 3, 1}, 4, []float64{1.5, 2.5}},
		// 8 values, 4 bins: a fair share is 2 values per bin.
		{"even", []float64{1, 2, 3, 4, 5, 6, 7, 8}, 4, []float64{2.5, 4.5, 6.5}},
		// 8 values, 3 bins: the heavy value 1 (5 of 8, over the share of
		// 8/3) fills a bin alone. The 3 values left share 2 bins, a share
		// of 1.5: 2 and 3 close the second bin, 4 is the last.
		{"heavy value", []float64{1, 1, 1, 1, 1, 2, 3, 4}, 3, []float64{1.5, 3.5}},
		// Adjacent floats have no float between them: the boundary is the
		// lower value, which still separates them (x <= t goes left).
		{"adjacent floats", []float64{1, math.Nextafter(1, 2)}, 4, []float64{1}},
	}
	for _, tt := range tests {
		got := quantileBounds(slices.Clone(tt.vals), tt.maxBins)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: bounds %v, want %v", tt.name, got, tt.want)
		}
		if len(got) > tt.maxBins-1 {
			t.Errorf("%s: %d bounds for %d bins", tt.name, len(got), tt.maxBins)
		}
	}
}

func TestBinMapper(t *testing.T) {
	num := binMapper{upper: []float64{1.5, 2.5}}
	numCases := []struct {
		x    float64
		want uint8
	}{
		{math.NaN(), 0},
		{math.Inf(-1), 1},
		{1, 1},
		{1.5, 1}, // x <= boundary goes to the lower bin
		{2, 2},
		{2.5, 2},
		{3, 3},
		{math.Inf(1), 3},
	}
	for _, c := range numCases {
		if got := num.bin(c.x); got != c.want {
			t.Errorf("numeric bin(%g) = %d, want %d", c.x, got, c.want)
		}
	}
	// Codes 1 and 3 occur; code 0 and 2 do not, 4 is past Card.
	cat := categoricalMapper([]float64{1, 3, 3, 1, 1}, 4, 255)
	catCases := []struct {
		x    float64
		want uint8
	}{
		{1, 1}, {3, 2}, {0, 0}, {2, 0}, {4, 0}, {-1, 0}, {1.5, 0}, {math.NaN(), 0},
	}
	for _, c := range catCases {
		if got := cat.bin(c.x); got != c.want {
			t.Errorf("categorical bin(%g) = %d, want %d", c.x, got, c.want)
		}
	}
	// With room for one category only, the most frequent (1) keeps a bin.
	if got := categoricalMapper([]float64{1, 3, 3, 1, 1}, 4, 1); !slices.Equal(got.binCode, []int32{-1, 1}) {
		t.Errorf("one bin: codes %v, want [-1 1]", got.binCode)
	}
}

// TestPartition checks the two-ended parallel partition against a plain
// stable one, on a node big enough to be split between two goroutines
// and on a small one.
func TestPartition(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 3 * minParallelCells
	x := &binnedMatrix{rows: n, cols: 1, bins: make([]uint8, n), numBins: []int{256}}
	for i := range x.bins {
		x.bins[i] = uint8(rng.IntN(256))
	}
	x.addColumns(1)
	var left binSet
	for b := range 256 {
		if rng.IntN(3) == 0 {
			left.add(b)
		}
	}
	for _, size := range []int{n, 100} {
		var src []int32
		for i := range n {
			if size == n || rng.IntN(n/size) == 0 {
				src = append(src, int32(i))
			}
		}
		var want []int32
		for _, side := range []bool{true, false} {
			for _, r := range src {
				if left.has(x.bins[r]) == side {
					want = append(want, r)
				}
			}
		}
		nLeft := 0
		for _, r := range src {
			if left.has(x.bins[r]) {
				nLeft++
			}
		}
		g := &grower{x: x, p: Params{Parallelism: 2}}
		dst := make([]int32, len(src))
		g.partition(src, dst, 0, &left, nLeft)
		if !slices.Equal(dst, want) {
			t.Errorf("%d rows: partition differs from a stable partition", len(src))
		}
	}
}

// TestHistogramSubtraction: the parent's histogram minus the small
// child's equals the large child's built from its rows, exactly for the
// counts and to rounding for the sums; and a histogram built in pieces is
// the same, bit for bit, on one goroutine as on several.
func TestHistogramSubtraction(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n, cols = 3*histPiece + 100, 3
	x := &binnedMatrix{rows: n, cols: cols, bins: make([]uint8, n*cols), numBins: []int{10, 50, 256}}
	for i := range n {
		for j := range cols {
			x.bins[i*cols+j] = uint8(rng.IntN(x.numBins[j]))
		}
	}
	// Gradients of very different sizes, so that adding them in another
	// order would give other bits.
	grad := make([]gradPair, n)
	for i := range grad {
		scale := math.Pow(10, float64(rng.IntN(13)-6))
		grad[i] = gradPair{float32(rng.NormFloat64() * scale), float32(rng.Float64() * scale)}
	}
	var all, small, large []int32
	for i := range int32(n) {
		all = append(all, i)
		if rng.IntN(3) == 0 {
			small = append(small, i)
		} else {
			large = append(large, i)
		}
	}
	allCols := []int{0, 1, 2}
	g1 := &grower{x: x, p: Params{Parallelism: 1}}
	g4 := &grower{x: x, p: Params{Parallelism: 4}}
	parent, child, direct, parallel := newHistogram(x), newHistogram(x), newHistogram(x), newHistogram(x)
	g1.buildHist(parent, all, grad, allCols)
	for range 20 {
		g4.buildHist(parallel, all, grad, allCols)
		if !slices.EqualFunc(parent, parallel, slices.Equal) {
			t.Fatal("histograms built on 1 and 4 goroutines differ")
		}
	}
	g4.buildHist(child, small, grad, allCols)
	g1.buildHist(direct, large, grad, allCols)
	subtractHist(parent, child, x, allCols)
	const tol = 1e-9 * 1e6 * n // float64 sums of n float32 values of size up to ~1e6
	for j := range cols {
		for b := range parent[j] {
			p, d := parent[j][b], direct[j][b]
			if p.N != d.N || math.Abs(p.G-d.G) > tol || math.Abs(p.H-d.H) > tol {
				t.Fatalf("column %d bin %d: subtraction %+v, direct %+v", j, b, p, d)
			}
		}
	}
}

// TestBinnedTreeMatchesSavedTree: training adds each tree's values to the
// validation rows by running their bins down the tree (binTree); the
// saved tree runs raw values down raw thresholds. Both must reach the
// same leaf for every row, or early stopping would judge a model other
// than the one returned. The data has NaN, ±Inf and unseen codes.
func TestBinnedTreeMatchesSavedTree(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	cols := []features.ColumnInfo{
		{Name: "a", Kind: features.Numeric},
		{Name: "b", Kind: features.Numeric},
		{Name: "c", Kind: features.Categorical, Card: 30},
	}
	gen := func(n int, unseen bool) *features.Matrix {
		m := features.NewMatrix(n, cols)
		for i := range n {
			m.Data[0][i] = rng.NormFloat64()
			m.Data[1][i] = math.Round(rng.NormFloat64() * 10)
			m.Data[2][i] = float64(rng.IntN(20)) // codes 20..29 never seen in training
			switch rng.IntN(20) {
			case 0:
				m.Data[0][i] = math.NaN()
			case 1:
				m.Data[1][i] = math.Inf(1 - 2*rng.IntN(2))
			case 2:
				if unseen {
					m.Data[2][i] = float64(20 + rng.IntN(15)) // up to past Card
				}
			}
		}
		return m
	}
	tr := gen(2000, false)
	y := make([]float64, tr.Rows)
	for i := range y {
		if tr.Data[0][i] > 0 || int(tr.Data[2][i])%3 == 0 || math.IsNaN(tr.Data[0][i]) {
			y[i] = 1
		}
	}
	valid := gen(1000, true)
	p, err := Params{MinSamplesLeaf: 5}.resolve()
	if err != nil {
		t.Fatal(err)
	}
	b := newBooster(&train.Dataset{X: tr, Y: y, Classes: 2}, nil, p)
	vx := binMatrix(valid, b.maps, 1)
	gradients(b.obj, b.scores, b.y, b.all, b.grads, 1)
	grown := b.grower.grow(b.grads[0], b.all, b.sampleCols())
	bt := grown.binTree()
	saved := grown.export(b.maps)
	var numeric, categorical bool
	for i := range saved.Col {
		numeric = numeric || saved.Cat[i] < 0
		categorical = categorical || saved.Cat[i] >= 0
	}
	if !numeric || !categorical {
		t.Fatalf("the tree should have numeric and categorical splits (numeric %v, categorical %v)", numeric, categorical)
	}
	// The saved tree as prediction walks it (model/gbdt's tests check
	// that walk against the rule Tree documents): a one-tree model with
	// no link (Classes 0) and a zero base predicts the leaf's value.
	one := &Model{Columns: []string{"a", "b", "c"}, Base: []float64{0}, Trees: []Tree{saved}}
	out := make([]float64, 1)
	for i := range valid.Rows {
		row := valid.Row(i, nil)
		viaBins := bt.value[binLeaf(bt, vx.row(i))]
		one.PredictRow(row, out)
		if viaRaw := out[0]; viaBins != viaRaw {
			t.Fatalf("row %d %v: binned tree gives %g, saved tree %g", i, row, viaBins, viaRaw)
		}
	}
}

// binLeaf returns the node of bt that a binned row ends at.
func binLeaf(bt *binTree, row []uint8) int32 {
	var n int32
	for range bt.depth {
		nd := &bt.nodes[n]
		n = nd.child[nd.left.bit(row[nd.col])]
	}
	return n
}

// TestGOSS: after the first 1/LearningRate rounds, GOSS keeps every row
// of the top two thirds of its share by gradient, draws the last third
// from the rest, scales the drawn rows' gradients and hessians by
// (1-a)/b, and returns the rows in ascending order; before, every row.
func TestGOSS(t *testing.T) {
	const n = 100_000
	x := features.NewMatrix(n, []features.ColumnInfo{{Name: "a", Kind: features.Numeric}})
	y := make([]float64, n)
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range n {
		x.Data[0][i] = rng.Float64()
		y[i] = float64(rng.IntN(2))
	}
	p, err := Params{GOSS: 0.3, LearningRate: 0.5}.resolve()
	if err != nil {
		t.Fatal(err)
	}
	b := newBooster(&train.Dataset{X: x, Y: y, Classes: 2}, nil, p)
	orig := make([]gradPair, n)
	for i := range orig {
		orig[i] = gradPair{float32(rng.NormFloat64()), float32(rng.Float64())}
	}
	copy(b.grads[0], orig)
	if rows := b.gossRows(1); len(rows) != n { // rounds 0 and 1 of 1/0.5 = 2 use every row
		t.Fatalf("round 1: %d rows, want all %d", len(rows), n)
	}
	rows := slices.Clone(b.gossRows(2))
	if !slices.IsSorted(rows) {
		t.Fatal("rows are not ascending")
	}
	if got := float64(len(rows)) / n; math.Abs(got-0.3) > 0.01 {
		t.Errorf("kept %.3f of the rows, want 0.3", got)
	}
	abs := func(r int32) float64 { return math.Abs(float64(orig[r].g)) }
	in := make([]bool, n)
	for _, r := range rows {
		in[r] = true
	}
	// The top 20% by |g| (the threshold is estimated from a sample, so
	// allow a little on either side) are all in, unscaled; the rest of
	// the kept rows are scaled by (1-0.2)/0.1 = 8.
	sorted := make([]float64, n)
	for i := range sorted {
		sorted[i] = abs(int32(i))
	}
	slices.Sort(sorted)
	clearlyTop := sorted[int(0.81*n)]
	var scaled int
	for r := range int32(n) {
		g := b.grads[0][r]
		switch {
		case abs(r) >= clearlyTop && (!in[r] || g != orig[r]):
			t.Fatalf("row %d with |g| %g in the top share: kept %v, gradients %v (was %v)", r, abs(r), in[r], g, orig[r])
		case in[r] && g != orig[r]:
			if g.g != orig[r].g*8 || g.h != orig[r].h*8 {
				t.Fatalf("row %d: gradients %v, want 8 × %v", r, g, orig[r])
			}
			scaled++
		case !in[r] && g != orig[r]:
			t.Fatalf("row %d was left out but its gradients changed", r)
		}
	}
	if got := float64(scaled) / n; math.Abs(got-0.1) > 0.01 {
		t.Errorf("%.3f of the rows drawn from the small gradients, want 0.1", got)
	}
}

// TestRebuildHistogram: a leaf that drops its histogram and builds it
// again from its rows when it is split (rebuildRows) grows the same tree,
// bit for bit, as one that keeps every histogram, on one goroutine and
// on several.
func TestRebuildHistogram(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	const n = 20_000
	cols := []features.ColumnInfo{
		{Name: "a", Kind: features.Numeric},
		{Name: "b", Kind: features.Numeric},
		{Name: "c", Kind: features.Categorical, Card: 40},
	}
	x := features.NewMatrix(n, cols)
	grad := make([]gradPair, n)
	for i := range n {
		a, b, c := rng.NormFloat64(), rng.NormFloat64(), rng.IntN(40)
		x.Data[0][i], x.Data[1][i], x.Data[2][i] = a, b, float64(c)
		y := a*b + float64(c%7) + rng.NormFloat64()
		// Gradients of very different sizes, so that adding them in
		// another order would give other bits.
		scale := math.Pow(10, float64(rng.IntN(9)-4))
		grad[i] = gradPair{float32(-y * scale), float32((0.5 + rng.Float64()) * scale)}
	}
	all := make([]int32, n)
	for i := range all {
		all[i] = int32(i)
	}
	grow := func(parallelism, rebuild int) *grownTree {
		p, err := Params{MaxLeaves: 1000, MinSamplesLeaf: 5, Parallelism: parallelism}.resolve()
		if err != nil {
			t.Fatal(err)
		}
		g := testGrower(x, p)
		g.rebuild = rebuild
		return g.grow(grad, all, []int{0, 1, 2})
	}
	same := func(a, b *grownTree) bool {
		return slices.EqualFunc(a.nodes, b.nodes, func(u, v node) bool {
			return u.split == v.split && u.left == v.left && u.right == v.right && u.sum == v.sum && u.value == v.value && u.lo == v.lo && u.hi == v.hi
		})
	}
	kept := grow(1, 0)
	if len(kept.nodes) < 1000 {
		t.Fatalf("%d nodes: the tree should have grown to its 1,000 leaves", len(kept.nodes))
	}
	for _, c := range []struct{ parallelism, rebuild int }{{1, rebuildRows}, {1, n}, {4, n}, {4, 0}} {
		if !same(kept, grow(c.parallelism, c.rebuild)) {
			t.Errorf("parallelism %d, rebuild below %d rows: not the tree that keeps every histogram", c.parallelism, c.rebuild)
		}
	}
}

// TestSortByRatio checks that sortByRatio orders bins as a stable sort by
// cmp.Compare of their ratios does, on ratios chosen to trip it up: NaN,
// ±0, ±Inf, ties, and ratios that differ only in the low bits their
// packed keys drop.
func TestSortByRatio(t *testing.T) {
	one := 1.0
	near := []float64{one, math.Nextafter(one, 2), math.Nextafter(math.Nextafter(one, 2), 2), math.Nextafter(one, 0)}
	pools := map[string][]float64{
		"specials": {math.NaN(), math.Inf(-1), math.Inf(1), 0, math.Copysign(0, -1), -1, 1, 1e-300, -1e-300},
		"near":     append(near, -near[0], -near[1], -near[2]),
		"ties":     {0.5, 0.5, 0.25, -0.25},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for name, pool := range pools {
		for trial := range 200 {
			var ratio [len(binSet{}) * 64]float64
			n := 2 + rng.IntN(255)
			cats := make([]int, n)
			for i := range cats {
				cats[i] = i // ascending bins, as categoricalSplit gathers them
				if trial%2 == 0 {
					ratio[i] = pool[rng.IntN(len(pool))]
				} else {
					ratio[i] = pool[rng.IntN(len(pool))] + float64(rng.IntN(3))*math.SmallestNonzeroFloat64
				}
			}
			want := slices.Clone(cats)
			slices.SortStableFunc(want, func(a, b int) int { return cmp.Compare(ratio[a], ratio[b]) })
			sortByRatio(cats, &ratio)
			if !slices.Equal(cats, want) {
				t.Fatalf("%s, trial %d: order %v, want %v", name, trial, cats, want)
			}
		}
	}
}

// TestBinSetAddRange checks addRange, a word at a time, against adding
// each bin, for every range of bins within and across words.
func TestBinSetAddRange(t *testing.T) {
	for lo := 0; lo <= 256; lo++ {
		for hi := lo; hi <= 256; hi++ {
			var got, want binSet
			got.addRange(lo, hi)
			for b := lo; b < hi; b++ {
				want.add(b)
			}
			if got != want {
				t.Fatalf("addRange(%d, %d) = %x, want %x", lo, hi, got, want)
			}
		}
	}
}

// TestCategoricalRegularization checks CatSmooth and CatL2 on one node
// of three categories, worked by hand: A and C hold 100 rows each with
// gradient sums -10 and +10, and B one row with gradient +3 (every
// hessian 1, λ 1). B's ratio 3/(1+1) puts it last, and the best split
// sets it apart, {A, C} | {B}, with gain ½(0 + 9/2 - 3²/202). CatSmooth
// 100 orders B by 3/102, between A (-10/201) and C, and the best split
// becomes {A} | {B, C}: ½(100/101 + 13²/102 - 3²/202). CatL2 10 judges
// the splits with λ 11, where setting B apart gains ½(9/12 - 3²/212),
// less than {A} | {B, C} does: ½(100/111 + 13²/112 - 3²/212).
func TestCategoricalRegularization(t *testing.T) {
	bins := []sums{{}, {G: -10, H: 100, N: 100}, {G: 3, H: 1, N: 1}, {G: 10, H: 100, N: 100}} // bin 0 empty; A, B, C
	total := sums{G: 3, H: 201, N: 201}
	gain := func(lambda float64, l, r sums) float64 {
		sc := func(s sums) float64 { return s.G * s.G / (s.H + lambda) }
		return 0.5 * (sc(l) + sc(r) - sc(total))
	}
	a, b, c := bins[1], bins[2], bins[3]
	for _, tc := range []struct {
		name           string
		smooth, l2     float64
		left           []int
		wantL, wantR   sums
		wantGainLambda float64
	}{
		{"none", 0, 0, []int{1, 3}, a.add(c), b, 1},
		{"cat_smooth 100", 100, 0, []int{1}, a, b.add(c), 1},
		{"cat_l2 10", 0, 10, []int{1}, a, b.add(c), 11},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := splitRules{lambda: 1, catSmooth: tc.smooth, catL2: tc.l2}
			s := r.categoricalSplit(bins, total, r.score(total), 0)
			var want binSet
			for _, bin := range tc.left {
				want.add(bin)
			}
			if s.defaultLeft { // bin 0 (empty) goes with the default side
				want.add(0)
			}
			if s.left != want || s.lsum != tc.wantL || s.rsum != tc.wantR {
				t.Errorf("left bins %x, sums %+v | %+v; want %x, %+v | %+v", s.left, s.lsum, s.rsum, want, tc.wantL, tc.wantR)
			}
			if g := gain(tc.wantGainLambda, tc.wantL, tc.wantR); math.Abs(s.gain-g) > 1e-12 {
				t.Errorf("gain %g, want %g", s.gain, g)
			}
		})
	}
}
