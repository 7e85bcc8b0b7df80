package logreg

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestGradient compares the gradient of the objective with central finite
// differences, for a binary and a 3-class design with NaN values, a
// penalty, and 9,000 rows (3 blocks, whose last chunks are partial).
func TestGradient(t *testing.T) {
	const (
		h = 1e-5 // finite-difference step
		// The error of a central difference is about h²·|F'''|/6 plus
		// rounding 1e-16·|F|/h, both near 1e-11 here (the largest error
		// seen was 2e-11).
		tol = 1e-9
	)
	for _, classes := range []int{2, 3} {
		ds := synthetic(29, 9000, 2, []int{3, 4}, classes, 0.2)
		d, err := newDesign(ds)
		if err != nil {
			t.Fatal(err)
		}
		o := newObjective(d, 0.7, 2)
		if len(o.losses) != 3 {
			t.Fatalf("%d blocks, want 3", len(o.losses))
		}
		rng := rand.New(rand.NewPCG(31, 0))
		theta := make([]float64, o.dim())
		for f := range theta {
			theta[f] = rng.NormFloat64() / 2
		}
		grad, scratch := make([]float64, o.dim()), make([]float64, o.dim())
		o.eval(theta, grad)
		for f := range theta {
			v := theta[f]
			theta[f] = v + h
			up := o.eval(theta, scratch)
			theta[f] = v - h
			down := o.eval(theta, scratch)
			theta[f] = v
			if num := (up - down) / (2 * h); math.Abs(num-grad[f]) > tol {
				t.Errorf("%d classes: ∂F/∂θ[%d] = %.12f, finite difference %.12f", classes, f, grad[f], num)
			}
		}
	}
}

// flightsShape is the shape of the flights design: three numeric columns
// and categorical columns for the hour, the weekday and two airports
// (about 230 airports each in data/README.md).
var flightsShape = struct {
	numeric int
	cards   []int
}{3, []int{24, 7, 230, 230}}

// BenchmarkObjective measures one evaluation of the objective and its
// gradient on data shaped like the flights design.
func BenchmarkObjective(b *testing.B) {
	for _, rows := range []int{10_000, 200_000} {
		for _, classes := range []int{2, 3} {
			b.Run(fmt.Sprintf("rows=%d/classes=%d", rows, classes), func(b *testing.B) {
				ds := synthetic(1, rows, flightsShape.numeric, flightsShape.cards, classes, 0)
				d, err := newDesign(ds)
				if err != nil {
					b.Fatal(err)
				}
				o := newObjective(d, 1, 0)
				theta := initialTheta(d)
				grad := make([]float64, len(theta))
				for b.Loop() {
					o.eval(theta, grad)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
			})
		}
	}
}
