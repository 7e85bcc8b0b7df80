package ridge

import (
	"context"
	"errors"
	"fmt"
	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/model"
	ridgemodel "github.com/mlpipe/mlpipe/model/ridge"
	"math"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/mat"

	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/internal/onehot"
)

// Name is the trainer's name and its models' Kind (model/ridge.Name).
const Name = ridgemodel.Name

// Model is the fitted ridge regression (model/ridge.Model).
type Model = ridgemodel.Model

// Column and Info are parts of a Model.
type (
	Column = ridgemodel.Column
	Info   = ridgemodel.Info
)

// Decode is model/ridge.Decode.
func Decode(data []byte) (model.Model, error) { return ridgemodel.Decode(data) }

// DefaultAlpha is Params.Alpha's default, scikit-learn's.
const DefaultAlpha = 1.0

// Params configure a Trainer. The zero value of each field means its
// default.
type Params struct {
	// Alpha is the strength of the L2 penalty on the weights (not the
	// intercept), in the units of the summed squared error: larger
	// means more shrinkage. Must be > 0. Default 1.
	Alpha float64 `json:"alpha,omitempty"`
	// Parallelism is the most goroutines that sum XᵀX. Default
	// runtime.GOMAXPROCS(0). It changes the speed only (and the last bits
	// of the sums' rounding, not beyond 1e-12 relative).
	Parallelism int `json:"parallelism,omitempty"`
}

func (p Params) resolve() (Params, error) {
	if p.Alpha == 0 {
		p.Alpha = DefaultAlpha
	}
	if p.Parallelism == 0 {
		p.Parallelism = runtime.GOMAXPROCS(0)
	}
	switch {
	case !(p.Alpha > 0) || math.IsInf(p.Alpha, 1):
		return p, fmt.Errorf("alpha is %g, want a positive number (a one-hot design without a penalty is singular)", p.Alpha)
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

// Trainer fits ridge regressions. It implements train.Trainer.
type Trainer struct{ params Params }

// New returns a Trainer with the given parameters.
func New(p Params) *Trainer { return &Trainer{params: p} }

// Name implements train.Trainer.
func (t *Trainer) Name() string { return Name }

// ErrNotRegression means the dataset is not a regression's.
var ErrNotRegression = errors.New("ridge fits a regression target only")

// Fit implements train.Trainer and returns a *Model. valid is not used.
// It returns ctx's error when ctx is cancelled (checked between chunks of
// rows).
func (t *Trainer) Fit(ctx context.Context, tr, _ *train.Dataset) (train.Model, error) {
	m, err := t.fit(ctx, tr)
	if err != nil {
		return nil, fmt.Errorf("ridge: fit: %w", err)
	}
	return m, nil
}

func (t *Trainer) fit(ctx context.Context, tr *train.Dataset) (*Model, error) {
	p, err := t.params.resolve()
	if err != nil {
		return nil, err
	}
	if tr.Task != train.Regression {
		return nil, ErrNotRegression
	}
	if err := tr.Validate(); err != nil {
		return nil, fmt.Errorf("training set: %w", err)
	}
	if tr.X.Rows == 0 {
		return nil, errors.New("training set: no rows")
	}
	d, err := onehot.New(tr.X)
	if err != nil {
		return nil, fmt.Errorf("training set: %w", err)
	}
	s, err := gram(ctx, d, tr.Y, p.Parallelism)
	if err != nil {
		return nil, err
	}
	w, b, err := solve(s, p.Alpha)
	if err != nil {
		return nil, err
	}
	return newModel(tr.X.Cols, d, w, b, Info{Alpha: p.Alpha, Rows: d.Rows}), nil
}

// gramChunk is the rows a worker sums before it checks ctx.
const gramChunk = 1 << 16

// sums are the sufficient statistics of a least-squares fit over the
// design's features 1..F-1 (the intercept left out), at indices 0..F-2.
type sums struct {
	n   int       // features
	xx  []float64 // Σ x xᵀ, n×n row-major (upper triangle until mirrored)
	xy  []float64 // Σ x y
	x   []float64 // Σ x
	y   float64   // Σ y
	row int       // rows
}

func newSums(n int) *sums {
	return &sums{n: n, xx: make([]float64, n*n), xy: make([]float64, n), x: make([]float64, n)}
}

// add adds one row, given by its non-zero features idx and their values
// val, to the upper triangle of xx and to the other sums.
func (s *sums) add(idx []int, val []float64, y float64) {
	s.row++
	s.y += y
	for p, a := range idx {
		va := val[p]
		s.xy[a] += va * y
		s.x[a] += va
		row := s.xx[a*s.n:]
		for q, b := range idx {
			if b >= a {
				row[b] += va * val[q]
			}
		}
	}
}

// merge adds o's sums to s.
func (s *sums) merge(o *sums) {
	for k, v := range o.xx {
		s.xx[k] += v
	}
	for k, v := range o.xy {
		s.xy[k] += v
	}
	for k, v := range o.x {
		s.x[k] += v
	}
	s.y += o.y
	s.row += o.row
}

// gram sums the design's rows. Each row adds the products of its
// non-zero features: one per numeric column and one (the indicator, 1)
// per categorical column. Workers sum their own chunks of rows, and the
// sums are merged in worker order, so a given Parallelism gives the same
// bits every time.
func gram(ctx context.Context, d *onehot.Design, y []float64, workers int) (*sums, error) {
	n := d.Features - 1
	// Each worker holds an n×n matrix: cap their memory at 1 GB.
	workers = max(1, min(workers, (1<<30)/(8*n*n+1), (d.Rows+gramChunk-1)/gramChunk))
	part := make([]*sums, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := newSums(n)
			part[w] = s
			idx := make([]int, 0, len(d.Numeric)+len(d.Categorical))
			val := make([]float64, 0, cap(idx))
			for lo := w * gramChunk; lo < d.Rows; lo += workers * gramChunk {
				if err := ctx.Err(); err != nil {
					errs[w] = err
					return
				}
				for i := lo; i < min(lo+gramChunk, d.Rows); i++ {
					idx, val = idx[:0], val[:0]
					for _, c := range d.Numeric {
						if v := c.X[i]; v != 0 {
							idx, val = append(idx, c.Feature-1), append(val, v)
						}
					}
					for _, c := range d.Categorical {
						idx, val = append(idx, c.First-1+int(c.Codes[i])), append(val, 1)
					}
					s.add(idx, val, y[i])
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	s := part[0]
	for _, o := range part[1:] {
		s.merge(o)
	}
	for a := range n { // mirror the upper triangle
		for b := a + 1; b < n; b++ {
			s.xx[b*n+a] = s.xx[a*n+b]
		}
	}
	return s, nil
}

// solve returns the weights and the intercept of the ridge fit with
// penalty alpha: it centres the sums (XcᵀXc = XᵀX - r·x̄x̄ᵀ and
// Xcᵀyc = Xᵀy - r·x̄ȳ over r rows), adds alpha to the diagonal, solves
// by Cholesky factorisation, and sets the intercept to ȳ - x̄·w.
func solve(s *sums, alpha float64) (w []float64, intercept float64, err error) {
	n, r := s.n, float64(s.row)
	mean := make([]float64, n)
	for a, v := range s.x {
		mean[a] = v / r
	}
	ybar := s.y / r
	a := mat.NewSymDense(n, nil)
	rhs := mat.NewVecDense(n, nil)
	for i := range n {
		for j := i; j < n; j++ {
			v := s.xx[i*n+j] - r*mean[i]*mean[j]
			if i == j {
				v += alpha
			}
			a.SetSym(i, j, v)
		}
		rhs.SetVec(i, s.xy[i]-r*mean[i]*ybar)
	}
	var chol mat.Cholesky
	if !chol.Factorize(a) {
		return nil, 0, fmt.Errorf("the penalised normal equations are not positive definite (alpha %g is too small for the data's scale)", alpha)
	}
	var sol mat.VecDense
	if err := chol.SolveVecTo(&sol, rhs); err != nil {
		return nil, 0, fmt.Errorf("solve: %w", err)
	}
	w = make([]float64, n)
	intercept = ybar
	for i := range w {
		w[i] = sol.AtVec(i)
		intercept -= mean[i] * w[i]
	}
	return w, intercept, nil
}

// newModel lays the weights (one per design feature after the intercept)
// out by column.
func newModel(cols []features.ColumnInfo, d *onehot.Design, w []float64, b float64, info Info) *Model {
	m := &Model{Intercept: b, Columns: make([]Column, len(cols)), Fit: info}
	for j, c := range cols {
		col := Column{Name: c.Name, Kind: c.Kind, Weights: make([]float64, onehot.Width(c))}
		if c.Kind == features.Categorical {
			col.Levels = c.Levels
		}
		copy(col.Weights, w[d.First[j]-1:])
		m.Columns[j] = col
	}
	m.ImportanceSD = d.ContributionSD(1, func(f, _ int) float64 { return w[f-1] })
	return m
}
