package gbdt

import (
	"fmt"
	"sync"

	"gonum.org/v1/gonum/integrate/quad"

	"github.com/mlpipe/mlpipe/model"
)

// Explanations: exact path-dependent TreeSHAP.
//
// A tree's prediction f(x) is explained by the Shapley values of the
// game v(S) = E[f(x) | x_S] where, as in path-dependent TreeSHAP
// (Lundberg, Erion and Lee, "Consistent Individualized Feature
// Attribution for Tree Ensembles", 2018), a split on a column outside S
// averages its two subtrees, weighted by the training rows that reached
// each (the covers), and a split on a column in S follows x. So each
// leaf ℓ adds to v(S) its value v_ℓ times, for each column j split on its
// path,
//
//	o_j  if j ∈ S: 1 when x takes every split on j of the path, else 0
//	p_j  if j ∉ S: the product of the cover ratios of those splits
//
// a product game, whose Shapley value for column i is
//
//	φ_i(ℓ) = v_ℓ (o_i − p_i) Σ_{S ⊆ F∖i} |S|!(|F|−|S|−1)!/|F|! Π_{j∈S} o_j Π_{j∈F∖S∖i} p_j
//	       = v_ℓ (o_i − p_i) ∫₀¹ Π_{j∈F∖i} (p_j + (o_j − p_j)·t) dt
//
// with F the columns of the path: the Beta integral
// ∫₀¹ t^s (1−t)^(n−s) dt = s!(n−s)!/(n+1)! turns the Shapley weights into
// an integral of a polynomial of degree below |F|. This is the idea of
// Linear TreeSHAP (Yu, Bifet, Read and Xu, "Linear TreeShap", NeurIPS
// 2022): Gauss–Legendre quadrature with ⌈D/2⌉ points, D the most distinct
// columns on one path of the tree, integrates such a polynomial exactly,
// so every polynomial is kept as its values at those points. One walk
// over the tree carries down each node the path's product
// G(t) = Π_j (p_j + (o_j − p_j)·t) and carries up the sum over the leaves
// below of v_ℓ·G_ℓ(t); at the edge into a node, the column split on
// above it gets Σ_q w_q·E(t_q)·(o−p)/(p + (o−p)·t_q), which is
// Σ_ℓ φ(ℓ) over the leaves below. When a path splits on a column again,
// the later split's (p, o) replace the earlier ones in G, and the later
// edge subtracts what the earlier edge's values give on the same leaves,
// so each leaf's terms telescope to those of its own (p, o).
//
// A walk visits every node once with O(⌈D/2⌉) work, where Algorithm 2 of
// the paper does O(depth²) work per leaf. The sum of a row's φ over the
// columns plus the base value (the covers' mean of the tree's leaves: the
// mean margin over the training rows) is its margin, to within rounding;
// shap_test.go checks that, and the values themselves against brute-force
// Shapley values of v(S).
//
// The branch a row takes at each split is the compiled trees' step, so
// explanations and predictions never disagree about a path; only the
// covers are read from the saved trees.

// shapForm is the model's trees in the form an explanation walks: the
// compiled trees, with what each node adds.
type shapForm struct {
	c     *compiled
	col   []int32   // per node: the column its split tests (-1 for a leaf)
	ratio []float64 // per node: its cover over its parent's (1 for a root)
	quad  []*points // per tree: its quadrature
	base  []float64 // per output: the base value
	depth int       // the deepest tree's depth
	cols  int       // the model's columns
	walks sync.Pool // of *shapWalk
}

// points is a Gauss–Legendre rule on [0, 1], with the vectors a walk
// reuses.
type points struct {
	t, w    []float64
	cold    []float64 // the slope for o = 0: −1/(1−t)
	invCold []float64 // 1/(1−t)
	one     []float64 // 1/factor of a column not on the path
	zero    []float64 // its slope
}

// Explainer returns the model's TreeSHAP explainer (model.Explainer),
// built on first use. It fails with model.ErrNotExplainable for a model
// saved without node covers.
func (m *Model) Explainer() (model.Explainer, error) {
	m.shapOnce.Do(func() { m.shap, m.shapErr = newShapForm(m) })
	if m.shapErr != nil {
		return nil, m.shapErr
	}
	return shapExplainer{m}, nil
}

// shapExplainer is the model.Explainer of a Model.
type shapExplainer struct{ m *Model }

// Base returns each output's base value: its starting margin plus the
// covers' mean of each of its trees.
func (e shapExplainer) Base() []float64 { return e.m.shap.base }

// ExplainRow implements model.Explainer.
func (e shapExplainer) ExplainRow(row, phi, margin []float64) {
	m, f := e.m, e.m.shap
	k, cols := m.Outputs(), len(row)
	if len(phi) != k*cols || len(margin) != k || cols < f.cols {
		panic(fmt.Sprintf("gbdt: explain: row of %d, %d contributions and %d margins; want at least %d columns, %d·columns and %d",
			len(row), len(phi), len(margin), f.cols, k, k))
	}
	m.marginRow(row, margin)
	clear(phi)
	w := f.walks.Get().(*shapWalk)
	defer f.walks.Put(w)
	f.c.inputs(row, w.in)
	for t, root := range f.c.roots {
		out := t % k
		w.phi = phi[out*cols : (out+1)*cols]
		w.q = f.quad[t]
		for j := range w.inv {
			w.inv[j], w.sl[j] = w.q.one, w.q.zero // no column is on the path yet
		}
		if f.c.isLeaf(root) {
			continue // a tree without splits credits no column
		}
		copy(w.g, w.q.one) // so the root's path product is 1
		w.walk(root, 0)
	}
	w.phi = nil
}

// newShapForm checks the covers and lays them out by compiled node.
func newShapForm(m *Model) (*shapForm, error) {
	c := m.compiled()
	f := &shapForm{c: c, col: make([]int32, len(c.nodes)), ratio: make([]float64, len(c.nodes)), cols: len(m.Columns)}
	// cover returns the cover of a compiled node.
	cover := func(t, n int) float64 {
		tr := &m.Trees[t]
		if id := c.saved[n]; id >= 0 {
			return tr.Cover[id]
		}
		return tr.LeafCover[^c.saved[n]]
	}
	rules := map[int]*points{}
	for t, root := range c.roots {
		tr := &m.Trees[t]
		if len(tr.LeafCover) == 0 {
			return nil, fmt.Errorf("gbdt explainer: %w: tree %d has no node covers (the model was saved before explanations; retrain it)", model.ErrNotExplainable, t)
		}
		f.ratio[root] = 1
		// Nodes come after their parents in compiled order, and a tree's
		// nodes are contiguous, from its root to the next root.
		end := len(c.nodes)
		if t+1 < len(c.roots) {
			end = int(c.roots[t+1])
		}
		for n := int(root); n < end; n++ {
			nd := &c.nodes[n]
			if nd.child == int32(n) {
				f.col[n] = -1
				continue
			}
			f.col[n] = int32(c.slots[nd.slot].col)
			parent := cover(t, n)
			l, r := cover(t, int(nd.child)), cover(t, int(nd.child)+1)
			if !(l > 0 && r > 0 && l+r == parent) {
				return nil, fmt.Errorf("gbdt explainer: %w: tree %d: a split's covers %v and %v do not add up to %v", model.ErrNotExplainable, t, l, r, parent)
			}
			f.ratio[nd.child], f.ratio[nd.child+1] = l/parent, r/parent
		}
		q := (pathColumns(c, f.col, root) + 1) / 2
		if rules[q] == nil {
			rules[q] = gaussLegendre(max(q, 1))
		}
		f.quad = append(f.quad, rules[q])
		f.depth = max(f.depth, c.depth[t])
	}
	f.base = append([]float64(nil), m.Base...)
	for t, root := range c.roots {
		f.base[t%m.Outputs()] += f.mean(root)
	}
	most := 1
	for _, r := range rules {
		most = max(most, len(r.t))
	}
	slots := len(c.slots)
	f.walks.New = func() any {
		size := (f.depth + 1) * most
		return &shapWalk{
			f: f, in: make([]int32, slots),
			p: ones(f.cols), o: trues(f.cols), inv: make([][]float64, f.cols), sl: make([][]float64, f.cols),
			g: make([]float64, size), e: make([]float64, size), a: make([]float64, size),
			dinv: make([]float64, size), dsl: make([]float64, size),
		}
	}
	return f, nil
}

// mean is the cover-weighted mean of the leaves below node n.
func (f *shapForm) mean(n int32) float64 {
	nd := &f.c.nodes[n]
	if nd.child == n {
		return f.c.value[n]
	}
	return f.ratio[nd.child]*f.mean(nd.child) + f.ratio[nd.child+1]*f.mean(nd.child+1)
}

// pathColumns is the most distinct columns on one path from root to a
// leaf.
func pathColumns(c *compiled, col []int32, root int32) int {
	seen := map[int32]int{}
	var most func(n int32) int
	most = func(n int32) int {
		if col[n] < 0 {
			return len(seen)
		}
		seen[col[n]]++
		d := max(most(c.nodes[n].child), most(c.nodes[n].child+1))
		if seen[col[n]]--; seen[col[n]] == 0 {
			delete(seen, col[n])
		}
		return d
	}
	return most(root)
}

// gaussLegendre returns the n-point Gauss–Legendre rule on [0, 1]
// (gonum's quad.Legendre, exact for polynomials of degree below 2n).
func gaussLegendre(n int) *points {
	p := &points{t: make([]float64, n), w: make([]float64, n), cold: make([]float64, n),
		invCold: make([]float64, n), one: ones(n), zero: make([]float64, n)}
	quad.Legendre{}.FixedLocations(p.t, p.w, 0, 1)
	for q, t := range p.t {
		p.invCold[q] = 1 / (1 - t)
		p.cold[q] = -p.invCold[q]
	}
	return p
}

func ones(n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = 1
	}
	return s
}

func trues(n int) []bool {
	s := make([]bool, n)
	for i := range s {
		s[i] = true
	}
	return s
}

// shapWalk is the state of one row's explanation.
type shapWalk struct {
	f   *shapForm
	in  []int32     // the row's inputs to the compiled trees
	p   []float64   // per column: the path's product of its cover ratios (1 when not on the path)
	o   []bool      // per column: whether the row takes all its splits on the path
	inv [][]float64 // per column: 1/factor at each point, for its (p, o)
	sl  [][]float64 // per column: the slope (o−p)/factor at each point
	// Per depth d, at each quadrature point: the path product G of the
	// node at depth d, the sum E over the leaves below it, G without the
	// node's column's factor (A), and the inv and sl of the split that
	// leads to it.
	g, e, a, dinv, dsl []float64
	phi                []float64 // the contributions to the current tree's output
	q                  *points   // the current tree's quadrature
}

// walk visits split node n at depth d, whose path product is in g at
// depth d, and leaves in e at depth d the sum over the leaves below n of
// v_ℓ·G_ℓ.
//
// A column's factor is p + (o−p)·t, its slope (o−p)/factor: for o = 1,
// (1−p)/factor; for o = 0, −1/(1−t) whatever p is. A = G/factor₀ is the
// path product without the split's column; a child's is A·factor₁. An
// internal child needs its 1/factor₁ (its slope, and the divisor of its
// descendants on the same column); a leaf child needs no division, as
// its terms simplify: E·slope₁ = v·A·(1−p₁) when the row takes it,
// −v·A·p₁ when it does not.
func (w *shapWalk) walk(n int32, d int) {
	f, q := w.f, w.q
	nq := len(q.t)
	at, below := d*nq, (d+1)*nq
	g, e, a := w.g[at:at+nq], w.e[at:at+nq], w.a[at:at+nq]
	nd := &f.c.nodes[n]
	col := f.col[n]
	hot := f.c.step(n, w.in)
	p0, o0, inv0, sl0 := w.p[col], w.o[col], w.inv[col], w.sl[col]
	for i := range a {
		a[i] = g[i] * inv0[i]
	}
	clear(e)
	var phi float64
	for child := nd.child; child <= nd.child+1; child++ {
		p1, o1 := p0*f.ratio[child], o0 && child == hot
		if p1 == 0 && !o1 {
			continue // no weight reaches the subtree
		}
		if f.c.nodes[child].child == child { // a leaf
			v := f.c.value[child]
			var s float64
			if o1 {
				for i, t := range q.t {
					x := a[i] * (p1 + (1-p1)*t)
					e[i] += v * x
					s += q.w[i] * (a[i]*(1-p1) - x*sl0[i])
				}
			} else {
				for i, t := range q.t {
					x := a[i] * p1 * (1 - t)
					e[i] += v * x
					s -= q.w[i] * (a[i]*p1 + x*sl0[i])
				}
			}
			phi += v * s
			continue
		}
		gc, ec := w.g[below:below+nq], w.e[below:below+nq]
		inv1, slope := w.dinv[below:below+nq], w.dsl[below:below+nq]
		if o1 {
			for i, t := range q.t {
				f1 := p1 + (1-p1)*t
				inv1[i] = 1 / f1
				slope[i] = (1 - p1) * inv1[i]
				gc[i] = a[i] * f1
			}
		} else {
			slope = q.cold
			r := 1 / p1
			for i, t := range q.t {
				inv1[i] = r * q.invCold[i]
				gc[i] = a[i] * p1 * (1 - t)
			}
		}
		w.p[col], w.o[col], w.inv[col], w.sl[col] = p1, o1, inv1, slope
		w.walk(child, d+1)
		w.p[col], w.o[col], w.inv[col], w.sl[col] = p0, o0, inv0, sl0
		var s float64
		for i, x := range ec {
			s += q.w[i] * x * (slope[i] - sl0[i])
			e[i] += x
		}
		phi += s
	}
	w.phi[col] += phi
}
