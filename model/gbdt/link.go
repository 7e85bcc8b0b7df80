package gbdt

import "math"

// The link functions: a classifier's margins to probabilities. The
// trainer's losses use the same functions (train/gbdt/loss.go).

// Sigmoid is the logistic function, computed without overflow.
func Sigmoid(s float64) float64 {
	if s >= 0 {
		return 1 / (1 + math.Exp(-s))
	}
	e := math.Exp(s)
	return e / (1 + e)
}

// Softmax writes the softmax of margins s into p (len(p) == len(s)).
func Softmax(s, p []float64) {
	hi := math.Inf(-1)
	for _, v := range s {
		hi = max(hi, v)
	}
	var sum float64
	for k, v := range s {
		p[k] = math.Exp(v - hi) // shifted by the max: no overflow
		sum += p[k]
	}
	for k := range p {
		p[k] /= sum
	}
}
