package monitor

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/mlpipe/mlpipe/evaluate"
)

// TestConformal: the threshold is the ⌈(n+1)(1−α)⌉-th smallest of the
// null, and the promise 1 − r/(n+1); with too few values, the largest
// and 1/(n+1).
func TestConformal(t *testing.T) {
	seq := func(n int) []float64 {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = float64(n - i) // unsorted
		}
		return xs
	}
	for _, tc := range []struct {
		n             int
		alpha         float64
		threshold, pr float64
	}{
		{19, 0.05, 19, 0.05},
		{99, 0.05, 95, 0.05},
		{100, 0.05, 96, 1 - 96.0/101},
		{9, 0.05, 9, 0.1},
		{29, 0.0167, 29, 1.0 / 30},
	} {
		th, pr := conformal(seq(tc.n), tc.alpha)
		if th != tc.threshold || math.Abs(pr-tc.pr) > 1e-12 {
			t.Errorf("n %d, α %g: %g promising %g; want %g promising %g", tc.n, tc.alpha, th, pr, tc.threshold, tc.pr)
		}
	}
	// A new value drawn like the null exceeds the threshold at most as
	// often as promised (uniform values: exactly).
	rng := rand.New(rand.NewPCG(3, 3))
	over, trials := 0, 20000
	for range trials {
		xs := make([]float64, 39)
		for i := range xs {
			xs[i] = rng.Float64()
		}
		th, _ := conformal(xs, 0.05) // r = 38: promise 1 − 38/40 = 0.05
		if rng.Float64() > th {
			over++
		}
	}
	if rate := float64(over) / float64(trials); math.Abs(rate-0.05) > 0.006 {
		t.Errorf("exceeded %.4f of the time, promised 0.05", rate)
	}
}

// TestNoiseFloors: two samples of one distribution, of n and m rows:
// the mean normalised Wasserstein distance is wassersteinUnit·√(1/n+1/m)
// within 10%, and no statistic crosses its noise floor in 500 draws.
func TestNoiseFloors(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	const n, m = 1500, 6000
	ref := make([]float64, m)
	for i := range ref {
		ref[i] = math.Exp(rng.NormFloat64())
	}
	slices.Sort(ref)
	mean := 0.0
	for _, x := range ref {
		mean += x / m
	}
	sd := 0.0
	for _, x := range ref {
		sd += (x - mean) * (x - mean) / m
	}
	sd = math.Sqrt(sd)
	unit := wassersteinUnit(ref, sd)
	edges := []float64{0.3, 0.5, 0.7, 0.9, 1.1, 1.4, 1.8, 2.5, 3.5}
	th := SeriesThresholds{}.floored([]string{statPSI, statKS, statWasserstein}, len(edges)+1, n, m, unit)
	sumW, crossed := 0.0, 0
	const draws = 500
	for range draws {
		w := make([]float64, n)
		for i := range w {
			w[i] = math.Exp(rng.NormFloat64())
		}
		slices.Sort(w)
		d, wd := ecdfDistances(ref, w)
		psi := PSI(binCounts(edges, ref), binCounts(edges, w))
		sumW += wd / sd
		if d > th.KS || wd/sd > th.Wasserstein || psi > th.PSI {
			crossed++
		}
	}
	want := unit * math.Sqrt(1.0/n+1.0/m)
	if got := sumW / draws; math.Abs(got/want-1) > 0.1 {
		t.Errorf("mean Wasserstein %.5f sd, expected %.5f", got, want)
	}
	if crossed > 0 {
		t.Errorf("%d of %d undrifted draws crossed a noise floor (%+v)", crossed, draws, th)
	}
}

// TestDomainFloor: under no difference at all (both sides drawn from one
// distribution) the AUC exceeds the noise floor at the rate asked, and
// the floor at the defaults is 0.5 + 1.645 × 0.0058.
func TestDomainFloor(t *testing.T) {
	if got := domainFloor(DefaultDomainRows, 0.05); math.Abs(got-0.50949) > 1e-4 {
		t.Errorf("floor at %d rows, alpha 0.05: %.5f, want 0.50949", DefaultDomainRows, got)
	}
	const k, reps = 500, 4000
	for _, alpha := range []float64{0.05, 0.2} {
		rng := rand.New(rand.NewPCG(7, uint64(100*alpha)))
		floor := domainFloor(k, alpha)
		y := make([]float64, 2*k)
		for i := k; i < 2*k; i++ {
			y[i] = 1
		}
		s := make([]float64, 2*k)
		over := 0
		for range reps {
			for i := range s {
				s[i] = rng.Float64()
			}
			auc, err := evaluate.ROCAUC(y, s)
			if err != nil {
				t.Fatal(err)
			}
			if auc > floor {
				over++
			}
		}
		// The rate's sd over reps draws: √(α(1−α)/reps), 0.0034 at 0.05.
		rate := float64(over) / reps
		if sd := math.Sqrt(alpha * (1 - alpha) / reps); math.Abs(rate-alpha) > 4*sd {
			t.Errorf("alpha %.2f: %d of %d null AUCs above the floor %.4f (%.4f), want %.2f ± %.4f", alpha, over, reps, floor, rate, alpha, 4*sd)
		}
	}
}
