package evaluate_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/mlpipe/mlpipe/evaluate"
)

// benchData returns n seeded labels (30% positive) and probabilities
// rounded to 1e-4, so that ties occur as with real model outputs.
func benchData(n int) (labels, probs []float64) {
	rng := rand.New(rand.NewPCG(1, 2))
	labels = make([]float64, n)
	probs = make([]float64, n)
	for i := range labels {
		if rng.Float64() < 0.3 {
			labels[i] = 1
		}
		p := 0.7*rng.Float64() + 0.3*labels[i]
		probs[i] = float64(int(p*1e4)) / 1e4
	}
	return labels, probs
}

var sizes = []int{1e3, 1e5, 1e6}

func BenchmarkROCAUC(b *testing.B) {
	for _, n := range sizes {
		labels, probs := benchData(n)
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := evaluate.ROCAUC(labels, probs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEvaluateBinary(b *testing.B) {
	for _, n := range sizes {
		labels, probs := benchData(n)
		keys := make([]string, n)
		for i := range keys {
			keys[i] = fmt.Sprintf("k%02d", i%50)
		}
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := evaluate.EvaluateBinary(labels, probs, evaluate.Options{SliceKeys: keys}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
