package gbdt_test

import (
	"context"
	"math"
	"math/bits"
	"math/rand/v2"
	"testing"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/model/gbdt"
	"github.com/mlpipe/mlpipe/train"
	gbdttrain "github.com/mlpipe/mlpipe/train/gbdt"
)

// shapTol is how far explanations may be from the exact values: the
// issue's bound (1e-9), far above the rounding of sums of a few hundred
// terms of order 1 (about 1e-13).
const shapTol = 1e-9

// condExpect is E[f(x) | x_S] for one saved tree under the path-dependent
// rule (Algorithm 1 of Lundberg, Erion and Lee 2018): a split on a column
// in S (bit j of in) follows the row, a split on another column averages
// its children weighted by their covers. It reads the saved tree with the
// saved rule, not the compiled form the explainer walks.
func condExpect(tr *gbdt.Tree, row []float64, in uint) float64 {
	var at func(id int32) float64
	at = func(id int32) float64 {
		if id < 0 {
			return tr.Leaf[^id]
		}
		if in&(1<<tr.Col[id]) != 0 {
			return at(gbdt.SavedNext(tr, id, row))
		}
		l, r := tr.Left[id], tr.Right[id]
		return (savedCover(tr, l)*at(l) + savedCover(tr, r)*at(r)) / tr.Cover[id]
	}
	if len(tr.Col) == 0 {
		return tr.Leaf[0]
	}
	return at(0)
}

func savedCover(tr *gbdt.Tree, id int32) float64 {
	if id < 0 {
		return tr.LeafCover[^id]
	}
	return tr.Cover[id]
}

// bruteShapley returns the Shapley values of the game
// v_k(S) = base[k] + Σ_{trees t of output k} condExpect(t, S) over cols
// columns, by enumerating every subset: phi[k·cols+j].
func bruteShapley(m *gbdt.Model, row []float64) []float64 {
	k, cols := m.Outputs(), len(m.Columns)
	v := make([]float64, k<<cols) // v[S·k + out]
	for s := uint(0); s < 1<<cols; s++ {
		copy(v[int(s)*k:], m.Base)
		for t := range m.Trees {
			v[int(s)*k+t%k] += condExpect(&m.Trees[t], row, s)
		}
	}
	fact := func(n int) float64 { return math.Gamma(float64(n + 1)) }
	phi := make([]float64, k*cols)
	for j := range cols {
		for s := uint(0); s < 1<<cols; s++ {
			if s&(1<<j) != 0 {
				continue
			}
			n := bits.OnesCount(s)
			w := fact(n) * fact(cols-n-1) / fact(cols)
			for out := range k {
				phi[out*cols+j] += w * (v[int(s|1<<j)*k+out] - v[int(s)*k+out])
			}
		}
	}
	return phi
}

// randomTree grows a random tree over columns [0, used) of which the
// columns in cat are categorical, with leaf covers drawn at random and
// split covers their sums.
func randomTree(rng *rand.Rand, used int, cat map[int]bool) gbdt.Tree {
	var tr gbdt.Tree
	var grow func(depth int) int32
	grow = func(depth int) int32 {
		if depth == 0 || rng.IntN(6) == 0 {
			tr.Leaf = append(tr.Leaf, rng.NormFloat64())
			tr.LeafCover = append(tr.LeafCover, float64(1+rng.IntN(50)))
			return ^int32(len(tr.Leaf) - 1)
		}
		i := int32(len(tr.Col))
		col := rng.IntN(used)
		tr.Col = append(tr.Col, int32(col))
		tr.DefaultLeft = append(tr.DefaultLeft, rng.IntN(2) == 0)
		tr.Left, tr.Right, tr.Cover = append(tr.Left, 0), append(tr.Right, 0), append(tr.Cover, 0)
		if cat[col] {
			tr.Cat = append(tr.Cat, int32(len(tr.CatSets)))
			tr.CatSets = append(tr.CatSets, []uint32{rng.Uint32()})
			tr.Threshold = append(tr.Threshold, 0)
		} else {
			tr.Cat = append(tr.Cat, -1)
			tr.Threshold = append(tr.Threshold, float64(rng.IntN(7))-3)
		}
		l, r := grow(depth-1), grow(depth-1)
		tr.Left[i], tr.Right[i] = l, r
		tr.Cover[i] = savedCover(&tr, l) + savedCover(&tr, r)
		return i
	}
	grow(2 + rng.IntN(6))
	return tr
}

// randomRow draws values that hit every branch: numbers around the
// thresholds, NaN, codes in and out of the category sets, and codes that
// are not codes.
func randomRow(rng *rand.Rand, cols int, cat map[int]bool) []float64 {
	row := make([]float64, cols)
	for j := range row {
		switch {
		case rng.IntN(8) == 0:
			row[j] = math.NaN()
		case cat[j] && rng.IntN(8) == 0:
			row[j] = []float64{-1, 2.5, 40, 1e9}[rng.IntN(4)] // not a code the sets know
		case cat[j]:
			row[j] = float64(rng.IntN(32))
		default:
			row[j] = rng.NormFloat64() * 3
		}
	}
	return row
}

// TestShapMatchesBruteForce: on small models (6 columns, of which the
// trees use 5), the explainer's values equal the exact Shapley values of
// the path-dependent game, computed by enumerating every subset of the
// columns with the saved trees and covers; the column no tree uses gets
// exactly 0, and the base value is v(∅). The random trees split on a
// column several times on one path, mix numeric and categorical splits
// and send missing values both ways; the fitted models have real covers.
func TestShapMatchesBruteForce(t *testing.T) {
	const cols, used = 6, 5
	cat := map[int]bool{1: true, 3: true}
	names := []string{"a", "b", "c", "d", "e", "unused"}
	random := func(seed uint64, classes, rounds int) *gbdt.Model {
		rng := rand.New(rand.NewPCG(seed, 1))
		m := &gbdt.Model{Classes: classes, Columns: names}
		k := m.Outputs()
		for range k {
			m.Base = append(m.Base, rng.NormFloat64())
		}
		for range rounds * k {
			m.Trees = append(m.Trees, randomTree(rng, used, cat))
		}
		return m
	}
	fitted := func(classes int) *gbdt.Model {
		rng := rand.New(rand.NewPCG(3, 4))
		info := []features.ColumnInfo{{Name: "a", Kind: features.Numeric}, {Name: "b", Kind: features.Categorical, Card: 12},
			{Name: "c", Kind: features.Numeric}, {Name: "d", Kind: features.Categorical, Card: 5},
			{Name: "e", Kind: features.Numeric}, {Name: "unused", Kind: features.Numeric}}
		x := features.NewMatrix(3000, info)
		y := make([]float64, x.Rows)
		for i := range x.Rows {
			a, c, e := rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()
			b, d := rng.IntN(12), rng.IntN(5)
			if rng.IntN(10) == 0 {
				a = math.NaN()
			}
			x.Data[0][i], x.Data[1][i], x.Data[2][i], x.Data[3][i], x.Data[4][i] = a, float64(b), c, float64(d), e
			x.Data[5][i] = 7 // constant: no split can use it
			score := c + 0.5*e*float64(d-2) + float64(b%3)
			if math.IsNaN(a) || a > 1 {
				score += 2
			}
			y[i] = float64(min(classes-1, max(0, int(score+rng.NormFloat64())+1)))
			if classes == 2 {
				y[i] = float64(min(1, int(y[i])))
			}
		}
		m, err := gbdttrain.New(gbdttrain.Params{Rounds: 8, MaxLeaves: 24, MinSamplesLeaf: 10, LearningRate: 0.3}).
			Fit(context.Background(), &train.Dataset{X: x, Y: y, Classes: classes}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return m.(*gbdt.Model)
	}
	cases := []struct {
		name string
		m    *gbdt.Model
	}{
		{"random binary", random(1, 2, 12)},
		{"random 3 classes", random(2, 3, 5)},
		{"fitted binary", fitted(2)},
		{"fitted 3 classes", fitted(3)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.m
			if err := gbdt.Check(m); err != nil {
				t.Fatal(err)
			}
			ex, err := m.Explainer()
			if err != nil {
				t.Fatal(err)
			}
			k := m.Outputs()
			for out := range k {
				v0 := m.Base[out]
				for tr := out; tr < len(m.Trees); tr += k {
					v0 += condExpect(&m.Trees[tr], nil, 0)
				}
				if d := math.Abs(ex.Base()[out] - v0); d > shapTol {
					t.Errorf("output %d: base %v, v(∅) = %v", out, ex.Base()[out], v0)
				}
			}
			rng := rand.New(rand.NewPCG(9, 9))
			phi, margin := make([]float64, k*cols), make([]float64, k)
			for i := range 200 {
				row := randomRow(rng, cols, cat)
				ex.ExplainRow(row, phi, margin)
				want := bruteShapley(m, row)
				for j := range phi {
					if d := math.Abs(phi[j] - want[j]); !(d <= shapTol) {
						t.Fatalf("row %d %v: output %d column %s: %v, brute force %v", i, row, j/cols, names[j%cols], phi[j], want[j])
					}
				}
				for out := range k {
					if phi[out*cols+cols-1] != 0 || math.Signbit(phi[out*cols+cols-1]) {
						t.Fatalf("row %d: the unused column gets %v, want exactly 0", i, phi[out*cols+cols-1])
					}
				}
			}
		})
	}
}
