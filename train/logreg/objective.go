package logreg

import (
	"math"
	"sync"
	"sync/atomic"
)

// The objective sums over fixed blocks of rows and adds the blocks up in
// block order. Blocks depend only on the number of rows, so the value and
// the gradient are bit-identical for any Parallelism and any scheduling.
const (
	// maxBlocks bounds the number of blocks, and so the memory of the
	// per-block gradients (maxBlocks * len(theta) floats). 64 blocks keep a
	// few cores evenly busy.
	maxBlocks = 64
	// minBlockRows is the smallest block worth handing to a goroutine.
	minBlockRows = 4096
	// chunkRows rows are scored at once inside a block, so that their
	// scores stay in the L1/L2 cache between the passes over the columns.
	chunkRows = 512
)

// objective is the penalised log loss of a design, divided by its number
// of rows:
//
//	F(θ) = (Σ_i c_i·loss_i(θ) + ‖w‖²/(2C)) / n
//
// where w is θ without the intercepts and c_i the weight of row i's class
// (1 without class weights), as scikit-learn's LogisticRegression with
// class_weight minimises it. Dividing by n does not move the
// minimum; it makes the gradient norm (and so Tol) independent of n.
type objective struct {
	d       *design
	invC    float64 // 1/C; 0 when C is +Inf
	workers int
	bounds  []int       // block b is rows [bounds[b], bounds[b+1])
	losses  []float64   // losses[b]: summed loss of block b
	grads   [][]float64 // grads[b]: gradient of losses[b]
	scratch [][]float64 // one score buffer per worker
}

func newObjective(d *design, c float64, parallelism int) *objective {
	n := d.Rows
	blocks := min(max((n+minBlockRows-1)/minBlockRows, 1), maxBlocks)
	o := &objective{d: d, invC: 1 / c, workers: min(max(parallelism, 1), blocks)}
	o.bounds = make([]int, blocks+1)
	for b := range o.bounds {
		o.bounds[b] = b * n / blocks
	}
	o.losses = make([]float64, blocks)
	o.grads = make([][]float64, blocks)
	for b := range o.grads {
		o.grads[b] = make([]float64, d.Features*d.outputs)
	}
	o.scratch = make([][]float64, o.workers)
	for w := range o.scratch {
		o.scratch[w] = make([]float64, chunkRows*d.outputs)
	}
	return o
}

// dim is the length of the parameter vector.
func (o *objective) dim() int { return o.d.Features * o.d.outputs }

// eval returns F(theta) and stores its gradient in grad.
func (o *objective) eval(theta, grad []float64) float64 {
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < o.workers; w++ {
		wg.Add(1)
		go func(z []float64) {
			defer wg.Done()
			for b := int(next.Add(1)) - 1; b < len(o.losses); b = int(next.Add(1)) - 1 {
				o.losses[b] = o.block(theta, o.bounds[b], o.bounds[b+1], o.grads[b], z)
			}
		}(o.scratch[w])
	}
	wg.Wait()

	// Reduce in block order.
	var loss float64
	clear(grad)
	for b, g := range o.grads {
		loss += o.losses[b]
		for f, v := range g {
			grad[f] += v
		}
	}
	// The penalty, on every weight but the intercepts theta[:outputs].
	if o.invC != 0 {
		var sq float64
		for f := o.d.outputs; f < len(theta); f++ {
			sq += theta[f] * theta[f]
			grad[f] += o.invC * theta[f]
		}
		loss += o.invC * sq / 2
	}
	scale := 1 / float64(o.d.Rows)
	for f := range grad {
		grad[f] *= scale
	}
	return loss * scale
}

// block returns the summed log loss of rows [lo, hi) and stores its
// gradient in g. z is scratch space for chunkRows rows of scores.
func (o *objective) block(theta []float64, lo, hi int, g, z []float64) float64 {
	clear(g)
	k := o.d.outputs
	var loss float64
	for s := lo; s < hi; s += chunkRows {
		e := min(s+chunkRows, hi)
		r := z[:(e-s)*k]
		o.scores(theta, s, e, r)
		switch {
		case o.d.weights != nil:
			loss += weightedResiduals(r, o.d.y[s:e], k, o.d.weights)
		case k == 1:
			loss += binaryResiduals(r, o.d.y[s:e])
		default:
			loss += softmaxResiduals(r, o.d.y[s:e], k)
		}
		o.addGradient(g, s, e, r)
	}
	return loss
}

// scores stores in z the linear scores of rows [s, e): z[i*k+c] is the
// score of output c for row s+i.
func (o *objective) scores(theta []float64, s, e int, z []float64) {
	d, k := o.d, o.d.outputs
	if k == 1 { // the binary case, without the loops over outputs
		for i := range z {
			z[i] = theta[0]
		}
		for _, c := range d.Numeric {
			w := theta[c.Feature]
			for i, v := range c.X[s:e] {
				z[i] += v * w
			}
		}
		for _, c := range d.Categorical {
			w := theta[c.First : c.First+c.Card]
			for i, code := range c.Codes[s:e] {
				z[i] += w[code]
			}
		}
		return
	}
	for i := 0; i < e-s; i++ {
		copy(z[i*k:(i+1)*k], theta[:k])
	}
	for _, c := range d.Numeric {
		w := theta[c.Feature*k : (c.Feature+1)*k]
		for i, v := range c.X[s:e] {
			zi := z[i*k : (i+1)*k]
			for j := range zi {
				zi[j] += v * w[j]
			}
		}
	}
	for _, c := range d.Categorical {
		for i, code := range c.Codes[s:e] {
			f := (c.First + int(code)) * k
			w := theta[f : f+k]
			zi := z[i*k : (i+1)*k]
			for j := range zi {
				zi[j] += w[j]
			}
		}
	}
}

// addGradient adds to g the gradient of the loss of rows [s, e), whose
// residuals (predicted probability minus indicator of the label) are in r.
func (o *objective) addGradient(g []float64, s, e int, r []float64) {
	d, k := o.d, o.d.outputs
	if k == 1 {
		var sum float64
		for _, ri := range r {
			sum += ri
		}
		g[0] += sum
		for _, c := range d.Numeric {
			var dot float64
			for i, v := range c.X[s:e] {
				dot += v * r[i]
			}
			g[c.Feature] += dot
		}
		for _, c := range d.Categorical {
			gc := g[c.First : c.First+c.Card]
			for i, code := range c.Codes[s:e] {
				gc[code] += r[i]
			}
		}
		return
	}
	for i := 0; i < e-s; i++ {
		ri := r[i*k : (i+1)*k]
		for j, v := range ri {
			g[j] += v
		}
	}
	for _, c := range d.Numeric {
		gf := g[c.Feature*k : (c.Feature+1)*k]
		for i, v := range c.X[s:e] {
			ri := r[i*k : (i+1)*k]
			for j := range gf {
				gf[j] += v * ri[j]
			}
		}
	}
	for _, c := range d.Categorical {
		for i, code := range c.Codes[s:e] {
			f := (c.First + int(code)) * k
			gf := g[f : f+k]
			ri := r[i*k : (i+1)*k]
			for j := range gf {
				gf[j] += ri[j]
			}
		}
	}
}

// weightedResiduals is binaryResiduals (k == 1) or softmaxResiduals with
// each row's residuals and loss multiplied by the weight of its class,
// w[y]: the class-weighted log loss.
func weightedResiduals(z []float64, y []int32, k int, w []float64) float64 {
	var loss float64
	for i, yi := range y {
		zi := z[i*k : (i+1)*k]
		var l float64
		if k == 1 {
			l = binaryResiduals(zi, y[i:i+1])
		} else {
			l = softmaxResiduals(zi, y[i:i+1], k)
		}
		wi := w[yi]
		loss += wi * l
		for j := range zi {
			zi[j] *= wi
		}
	}
	return loss
}

// binaryResiduals turns the logits z of rows labelled y (0 or 1) into the
// residuals σ(z) - y, in place, and returns the summed log loss
// log(1 + e^z) - y·z. Both come from e = e^-|z|, which cannot overflow:
//
//	log(1 + e^z) = max(z, 0) + log(1 + e),  σ(z) = 1/(1+e) or e/(1+e).
//
// The logarithm costs more than the rest of a row together, so the
// log(1 + e) of up to logGroup rows are summed as the log of their
// product. Each factor is in [1, 2], so the product cannot overflow, and
// its rounding error (at most logGroup ulps) is that of summing the
// logarithms one by one.
func binaryResiduals(z []float64, y []int32) float64 {
	const logGroup = 512 // 2^512 is far below the largest float64, 2^1024
	var loss float64
	for lo := 0; lo < len(z); lo += logGroup {
		product := 1.0
		for i := lo; i < min(lo+logGroup, len(z)); i++ {
			zi, yi := z[i], float64(y[i])
			e := math.Exp(-math.Abs(zi))
			product *= 1 + e
			loss += max(zi, 0) - yi*zi
			p := 1 / (1 + e) // σ(zi) for zi >= 0
			if zi < 0 {
				p *= e
			}
			z[i] = p - yi
		}
		loss += math.Log(product)
	}
	return loss
}

// softmaxResiduals turns the k scores per row in z of rows labelled y
// into the residuals softmax(z) - onehot(y), in place, and returns the
// summed log loss log Σ_c e^z_c - z_y.
func softmaxResiduals(z []float64, y []int32, k int) float64 {
	var loss float64
	for i, yi := range y {
		zi := z[i*k : (i+1)*k]
		m := zi[0]
		for _, v := range zi[1:] {
			m = max(m, v)
		}
		loss -= zi[yi] - m
		var sum float64
		for j, v := range zi {
			zi[j] = math.Exp(v - m)
			sum += zi[j]
		}
		loss += math.Log(sum)
		for j := range zi {
			zi[j] /= sum
		}
		zi[yi]--
	}
	return loss
}
