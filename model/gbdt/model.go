package gbdt

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/mlpipe/mlpipe/model"
)

// Model is a fitted boosted ensemble. It is a plain struct: its JSON is
// its saved form (see model.Save and Decode).
//
// A row's margins start at Base and each tree adds its leaf's value to
// margin t % Outputs() (tree t). A binary model turns its one margin into
// the probability of class 1 with the logistic function; a K-class model
// turns its K margins into probabilities with softmax; a regression's one
// margin is its prediction.
type Model struct {
	// Classes is the number of classes: 2 for a binary model, 0 for a
	// regression (Params.Objective says which loss it was fitted with).
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
	// filled in, as the trainer wrote them (train/gbdt.Params).
	// Prediction reads none of them; Decode checks that the objective
	// agrees with Classes.
	Params json.RawMessage `json:"params"`

	once sync.Once
	flat *compiled // the trees in the form prediction walks (see compile)

	shapOnce sync.Once
	shap     *shapForm // the trees in the form explanation walks (shap.go)
	shapErr  error
}

// Tree is one regression tree in flat arrays: the compact saved form. A
// model compiles its trees into another layout to predict (predict.go).
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
//     set = CatSets[Cat[i]] (bit x%32 of set[x/32]) is set and right when
//     it is clear. A value that is not an integer in [0, 32·len(set))
//     goes to the default side, and so does (through the bits) any code
//     not seen in training.
//
// The default side is left when DefaultLeft[i] is true.
//
// Cover[i] is the number of training rows (of the round's sample) that
// reached split node i, and LeafCover[l] those that reached leaf l: the
// weights with which explanations average over a column they leave out
// (shap.go). Both are empty in a model saved before explanations.
type Tree struct {
	Col         []int32    `json:"col"`
	Threshold   []float64  `json:"threshold"`
	Cat         []int32    `json:"cat"`
	DefaultLeft []bool     `json:"default_left"`
	Left        []int32    `json:"left"`
	Right       []int32    `json:"right"`
	Leaf        []float64  `json:"leaf"` // leaf values, learning rate applied
	CatSets     [][]uint32 `json:"cat_sets,omitempty"`
	Cover       []float64  `json:"cover,omitempty"`
	LeafCover   []float64  `json:"leaf_cover,omitempty"`
}

// Kind returns "gbdt".
func (m *Model) Kind() string { return Name }

// Task is Regression for a model of a regression objective, else Binary
// for a 2-class model and Multiclass for more.
func (m *Model) Task() model.Task {
	if m.regression() {
		return model.Regression
	}
	return model.ClassTask(m.Classes)
}

func (m *Model) regression() bool { return m.Classes == 0 }

// Outputs is 1 for a binary or regression model and Classes otherwise:
// the trees of each round.
func (m *Model) Outputs() int {
	if m.Classes <= 2 {
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

// ImportanceKind implements model.Importancer.
func (m *Model) ImportanceKind() string { return model.ImportanceGain }

// Decode rebuilds a Model from its JSON, for model.Load.
func Decode(data []byte) (model.Model, error) {
	var m Model
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("gbdt decode: %w", err)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("gbdt decode: %w: %v", model.ErrFormat, err)
	}
	return &m, nil
}

// check verifies that every index in the model is in range, so that a
// corrupt file fails to load rather than panics at prediction time.
func (m *Model) check() error {
	var p struct {
		Objective string `json:"objective"`
	}
	if len(m.Params) > 0 {
		if err := json.Unmarshal(m.Params, &p); err != nil {
			return fmt.Errorf("params: %w", err)
		}
	}
	// logLoss is train/gbdt's objective for a class label (also the
	// empty name); every other objective is a regression's.
	const logLoss = "log_loss"
	regression := p.Objective != "" && p.Objective != logLoss
	if regression != (m.Classes == 0) || m.Classes == 1 || m.Classes < 0 {
		return fmt.Errorf("%d classes for objective %q", m.Classes, p.Objective)
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
	if (len(t.Cover) > 0 || len(t.LeafCover) > 0) && (len(t.Cover) != n || len(t.LeafCover) != n+1) {
		return fmt.Errorf("%d split covers and %d leaf covers for %d splits", len(t.Cover), len(t.LeafCover), n)
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

// Name is the model kind, and the name of its trainer.
const Name = "gbdt"
