package gbdt

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/mlpipe/mlpipe/features"
)

// Binning.
//
// Trees are grown on bins, not raw values: every input column is mapped
// once, before training, to a bin number in [0, 256), so a row of the
// training matrix becomes a few bytes, and the best split of a node is
// found by scanning a histogram of at most 256 bins per column instead of
// sorting the node's rows. Only thresholds between bins are candidate
// splits, which costs little accuracy when the bins follow the quantiles
// of the data.
//
// Bin 0 is special in both kinds of column. In a numeric column it holds
// the missing values (NaN), so every split learns on which side missing
// values go. In a categorical column it holds "other": codes never seen
// in training, codes beyond the MaxBins most frequent, and anything that
// is not a valid code. Either way, bin 0 is what a split's default side
// is for.

// binSampleRows is how many training rows, at most, numeric bin
// boundaries are computed from (LightGBM's bin_construct_sample_cnt has
// the same default). Quantiles of 200,000 values are within about 0.1% of
// the exact ones for 255 bins, and sorting them is quick.
const binSampleRows = 200_000

// binMapper maps the values of one input column to bins.
type binMapper struct {
	categorical bool
	// upper holds the boundaries of a numeric column, ascending: value
	// bin b (1 <= b <= len(upper)+1) holds x with upper[b-2] < x <=
	// upper[b-1], taking upper[-1] = -Inf and upper[len] = +Inf. A split
	// "bins 1..b go left" is the raw test x <= upper[b-1], so the model
	// saved from bins predicts raw values exactly as training saw them.
	// ±Inf are ordinary values: below or above every boundary.
	upper []float64
	// codeBin maps a categorical code in [0, card) to its bin (0: other);
	// binCode maps a bin back to its code (binCode[0] = -1).
	codeBin []uint8
	binCode []int32
	card    int
}

// numBins is the number of bins of the column, bin 0 included.
func (m *binMapper) numBins() int {
	if m.categorical {
		return len(m.binCode)
	}
	return len(m.upper) + 2
}

// bin returns the bin of value x.
func (m *binMapper) bin(x float64) uint8 {
	if m.categorical {
		if x >= 0 && x < float64(m.card) && x == math.Trunc(x) {
			return m.codeBin[int(x)]
		}
		return 0
	}
	if x != x { // NaN
		return 0
	}
	// Binary search for the first boundary >= x: x <= upper[lo] holds
	// exactly for the boundaries from lo on.
	lo, hi := 0, len(m.upper)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if m.upper[mid] < x {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return uint8(lo + 1)
}

// newBinMappers builds the bin mapper of every column of x: numeric
// boundaries from a seeded sample of the rows, categorical bins from all
// of them (counting codes is cheap).
func newBinMappers(x *features.Matrix, maxBins int, seed uint64, workers int) []binMapper {
	sample := sampleRows(x.Rows, binSampleRows, rand.New(rand.NewPCG(seed, seedBins)))
	maps := make([]binMapper, len(x.Cols))
	forEach(workers, len(x.Cols), func(j int) {
		if x.Cols[j].Kind == features.Categorical {
			maps[j] = categoricalMapper(x.Data[j], x.Cols[j].Card, maxBins)
			return
		}
		vals := make([]float64, 0, len(sample))
		for _, i := range sample {
			if v := x.Data[j][i]; !math.IsNaN(v) && !math.IsInf(v, 0) {
				vals = append(vals, v)
			}
		}
		maps[j] = binMapper{upper: quantileBounds(vals, maxBins)}
	})
	return maps
}

// sampleRows returns k row indices drawn from [0, n) without replacement,
// in ascending order (all of them when n <= k), by Knuth's selection
// sampling (TAOCP vol. 2, 3.4.2, Algorithm S).
func sampleRows(n, k int, rng *rand.Rand) []int32 {
	if n <= k {
		idx := make([]int32, n)
		for i := range idx {
			idx[i] = int32(i)
		}
		return idx
	}
	idx := make([]int32, 0, k)
	for i := 0; i < n && len(idx) < k; i++ {
		// Take row i with probability (still needed) / (still left).
		if rng.IntN(n-i) < k-len(idx) {
			idx = append(idx, int32(i))
		}
	}
	return idx
}

// quantileBounds returns at most maxBins-1 ascending bin boundaries for
// the finite values vals (which it sorts), so that each of the at most
// maxBins bins holds about as many values.
//
// When there are few distinct values, each gets its own bin. Otherwise a
// greedy pass over the distinct values closes a bin once it holds its fair
// share of the values not yet binned; a value more frequent than the
// share gets a bin of its own, so heavy values do not swallow their
// neighbours. Boundaries lie halfway between two distinct values, so
// values between them that training never saw fall to the nearer side.
func quantileBounds(vals []float64, maxBins int) []float64 {
	if len(vals) == 0 {
		return nil
	}
	slices.Sort(vals)
	var distinct []float64
	var count []int
	for i, v := range vals {
		if i == 0 || v != vals[i-1] {
			distinct = append(distinct, v)
			count = append(count, 0)
		}
		count[len(count)-1]++
	}
	var upper []float64
	if len(distinct) <= maxBins {
		for i := 0; i+1 < len(distinct); i++ {
			upper = append(upper, midpoint(distinct[i], distinct[i+1]))
		}
		return upper
	}
	left, binsLeft, inBin := len(vals), maxBins, 0
	for i := 0; i+1 < len(distinct) && binsLeft > 1; i++ {
		inBin += count[i]
		if float64(inBin) >= float64(left)/float64(binsLeft) {
			upper = append(upper, midpoint(distinct[i], distinct[i+1]))
			left -= inBin
			binsLeft--
			inBin = 0
		}
	}
	return upper
}

// midpoint returns a boundary t with a <= t < b for a < b, halfway
// between them when that is representable.
func midpoint(a, b float64) float64 {
	t := a/2 + b/2 // no overflow, unlike (a+b)/2
	if t < a || t >= b {
		return a
	}
	return t
}

// categoricalMapper gives each code in [0, card) that occurs in col its
// own bin, in code order, keeping the maxBins most frequent codes (ties
// to the lower code) when there are more. The rest, and every value that
// is not a code, share bin 0.
func categoricalMapper(col []float64, card, maxBins int) binMapper {
	counts := make([]int, card)
	for _, v := range col {
		if v >= 0 && v < float64(card) && v == math.Trunc(v) {
			counts[int(v)]++
		}
	}
	return categoricalMapperCounts(counts, maxBins)
}

// categoricalMapperCounts is categoricalMapper from the rows of each code
// in [0, len(counts)).
func categoricalMapperCounts(counts []int, maxBins int) binMapper {
	card := len(counts)
	var seen []int
	for c, n := range counts {
		if n > 0 {
			seen = append(seen, c)
		}
	}
	if len(seen) > maxBins {
		slices.SortStableFunc(seen, func(a, b int) int { return counts[b] - counts[a] })
		seen = seen[:maxBins]
		slices.Sort(seen)
	}
	m := binMapper{categorical: true, card: card, codeBin: make([]uint8, card), binCode: []int32{-1}}
	for k, c := range seen {
		m.codeBin[c] = uint8(k + 1)
		m.binCode = append(m.binCode, int32(c))
	}
	return m
}

// binnedMatrix is a matrix of bins, row-major: row i is
// bins[i*cols : (i+1)*cols]. Row-major keeps the few bytes of a row
// together, so visiting the scattered rows of a deep node reads one cache
// line per row rather than one per column.
type binnedMatrix struct {
	rows, cols int
	bins       []uint8
	numBins    []int // bins of each column, bin 0 included
	// byCol, when set (see addColumns), holds the same bins column by
	// column: byCol[j][i] is bins[i*cols+j].
	byCol [][]uint8
}

// addColumns fills b.byCol. Partitioning a node's rows reads one column
// of many scattered rows: a column alone is cols times smaller than the
// matrix, so far more of it stays in cache.
func (b *binnedMatrix) addColumns(workers int) {
	b.byCol = make([][]uint8, b.cols)
	forEach(workers, b.cols, func(j int) {
		col := make([]uint8, b.rows)
		for i := range col {
			col[i] = b.bins[i*b.cols+j]
		}
		b.byCol[j] = col
	})
}

// row returns the bins of row i.
func (b *binnedMatrix) row(i int) []uint8 { return b.bins[i*b.cols : (i+1)*b.cols] }

// binChunk is the rows each goroutine bins at a time.
const binChunk = 1 << 14

// binMatrix maps every value of x to its bin.
func binMatrix(x *features.Matrix, maps []binMapper, workers int) binnedMatrix {
	nc := len(maps)
	b := binnedMatrix{rows: x.Rows, cols: nc, bins: make([]uint8, x.Rows*nc), numBins: make([]int, nc)}
	for j := range maps {
		b.numBins[j] = maps[j].numBins()
	}
	forChunks(workers, x.Rows, binChunk, func(_, lo, hi int) {
		for j := range maps {
			m, col := &maps[j], x.Data[j]
			for i := lo; i < hi; i++ {
				b.bins[i*nc+j] = m.bin(col[i])
			}
		}
	})
	return b
}
