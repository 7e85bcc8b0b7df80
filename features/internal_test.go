package features

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// TestTimeValue checks the integer date arithmetic against package time
// on random instants from 1900 to 2100, before and after 1970.
func TestTimeValue(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	lo := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	hi := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	for i := 0; i < 100_000; i++ {
		us := lo + rng.Int64N(hi-lo)
		tm := time.UnixMicro(us).UTC()
		want := map[string]float64{
			"hour":          float64(tm.Hour()) + 1,
			"minute_of_day": float64(tm.Hour()*60 + tm.Minute()),
			"day_of_week":   float64((int(tm.Weekday())+6)%7) + 1, // Monday is code 1
			"day_of_month":  float64(tm.Day()),
			"month":         float64(tm.Month()),
			"day_of_year":   float64(tm.YearDay()),
			"year":          float64(tm.Year()),
			"quarter":       float64((int(tm.Month())-1)/3 + 1),
			"is_weekend":    map[bool]float64{true: 1, false: 0}[tm.Weekday() == time.Saturday || tm.Weekday() == time.Sunday],
		}
		for part, w := range want {
			if got := timeValue(part, us, true); got != w {
				t.Fatalf("%s of %s = %v, want %v", part, tm, got, w)
			}
		}
	}
}

// TestOutOfFold checks that a training row's target encoding does not
// use its own label: a category seen in one row only gets the prior of
// the other folds, not a value pulled towards its label.
func TestOutOfFold(t *testing.T) {
	keys := []string{"a", "a", "a", "a", "b"}
	y := []float64{0, 0, 0, 0, 1}
	folds := []uint8{0, 1, 2, 3, 4}
	// Without row 4 (fold 4), "b" is unseen: its encoding is the prior of
	// rows 0–3, which is 0.
	te := fitTE(keys, y, 20, folds, 4)
	if got := te.encode("b"); got != 0 {
		t.Errorf("out-of-fold encoding of b = %v, want the prior 0", got)
	}
	// With every row, b = (1 + 20·0.2) / (1 + 20) = 5/21 (prior 1/5).
	all := fitTE(keys, y, 20, nil, -1)
	if got, want := all.encode("b"), 5.0/21; got != want {
		t.Errorf("encoding of b = %v, want %v", got, want)
	}
}

// TestOOFEncode checks the one-pass out-of-fold encoding against fitting
// fitTE on the other folds, row by row.
func TestOOFEncode(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	n := 2000
	keys := make([]string, n)
	y := make([]float64, n)
	for i := range keys {
		keys[i] = string(rune('a' + rng.IntN(30)))
		if rng.IntN(10) == 0 {
			keys[i] = missingKey
		}
		if rng.Float64() < 0.3 {
			y[i] = 1
		}
	}
	keys[7] = "only-here" // a category of one row
	folds := assignFolds(n, 9, nil)
	got := make([]float64, n)
	oof := newOOFStats(20)
	oof.add(keys, y, folds)
	oof.finish()
	oof.encode(keys, folds, got)
	for f := 0; f < Folds; f++ {
		te := fitTE(keys, y, 20, folds, f)
		for r, k := range keys {
			if int(folds[r]) == f {
				if want := te.encode(k); math.Abs(got[r]-want) > 1e-12 {
					t.Fatalf("row %d (key %q, fold %d): %v, want %v", r, k, f, got[r], want)
				}
			}
		}
	}
}

// TestNumericHugeValues: values near the float64 limit overflowed the
// numeric step's sums, so its mean or spread was infinite or NaN: the
// fitted pipeline could not be saved, or every feature was NaN and
// logreg failed ("initial function value is NaN"). The step's mean and
// spread must be those of the values (scaled, then scaled back), and
// every feature finite and in order. Ordinary values keep the plain
// sums: 1, 2, 3 give mean 2 and spread √(2/3) exactly as before.
func TestNumericHugeValues(t *testing.T) {
	for _, tc := range []struct {
		name      string
		xs        []float64
		mean, std float64
	}{
		{"ordinary", []float64{1, 2, 3}, 2, math.Sqrt(14.0/3 - 4)},
		{"1e300", []float64{1e300, 3e300}, 2e300, 1e300},
		{"both signs", []float64{-1.7e308, -1e308, 0, 1, 1.7e308}, -2e307, 1.1471e308},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := Step{Column: "x", Transform: "numeric"}
			xs := append([]float64(nil), tc.xs...)
			fitNumeric(&st, xs)
			if math.Abs(st.Mean-tc.mean) > 1e-4*math.Abs(tc.std) || math.Abs(st.Std/tc.std-1) > 1e-4 {
				t.Errorf("mean %g, spread %g; want %g, %g", st.Mean, st.Std, tc.mean, tc.std)
			}
			prev := math.Inf(-1)
			for _, x := range tc.xs {
				f := st.numeric(x, true)
				if math.IsInf(f, 0) || math.IsNaN(f) || f < prev {
					t.Errorf("feature of %g is %g after %g: want finite and ascending", x, f, prev)
				}
				prev = f
			}
		})
	}
}
