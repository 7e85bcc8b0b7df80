package logreg

import (
	"context"
	"fmt"
	"github.com/mlpipe/mlpipe/model"
	logregmodel "github.com/mlpipe/mlpipe/model/logreg"
	"runtime"
	"slices"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/internal/onehot"
)

// Name is the trainer's name and its models' Kind (model/logreg.Name).
const Name = logregmodel.Name

// Model is the fitted logistic regression (model/logreg.Model).
type Model = logregmodel.Model

// Column, FitInfo and Coefficient are parts of a Model.
type (
	Column      = logregmodel.Column
	FitInfo     = logregmodel.FitInfo
	Coefficient = logregmodel.Coefficient
)

// Decode is model/logreg.Decode.
func Decode(data []byte) (model.Model, error) { return logregmodel.Decode(data) }

// Defaults of Params.
const (
	DefaultC       = 1.0
	DefaultMaxIter = 100
	DefaultTol     = 1e-4
)

// Params configure a Trainer. The zero value of each field means its
// default.
type Params struct {
	// C is the inverse of the L2 penalty's strength, as in scikit-learn:
	// the fit minimises the sum of the rows' log losses plus ‖w‖²/(2C),
	// where w are all weights but the intercepts. Smaller C means a
	// stronger penalty; math.Inf(1) means none. Zero means DefaultC (1).
	C float64
	// MaxIter caps the number of L-BFGS iterations. Zero means
	// DefaultMaxIter (100).
	MaxIter int
	// Tol is the convergence threshold: the fit stops when every
	// component of the gradient of the objective divided by the number of
	// rows is below Tol in absolute value. Zero means DefaultTol (1e-4).
	Tol float64
	// Parallelism is the number of goroutines that evaluate the
	// objective. Zero means runtime.GOMAXPROCS(0). It changes the speed,
	// never the result.
	Parallelism int
}

// resolve returns p with defaults filled in, or an error for a value out
// of range.
func (p Params) resolve() (Params, error) {
	if p.C == 0 {
		p.C = DefaultC
	}
	if p.MaxIter == 0 {
		p.MaxIter = DefaultMaxIter
	}
	if p.Tol == 0 {
		p.Tol = DefaultTol
	}
	if p.Parallelism == 0 {
		p.Parallelism = runtime.GOMAXPROCS(0)
	}
	switch {
	case !(p.C > 0): // also catches NaN
		return p, fmt.Errorf("c is %g, want > 0", p.C)
	case p.MaxIter < 0:
		return p, fmt.Errorf("max_iter is %d, want >= 0", p.MaxIter)
	case !(p.Tol > 0):
		return p, fmt.Errorf("tol is %g, want > 0", p.Tol)
	case p.Parallelism < 0:
		return p, fmt.Errorf("parallelism is %d, want >= 0", p.Parallelism)
	}
	return p, nil
}

// Check reports whether every parameter is in range, without training
// (for config validation, through the catalog).
func (p Params) Check() error {
	_, err := p.resolve()
	return err
}

// Resolved returns p with every default filled in (for the config
// reference's test, through the catalog).
func (p Params) Resolved() (any, error) { return p.resolve() }

// Trainer fits logistic regression models. It implements train.Trainer.
type Trainer struct {
	params Params
}

// New returns a Trainer with the given parameters.
func New(p Params) *Trainer { return &Trainer{params: p} }

// Name implements train.Trainer.
func (t *Trainer) Name() string { return Name }

// Fit implements train.Trainer. It returns a *Model.
//
// valid is not used for fitting (there is no early stopping: C is the
// regulariser); when it is not nil it must have the columns and classes
// of trainSet. Fit returns an error wrapping train.ErrOneClass when the
// training labels hold a single class, and ctx's error when ctx is
// cancelled (it checks between objective evaluations).
func (t *Trainer) Fit(ctx context.Context, trainSet, valid *train.Dataset) (train.Model, error) {
	p, err := t.params.resolve()
	if err != nil {
		return nil, fmt.Errorf("logreg: fit: %w", err)
	}
	if err := trainSet.Validate(); err != nil {
		return nil, fmt.Errorf("logreg: fit: training set: %w", err)
	}
	if valid != nil {
		if err := valid.Validate(); err != nil {
			return nil, fmt.Errorf("logreg: fit: validation set: %w", err)
		}
		if err := sameShape(trainSet, valid); err != nil {
			return nil, fmt.Errorf("logreg: fit: validation set: %w", err)
		}
	}
	d, err := newDesign(trainSet)
	if err != nil {
		return nil, fmt.Errorf("logreg: fit: %w", err)
	}
	if d.classesPresent() < 2 {
		return nil, fmt.Errorf("logreg: fit: %w: the %d training rows have %d distinct labels", train.ErrOneClass, d.Rows, d.classesPresent())
	}
	theta, info, err := solve(ctx, d, p)
	if err != nil {
		return nil, fmt.Errorf("logreg: fit: %w", err)
	}
	return newModel(trainSet, d, theta, info), nil
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

// newModel lays the parameter vector out as a Model.
func newModel(ds *train.Dataset, d *design, theta []float64, info FitInfo) *Model {
	k := d.outputs
	m := &Model{
		Classes:    ds.Classes,
		ClassNames: ds.ClassNames,
		Intercept:  slices.Clone(theta[:k]),
		Columns:    make([]Column, len(ds.X.Cols)),
		Fit:        info,
	}
	for j, c := range ds.X.Cols {
		col := Column{Name: c.Name, Kind: c.Kind, Weights: make([][]float64, k)}
		if c.Kind == features.Categorical {
			col.Levels = c.Levels
		}
		for out := range col.Weights {
			w := make([]float64, onehot.Width(c))
			for code := range w {
				w[code] = theta[(d.First[j]+code)*k+out]
			}
			col.Weights[out] = w
		}
		col.Mean = featureMeans(ds.X.Data[j], c)
		m.Columns[j] = col
	}
	m.ImportanceSD = d.ContributionSD(k, func(f, out int) float64 { return theta[f*k+out] })
	return m
}

// featureMeans returns the training mean of what each weight of a column
// multiplies (Column.Mean): the value, NaN read as 0, of a numeric
// column; the share of rows with each code of a categorical one (the
// codes were checked by newDesign).
func featureMeans(x []float64, c features.ColumnInfo) []float64 {
	if len(x) == 0 {
		return make([]float64, onehot.Width(c))
	}
	if c.Kind == features.Numeric {
		var sum float64
		for _, v := range x {
			if v == v {
				sum += v
			}
		}
		return []float64{sum / float64(len(x))}
	}
	share := make([]float64, c.Card)
	for _, v := range x {
		share[int(v)]++
	}
	for code := range share {
		share[code] /= float64(len(x))
	}
	return share
}
