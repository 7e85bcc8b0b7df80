package gbdt

import (
	"math"
	"slices"
)

// Losses.
//
// A binary model has one output, a margin s (log-odds), and the
// probability of class 1 is sigmoid(s); its loss is the log loss. A
// K-class model has K margins and the class probabilities are their
// softmax; its loss is the cross-entropy -log p_y. Each round fits one
// tree per margin to the gradient and hessian of the loss with respect to
// that margin.
//
// A regression model has one output, the prediction s itself, and the
// loss of its residual r = s - y is the objective's (Params.Objective):
//
//	squared_error   ½r²                                     g = r          h = 1
//	huber           ½r² if |r| <= δ, else δ(|r| - ½δ)        g = clamp(r, ±δ) h = 1
//	absolute_error  |r|                                     g = sign(r)    h = 1
//	quantile        α·(-r) if r < 0, else (1-α)·r            g = 1-α or -α  h = 1
//
// Huber's true second derivative is 0 beyond δ, which would make the
// Newton leaf value -G/(H+λ) blow up; a hessian of 1 everywhere (as
// LightGBM's huber objective uses, src/objective/regression_objective.hpp)
// makes each leaf the mean clipped residual instead. For absolute_error
// and quantile the gradient only says which way to go, so after a tree is
// grown each leaf's value is replaced by the median (α-quantile) of its
// rows' residuals y - s, as LightGBM does for these objectives
// (RenewTreeOutput) and scikit-learn's HistGradientBoostingRegressor
// (_update_terminal_regions).

// The objectives, by their Params.Objective names.
const (
	LogLoss       = "log_loss" // classification (the default for a class label)
	SquaredError  = "squared_error"
	Huber         = "huber"
	AbsoluteError = "absolute_error"
	Quantile      = "quantile"
)

// objective is the loss boosting minimises. Its zero value is the log
// loss of a classifier.
type objective struct {
	name  string  // one of the names above
	delta float64 // huber: where the loss turns from squared to linear
	alpha float64 // quantile: the quantile predicted
}

// regression reports whether the objective is a regression's.
func (o objective) regression() bool { return o.name != "" && o.name != LogLoss }

// renews reports whether leaf values are replaced by a quantile of the
// leaf's residuals after a tree is grown.
func (o objective) renews() bool { return o.name == AbsoluteError || o.name == Quantile }

// quantile is the quantile of the residuals a renewed leaf takes: the
// median for absolute_error.
func (o objective) quantile() float64 {
	if o.name == Quantile {
		return o.alpha
	}
	return 0.5
}

// baseScore is where a regression's predictions start: the value that
// minimises the loss over the training targets alone (the mean for
// squared_error, the median for huber and absolute_error, the α-quantile
// for quantile).
func (o objective) baseScore(y []float64) float64 {
	switch o.name {
	case SquaredError:
		var sum float64
		for _, v := range y {
			sum += v
		}
		return sum / float64(len(y))
	case Huber:
		return quantileOf(slices.Clone(y), 0.5)
	}
	return quantileOf(slices.Clone(y), o.quantile())
}

// quantileOf returns the q-quantile of v by linear interpolation between
// order statistics (numpy's default, "linear"); it reorders v. v must not
// be empty.
func quantileOf(v []float64, q float64) float64 {
	slices.Sort(v)
	pos := q * float64(len(v)-1)
	lo := int(pos)
	if lo >= len(v)-1 {
		return v[len(v)-1]
	}
	return v[lo] + (pos-float64(lo))*(v[lo+1]-v[lo])
}

// residualGrad is the gradient of the loss of residual r = s - y.
func (o objective) residualGrad(r float64) float64 {
	switch o.name {
	case Huber:
		return max(-o.delta, min(o.delta, r))
	case AbsoluteError:
		switch {
		case r > 0:
			return 1
		case r < 0:
			return -1
		}
		return 0
	case Quantile:
		if r < 0 { // s below y: the α-quantile is higher
			return -o.alpha
		}
		return 1 - o.alpha
	}
	return r
}

// residualLoss is the loss of residual r = s - y.
func (o objective) residualLoss(r float64) float64 {
	switch o.name {
	case Huber:
		if a := math.Abs(r); a > o.delta {
			return o.delta * (a - o.delta/2)
		}
		return r * r / 2
	case AbsoluteError:
		return math.Abs(r)
	case Quantile:
		if r < 0 {
			return -o.alpha * r
		}
		return (1 - o.alpha) * r
	}
	return r * r / 2
}

// minHessian keeps hessians positive where probabilities saturate (p(1-p)
// underflows to 0 for |s| > ~37), so leaf values stay finite when
// Lambda is 0. XGBoost floors them the same way (1e-16).
const minHessian = 1e-16

// lossChunk is the rows per piece of the parallel loss loops.
const lossChunk = 1 << 14

// softplus is log(1+e^s), computed without overflow or loss of precision
// for large |s|.
func softplus(s float64) float64 {
	return max(s, 0) + math.Log1p(math.Exp(-math.Abs(s)))
}

// baseMargins are the margins every row starts from: the log-odds of the
// training rate of class 1 for a binary model, the log of each class's
// training rate for a K-class one (so the first tree fits what the class
// balance does not explain). The rates count each row with its weight w[i]
// (nil: 1). A class absent from training gets rate 1e-15 instead of 0,
// which keeps its margin finite (and savable as JSON).
func baseMargins(y, w []float64, classes int) []float64 {
	counts := make([]float64, classes)
	var total float64
	for i, v := range y {
		wi := 1.0
		if w != nil {
			wi = w[i]
		}
		counts[int(v)] += wi
		total += wi
	}
	rate := func(k int) float64 { return max(counts[k]/total, 1e-15) }
	if classes == 2 {
		p := rate(1)
		return []float64{math.Log(p / max(1-p, 1e-15))}
	}
	base := make([]float64, classes)
	for k := range base {
		base[k] = math.Log(rate(k))
	}
	return base
}

// gradients writes, for each output k, the gradient and hessian of the
// loss of each row in rows with respect to its margin k into grads[k].
// scores holds the margins, row-major (n × K).
func gradients(o objective, scores, y []float64, rows []int32, grads [][]gradPair, workers int) {
	k := len(grads)
	forChunks(workers, len(rows), lossChunk, func(_, lo, hi int) {
		if o.regression() {
			g := grads[0]
			for _, i := range rows[lo:hi] {
				g[i] = gradPair{float32(o.residualGrad(scores[i] - y[i])), 1}
			}
			return
		}
		if k == 1 {
			g := grads[0]
			for _, i := range rows[lo:hi] {
				// d/ds of the log loss is p - y; d²/ds² is p(1-p).
				p := sigmoid(scores[i])
				g[i] = gradPair{float32(p - y[i]), float32(max(p*(1-p), minHessian))}
			}
			return
		}
		p := make([]float64, k)
		for _, r := range rows[lo:hi] {
			i := int(r)
			softmax(scores[i*k:(i+1)*k], p)
			// d/ds_c of -log p_y is p_c - [c == y]; the diagonal of the
			// hessian, p_c(1-p_c), is the usual Newton approximation.
			for c := range k {
				var t float64
				if int(y[i]) == c {
					t = 1
				}
				grads[c][i] = gradPair{float32(p[c] - t), float32(max(p[c]*(1-p[c]), minHessian))}
			}
		}
	})
}

// weigh multiplies the gradient and hessian of each row in rows by its
// weight w[i]: a class-weighted loss (see train.Dataset.ClassWeights).
func weigh(grads [][]gradPair, rows []int32, w []float64, workers int) {
	forChunks(workers, len(rows), lossChunk, func(_, lo, hi int) {
		for _, g := range grads {
			for _, i := range rows[lo:hi] {
				wi := float32(w[i])
				g[i].g *= wi
				g[i].h *= wi
			}
		}
	})
}

// meanLoss is the mean log loss (binary, k == 1) or cross-entropy (k > 1)
// of the margins scores (n × k) for labels y, or a regression's mean loss
// of its predictions scores (twice it for squared_error: the mean squared
// error). With row weights w (nil: 1 each) it is the weighted mean. Per-chunk
// sums are added in chunk order, so the result does not depend on
// scheduling.
func meanLoss(o objective, scores, y, w []float64, k, workers int) float64 {
	n := len(y)
	if n == 0 {
		return math.NaN()
	}
	part := make([]float64, (n+lossChunk-1)/lossChunk)
	forChunks(workers, n, lossChunk, func(c, lo, hi int) {
		var s float64
		for i := lo; i < hi; i++ {
			if w != nil {
				s += w[i] * rowLoss(o, scores, y, k, i)
				continue
			}
			if o.regression() {
				s += o.residualLoss(scores[i] - y[i])
				continue
			}
			if k == 1 {
				// -[y log p + (1-y) log(1-p)] = log(1+e^s) - y·s.
				s += softplus(scores[i]) - y[i]*scores[i]
				continue
			}
			m := scores[i*k : (i+1)*k]
			top := math.Inf(-1)
			for _, v := range m {
				top = max(top, v)
			}
			var z float64
			for _, v := range m {
				z += math.Exp(v - top) // shifted by the max: no overflow
			}
			// -log p_y = log Σ e^s - s_y.
			s += top + math.Log(z) - m[int(y[i])]
		}
		part[c] = s
	})
	var total float64
	for _, s := range part {
		total += s
	}
	if o.name == SquaredError {
		total *= 2
	}
	if w != nil {
		var sum float64
		for _, v := range w {
			sum += v
		}
		return total / sum
	}
	return total / float64(n)
}

// rowLoss is the loss of row i of a classifier's margins scores (n × k),
// as meanLoss sums it.
func rowLoss(o objective, scores, y []float64, k, i int) float64 {
	if k == 1 {
		return softplus(scores[i]) - y[i]*scores[i]
	}
	m := scores[i*k : (i+1)*k]
	top := math.Inf(-1)
	for _, v := range m {
		top = max(top, v)
	}
	var z float64
	for _, v := range m {
		z += math.Exp(v - top)
	}
	return top + math.Log(z) - m[int(y[i])]
}
