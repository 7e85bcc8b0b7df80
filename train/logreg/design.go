package logreg

import (
	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/internal/onehot"
)

// design is a training set in the form the objective reads: the one-hot
// design (onehot.Design) and the labels. The parameter vector theta holds,
// for each feature f and output k, the weight theta[f*outputs+k]: the
// weights of one feature for all outputs are contiguous, so a row touches
// few cache lines.
type design struct {
	*onehot.Design
	outputs int // 1 for a binary task (the logit of class 1), else the number of classes
	y       []int32
	// counts[c] is the number of rows of class c.
	counts []int
	// weights[c] is the weight of each row of class c in the loss
	// (Dataset.ClassWeights), nil when every row weighs 1.
	weights []float64
}

// weight is the loss weight of class c.
func (d *design) weight(c int32) float64 {
	if d.weights == nil {
		return 1
	}
	return d.weights[c]
}

// newDesign checks d (already validated by Dataset.Validate) and converts
// it.
func newDesign(d *train.Dataset) (*design, error) {
	od, err := onehot.New(d.X)
	if err != nil {
		return nil, err
	}
	out := &design{Design: od, outputs: d.Classes, weights: d.ClassWeights}
	if d.Classes == 2 {
		out.outputs = 1
	}
	out.y = make([]int32, len(d.Y))
	out.counts = make([]int, d.Classes)
	for i, y := range d.Y {
		out.y[i] = int32(y) // Validate checked that y is a class index
		out.counts[int(y)]++
	}
	return out, nil
}

// classesPresent is the number of classes with at least one row.
func (d *design) classesPresent() int {
	n := 0
	for _, c := range d.counts {
		if c > 0 {
			n++
		}
	}
	return n
}
