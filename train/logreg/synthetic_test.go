package logreg

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/train"
)

// synthetic draws a dataset from a known logistic model: numeric columns
// are standard normal with a share nanShare of NaN, categorical columns
// have the given cardinalities with skewed code frequencies, and each
// label is drawn from the softmax (sigmoid for 2 classes) of the true
// scores. The same seed gives the same dataset.
func synthetic(seed uint64, rows, numeric int, cards []int, classes int, nanShare float64) *train.Dataset {
	rng := rand.New(rand.NewPCG(seed, 0))
	var cols []features.ColumnInfo
	for j := 0; j < numeric; j++ {
		cols = append(cols, features.ColumnInfo{Name: fmt.Sprintf("x%d", j), Kind: features.Numeric})
	}
	for j, c := range cards {
		cols = append(cols, features.ColumnInfo{Name: fmt.Sprintf("c%d", j), Kind: features.Categorical, Card: c})
	}
	x := features.NewMatrix(rows, cols)
	outputs := classes
	// weights[j][k*width+c]: true weight of code (or value) c of column j
	// for class k.
	weights := make([][]float64, len(cols))
	for j, info := range cols {
		weights[j] = make([]float64, outputs*max(info.Card, 1))
		for f := range weights[j] {
			weights[j][f] = rng.NormFloat64()
		}
	}
	y := make([]float64, rows)
	score := make([]float64, outputs)
	for i := 0; i < rows; i++ {
		clear(score)
		for j, info := range cols {
			if info.Kind == features.Numeric {
				v := rng.NormFloat64()
				if rng.Float64() < nanShare {
					v = math.NaN()
				}
				x.Data[j][i] = v
				for k := range score {
					if !math.IsNaN(v) {
						score[k] += v * weights[j][k]
					}
				}
				continue
			}
			// The square of a uniform draw makes low codes frequent.
			u := rng.Float64()
			c := int(u * u * float64(info.Card))
			x.Data[j][i] = float64(c)
			for k := range score {
				score[k] += weights[j][k*info.Card+c]
			}
		}
		softmax(score)
		u, k := rng.Float64(), 0
		for ; k < classes-1 && u >= score[k]; k++ {
			u -= score[k]
		}
		y[i] = float64(k)
	}
	return &train.Dataset{X: x, Y: y, Classes: classes}
}

// softmax replaces z by e^z / Σ e^z.
func softmax(z []float64) {
	hi := slices.Max(z)
	var sum float64
	for k, v := range z {
		z[k] = math.Exp(v - hi)
		sum += z[k]
	}
	for k := range z {
		z[k] /= sum
	}
}
