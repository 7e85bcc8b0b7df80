package golearn

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"

	"github.com/sjwhitworth/golearn/trees"
	"golang.org/x/sync/errgroup"

	"github.com/mlpipe/mlpipe/train"
)

// Defaults of RFParams and ID3Params.
const (
	DefaultTrees      = 10
	DefaultMaxRowsRF  = 50_000 // see the package doc, "Limits, measured"
	DefaultMaxRowsID3 = 50_000
)

// RFParams configure the golearn-rf trainer. The zero value of each field
// means its default.
type RFParams struct {
	// Trees is the number of trees. Default 10.
	Trees int `json:"trees,omitempty"`
	// Features is the number of columns each tree may split on, drawn
	// per tree as golearn's RandomForest does (not per split). Default
	// ceil(sqrt(columns)); at most the number of columns.
	Features int `json:"features,omitempty"`
	// MaxRows caps the training rows: a larger training set is replaced
	// by a seeded sample of MaxRows rows (without replacement) before
	// anything reaches golearn, and each tree bootstraps that many rows
	// from it. Default 50,000; negative means no cap. golearn's fit time
	// and memory grow faster than linearly (see the package doc).
	MaxRows int `json:"max_rows,omitempty"`
	// Seed seeds the row sample, the bootstrap samples and the column
	// draws. Default 0.
	Seed uint64 `json:"seed,omitempty"`
	// NativeCategorical hands categorical columns to golearn as
	// categories, which it splits one branch per category, instead of as
	// numeric codes. It makes fits unrepeatable (see the package doc).
	NativeCategorical bool `json:"native_categorical,omitempty"`
	// Parallelism is the most trees fitted at once. Default
	// runtime.GOMAXPROCS(0). It changes speed and peak memory (each tree
	// in flight holds its own copy of its sample), never the model.
	Parallelism int `json:"parallelism,omitempty"`
}

// Check reports whether every parameter is in range, without training
// (for config validation, through the catalog); features is checked
// against the columns at fit time.
func (p RFParams) Check() error {
	_, err := p.resolve(0)
	return err
}

// Resolved returns p with every default filled in but Features, which
// depends on the columns (for the config reference's test, through the
// catalog).
func (p RFParams) Resolved() (any, error) {
	f := p.Features
	r, err := p.resolve(0)
	r.Features = f
	return r, err
}

// Resolved returns p with every default filled in (for the config
// reference's test, through the catalog).
func (p ID3Params) Resolved() (any, error) { return p.resolve(), nil }

func (p RFParams) resolve(columns int) (RFParams, error) {
	if p.Trees == 0 {
		p.Trees = DefaultTrees
	}
	if p.Features == 0 {
		p.Features = max(1, int(math.Ceil(math.Sqrt(float64(columns)))))
	}
	if p.MaxRows == 0 {
		p.MaxRows = DefaultMaxRowsRF
	}
	if p.Parallelism == 0 {
		p.Parallelism = runtime.GOMAXPROCS(0)
	}
	switch {
	case p.Trees < 0:
		return p, fmt.Errorf("trees is %d, want > 0", p.Trees)
	case p.Features < 0:
		return p, fmt.Errorf("features is %d, want > 0", p.Features)
	case columns > 0 && p.Features > columns:
		return p, fmt.Errorf("features is %d, the matrix has %d columns", p.Features, columns)
	case p.Parallelism < 0:
		return p, fmt.Errorf("parallelism is %d, want > 0", p.Parallelism)
	}
	p.Features = min(p.Features, columns)
	return p, nil
}

// ID3Params configure the golearn-id3 trainer. The zero value of each
// field means its default.
type ID3Params struct {
	// MaxRows caps the training rows with a seeded sample, as
	// RFParams.MaxRows does. Default 50,000; negative means no cap.
	MaxRows int `json:"max_rows,omitempty"`
	// Seed seeds the row sample. Default 0.
	Seed uint64 `json:"seed,omitempty"`
	// NativeCategorical is as in RFParams.
	NativeCategorical bool `json:"native_categorical,omitempty"`
}

func (p ID3Params) resolve() ID3Params {
	if p.MaxRows == 0 {
		p.MaxRows = DefaultMaxRowsID3
	}
	return p
}

// RFTrainer fits golearn random forests. It implements train.Trainer.
type RFTrainer struct{ params RFParams }

// NewRF returns the golearn-rf trainer.
func NewRF(p RFParams) train.Trainer { return &RFTrainer{params: p} }

// Name implements train.Trainer.
func (t *RFTrainer) Name() string { return NameRF }

// ID3Trainer fits golearn ID3 decision trees. It implements
// train.Trainer.
type ID3Trainer struct{ params ID3Params }

// NewID3 returns the golearn-id3 trainer.
func NewID3(p ID3Params) train.Trainer { return &ID3Trainer{params: p} }

// Name implements train.Trainer.
func (t *ID3Trainer) Name() string { return NameID3 }

// Fit implements train.Trainer. It returns a *Model with one tree.
//
// valid is not used (golearn's ID3 has no early stopping, and its
// pruning is left out: see the package doc); when it is not nil it must
// have the columns and classes of trainSet. Fit returns an error wrapping
// train.ErrOneClass when the rows it fits on hold a single class, one
// wrapping ErrGolearn when golearn panics, and ctx's error when ctx is
// done before or after golearn's fit, which cannot be interrupted.
func (t *ID3Trainer) Fit(ctx context.Context, trainSet, valid *train.Dataset) (train.Model, error) {
	p := t.params.resolve()
	rows, err := prepare(ctx, trainSet, valid, p.MaxRows, p.Seed)
	if err != nil {
		return nil, fmt.Errorf("%s: fit: %w", NameID3, err)
	}
	m := newModel(NameID3, trainSet, len(rows), p.Seed, p.NativeCategorical)
	tree, err := fitTree(NameID3, "", trainSet, rows, allColumns(trainSet), p.NativeCategorical, m)
	if err != nil {
		return nil, fmt.Errorf("%s: fit: %w", NameID3, err)
	}
	m.Trees = []Tree{tree}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: fit: %w", NameID3, err)
	}
	return m, nil
}

// Fit implements train.Trainer. It returns a *Model with Params.Trees
// trees.
//
// Each tree is golearn's ID3 tree on a bootstrap sample of the (capped)
// training rows and a random subset of Params.Features columns, which is
// what golearn's ensemble.RandomForest fits; the samples and subsets are
// drawn here from a generator seeded with Params.Seed, not from golearn's
// global math/rand (see the package doc). valid is not used; when it is
// not nil it must have the columns and classes of trainSet. Fit returns
// an error wrapping train.ErrOneClass when the rows it fits on hold a
// single class, one wrapping ErrGolearn when golearn panics, and ctx's
// error when ctx is done: it checks between trees, and a tree in golearn
// cannot be interrupted.
func (t *RFTrainer) Fit(ctx context.Context, trainSet, valid *train.Dataset) (train.Model, error) {
	var columns int
	if trainSet != nil && trainSet.X != nil {
		columns = len(trainSet.X.Cols)
	}
	p, err := t.params.resolve(columns)
	if err != nil {
		return nil, fmt.Errorf("%s: fit: %w", NameRF, err)
	}
	rows, err := prepare(ctx, trainSet, valid, p.MaxRows, p.Seed)
	if err != nil {
		return nil, fmt.Errorf("%s: fit: %w", NameRF, err)
	}
	m := newModel(NameRF, trainSet, len(rows), p.Seed, p.NativeCategorical)
	m.Fit.Features = p.Features
	m.Trees = make([]Tree, p.Trees)
	eg, egctx := errgroup.WithContext(ctx)
	eg.SetLimit(p.Parallelism)
	for i := range m.Trees {
		eg.Go(func() error {
			if err := egctx.Err(); err != nil {
				return err
			}
			tree, err := fitForestTree(trainSet, rows, m, i, p)
			m.Trees[i] = tree
			return err
		})
	}
	if err := eg.Wait(); err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("%s: fit: %w", NameRF, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: fit: %w", NameRF, err)
	}
	return m, nil
}

// fitForestTree fits tree i of a forest: golearn's ID3 on a bootstrap
// sample of the rows and a random subset of the columns, both drawn from
// the tree's own seeded stream so that the result does not depend on
// which goroutine fits which tree. The sample is copied into its own
// DenseInstances: golearn's InstancesView, which its RandomForest uses,
// maps every row through a Go map and made fits several times slower.
func fitForestTree(ds *train.Dataset, rows []int, m *Model, i int, p RFParams) (Tree, error) {
	r := rand.New(rand.NewPCG(p.Seed, streamTree+uint64(i)))
	boot := make([]int, len(rows))
	for k := range boot {
		boot[k] = rows[r.IntN(len(rows))]
	}
	cols := r.Perm(len(ds.X.Cols))[:p.Features]
	slices.Sort(cols)

	tree, err := fitTree(NameRF, fmt.Sprintf("tree %d: ", i), ds, boot, cols, p.NativeCategorical, m)
	if err != nil {
		return Tree{}, err
	}
	tree.Columns = cols
	return tree, nil
}

// fitTree converts the rows and columns of ds to golearn, fits golearn's
// ID3 tree on them and copies it out. Every golearn call is guarded; op
// prefixes the operation names of the errors.
func fitTree(model, op string, ds *train.Dataset, rows, cols []int, native bool, m *Model) (Tree, error) {
	var g *grid
	if err := guard(model, op+"converting the data", func() { g = newGrid(ds, rows, cols, native) }); err != nil {
		return Tree{}, err
	}
	var root *trees.DecisionTreeNode
	if err := guard(model, op+"InferID3Tree", func() { root = inferTree(g.inst, &orderedRule{g: g}) }); err != nil {
		return Tree{}, err
	}
	tree, err := extractTree(root, g, m.Columns, m.Classes)
	if err != nil {
		return Tree{}, fmt.Errorf("%sreading the tree: %w", op, err)
	}
	return tree, nil
}

// allColumns returns 0, 1, ..., the number of columns of ds - 1.
func allColumns(ds *train.Dataset) []int {
	cols := make([]int, len(ds.X.Cols))
	for j := range cols {
		cols[j] = j
	}
	return cols
}

// inferTree is golearn's ID3 tree builder; tests replace it.
var inferTree = trees.InferID3Tree

// prepare checks the datasets and returns the training rows to fit on.
func prepare(ctx context.Context, trainSet, valid *train.Dataset, maxRows int, seed uint64) ([]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := trainSet.Validate(); err != nil {
		return nil, fmt.Errorf("training set: %w", err)
	}
	if err := checkData(trainSet.X); err != nil {
		return nil, fmt.Errorf("training set: %w", err)
	}
	if valid != nil {
		if err := valid.Validate(); err != nil {
			return nil, fmt.Errorf("validation set: %w", err)
		}
		if err := sameShape(trainSet, valid); err != nil {
			return nil, fmt.Errorf("validation set: %w", err)
		}
	}
	if n := classesPresent(trainSet.Y, nil, trainSet.Classes); n < 2 {
		return nil, fmt.Errorf("%w: the %d training labels hold %d", train.ErrOneClass, len(trainSet.Y), n)
	}
	rows := sampleRows(trainSet.X.Rows, maxRows, seed)
	if n := classesPresent(trainSet.Y, rows, trainSet.Classes); n < 2 {
		return nil, fmt.Errorf("%w: the sample of %d of %d rows (MaxRows) holds %d", train.ErrOneClass, len(rows), trainSet.X.Rows, n)
	}
	return rows, nil
}

func newModel(name string, ds *train.Dataset, rows int, seed uint64, native bool) *Model {
	return &Model{
		Name:       name,
		Classes:    ds.Classes,
		ClassNames: ds.ClassNames,
		Columns:    columnsOf(ds.X),
		Fit:        FitInfo{TrainRows: ds.X.Rows, Rows: rows, Seed: seed, NativeCategorical: native},
	}
}
