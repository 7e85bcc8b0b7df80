package calibrate

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
)

// File is the name of the calibration map in a model bundle.
const File = "calibration.json"

// Methods.
const (
	Isotonic = "isotonic"
	Platt    = "platt"
)

// MinIsotonicRows is the fewest rows Fit gives isotonic regression:
// below about a thousand, scikit-learn's documentation warns, it
// overfits, and Platt scaling's two parameters do better.
const MinIsotonicRows = 1000

// ErrInvalid means the scores or labels cannot be fitted: no rows, one
// class only, a label other than 0 or 1, a score that is not finite.
var ErrInvalid = errors.New("invalid calibration data")

// Map is a fitted calibration map from a score to a probability.
type Map struct {
	// Method is Isotonic or Platt.
	Method string `json:"method"`
	// X and Y, for Isotonic: the map is the line through the points
	// (X[i], Y[i]), X increasing and Y non-decreasing, and constant
	// beyond the ends.
	X []float64 `json:"x,omitempty"`
	Y []float64 `json:"y,omitempty"`
	// A and B, for Platt: p = 1 / (1 + exp(A·logit(s) + B)), with the
	// score s clipped to [Epsilon, 1−Epsilon].
	A float64 `json:"a,omitempty"`
	B float64 `json:"b,omitempty"`
	// Rows is the number of rows the map was fitted on, Positives how
	// many were positive.
	Rows      int `json:"rows"`
	Positives int `json:"positives"`
}

// Epsilon keeps a score away from 0 and 1 before Platt's logit.
const Epsilon = 1e-15

// Fit fits the map of scores to labels: isotonic with at least
// MinIsotonicRows rows, else Platt. See FitIsotonic and FitPlatt.
func Fit(scores, labels []float64) (*Map, error) {
	if len(scores) >= MinIsotonicRows {
		return FitIsotonic(scores, labels)
	}
	return FitPlatt(scores, labels)
}

// check validates the data and counts the positives.
func check(op string, scores, labels []float64) (int, error) {
	if len(scores) != len(labels) {
		return 0, fmt.Errorf("%s: %w: %d scores for %d labels", op, ErrInvalid, len(scores), len(labels))
	}
	if len(scores) == 0 {
		return 0, fmt.Errorf("%s: %w: no rows", op, ErrInvalid)
	}
	pos := 0
	for i, y := range labels {
		if y != 0 && y != 1 {
			return 0, fmt.Errorf("%s: %w: label %d is %g, not 0 or 1", op, ErrInvalid, i, y)
		}
		if s := scores[i]; math.IsNaN(s) || math.IsInf(s, 0) {
			return 0, fmt.Errorf("%s: %w: score %d is %g", op, ErrInvalid, i, s)
		}
		pos += int(y)
	}
	if pos == 0 || pos == len(labels) {
		return 0, fmt.Errorf("%s: %w: one class only (%d of %d rows positive)", op, ErrInvalid, pos, len(labels))
	}
	return pos, nil
}

// FitIsotonic fits a non-decreasing step function of the score to the
// labels by least squares (pool adjacent violators: rows are sorted by
// score, equal scores pooled first, and adjacent blocks whose means are
// out of order merged into their weighted mean). The map keeps the first
// and last score of each step and interpolates linearly between steps,
// as scikit-learn's IsotonicRegression(out_of_bounds="clip") predicts.
// It needs both classes, labels 0 or 1 and finite scores (else an error
// wrapping ErrInvalid).
func FitIsotonic(scores, labels []float64) (*Map, error) {
	pos, err := check("isotonic calibration", scores, labels)
	if err != nil {
		return nil, err
	}
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	// Pool equal scores: one point per distinct score, its mean label and
	// its row count as the weight.
	var xs, ys, ws []float64
	for _, i := range idx {
		if n := len(xs); n > 0 && xs[n-1] == scores[i] {
			ys[n-1] += labels[i]
			ws[n-1]++
			continue
		}
		xs, ys, ws = append(xs, scores[i]), append(ys, labels[i]), append(ws, 1)
	}
	// Pool adjacent violators over blocks of points; a block is a run of
	// points [lo, hi] with the weighted mean sum/w.
	type block struct {
		lo, hi int
		sum, w float64
	}
	var st []block
	for k := range xs {
		b := block{k, k, ys[k], ws[k]}
		for len(st) > 0 && st[len(st)-1].sum/st[len(st)-1].w >= b.sum/b.w {
			p := st[len(st)-1]
			st = st[:len(st)-1]
			b = block{p.lo, b.hi, p.sum + b.sum, p.w + b.w}
		}
		st = append(st, b)
	}
	fitted := make([]float64, len(xs))
	for _, b := range st {
		for k := b.lo; k <= b.hi; k++ {
			fitted[k] = b.sum / b.w
		}
	}
	// Keep the first and the last point, and every point whose value
	// differs from its neighbour on either side (scikit-learn's
	// _build_y): the interpolation through them is the same.
	m := &Map{Method: Isotonic, Rows: len(scores), Positives: pos}
	for k := range xs {
		if k == 0 || k == len(xs)-1 || fitted[k] != fitted[k-1] || fitted[k] != fitted[k+1] {
			m.X, m.Y = append(m.X, xs[k]), append(m.Y, fitted[k])
		}
	}
	return m, nil
}

// FitPlatt fits p = 1 / (1 + exp(A·f + B)), f = logit(score), by
// maximum likelihood against Platt's smoothed targets, (N₊+1)/(N₊+2) for
// a positive and 1/(N₋+2) for a negative (Platt 1999; scikit-learn's
// _sigmoid_calibration, which gives the same A and B to about 1e-6),
// with Newton's method. The score is clipped to [Epsilon, 1−Epsilon]
// first. Its input contract is FitIsotonic's.
func FitPlatt(scores, labels []float64) (*Map, error) {
	pos, err := check("platt calibration", scores, labels)
	if err != nil {
		return nil, err
	}
	neg := len(labels) - pos
	hi, lo := (float64(pos)+1)/(float64(pos)+2), 1/(float64(neg)+2)
	f := make([]float64, len(scores))
	t := make([]float64, len(scores))
	for i, s := range scores {
		f[i] = logit(s)
		t[i] = lo
		if labels[i] == 1 {
			t[i] = hi
		}
	}
	// Newton's method on the negative log-likelihood of (A, B), from
	// Platt's start, A = 0 and B = log((N₋+1)/(N₊+1)); with a step
	// halved until the loss falls (Lin, Lin and Weng 2007).
	a, b := 0.0, math.Log((float64(neg)+1)/(float64(pos)+1))
	loss := plattLoss(f, t, a, b)
	for iter := 0; iter < 100; iter++ {
		var ga, gb, haa, hab, hbb float64
		for i := range f {
			p := sigmoid(-(a*f[i] + b)) // the model's probability
			d := p - t[i]               // dLoss/dz with z = -(a f + b): the gradient w.r.t. A is -d·f
			w := p * (1 - p)
			ga -= d * f[i]
			gb -= d
			haa += w * f[i] * f[i]
			hab += w * f[i]
			hbb += w
		}
		haa, hbb = haa+1e-12, hbb+1e-12
		det := haa*hbb - hab*hab
		if det <= 0 {
			break
		}
		da := -(hbb*ga - hab*gb) / det
		db := -(haa*gb - hab*ga) / det
		step := 1.0
		for ; step > 1e-10; step /= 2 {
			if l := plattLoss(f, t, a+step*da, b+step*db); l < loss {
				a, b, loss = a+step*da, b+step*db, l
				break
			}
		}
		if step <= 1e-10 || math.Abs(da)+math.Abs(db) < 1e-12 {
			break
		}
	}
	return &Map{Method: Platt, A: a, B: b, Rows: len(scores), Positives: pos}, nil
}

// plattLoss is the cross-entropy of the targets t under the model (a, b).
func plattLoss(f, t []float64, a, b float64) float64 {
	l := 0.0
	for i := range f {
		z := a*f[i] + b // p = σ(−z)
		// −t·log σ(−z) − (1−t)·log σ(z) = t·softplus(z) + (1−t)·softplus(−z)
		l += t[i]*softplus(z) + (1-t[i])*softplus(-z)
	}
	return l
}

// Apply returns the calibrated probability of one score. A NaN score
// gives NaN.
func (m *Map) Apply(s float64) float64 {
	if math.IsNaN(s) {
		return s
	}
	switch m.Method {
	case Platt:
		return sigmoid(-(m.A*logit(s) + m.B))
	default:
		n := len(m.X)
		switch {
		case n == 0:
			return math.NaN()
		case s <= m.X[0]:
			return m.Y[0]
		case s >= m.X[n-1]:
			return m.Y[n-1]
		}
		k := sort.SearchFloat64s(m.X, s) // m.X[k-1] < s <= m.X[k]
		if m.X[k] == s {
			return m.Y[k]
		}
		x0, x1, y0, y1 := m.X[k-1], m.X[k], m.Y[k-1], m.Y[k]
		return y0 + (s-x0)*(y1-y0)/(x1-x0)
	}
}

// ApplyAll returns the calibrated probabilities of scores.
func (m *Map) ApplyAll(scores []float64) []float64 {
	out := make([]float64, len(scores))
	for i, s := range scores {
		out[i] = m.Apply(s)
	}
	return out
}

// Validate checks a map read from a file: a known method, and for
// isotonic regression at least one point, X increasing and Y
// non-decreasing within [0, 1].
func (m *Map) Validate() error {
	switch m.Method {
	case Platt:
		if math.IsNaN(m.A) || math.IsInf(m.A, 0) || math.IsNaN(m.B) || math.IsInf(m.B, 0) {
			return fmt.Errorf("calibration map: %w: platt parameters %g, %g", ErrInvalid, m.A, m.B)
		}
		return nil
	case Isotonic:
		if len(m.X) == 0 || len(m.X) != len(m.Y) {
			return fmt.Errorf("calibration map: %w: %d x and %d y points", ErrInvalid, len(m.X), len(m.Y))
		}
		if !slices.IsSorted(m.X) || !slices.IsSorted(m.Y) || m.Y[0] < 0 || m.Y[len(m.Y)-1] > 1 {
			return fmt.Errorf("calibration map: %w: the points are not a non-decreasing map into [0, 1]", ErrInvalid)
		}
		return nil
	}
	return fmt.Errorf("calibration map: %w: unknown method %q (want %s or %s)", ErrInvalid, m.Method, Isotonic, Platt)
}

func logit(s float64) float64 {
	s = min(max(s, Epsilon), 1-Epsilon)
	return math.Log(s / (1 - s))
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// softplus is log(1 + e^z), without overflow.
func softplus(z float64) float64 {
	if z > 0 {
		return z + math.Log1p(math.Exp(-z))
	}
	return math.Log1p(math.Exp(z))
}
