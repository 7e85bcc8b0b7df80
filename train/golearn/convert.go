package golearn

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/sjwhitworth/golearn/base"
	"github.com/sjwhitworth/golearn/trees"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/train"
)

// grid is a training sample converted to golearn: a DenseInstances with
// an attribute per chosen matrix column, a constant pad attribute and the
// class.
type grid struct {
	inst *base.DenseInstances
	// class is the class attribute, with values "0", "1", ..., K-1.
	class *base.CategoricalAttribute
	// colOf maps each feature attribute to its matrix column, and the pad
	// and the class to -1.
	colOf map[base.Attribute]int
}

// padName names the constant attribute added to every grid. golearn's
// InferID3Tree stops growing a branch when two attributes are left,
// counting the class (id3.go: "if cols == 2"), so without it the last
// unused feature of a branch could never be split on, and a one-feature
// dataset would give a single leaf. The pad is a constant: its best
// threshold has no rows on one side, so its information gain is -Inf and
// golearn never picks it; it only moves that stop rule by one.
const padName = "pad"

// newGrid converts the given rows and columns of a dataset (indices into
// ds; rows may repeat) into a DenseInstances, column by column. A numeric
// column becomes a FloatAttribute, with NaN written as -Inf; a
// categorical one a CategoricalAttribute when native is true, otherwise a
// FloatAttribute holding the code. It calls golearn, so call it under
// guard. ds must have passed checkData.
func newGrid(ds *train.Dataset, rows, cols []int, native bool) *grid {
	g := &grid{
		inst:  base.NewDenseInstances(),
		colOf: make(map[base.Attribute]int, len(cols)+2),
	}
	specs := make([]base.AttributeSpec, len(cols))
	cat := make([]bool, len(cols))
	for k, j := range cols {
		name := "x" + strconv.Itoa(j) // column names need not be unique
		var a base.Attribute
		if ds.X.Cols[j].Kind == features.Categorical && native {
			a = newCategorical(name, ds.X.Cols[j].Card)
			cat[k] = true
		} else {
			a = base.NewFloatAttribute(name)
		}
		g.colOf[a] = j
		specs[k] = g.inst.AddAttribute(a)
	}
	pad := base.NewFloatAttribute(padName)
	g.colOf[pad] = -1
	g.inst.AddAttribute(pad) // every value stays 0
	g.class = newCategorical("class", ds.Classes)
	g.colOf[g.class] = -1
	classSpec := g.inst.AddAttribute(g.class)
	must(g.inst.AddClassAttribute(g.class))
	must(g.inst.Extend(len(rows)))

	var buf [8]byte
	for k, j := range cols {
		col := ds.X.Data[j]
		for r, i := range rows {
			v := col[i]
			switch {
			case cat[k]:
				base.PackU64ToBytesInline(uint64(v), buf[:])
			case math.IsNaN(v):
				// golearn sorts numeric values with <, which NaN
				// breaks. -Inf sorts first and is never > a threshold,
				// which is where Model sends NaN too.
				base.PackFloatToBytesInline(math.Inf(-1), buf[:])
			default:
				base.PackFloatToBytesInline(v, buf[:])
			}
			g.inst.Set(specs[k], r, buf[:])
		}
	}
	for r, i := range rows {
		base.PackU64ToBytesInline(uint64(ds.Y[i]), buf[:])
		g.inst.Set(classSpec, r, buf[:])
	}
	return g
}

// newCategorical returns a golearn categorical attribute whose system
// value of code c is c, with the value names "0", "1", ..., card-1.
//
// golearn adds values one at a time with GetSysValFromString, which scans
// the values seen so far (its CSV reader is quadratic in a column's
// cardinality for that reason); UnmarshalJSON sets them all in one pass.
func newCategorical(name string, card int) *base.CategoricalAttribute {
	a := base.NewCategoricalAttribute()
	a.SetName(name)
	values := make([]string, card)
	for c := range values {
		values[c] = strconv.Itoa(c)
	}
	b, err := json.Marshal(map[string][]string{"values": values})
	must(err)
	must(a.UnmarshalJSON(b))
	return a
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// orderedRule is golearn's information-gain rule made repeatable: it
// hands golearn the candidate attributes in column order and the rows
// class by class.
//
// golearn's own InformationGainRuleGenerator.GenerateSplitRule collects
// the candidates from a map (base.AttributeDifferenceReferences), so when
// two attributes gain the same (as every perfect split of a small node
// does), a random one of them won. See classOrdered for the rows.
type orderedRule struct {
	g  *grid
	ig trees.InformationGainRuleGenerator
}

// GenerateSplitRule implements trees.RuleGenerator.
func (r *orderedRule) GenerateSplitRule(f base.FixedDataGrid) *trees.DecisionTreeRule {
	cands := base.NonClassAttributes(f)
	key := func(a base.Attribute) int {
		if j := r.g.colOf[a]; j >= 0 {
			return j
		}
		return math.MaxInt // the pad
	}
	slices.SortFunc(cands, func(a, b base.Attribute) int { return key(a) - key(b) })
	return r.ig.GetSplitRuleFromSelection(cands, orderByClass(f, r.g.class))
}

// classOrdered is a grid whose MapOverRows visits the rows by class:
// first every row of class 0, then of class 1, and so on.
//
// golearn numbers the classes of a numeric split in the order
// MapOverRows meets them, and sums their entropy terms in that order.
// Below the root the grids it hands a rule generator are InstancesViews,
// whose MapOverRows ranges over a map, and whose rows were gathered by
// ranging over a map, so that order was random, the rounding of the
// entropies varied, and ties between thresholds went different ways from
// one fit to the next (a measured case: the same node split at 4.5 in one
// fit and at 0.5 in the next). Visiting rows by class fixes the numbering.
type classOrdered struct {
	base.FixedDataGrid
	order []int
}

// orderByClass wraps f. It calls golearn.
func orderByClass(f base.FixedDataGrid, class *base.CategoricalAttribute) classOrdered {
	spec, err := f.GetAttribute(class)
	must(err)
	_, n := f.Size()
	byClass := make([][]int, len(class.GetValues()))
	for i := 0; i < n; i++ {
		c := base.UnpackBytesToU64(f.Get(spec, i))
		byClass[c] = append(byClass[c], i)
	}
	return classOrdered{FixedDataGrid: f, order: slices.Concat(byClass...)}
}

// MapOverRows calls f on every row, class by class.
func (g classOrdered) MapOverRows(as []base.AttributeSpec, f func([][]byte, int) (bool, error)) error {
	buf := make([][]byte, len(as))
	for _, i := range g.order {
		for k, a := range as {
			buf[k] = g.Get(a, i)
		}
		if ok, err := f(buf, i); err != nil || !ok {
			return err
		}
	}
	return nil
}

// checkData reports what golearn would panic on or misread: a categorical
// value that is not a code of its column, and a column of unknown kind.
func checkData(x *features.Matrix) error {
	for j, c := range x.Cols {
		switch c.Kind {
		case features.Numeric:
		case features.Categorical:
			for i, v := range x.Data[j] {
				if !isCode(v, c.Card) {
					return fmt.Errorf("column %d (%s), row %d: %g is not a code in [0, %d)", j, c.Name, i, v, c.Card)
				}
			}
		default:
			return fmt.Errorf("column %d (%s): unknown kind %v", j, c.Name, c.Kind)
		}
	}
	return nil
}

// isCode reports whether v is a code of a column with card codes.
func isCode(v float64, card int) bool {
	return v >= 0 && v < float64(card) && v == math.Trunc(v)
}

// sampleRows returns the row indices a fit uses: every row when n <=
// maxRows or maxRows < 0, otherwise maxRows rows drawn without
// replacement by a seeded generator, in increasing order.
func sampleRows(n, maxRows int, seed uint64) []int {
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	if maxRows < 0 || n <= maxRows {
		return perm
	}
	// A partial Fisher-Yates shuffle: its first maxRows entries are a
	// uniform sample.
	r := rand.New(rand.NewPCG(seed, streamSample))
	for i := 0; i < maxRows; i++ {
		k := i + r.IntN(n-i)
		perm[i], perm[k] = perm[k], perm[i]
	}
	rows := perm[:maxRows:maxRows]
	slices.Sort(rows)
	return rows
}

// Streams of the PCG generator seeded with the Seed parameter: the row
// sample uses streamSample, tree t of a forest streamTree+t.
const (
	streamSample = 0x676f6c6561726e // "golearn"
	streamTree   = 1
)

// classesPresent counts the distinct labels of the rows (of every row
// when rows is nil).
func classesPresent(y []float64, rows []int, classes int) int {
	seen := make([]bool, classes)
	n := 0
	count := func(i int) {
		if c := int(y[i]); !seen[c] {
			seen[c] = true
			n++
		}
	}
	if rows == nil {
		for i := range y {
			count(i)
		}
	}
	for _, i := range rows {
		count(i)
	}
	return n
}

// sameShape reports whether b has the columns and classes of a.
func sameShape(a, b *train.Dataset) error {
	if a.Classes != b.Classes {
		return fmt.Errorf("%d classes, the training set has %d", b.Classes, a.Classes)
	}
	if len(a.X.Cols) != len(b.X.Cols) {
		return fmt.Errorf("%d columns, the training set has %d", len(b.X.Cols), len(a.X.Cols))
	}
	for j, c := range a.X.Cols {
		if o := b.X.Cols[j]; o.Kind != c.Kind || o.Card != c.Card {
			return fmt.Errorf("column %d is %v with %d codes, in the training set %v with %d", j, o.Kind, o.Card, c.Kind, c.Card)
		}
	}
	return nil
}

// extractTree copies a fitted golearn tree into a Tree, nodes in
// depth-first order with children in code order. It reads only golearn's
// exported node fields.
func extractTree(root *trees.DecisionTreeNode, g *grid, cols []Column, classes int) (Tree, error) {
	var t Tree
	var add func(n *trees.DecisionTreeNode) (int, error)
	add = func(n *trees.DecisionTreeNode) (int, error) {
		counts := make([]int, classes)
		total := 0
		for name, c := range n.ClassDist {
			k, err := strconv.Atoi(name)
			if err != nil || k < 0 || k >= classes || c < 0 {
				return 0, fmt.Errorf("node class %q with %d rows", name, c)
			}
			counts[k] = c
			total += c
		}
		if total == 0 {
			return 0, fmt.Errorf("node without training rows")
		}
		idx := len(t.Nodes)
		t.Nodes = append(t.Nodes, Node{Col: -1, Counts: counts})
		if n.Children == nil || n.SplitRule == nil || n.SplitRule.SplitAttr == nil {
			return idx, nil
		}
		j, ok := g.colOf[n.SplitRule.SplitAttr]
		if !ok || j < 0 {
			return 0, fmt.Errorf("split on attribute %q, which is not a feature", n.SplitRule.SplitAttr.GetName())
		}
		node := Node{Col: j, Counts: counts}
		if _, ok := n.SplitRule.SplitAttr.(*base.CategoricalAttribute); ok {
			for name := range n.Children {
				c, err := strconv.Atoi(name)
				if err != nil || c < 0 || c >= cols[j].Card {
					return 0, fmt.Errorf("split on column %d: child %q is not a code", j, name)
				}
				node.Codes = append(node.Codes, c)
			}
			slices.Sort(node.Codes)
			for _, c := range node.Codes {
				child, err := add(n.Children[strconv.Itoa(c)])
				if err != nil {
					return 0, err
				}
				node.Children = append(node.Children, child)
			}
		} else {
			thr := n.SplitRule.SplitVal
			if math.IsNaN(thr) {
				return 0, fmt.Errorf("split on column %d: threshold NaN", j)
			}
			// JSON has no infinities. A threshold between the -Inf that
			// stands for NaN and a finite value is -Inf; -MaxFloat64
			// splits every finite value the same way.
			thr = max(min(thr, math.MaxFloat64), -math.MaxFloat64)
			node.Threshold = thr
			node.Children = []int{-1, -1}
			for name := range n.Children {
				if name != "0" && name != "1" {
					return 0, fmt.Errorf("split on column %d: child %q of a threshold", j, name)
				}
			}
			// golearn names the sides "0" (not greater) and "1".
			for side, name := range []string{"0", "1"} {
				if child, ok := n.Children[name]; ok {
					c, err := add(child)
					if err != nil {
						return 0, err
					}
					node.Children[side] = c
				}
			}
		}
		t.Nodes[idx] = node
		return idx, nil
	}
	if root == nil {
		return t, fmt.Errorf("golearn returned no tree")
	}
	if _, err := add(root); err != nil {
		return Tree{}, err
	}
	return t, nil
}

// columnsOf describes the columns of x.
func columnsOf(x *features.Matrix) []Column {
	cols := make([]Column, len(x.Cols))
	for j, c := range x.Cols {
		cols[j] = Column{Name: c.Name, Kind: c.Kind}
		if c.Kind == features.Categorical {
			cols[j].Card = c.Card
		}
	}
	return cols
}
