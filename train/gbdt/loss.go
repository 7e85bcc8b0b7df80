package gbdt

import "math"

// Losses.
//
// A binary model has one output, a margin s (log-odds), and the
// probability of class 1 is sigmoid(s); its loss is the log loss. A
// K-class model has K margins and the class probabilities are their
// softmax; its loss is the cross-entropy -log p_y. Each round fits one
// tree per margin to the gradient and hessian of the loss with respect to
// that margin.

// minHessian keeps hessians positive where probabilities saturate (p(1-p)
// underflows to 0 for |s| > ~37), so leaf values stay finite when
// Lambda is 0. XGBoost floors them the same way (1e-16).
const minHessian = 1e-16

// lossChunk is the rows per piece of the parallel loss loops.
const lossChunk = 1 << 14

// sigmoid is the logistic function, computed without overflow.
func sigmoid(s float64) float64 {
	if s >= 0 {
		return 1 / (1 + math.Exp(-s))
	}
	e := math.Exp(s)
	return e / (1 + e)
}

// softmax writes the softmax of margins s into p (len(p) == len(s)).
func softmax(s, p []float64) {
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

// softplus is log(1+e^s), computed without overflow or loss of precision
// for large |s|.
func softplus(s float64) float64 {
	return max(s, 0) + math.Log1p(math.Exp(-math.Abs(s)))
}

// baseMargins are the margins every row starts from: the log-odds of the
// training rate of class 1 for a binary model, the log of each class's
// training rate for a K-class one (so the first tree fits what the class
// balance does not explain). A class absent from training gets rate
// 1e-15 instead of 0, which keeps its margin finite (and savable as JSON).
func baseMargins(y []float64, classes int) []float64 {
	counts := make([]float64, classes)
	for _, v := range y {
		counts[int(v)]++
	}
	rate := func(k int) float64 { return max(counts[k]/float64(len(y)), 1e-15) }
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
func gradients(scores, y []float64, rows []int32, grads [][]gradPair, workers int) {
	k := len(grads)
	forChunks(workers, len(rows), lossChunk, func(_, lo, hi int) {
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

// meanLoss is the mean log loss (binary, k == 1) or cross-entropy (k > 1)
// of the margins scores (n × k) for labels y. Per-chunk sums are added in
// chunk order, so the result does not depend on scheduling.
func meanLoss(scores, y []float64, k, workers int) float64 {
	n := len(y)
	if n == 0 {
		return math.NaN()
	}
	part := make([]float64, (n+lossChunk-1)/lossChunk)
	forChunks(workers, n, lossChunk, func(c, lo, hi int) {
		var s float64
		for i := lo; i < hi; i++ {
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
	return total / float64(n)
}
