package logreg

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/optimize"
)

// solve minimises the objective of d with gonum's L-BFGS and returns the
// parameter vector θ (see design for its layout) and a record of the run.
//
// L-BFGS runs on rescaled weights u = s∘θ, where s is a diagonal
// preconditioner (see preconditioner); the minimum is the same, only the
// path to it is shorter. The convergence test is on the gradient with
// respect to θ, so Tol means the same with or without the rescaling.
func solve(ctx context.Context, d *design, p Params) ([]float64, FitInfo, error) {
	obj := newObjective(d, p.C, p.Parallelism)
	s := preconditioner(d, obj.invC)

	// gonum asks for the value and the gradient at a point in two calls;
	// one pass over the rows computes both, so the last pass is kept.
	var (
		at    = slices.Repeat([]float64{math.NaN()}, obj.dim()) // the u of the last pass; none yet
		theta = make([]float64, obj.dim())
		value float64
		grad  = make([]float64, obj.dim()) // ∂F/∂u at u = at
		evals int
	)
	evaluate := func(u []float64) {
		if slices.Equal(u, at) {
			return
		}
		copy(at, u)
		for f := range u {
			theta[f] = u[f] / s[f]
		}
		value = obj.eval(theta, grad)
		for f := range grad {
			grad[f] /= s[f] // ∂F/∂u_f = ∂F/∂θ_f / s_f
		}
		evals++
	}
	problem := optimize.Problem{
		Func: func(u []float64) float64 { evaluate(u); return value },
		Grad: func(g, u []float64) { evaluate(u); copy(g, grad) },
		// gonum calls Status after every evaluation: a cancelled ctx
		// stops the run there.
		Status: func() (optimize.Status, error) { return optimize.NotTerminated, ctx.Err() },
	}
	settings := &optimize.Settings{
		// gonum counts the starting point as a major iteration.
		MajorIterations: p.MaxIter + 1,
		Converger:       gradientTest{tol: p.Tol, s: s},
	}
	// gradientTest is the one convergence test: NaN turns off LBFGS's
	// own test on the (rescaled) gradient.
	method := &optimize.LBFGS{GradStopThreshold: math.NaN()}

	u0 := initialTheta(d)
	for f := range u0 {
		u0[f] *= s[f]
	}
	res, err := optimize.Minimize(problem, u0, settings, method)
	if ctx.Err() != nil {
		return nil, FitInfo{}, ctx.Err()
	}
	info := FitInfo{Rows: d.Rows, Evaluations: evals, L2: obj.invC}
	switch {
	case err == nil:
	case errors.Is(err, optimize.ErrLinesearcherFailure),
		errors.Is(err, optimize.ErrNoProgress),
		errors.Is(err, optimize.ErrNonDescentDirection):
		// The line search could not decrease the objective any further,
		// which rounding causes near the minimum. The last accepted point
		// is kept; Converged says whether it is close enough.
		info.Stop = err.Error()
	default:
		return nil, FitInfo{}, fmt.Errorf("l-bfgs: %w", err)
	}
	theta = res.X
	for f := range theta {
		theta[f] /= s[f]
		info.GradNorm = max(info.GradNorm, math.Abs(res.Gradient[f]*s[f]))
		if math.IsNaN(theta[f]) || math.IsInf(theta[f], 0) {
			return nil, FitInfo{}, fmt.Errorf("l-bfgs: non-finite weights (%v)", res.Status)
		}
	}
	info.Iterations = max(res.Stats.MajorIterations-1, 0)
	info.Converged = info.GradNorm < p.Tol
	if info.Stop == "" {
		switch res.Status {
		case optimize.GradientThreshold:
			info.Stop = "converged"
		case optimize.IterationLimit:
			info.Stop = "max iterations"
		default:
			info.Stop = res.Status.String()
		}
	}
	return theta, info, nil
}

// preconditioner returns the scale s_f of each parameter: the root mean
// square of its feature over the rows, with the penalty added,
//
//	s_f = sqrt((Σ_i x_if² + L2) / n),   1 for the intercepts,
//
// so that every rescaled weight u_f = s_f·θ_f has about the same
// curvature (the Hessian of F is Σ_i p_i(1-p_i) x_i x_iᵀ / n + L2/n on
// the weights). This is the Jacobi preconditioner up to the p(1-p)
// factor. It matters for one-hot columns: the curvature of a code's
// weight is proportional to the code's frequency, which spans orders of
// magnitude (a busy airport against a small one), and plain L-BFGS
// needs many iterations to work that out. A code with no rows and no
// penalty (s_f = 0) keeps s_f = 1; its gradient is 0.
func preconditioner(d *design, l2 float64) []float64 {
	sq := make([]float64, d.Features) // Σ_i x_if² per feature
	for _, c := range d.Numeric {
		for _, v := range c.X {
			sq[c.Feature] += v * v
		}
	}
	for _, c := range d.Categorical {
		for _, code := range c.Codes {
			sq[c.First+int(code)]++
		}
	}
	k := d.outputs
	s := make([]float64, d.Features*k)
	for f, v := range sq {
		sf := math.Sqrt((v + l2) / float64(d.Rows))
		if f == 0 || sf == 0 {
			sf = 1
		}
		for out := range k {
			s[f*k+out] = sf
		}
	}
	return s
}

// gradientTest is an optimize.Converger: converged when every component
// of ∂F/∂θ = s∘∂F/∂u is below tol in absolute value.
type gradientTest struct {
	tol float64
	s   []float64
}

func (gradientTest) Init(int) {}

func (c gradientTest) Converged(loc *optimize.Location) optimize.Status {
	for f, g := range loc.Gradient {
		if !(math.Abs(g*c.s[f]) < c.tol) { // NaN does not converge
			return optimize.NotTerminated
		}
	}
	return optimize.GradientThreshold
}

// initialTheta is the starting point: all weights 0 and the intercepts at
// the log class frequencies, the best fit of a model without features.
// Half a row is added to each count so that a class absent from the
// training set starts finite; with class weights, each class's rows count
// with its weight. The intercepts of a K-class model are
// centred to sum to 0, and stay so: softmax is unchanged by a common
// shift of the scores, so every gradient's intercepts sum to 0.
func initialTheta(d *design) []float64 {
	theta := make([]float64, d.Features*d.outputs)
	count := func(k int) float64 { return float64(d.counts[k]) * d.weight(int32(k)) }
	if d.outputs == 1 {
		theta[0] = math.Log((count(1) + 0.5) / (count(0) + 0.5))
		return theta
	}
	var mean float64
	for k := range d.counts {
		theta[k] = math.Log(count(k) + 0.5)
		mean += theta[k] / float64(d.outputs)
	}
	for k := range d.counts {
		theta[k] -= mean
	}
	return theta
}
