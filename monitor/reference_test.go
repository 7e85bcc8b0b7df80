package monitor_test

import (
	"encoding/json"
	"math"
	"os"
	"slices"
	"testing"

	"gonum.org/v1/gonum/stat"

	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/monitor"
)

// The reference values below are SciPy's (scipy 1.10.1, numpy 1.24.2),
// printed by testdata/reference.py on the samples it writes to
// testdata/samples.json; each comment names the call. Run it with
// /usr/bin/python3 after apt-get install python3-scipy to see them
// again. The tests do not need Python.

// tol is the relative tolerance for values that follow the same
// formula as SciPy's: only the order of floating-point sums differs.
const tol = 1e-9

type sample struct{ X, Y []float64 }

func loadSamples(t *testing.T) map[string]sample {
	t.Helper()
	b, err := os.ReadFile("testdata/samples.json")
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]sample
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	for k, v := range s {
		slices.Sort(v.X)
		slices.Sort(v.Y)
		s[k] = v
	}
	return s
}

func near(got, want, rel float64) bool {
	if got == want {
		return true
	}
	return math.Abs(got-want) <= rel*math.Max(math.Abs(want), 1e-300)
}

func TestKSAndWassersteinAgainstSciPy(t *testing.T) {
	samples := loadSamples(t)
	tests := []struct {
		name string
		// d: ks_2samp(x, y, method="asymp").statistic;
		// p: kstwobign.sf(sqrt(n*m/(n+m)) * d), the limiting distribution
		// monitor reports;
		// pAsymp: ks_2samp(...).pvalue, the exact one-sample distribution
		// at the effective size, which monitor approximates;
		// pAsympTol: how far apart the two may be, about 1/sqrt(n*m/(n+m))
		// (the order of the limit's error);
		// w: wasserstein_distance(x, y).
		d, p, pAsymp float64
		pAsympTol    float64
		w            float64
	}{
		{name: "normal", d: 0.14933333333333332, p: 0.00046684209392246743, pAsymp: 0.00040000551158763726, pAsympTol: 0.2, w: 0.3418062193333334},
		{name: "ties", d: 0.0645, p: 0.5441033014962291, pAsymp: 0.5223923111130871, pAsympTol: 0.05, w: 0.2939999999999999},
		{name: "large", d: 0.01894999999999991, p: 0.11305808406604852, pAsymp: 0.11163167618561809, pAsympTol: 0.015, w: 0.03339953969999998},
		{name: "constant", d: 0.19999999999999996, p: 0.2699996716773548, pAsymp: 0.2363206564453757, pAsympTol: 0.2, w: 0.3999999999999999},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ok := samples[tt.name]
			if !ok {
				t.Fatalf("no sample %q in testdata/samples.json", tt.name)
			}
			ks := monitor.KSTest(s.X, s.Y)
			if !near(ks.D, tt.d, tol) {
				t.Errorf("D = %v, scipy %v", ks.D, tt.d)
			}
			if !near(ks.PValue, tt.p, 1e-9) {
				t.Errorf("p = %v, kstwobign.sf %v", ks.PValue, tt.p)
			}
			if !near(ks.PValue, tt.pAsymp, tt.pAsympTol) {
				t.Errorf("p = %v, ks_2samp asymp %v: further apart than %v", ks.PValue, tt.pAsymp, tt.pAsympTol)
			}
			// gonum's statistic, within the rounding of its running sums.
			if g := stat.KolmogorovSmirnov(s.X, nil, s.Y, nil); math.Abs(g-ks.D) > 1e-12 {
				t.Errorf("D = %v, gonum %v", ks.D, g)
			}
			// Symmetric in its samples.
			if back := monitor.KSTest(s.Y, s.X); back != ks {
				t.Errorf("KSTest(y, x) = %+v, KSTest(x, y) = %+v", back, ks)
			}
			if w := monitor.Wasserstein(s.X, s.Y); !near(w, tt.w, tol) {
				t.Errorf("W = %v, scipy %v", w, tt.w)
			}
		})
	}
}

func TestKolmogorovSF(t *testing.T) {
	// kstwobign.sf(λ) (testdata/reference.py).
	want := map[float64]float64{
		0.2: 0.999999999999495, 0.5: 0.9639452436648751, 1.0: 0.26999967167735456,
		1.18: 0.1234538094297657, 1.36: 0.049485876755377876, 2.0: 0.0006709252557796953,
		3.0: 3.045995948942526e-08, 5.5: 1.062218449935819e-26,
	}
	for lambda, w := range want {
		if got := monitor.KolmogorovSF(lambda); !near(got, w, 1e-12) {
			t.Errorf("KolmogorovSF(%v) = %v, scipy %v", lambda, got, w)
		}
	}
	// Q(λ) = 1 at and below 0, and for NaN (no evidence either way).
	for _, lambda := range []float64{0, -1, math.NaN()} {
		if got := monitor.KolmogorovSF(lambda); got != 1 {
			t.Errorf("KolmogorovSF(%v) = %v, want 1", lambda, got)
		}
	}
	// Decreasing, in [0, 1].
	prev := 1.0
	for lambda := 0.01; lambda < 40; lambda += 0.01 {
		q := monitor.KolmogorovSF(lambda)
		if q > prev || q < 0 || q > 1 {
			t.Fatalf("KolmogorovSF(%v) = %v after %v", lambda, q, prev)
		}
		prev = q
	}
}

func TestJSDistanceAgainstSciPy(t *testing.T) {
	tests := []struct {
		name string
		p, q []float64
		want float64 // jensenshannon(p, q, base=2) (testdata/reference.py)
	}{
		{"shift", []float64{10, 20, 30, 40}, []float64{15, 15, 25, 45}, 0.09444237144489452},
		{"zero-bins", []float64{10, 20, 30, 0, 40}, []float64{15, 15, 25, 5, 0}, 0.5239361026770367},
		{"disjoint", []float64{1, 0}, []float64{0, 1}, 1.0},
		// Equal histograms, one as counts and one as shares: 0 by definition.
		{"equal", []float64{2, 6, 2}, []float64{0.2, 0.6, 0.2}, 0},
		// An empty histogram: defined as 0 (nothing to compare).
		{"empty", []float64{0, 0}, []float64{3, 1}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := monitor.JSDistance(tt.p, tt.q); !near(got, tt.want, tol) && math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("JSDistance = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestChiSquareAgainstSciPy(t *testing.T) {
	tests := []struct {
		name string
		a, b []float64
		// chi2_contingency([a, b], correction=False) on the table without
		// its all-zero columns (testdata/reference.py).
		stat, p float64
		dof     int
	}{
		{"three", []float64{500, 300, 200}, []float64{60, 25, 15}, 3.7177357526194745, 0.15584897084154156, 2},
		{"two", []float64{900, 100}, []float64{80, 20}, 9.353741496598643, 0.0022253071840488475, 1},
		{"unseen", []float64{400, 350, 250, 0}, []float64{30, 35, 20, 15}, 153.25150732127477, 5.239708064336471e-33, 3},
		// "three" with a category empty on both sides: left out, same test.
		{"three-with-empty", []float64{500, 0, 300, 200}, []float64{60, 0, 25, 15}, 3.7177357526194745, 0.15584897084154156, 2},
		// One category left, or an empty row: no test, p = 1 by definition.
		{"one-category", []float64{5, 0}, []float64{7, 0}, 0, 1, 0},
		{"empty-window", []float64{5, 3}, []float64{0, 0}, 0, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := monitor.ChiSquareTest(tt.a, tt.b)
			if !near(got.Statistic, tt.stat, tol) || !near(got.PValue, tt.p, 1e-8) || got.DoF != tt.dof {
				t.Errorf("ChiSquareTest = %+v, want statistic %v, p %v, dof %d", got, tt.stat, tt.p, tt.dof)
			}
		})
	}
}

func TestPSI(t *testing.T) {
	tests := []struct {
		name             string
		expected, actual []float64
		want             float64
	}{
		// By hand: (0.5−0.25)·ln(0.5/0.25) + 0 + (0.25−0.5)·ln(0.25/0.5)
		// = 0.25·ln 2 + 0.25·ln 2 = 0.5·ln 2.
		{"swap", []float64{0.25, 0.25, 0.5}, []float64{0.5, 0.25, 0.25}, 0.5 * math.Ln2},
		// Counts are normalised: the same as "swap".
		{"counts", []float64{25, 25, 50}, []float64{2, 1, 1}, 0.5 * math.Ln2},
		// An empty expected bin counts as Epsilon = 1e-4:
		// 0 + (0.25−0.5)·ln(0.25/0.5) + (0.25−1e-4)·ln(0.25/1e-4)
		// = 0.25·ln 2 + 0.2499·ln 2500.
		{"empty-bin", []float64{0.5, 0.5, 0}, []float64{0.5, 0.25, 0.25}, 0.25*math.Ln2 + 0.2499*math.Log(2500)},
		{"equal", []float64{1, 2, 3}, []float64{2, 4, 6}, 0},
		// An empty histogram: 0 by definition, not NaN.
		{"empty-window", []float64{1, 2}, []float64{0, 0}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := monitor.PSI(tt.expected, tt.actual); !near(got, tt.want, 1e-12) && math.Abs(got-tt.want) > 1e-15 {
				t.Errorf("PSI = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEmptySamples(t *testing.T) {
	// Nothing to compare: D = 0, p = 1, W = 0; never NaN.
	for _, c := range [][2][]float64{{nil, nil}, {nil, {1, 2}}, {{1}, nil}} {
		if ks := monitor.KSTest(c[0], c[1]); ks.D != 0 || ks.PValue != 1 {
			t.Errorf("KSTest(%v, %v) = %+v", c[0], c[1], ks)
		}
		if w := monitor.Wasserstein(c[0], c[1]); w != 0 {
			t.Errorf("Wasserstein(%v, %v) = %v", c[0], c[1], w)
		}
	}
}

func TestQuantileEdges(t *testing.T) {
	q := func(vals ...float64) []ingest.Quantile {
		var out []ingest.Quantile
		for i, v := range vals {
			out = append(out, ingest.Quantile{P: ingest.QuantileProbs[i], Value: v})
		}
		return out
	}
	deciles := []float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9}
	tests := []struct {
		name string
		qs   []ingest.Quantile
		want []float64
	}{
		// QuantileProbs are 0, .01, .05, .1, .15, ..., .95, .99, 1: the
		// deciles are at indices 3, 5, ..., 19.
		{"distinct", q(0, 1, 2, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80, 85, 90, 95, 99, 100),
			[]float64{10, 20, 30, 40, 50, 60, 70, 80, 90}},
		// Few distinct values (0, 1, 2): equal deciles merge.
		{"repeated", q(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2),
			[]float64{0, 1, 2}},
		{"constant", q(7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7), []float64{7}},
		{"no-quantiles", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := monitor.QuantileEdges(tt.qs, deciles); !slices.Equal(got, tt.want) {
				t.Errorf("QuantileEdges = %v, want %v", got, tt.want)
			}
		})
	}
}
