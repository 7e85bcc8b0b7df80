package monitor

import (
	"math"
	"slices"
)

// This file turns a Calibration's nulls into thresholds, and scales them
// to a window's size.

// SeriesThresholds are the thresholds that judge one series, and where
// they come from.
type SeriesThresholds struct {
	// The thresholds of the statistics that judge the series (0: the
	// statistic does not judge it).
	PSI         float64 `json:"psi,omitempty"`
	KS          float64 `json:"ks,omitempty"`
	Wasserstein float64 `json:"wasserstein,omitempty"`
	JS          float64 `json:"js,omitempty"`
	// Source is SourceCalibrated, SourceOverride or SourceFixed.
	Source string `json:"source"`
	// Alpha is the false-alarm rate the calibrated thresholds promise
	// the series on a window like the training period's (the sum of its
	// statistics' levels); Pairs the window pairs they were drawn from.
	Alpha float64 `json:"alpha,omitempty"`
	Pairs int     `json:"pairs,omitempty"`
	// Scale is the factor the calibrated PSI threshold was raised by for
	// a window smaller than the calibration's (1: none; the other
	// statistics' were raised by its square root).
	Scale float64 `json:"scale,omitempty"`
	// NoiseFloor lists the statistics whose threshold was raised to the
	// window's noise floor: what the statistic could reach on a window
	// of its size by sampling noise alone.
	NoiseFloor []string `json:"noise_floor,omitempty"`

	// The sizes the calibration measured at: the later window's rows and
	// the earlier window's (or its sample's).
	calRows, calBase float64
}

// Threshold sources.
const (
	// SourceCalibrated: drawn from the bundle's calibration.
	SourceCalibrated = "calibrated"
	// SourceOverride: the config's monitor.series entry for the series.
	SourceOverride = "override"
	// SourceFixed: the fixed thresholds (psi_threshold and the others).
	SourceFixed = "fixed"
)

// conformal returns the threshold a null sample xs gives at level alpha,
// and the exceedance rate it promises: the r-th smallest value,
// r = ⌈(n+1)(1−alpha)⌉. If a new value and the n of the null are
// exchangeable, it exceeds the r-th smallest with probability at most
// 1 − r/(n+1) ≤ alpha. With fewer than 1/alpha − 1 values r would pass
// n: the threshold is the largest value, and the promise 1/(n+1).
func conformal(xs []float64, alpha float64) (threshold, promised float64) {
	n := len(xs)
	if n == 0 {
		return math.Inf(1), 1
	}
	s := slices.Sorted(slices.Values(xs))
	r := int(math.Ceil(float64(n+1) * (1 - alpha)))
	r = min(max(r, 1), n)
	return s[r-1], 1 - float64(r)/float64(n+1)
}

// seriesThresholds draws the thresholds of a series from its null at the
// false-alarm rate alpha, split evenly between its statistics.
func (sn *SeriesNull) thresholds(alpha float64, pairs, windowRows int) SeriesThresholds {
	th := SeriesThresholds{Source: SourceCalibrated, Pairs: pairs, calRows: float64(windowRows), calBase: float64(sn.BaseRows)}
	if len(sn.Values) == 0 {
		return th
	}
	each := alpha / float64(len(sn.Values))
	for st, xs := range sn.Values {
		v, promised := conformal(xs, each)
		th.Alpha += promised
		th.set(st, v)
	}
	return th
}

// set sets the threshold of statistic st.
func (th *SeriesThresholds) set(st string, v float64) {
	switch st {
	case statPSI:
		th.PSI = v
	case statKS:
		th.KS = v
	case statWasserstein:
		th.Wasserstein = v
	case statJS:
		th.JS = v
	}
}

// get returns the threshold of statistic st (0: not used).
func (th *SeriesThresholds) get(st string) float64 {
	switch st {
	case statPSI:
		return th.PSI
	case statKS:
		return th.KS
	case statWasserstein:
		return th.Wasserstein
	case statJS:
		return th.JS
	}
	return 0
}

// scaled returns the thresholds for a window of n rows against a
// baseline of m: a calibrated threshold holds for windows the size of
// the calibration's. A smaller window's statistics carry more sampling
// noise (PSI's grows as 1/n + 1/m, KS D's, the Wasserstein distance's
// and the JS distance's as its square root), so for one the thresholds
// are raised in that proportion, as if all of the calibrated threshold
// were noise: never more sensitive than calibrated, and no more false
// alarms on small windows. Larger windows keep the calibrated values.
func (th SeriesThresholds) scaled(n, m float64) SeriesThresholds {
	th.Scale = 1
	if th.Source != SourceCalibrated || !(th.calRows > 0) || !(n > 0) {
		return th
	}
	noise := func(n, m float64) float64 {
		v := 1 / n
		if m > 0 {
			v += 1 / m
		}
		return v
	}
	f := noise(n, m) / noise(th.calRows, th.calBase)
	if f <= 1 {
		return th
	}
	th.Scale = f
	th.PSI *= f
	r := math.Sqrt(f)
	th.KS *= r
	th.Wasserstein *= r
	th.JS *= r
	return th
}

// ksCritical is the Kolmogorov distribution's 1 − 1e-4 quantile:
// Q_KS(2.226) = 2·e^(−2·2.226²) ≈ 1e-4, the tail noiseFactor gives PSI.
const ksCritical = 2.226

// floored raises the threshold of each of the series' statistics to its
// noise floor on a window of n rows
// against a baseline of m, over k non-empty bins: noiseFactor times the
// statistic's expected value under no drift for PSI, (K−1)(1/n + 1/m),
// and for the Wasserstein distance, wUnit·√(1/n + 1/m) (see wUnit); the
// 1e-4 tail of Kolmogorov's distribution for KS D, ksCritical·√(1/n +
// 1/m); and for the JS distance the floor of PSI mapped by JS ≈
// √(PSI / 8 ln 2), which holds for small shifts. A calibrated threshold
// can be below it where the training data varies less from week to week
// than sampling alone would make a window of this size vary (a
// timestamp's day of the week, over whole weeks).
func (th SeriesThresholds) floored(stats []string, k int, n, m, wUnit float64) SeriesThresholds {
	if !(n > 0) {
		return th
	}
	noise := 1 / n
	if m > 0 {
		noise += 1 / m
	}
	psi := noiseFactor * float64(max(k-1, 1)) * noise
	floors := []struct {
		name  string
		v     *float64
		floor float64
	}{
		{statPSI, &th.PSI, psi},
		{statKS, &th.KS, ksCritical * math.Sqrt(noise)},
		{statWasserstein, &th.Wasserstein, noiseFactor * wUnit * math.Sqrt(noise)},
		{statJS, &th.JS, math.Sqrt(psi / (8 * math.Ln2))},
	}
	th.NoiseFloor = nil
	for _, f := range floors {
		if slices.Contains(stats, f.name) && *f.v < f.floor {
			*f.v = f.floor
			th.NoiseFloor = append(th.NoiseFloor, f.name)
		}
	}
	return th
}

// wassersteinUnit is the expected normalised Wasserstein distance
// between two samples of one distribution, per √(1/n + 1/m): the mean of
// ∫|B(F(x))|dx for a Brownian bridge B, √(2/π)·∫√(F(1−F))dx (del
// Barrio, Giné and Matrán 1999), over the standard deviation, with F the
// sorted sample's empirical distribution.
func wassersteinUnit(sorted []float64, sd float64) float64 {
	n := len(sorted)
	if n < 2 || !(sd > 0) {
		return 0
	}
	integral := 0.0
	for i := 0; i+1 < n; i++ {
		f := float64(i+1) / float64(n)
		integral += math.Sqrt(f*(1-f)) * (sorted[i+1] - sorted[i])
	}
	return math.Sqrt(2/math.Pi) * integral / sd
}
