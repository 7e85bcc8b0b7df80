package gbdt

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/train"
)

// Model is a fitted boosted ensemble. It is a plain struct: its JSON is
// its saved form (see train.Save and Decode).
//
// A row's margins start at Base and each tree adds its leaf's value to
// margin t % Outputs() (tree t). A binary model turns its one margin into
// the probability of class 1 with the logistic function; a K-class model
// turns its K margins into probabilities with softmax.
type Model struct {
	// Classes is the number of classes: 2 for a binary model.
	Classes int `json:"classes"`
	// ClassNames names the classes, when the training set did.
	ClassNames []string `json:"class_names,omitempty"`
	// Columns names the input columns, in order.
	Columns []string `json:"columns"`
	// Base is the starting margin of each output.
	Base []float64 `json:"base"`
	// Trees holds Outputs() trees per round, round by round.
	Trees []Tree `json:"trees"`
	// BestRound is the 0-based round with the lowest validation loss (the
	// last round without a validation set); the model holds rounds
	// 0..BestRound.
	BestRound int `json:"best_round"`
	// Gain is the total split gain of each input column over the model's
	// trees (see Importance).
	Gain []float64 `json:"gain"`
	// Params are the parameters the model was trained with, defaults
	// filled in.
	Params Params `json:"params"`
}

// Tree is one regression tree in flat arrays, for a compact saved form
// and fast prediction.
//
// Split nodes are numbered from 0, the root. Left[i] and Right[i] name
// the children of split node i: a value c >= 0 is split node c, a value
// c < 0 is leaf ^c (-1 is leaf 0, -2 leaf 1, ...). A tree without splits
// is the single leaf 0.
//
// Split node i tests input column Col[i]:
//   - numeric (Cat[i] == -1): x <= Threshold[i] goes left, a larger x
//     right, NaN to the default side. ±Inf are ordinary values.
//   - categorical (Cat[i] >= 0): the code x goes left when bit x of
//     CatSets[Cat[i]] is set and right when it is clear. A value that is
//     not an integer in [0, 32·len(set)) goes to the default side, and so
//     does (through the bits) any code not seen in training.
//
// The default side is left when DefaultLeft[i] is true.
type Tree struct {
	Col         []int32    `json:"col"`
	Threshold   []float64  `json:"threshold"`
	Cat         []int32    `json:"cat"`
	DefaultLeft []bool     `json:"default_left"`
	Left        []int32    `json:"left"`
	Right       []int32    `json:"right"`
	Leaf        []float64  `json:"leaf"` // leaf values, learning rate applied
	CatSets     [][]uint32 `json:"cat_sets,omitempty"`
}

// Kind returns "gbdt".
func (m *Model) Kind() string { return Name }

// Outputs is 1 for a binary model and Classes otherwise.
func (m *Model) Outputs() int {
	if m.Classes == 2 {
		return 1
	}
	return m.Classes
}

// Importance returns the gain importance of each input column: the sum,
// over every split on the column in the model's trees, of the split's
// loss reduction ½(G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ)). Columns that
// no tree splits on have 0. The slice is a copy.
func (m *Model) Importance() []float64 {
	return append([]float64(nil), m.Gain...)
}

// Decode rebuilds a Model from its JSON, for train.Load.
func Decode(data []byte) (train.Model, error) {
	var m Model
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("gbdt decode: %w", err)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("gbdt decode: %w: %v", train.ErrFormat, err)
	}
	return &m, nil
}

// check verifies that every index in the model is in range, so that a
// corrupt file fails to load rather than panics at prediction time.
func (m *Model) check() error {
	if m.Classes < 2 {
		return fmt.Errorf("%d classes", m.Classes)
	}
	k := m.Outputs()
	if len(m.Base) != k {
		return fmt.Errorf("%d base margins for %d outputs", len(m.Base), k)
	}
	if len(m.Trees)%k != 0 {
		return fmt.Errorf("%d trees is not a whole number of rounds of %d", len(m.Trees), k)
	}
	for t := range m.Trees {
		if err := m.Trees[t].check(len(m.Columns)); err != nil {
			return fmt.Errorf("tree %d: %w", t, err)
		}
	}
	return nil
}

func (t *Tree) check(cols int) error {
	n := len(t.Col)
	if len(t.Threshold) != n || len(t.Cat) != n || len(t.DefaultLeft) != n || len(t.Left) != n || len(t.Right) != n {
		return errors.New("split arrays differ in length")
	}
	if len(t.Leaf) != n+1 {
		return fmt.Errorf("%d leaves for %d splits", len(t.Leaf), n)
	}
	child := func(c int32, parent int) bool {
		if c < 0 {
			return int(^c) < len(t.Leaf)
		}
		return int(c) > parent && int(c) < n // children come after parents: no cycles
	}
	for i := range n {
		if t.Col[i] < 0 || int(t.Col[i]) >= cols {
			return fmt.Errorf("node %d: column %d out of range", i, t.Col[i])
		}
		if t.Cat[i] < -1 || int(t.Cat[i]) >= len(t.CatSets) {
			return fmt.Errorf("node %d: category set %d out of range", i, t.Cat[i])
		}
		if !child(t.Left[i], i) || !child(t.Right[i], i) {
			return fmt.Errorf("node %d: child out of range", i)
		}
	}
	return nil
}

// leaf returns the index of the leaf that row falls in.
func (t *Tree) leaf(row []float64) int {
	if len(t.Col) == 0 {
		return 0
	}
	n := int32(0)
	for n >= 0 {
		if t.goLeft(n, row[t.Col[n]]) {
			n = t.Left[n]
		} else {
			n = t.Right[n]
		}
	}
	return int(^n)
}

// goLeft says whether value x goes left at split node n.
func (t *Tree) goLeft(n int32, x float64) bool {
	if c := t.Cat[n]; c >= 0 {
		set := t.CatSets[c]
		if x >= 0 && x < float64(32*len(set)) && x == math.Trunc(x) {
			code := int(x)
			return set[code>>5]>>(code&31)&1 != 0
		}
		return t.DefaultLeft[n]
	}
	switch {
	case x <= t.Threshold[n]:
		return true
	case x > t.Threshold[n]:
		return false
	}
	return t.DefaultLeft[n] // NaN
}

// PredictRow scores one row into out (len Outputs()). It computes exactly
// what PredictProba computes for the same row, in the same order, so the
// two agree bit for bit.
func (m *Model) PredictRow(row []float64, out []float64) {
	m.margins(row, out)
	m.link(out)
}

// margins writes the row's margins into out: Base plus the leaf value of
// every tree, added in tree order.
func (m *Model) margins(row []float64, out []float64) {
	k := m.Outputs()
	copy(out[:k], m.Base)
	for t := range m.Trees {
		tr := &m.Trees[t]
		out[t%k] += tr.Leaf[tr.leaf(row)]
	}
}

// link turns margins into probabilities in place.
func (m *Model) link(out []float64) {
	if m.Outputs() == 1 {
		out[0] = sigmoid(out[0])
		return
	}
	softmax(out, out)
}

// predictChunk is the rows each goroutine of PredictProba scores at a time.
const predictChunk = 1 << 10

// PredictProba scores every row of x and returns x.Rows·Outputs()
// probabilities, row-major. Large batches are scored on GOMAXPROCS
// goroutines; each row is scored exactly as PredictRow scores it.
func (m *Model) PredictProba(x *features.Matrix) []float64 {
	k := m.Outputs()
	out := make([]float64, x.Rows*k)
	forChunks(runtime.GOMAXPROCS(0), x.Rows, predictChunk, func(_, lo, hi int) {
		row := make([]float64, len(x.Cols))
		for i := lo; i < hi; i++ {
			row = x.Row(i, row)
			m.PredictRow(row, out[i*k:(i+1)*k])
		}
	})
	return out
}

// Name is the trainer and model kind.
const Name = "gbdt"
