package gbdt

import (
	"cmp"
	"math"
	"slices"
)

// Split finding.
//
// A leaf holding rows with gradient sum G and hessian sum H gets the
// value w = -G/(H+λ): the Newton step that minimises the second-order
// expansion of the loss, G·w + ½(H+λ)·w², plus the L2 penalty ½λw². At
// that value the expansion is -½·G²/(H+λ), so splitting a node into L and
// R lowers the loss by
//
//	gain = ½ · ( G_L²/(H_L+λ) + G_R²/(H_R+λ) - G²/(H+λ) )
//
// (XGBoost's gain; Chen & Guestrin 2016, eq. 7). λ shrinks the score of
// sides with little hessian, so splits that isolate a few rows gain less.
// The best split of a node is the one of largest gain over every sampled
// column and every threshold (numeric) or category order prefix
// (categorical), subject to MinSamplesLeaf and MinChildWeight on both
// sides.

// binSet is a set of bins, one bit per bin.
type binSet [4]uint64

func (s *binSet) add(b int)        { s[b>>6] |= 1 << (b & 63) }
func (s *binSet) has(b uint8) bool { return s.bit(b) != 0 }
func (s *binSet) bit(b uint8) int  { return int(s[b>>6] >> (b & 63) & 1) } // 1 if b is in s
func (s *binSet) addRange(lo, hi int) { // adds bins [lo, hi), a word at a time
	for w := range s {
		a, b := max(lo, w*64), min(hi, (w+1)*64)
		if a < b {
			s[w] |= ^uint64(0) >> (64 - (b - a)) << (a - w*64)
		}
	}
}

// split is a candidate split of a node.
type split struct {
	gain float64 // 0: no split
	col  int
	// left is the set of bins whose rows go left. It holds bin 0 (missing
	// or other) exactly when defaultLeft is true.
	left        binSet
	defaultLeft bool
	// bin is the last value bin that goes left, for a numeric column.
	bin         int
	lsum, rsum  sums
	categorical bool
}

// splitRules are the parameters split finding needs.
type splitRules struct {
	lambda         float64
	minChildWeight float64
	minSamplesLeaf int
	catSmooth      float64 // Params.CatSmooth
	catL2          float64 // Params.CatL2
}

// score is G²/(H+λ), twice the loss reduction of giving rows with sums s
// their own leaf.
func (r *splitRules) score(s sums) float64 {
	d := s.H + r.lambda
	if d <= 0 {
		return 0
	}
	return s.G * s.G / d
}

// leafValue is the Newton step -G/(H+λ) of a leaf with sums s.
func (r *splitRules) leafValue(s sums) float64 {
	d := s.H + r.lambda
	if d <= 0 {
		return 0
	}
	return -s.G / d
}

// allowed says whether a side with sums s may become a child.
func (r *splitRules) allowed(s sums) bool {
	return s.N >= r.minSamplesLeaf && s.H >= r.minChildWeight
}

// bestSplit returns the best split of a node with sums total and
// histogram h over the columns cols, or a split with gain 0 when no split
// is allowed or gains anything. Ties go to the lower column, then the
// lower threshold, so the choice is deterministic.
//
// Each column is searched for a split that gains more than the best of
// the columns before it (floor), and only such a split gets its set of
// left bins: most columns of a node lose, and building their sets was 2%
// of the CPU of the whole backtest (mlpipe simulate), whose trees have
// up to 4,095 leaves.
func (r *splitRules) bestSplit(h histogram, maps []binMapper, cols []int, total sums) split {
	var best split
	parent := r.score(total)
	for _, j := range cols {
		bins := h[j]
		var s split
		if maps[j].categorical {
			s = r.categoricalSplit(bins, total, parent, best.gain)
		} else {
			s = r.numericSplit(bins, total, parent, best.gain)
		}
		if s.gain > best.gain {
			s.col = j
			best = s
		}
	}
	return best
}

// consider records the split with left sums l in *best if it is allowed
// and gains more than best.
func (r *splitRules) consider(best *split, l, total sums, parent float64) bool {
	rs := total.sub(l)
	if !r.allowed(l) || !r.allowed(rs) {
		return false
	}
	gain := 0.5 * (r.score(l) + r.score(rs) - parent)
	if gain <= best.gain {
		return false
	}
	best.gain, best.lsum, best.rsum = gain, l, rs
	return true
}

// numericSplit finds the best threshold of a numeric column that gains
// more than floor (a split with gain 0 if none does): bins 1..b go left,
// the rest right, and the missing values of bin 0 go to whichever side
// gains more (two scans, one per side). When the node has no missing
// values both scans are the same, so one is run and missing values seen
// later are sent to the side with more hessian, the side that the
// training rows mostly took.
func (r *splitRules) numericSplit(bins []sums, total sums, parent, floor float64) split {
	best := split{gain: floor}
	missing := bins[0]
	sides := []bool{false}
	if missing.N > 0 {
		sides = append(sides, true)
	}
	for _, missingLeft := range sides {
		var l sums
		if missingLeft {
			l = missing
		}
		// The last value bin is never a threshold: it would send every
		// value left.
		for b := 1; b < len(bins)-1; b++ {
			// A bin without rows (sums exactly zero, as most bins of
			// a small leaf are) leaves l as bin b-1 left it, and that
			// split, as good and first, was already considered.
			if b > 1 && bins[b] == (sums{}) {
				continue
			}
			l = l.add(bins[b])
			if l.N < r.minSamplesLeaf {
				continue // the left side is too small yet
			}
			if total.N-l.N < r.minSamplesLeaf {
				break // and the right side is too small from here on
			}
			if r.consider(&best, l, total, parent) {
				best.bin, best.defaultLeft = b, missingLeft
			}
		}
	}
	if best.gain == floor {
		return split{}
	}
	if missing.N == 0 {
		best.defaultLeft = best.lsum.H >= best.rsum.H
	}
	best.left.addRange(1, best.bin+1)
	if best.defaultLeft {
		best.left.add(0)
	}
	return best
}

// categoricalSplit finds the best partition of the categories of a
// categorical column into two sides.
//
// Trying every subset is exponential in the number of categories. But
// for a weighted squared error the best binary partition never splits
// the categories out of the order of their means (Fisher 1958; Breiman et
// al. 1984, CART), and with λ = 0 the gain above is such an error with
// weights h and mean G/H per category. So, as LightGBM does (with
// sum_g/(sum_h+cat_smooth)), the categories present in the node are
// sorted by G/(H+λ+CatSmooth), λ and CatSmooth damping the order of
// categories with little hessian, and the prefixes of that order are
// scanned as a numeric column's bins are: a linear scan instead of
// 2^(k-1) subsets.
//
// A column of hundreds of categories offers a node that many ordered
// prefixes, and on the noisy order of its small categories the best of
// them often fits noise. CatSmooth and CatL2 (LightGBM's cat_smooth and
// cat_l2, off by default) hold such splits back: CatSmooth orders a
// category of little hessian near the middle, and CatL2 adds to λ in the
// gain of a categorical split (not in the leaf values), so it must gain
// more than a numeric split to be chosen.
//
// Bin 0 ("other") takes part like any category when the node has rows in
// it. Categories with no rows in the node, and bin 0 when it has none,
// go to the default side, the side with more hessian; at prediction
// time that is also where codes never seen in training go. As with
// numericSplit, only a split that gains more than floor is returned.
func (r *splitRules) categoricalSplit(bins []sums, total sums, parent, floor float64) split {
	best := split{gain: floor}
	var catsBuf [len(binSet{}) * 64]int // a column has at most 256 bins
	var ratio [len(catsBuf)]float64
	cats := catsBuf[:0]
	for b, s := range bins {
		if s.N > 0 {
			cats = append(cats, b)
			ratio[b] = s.G / (s.H + r.lambda + r.catSmooth)
		}
	}
	if len(cats) < 2 {
		return split{}
	}
	sortByRatio(cats, &ratio)
	if r.catL2 > 0 { // judge the split with the larger penalty
		cr := *r
		cr.lambda += r.catL2
		r, parent = &cr, cr.score(total)
	}
	var l sums
	prefix := 0
	for k := 0; k < len(cats)-1; k++ {
		l = l.add(bins[cats[k]])
		if r.consider(&best, l, total, parent) {
			prefix = k + 1
		}
	}
	if best.gain == floor {
		return split{}
	}
	best.categorical = true
	for _, b := range cats[:prefix] {
		best.left.add(b)
	}
	if bins[0].N > 0 {
		best.defaultLeft = best.left.has(0)
	} else {
		best.defaultLeft = best.lsum.H >= best.rsum.H
	}
	if best.defaultLeft {
		for b, s := range bins {
			if s.N == 0 {
				best.left.add(b)
			}
		}
	}
	return best
}

// sortByRatio sorts the bins cats by ratio, ties in bin order (what a
// stable sort of ascending bins gives), as cmp.Compare orders floats:
// NaN first, -0 equal to +0.
//
// It is a big tree's most frequent sort (every categorical column of
// every node), and a sort of plain integers is faster than one calling a
// comparison function: in a profile of the whole backtest, 11.6 CPU s of
// sorting became 5.8, packing included. So each bin is packed with its
// ratio into one integer: the ratio's order key (orderKey) but its last 8
// bits, then the bin. Sorted, those integers are in ratio order except
// among ratios whose keys agree but for those 8 bits, which the exact
// comparison then sorts: such runs are rare, and this order is exactly
// the comparison's.
func sortByRatio(cats []int, ratio *[len(binSet{}) * 64]float64) {
	var buf [len(binSet{}) * 64]uint64
	packed := buf[:len(cats)]
	for i, b := range cats {
		packed[i] = orderKey(ratio[b])&^0xff | uint64(b)
	}
	slices.Sort(packed)
	for i, p := range packed {
		cats[i] = int(p & 0xff)
	}
	for lo := 0; lo < len(packed); {
		hi := lo + 1
		for hi < len(packed) && packed[hi]>>8 == packed[lo]>>8 {
			hi++
		}
		if hi-lo > 1 {
			slices.SortFunc(cats[lo:hi], func(a, b int) int {
				return cmp.Or(cmp.Compare(ratio[a], ratio[b]), cmp.Compare(a, b))
			})
		}
		lo = hi
	}
}

// orderKey maps x to an integer in cmp.Compare's order of floats: NaN
// below everything, -0 equal to +0, then the IEEE 754 order (negative
// numbers' bits reversed, positive numbers' above them).
func orderKey(x float64) uint64 {
	switch {
	case x != x:
		return 0
	case x == 0:
		x = 0 // -0 is +0
	}
	b := math.Float64bits(x)
	if b>>63 != 0 {
		return ^b
	}
	return b | 1<<63
}
