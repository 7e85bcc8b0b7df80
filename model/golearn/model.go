package golearn

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/model"
)

// Model is a fitted golearn tree or forest, copied out of golearn's
// trees.DecisionTreeNode into plain data: its JSON is its saved form, and
// it predicts with this package's code, not golearn's. It implements
// model.Model and is safe for concurrent use.
//
// A row's score is the class shares of the training rows at the node it
// reaches in each tree, averaged over the trees. A binary model outputs
// the share of class 1, a K-class model the K shares.
type Model struct {
	// Name is the trainer (NameRF or NameID3) and the model's Kind.
	Name string `json:"name"`
	// Classes is the number of classes: 2 for a binary model.
	Classes int `json:"classes"`
	// ClassNames names the classes, when the training set did.
	ClassNames []string `json:"class_names,omitempty"`
	// Columns describe the design matrix the model reads.
	Columns []Column `json:"columns"`
	// Trees are the fitted trees: one for ID3, Params.Trees for a forest.
	Trees []Tree `json:"trees"`
	// Fit says how the model was fitted.
	Fit FitInfo `json:"fit"`
}

// Column describes one design matrix column.
type Column struct {
	Name string        `json:"name"`
	Kind features.Kind `json:"kind"`
	// Card is the number of codes of a categorical column.
	Card int `json:"card,omitempty"`
}

// Tree is one fitted tree: Nodes[0] is the root.
type Tree struct {
	// Columns lists the matrix columns the tree could split on (a forest
	// draws them per tree); nil means all.
	Columns []int  `json:"columns,omitempty"`
	Nodes   []Node `json:"nodes"`
}

// Node is one node of a Tree. Every node keeps the class counts of the
// training rows that reached it, so that a row that cannot go further (a
// category the node never saw) is scored where it stops.
//
// A split node is one of two kinds. A threshold split (Codes empty) sends
// a value > Threshold to Children[1] and any other value, NaN included,
// to Children[0]; on a categorical column the value is the code, and a
// value that is not a code counts as code 0 (unknown). A category split
// (Codes not empty, only with Params.NativeCategorical) sends code
// Codes[k] to Children[k].
type Node struct {
	// Col is the matrix column the node splits on, -1 for a leaf.
	Col       int     `json:"col"`
	Threshold float64 `json:"threshold,omitempty"`
	// Codes are the categories of a category split, ascending.
	Codes []int `json:"codes,omitempty"`
	// Children are node indices in Tree.Nodes, after their parent; -1
	// means that side had no training rows, and a row sent there stops
	// at this node.
	Children []int `json:"children,omitempty"`
	// Counts[c] is the number of training rows of class c at the node
	// (bootstrap duplicates counted); they sum to at least 1.
	Counts []int `json:"counts"`
}

// FitInfo records how a model was fitted.
type FitInfo struct {
	// TrainRows is the number of rows of the training set, Rows the
	// number the fit used (fewer when Params.MaxRows capped them).
	TrainRows int `json:"train_rows"`
	Rows      int `json:"rows"`
	// Seed is the seed of the row sample and of a forest's bootstrap
	// samples and column draws.
	Seed uint64 `json:"seed"`
	// Features is the number of columns each tree of a forest could split
	// on; 0 for ID3 (all columns).
	Features int `json:"features,omitempty"`
	// NativeCategorical records Params.NativeCategorical.
	NativeCategorical bool `json:"native_categorical,omitempty"`
}

// Kind implements model.Model.
func (m *Model) Kind() string { return m.Name }

// Task implements model.Model: Binary for a 2-class model, Multiclass
// otherwise.
func (m *Model) Task() model.Task { return model.ClassTask(m.Classes) }

// Outputs implements model.Model: 1 for a binary model, Classes otherwise.
func (m *Model) Outputs() int {
	if m.Classes == 2 {
		return 1
	}
	return m.Classes
}

// Nodes returns the number of nodes of all trees.
func (m *Model) Nodes() int {
	n := 0
	for _, t := range m.Trees {
		n += len(t.Nodes)
	}
	return n
}

// Note is a one-line description of the model for a leaderboard: what
// golearn fitted, on how many rows, how its scores are made, and whether
// it is repeatable.
func (m *Model) Note() string {
	rows := fmt.Sprintf("all %d training rows", m.Fit.Rows)
	if m.Fit.Rows < m.Fit.TrainRows {
		rows = fmt.Sprintf("a seeded sample of %d of %d training rows", m.Fit.Rows, m.Fit.TrainRows)
	}
	var what string
	switch m.Name {
	case NameRF:
		what = fmt.Sprintf("golearn RandomForest: %d ID3 trees of %d random columns each, bootstrapped from %s; scores are leaf class shares averaged over the trees",
			len(m.Trees), m.Fit.Features, rows)
	default:
		what = fmt.Sprintf("golearn ID3 tree, unpruned, on %s; scores are leaf class shares", rows)
	}
	hasCategorical := slices.ContainsFunc(m.Columns, func(c Column) bool { return c.Kind == features.Categorical })
	switch {
	case hasCategorical && m.Fit.NativeCategorical:
		return what + "; categories split one branch each; NOT repeatable: golearn sums category entropies in map order, so near-ties go either way"
	case hasCategorical:
		what += "; category codes split as numbers"
	}
	return what + "; repeatable for a fixed seed"
}

// Predict implements model.Model. It scores each row with
// PredictRow, so both give the same numbers bit for bit. It panics if x
// does not have the model's columns.
func (m *Model) Predict(x *features.Matrix) []float64 {
	return model.PredictByRow(m, len(m.Columns), x)
}

// PredictRow implements model.Model. A NaN numeric value goes to the
// "not greater" side of every threshold, as in training. A categorical
// value that is not a code of its column counts as code 0 (unknown); at a
// category split, a code the node did not see in training stops the row
// there. It panics if row or out has the wrong length.
func (m *Model) PredictRow(row []float64, out []float64) {
	if len(row) != len(m.Columns) || len(out) != m.Outputs() {
		panic(fmt.Sprintf("golearn: predict: row of %d values and %d outputs, want %d and %d",
			len(row), len(out), len(m.Columns), m.Outputs()))
	}
	clear(out)
	for t := range m.Trees {
		n := m.Trees[t].find(row, m.Columns)
		total := 0
		for _, c := range n.Counts {
			total += c
		}
		if len(out) == 1 {
			out[0] += float64(n.Counts[1]) / float64(total)
			continue
		}
		for k, c := range n.Counts {
			out[k] += float64(c) / float64(total)
		}
	}
	for k := range out {
		out[k] /= float64(len(m.Trees))
	}
}

// find returns the node where row stops.
func (t *Tree) find(row []float64, cols []Column) *Node {
	n := &t.Nodes[0]
	for n.Col >= 0 {
		v := row[n.Col]
		if c := cols[n.Col]; c.Kind == features.Categorical {
			v = float64(model.Code(v, c.Card)) // 0, unknown, unless a code
		}
		next := -1
		switch {
		case len(n.Codes) > 0:
			if k, ok := slices.BinarySearch(n.Codes, int(v)); ok {
				next = n.Children[k]
			}
		case v > n.Threshold:
			next = n.Children[1]
		default:
			next = n.Children[0]
		}
		if next < 0 {
			break
		}
		n = &t.Nodes[next]
	}
	return n
}

// decodeModel is the model.Decoder of kind: it rebuilds a Model from its
// JSON and checks every index, so that prediction cannot go out of range.
func decodeModel(kind string, data []byte) (model.Model, error) {
	m := &Model{}
	if err := json.Unmarshal(data, m); err != nil {
		return nil, fmt.Errorf("golearn: decode: %w: %v", model.ErrFormat, err)
	}
	if m.Name != kind {
		return nil, fmt.Errorf("golearn: decode: %w: a %q model saved as %q", model.ErrFormat, m.Name, kind)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("golearn: decode %s: %w: %v", kind, model.ErrFormat, err)
	}
	return m, nil
}

// check reports whether the model's shapes and indices agree.
func (m *Model) check() error {
	if m.Classes < 2 {
		return fmt.Errorf("%d classes", m.Classes)
	}
	if len(m.Trees) == 0 {
		return fmt.Errorf("no trees")
	}
	for j, c := range m.Columns {
		if c.Kind != features.Numeric && c.Kind != features.Categorical {
			return fmt.Errorf("column %d (%s): unknown kind %v", j, c.Name, c.Kind)
		}
	}
	for ti, t := range m.Trees {
		if len(t.Nodes) == 0 {
			return fmt.Errorf("tree %d: no nodes", ti)
		}
		for ni, n := range t.Nodes {
			if err := m.checkNode(&t, ni, &n); err != nil {
				return fmt.Errorf("tree %d, node %d: %v", ti, ni, err)
			}
		}
	}
	return nil
}

func (m *Model) checkNode(t *Tree, ni int, n *Node) error {
	if len(n.Counts) != m.Classes {
		return fmt.Errorf("%d counts for %d classes", len(n.Counts), m.Classes)
	}
	total := 0
	for _, c := range n.Counts {
		if c < 0 {
			return fmt.Errorf("negative count")
		}
		total += c
	}
	if total <= 0 {
		return fmt.Errorf("no rows")
	}
	if n.Col < 0 {
		return nil
	}
	if n.Col >= len(m.Columns) {
		return fmt.Errorf("split on column %d of %d", n.Col, len(m.Columns))
	}
	if len(n.Codes) > 0 {
		c := m.Columns[n.Col]
		if c.Kind != features.Categorical || len(n.Codes) != len(n.Children) || !slices.IsSorted(n.Codes) ||
			n.Codes[0] < 0 || n.Codes[len(n.Codes)-1] >= c.Card {
			return fmt.Errorf("category split on column %d (%v, %d codes) with codes %v and %d children", n.Col, c.Kind, c.Card, n.Codes, len(n.Children))
		}
	} else if len(n.Children) != 2 || math.IsNaN(n.Threshold) {
		return fmt.Errorf("threshold split with %d children, threshold %g", len(n.Children), n.Threshold)
	}
	for _, c := range n.Children {
		// Children come after their parent (depth-first order), which
		// also rules out cycles.
		if c != -1 && (c <= ni || c >= len(t.Nodes)) {
			return fmt.Errorf("child %d", c)
		}
	}
	return nil
}

// The kinds of golearn models, which are also the names of their
// trainers (train/golearn).
const (
	NameRF  = "golearn-rf"
	NameID3 = "golearn-id3"
)

// Decode returns the model.Decoder of the models of a kind (NameRF or
// NameID3). For any other kind it returns a decoder that fails with
// model.ErrUnknownModel.
func Decode(kind string) model.Decoder {
	return func(data []byte) (model.Model, error) {
		if kind != NameRF && kind != NameID3 {
			return nil, fmt.Errorf("golearn: decode: %w %q", model.ErrUnknownModel, kind)
		}
		return decodeModel(kind, data)
	}
}

// Decoders returns the decoders of both kinds, for model.Load.
func Decoders() map[string]model.Decoder {
	return map[string]model.Decoder{NameRF: Decode(NameRF), NameID3: Decode(NameID3)}
}
