package explain

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"

	"golang.org/x/sync/errgroup"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/model"
)

// Explainer explains a model's predictions by raw input. It is safe for
// concurrent use.
type Explainer struct {
	ex      model.Explainer
	inputs  []string // the raw inputs, in the order of the pipeline's steps
	input   []int    // per feature column: its input's index in inputs
	outputs int
	width   int // feature columns
}

// New returns the explainer of model m, which reads the feature columns
// of pipeline p. It fails with an error wrapping model.ErrNotExplainable
// when m cannot explain its predictions.
func New(p *features.Pipeline, m model.Model) (*Explainer, error) {
	ex, err := model.Explain(m)
	if err != nil {
		return nil, err
	}
	cols := p.ColumnInputs()
	if len(cols) != p.Width() {
		return nil, fmt.Errorf("explain: the pipeline names %d inputs for %d columns", len(cols), p.Width())
	}
	e := &Explainer{ex: ex, input: make([]int, len(cols)), outputs: m.Outputs(), width: len(cols)}
	index := map[string]int{}
	for j, name := range cols {
		g, ok := index[name]
		if !ok {
			g = len(e.inputs)
			index[name] = g
			e.inputs = append(e.inputs, name)
		}
		e.input[j] = g
	}
	return e, nil
}

// Inputs names the raw inputs that contributions are given for, in
// their order in Explanation.Contrib.
func (e *Explainer) Inputs() []string { return e.inputs }

// Outputs is the model's number of outputs: 1 for a binary model, K for
// a K-class one.
func (e *Explainer) Outputs() int { return e.outputs }

// Base is each output's base value: the margin the contributions start
// from, the model's mean margin over its training rows. The slice must
// not be changed.
func (e *Explainer) Base() []float64 { return e.ex.Base() }

// Explanation is one row's explanation. Reuse one across rows: Explain
// allocates only when it is too small.
type Explanation struct {
	// Margin is each output's margin.
	Margin []float64
	// Contrib is each input's contribution to each output's margin:
	// Contrib[k·len(Inputs())+i] for output k and input i.
	Contrib []float64
	phi     []float64 // per feature column, for the model
}

// Output returns output k's contributions, by input.
func (x *Explanation) Output(k int) []float64 {
	n := len(x.Contrib) / len(x.Margin)
	return x.Contrib[k*n : (k+1)*n]
}

// Explain explains one feature vector (as features.Pipeline.TransformRow
// and features.Encoder give it) into x.
func (e *Explainer) Explain(row []float64, x *Explanation) {
	x.Margin = resize(x.Margin, e.outputs)
	x.phi = resize(x.phi, e.outputs*e.width)
	x.Contrib = resize(x.Contrib, e.outputs*len(e.inputs))
	e.ex.ExplainRow(row[:e.width], x.phi, x.Margin)
	clear(x.Contrib)
	g := len(e.inputs)
	for k := range e.outputs {
		for j, v := range x.phi[k*e.width : (k+1)*e.width] {
			x.Contrib[k*g+e.input[j]] += v
		}
	}
}

func resize(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

// Top returns the indices of contrib in order of decreasing magnitude
// (ties in index order), at most n of them (all when n <= 0). idx is
// reused when it is large enough.
func Top(contrib []float64, n int, idx []int) []int {
	idx = idx[:0]
	for i := range contrib {
		idx = append(idx, i)
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(math.Abs(contrib[b]), math.Abs(contrib[a])) })
	if n > 0 && n < len(idx) {
		idx = idx[:n]
	}
	return idx
}

// Sample explains rows rows of x (every row when rows is nil) on
// parallelism goroutines (GOMAXPROCS when 0) and returns their
// explanations, in the order of rows. It stops with ctx's error when ctx
// is cancelled.
func (e *Explainer) Sample(ctx context.Context, x *features.Matrix, rows []int, parallelism int) ([]Explanation, error) {
	if rows == nil {
		rows = make([]int, x.Rows)
		for i := range rows {
			rows[i] = i
		}
	}
	if parallelism <= 0 {
		parallelism = runtime.GOMAXPROCS(0)
	}
	out := make([]Explanation, len(rows))
	g, gctx := errgroup.WithContext(ctx)
	for w := range parallelism {
		g.Go(func() error {
			row := make([]float64, len(x.Cols))
			for i := w; i < len(rows); i += parallelism {
				if err := gctx.Err(); err != nil {
					return err
				}
				e.Explain(x.Row(rows[i], row), &out[i])
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	return out, nil
}

// Importance returns the mean magnitude of each input's contribution
// over xs, by input: for a K-class model, the mean of the sum over the
// outputs of the magnitudes. It is nil for no rows.
func Importance(xs []Explanation) []float64 {
	if len(xs) == 0 {
		return nil
	}
	k := len(xs[0].Margin)
	n := len(xs[0].Contrib) / k
	out := make([]float64, n)
	for _, x := range xs {
		for j, v := range x.Contrib {
			out[j%n] += math.Abs(v)
		}
	}
	for i := range out {
		out[i] /= float64(len(xs))
	}
	return out
}

// Method names how m explains itself: "tree_shap" (gbdt: exact
// path-dependent TreeSHAP) or "linear_shap" (a linear model).
func Method(m model.Model) string {
	if m.Kind() == "gbdt" {
		return "tree_shap"
	}
	return "linear_shap"
}

// Margin says what m's contributions and base value add up to.
func Margin(m model.Model) string {
	if _, log1p := m.(*model.Log1pModel); log1p {
		return "log(1 + the prediction)"
	}
	switch m.Task() {
	case model.Regression:
		return "the prediction"
	case model.Multiclass:
		return "each class's softmax input (its log-probability up to a constant)"
	}
	return "the log-odds of the positive class"
}
