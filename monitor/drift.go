package monitor

import (
	"cmp"
	"fmt"
	"iter"
	"math"
	"slices"
	"strings"

	"github.com/mlpipe/mlpipe/internal/numfmt"
)

// noiseFactor sets the sample size a series needs beyond MinSamples: its
// PSI noise floor (the PSI an undrifted window of its size would score)
// must be at most PSI threshold / noiseFactor. At 4, an undrifted
// window crosses the threshold with probability P(χ²(K−1) > 4(K−1)),
// below 1e-4 for any K ≥ 10 (and smaller still for more bins).
const noiseFactor = 4

// maxUnseen bounds the distinct unseen categories counted per series,
// so a flood of garbage values cannot grow memory without bound.
const maxUnseen = 10_000

// accumulator collects one series over a window.
type accumulator struct {
	counts  []float64 // per bucket
	values  []float64 // numeric: the present values
	missing int
	invalid int
	unseen  map[string]int
}

// accumulate bins vals; n is how many there are at most.
func (p *plan) accumulate(vals iter.Seq[any], n int) *accumulator {
	a := &accumulator{counts: make([]float64, len(p.labels))}
	if p.kind == KindNumeric {
		a.values = make([]float64, 0, n)
	}
	for v := range vals {
		b, x, c, st := p.observe(v)
		a.counts[b]++
		switch {
		case st == missing:
			a.missing++
		case st == invalid:
			a.invalid++
		case p.kind == KindNumeric:
			a.values = append(a.values, x)
		case b == p.other():
			if a.unseen == nil {
				a.unseen = map[string]int{}
			}
			if _, ok := a.unseen[c]; ok || len(a.unseen) < maxUnseen {
				a.unseen[c]++
			}
		}
	}
	return a
}

// accumulateFloats bins numbers (the predicted probabilities) without
// boxing each into an interface value.
func (p *plan) accumulateFloats(xs iter.Seq[float64], n int) *accumulator {
	a := &accumulator{counts: make([]float64, len(p.labels)), values: make([]float64, 0, n)}
	for x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			a.counts[p.missing()]++
			a.missing++
			continue
		}
		a.counts[binOf(p.edges, x)]++
		a.values = append(a.values, x)
	}
	return a
}

// measure compares the window's accumulation with the plan's baseline
// and judges the series by th (scaled to the window's size) and t's
// MinSamples.
func (p *plan) measure(a *accumulator, t Thresholds, th SeriesThresholds) Feature {
	f := Feature{Name: p.name, Input: p.input, Kind: p.kind, Missing: a.missing, Invalid: a.invalid}
	for _, c := range a.counts {
		f.Rows += int(c)
	}
	f.BaselineRows = int(p.baseRows)
	if p.noBaseline != "" {
		f.Status, f.Reason = StatusNoBaseline, p.noBaseline
		return f
	}
	if f.Rows == 0 {
		f.Status, f.Reason = StatusNotEnoughData, "no rows in the window"
		return f
	}
	if p.scaleNote != "" {
		f.Notes = append(f.Notes, p.scaleNote)
	}
	psi := PSI(p.expected, a.counts)
	f.PSI = &psi
	k := 0 // bins that are not empty on both sides
	for i := range a.counts {
		if a.counts[i] > 0 || p.expected[i] > 0 {
			k++
		}
	}
	f.Buckets = k
	f.PSINoise = noiseFloor(k, float64(f.Rows), p.baseRows)
	th = th.scaled(float64(f.Rows), p.baseRows).floored(p.statistics(), k, float64(f.Rows), p.baseRows, p.wUnit)
	f.Thresholds = &th
	f.Bins = p.bins(a.counts)
	if p.kind == KindNumeric && p.ref != nil {
		slices.Sort(a.values)
		ks := KSTest(p.ref, a.values)
		f.KS = &ks
		w := Wasserstein(p.ref, a.values)
		f.Wasserstein = &WassersteinDrift{Distance: w, Scale: p.scale, Normalised: w / p.scale}
	}
	if p.kind == KindCategorical {
		js := JSDistance(p.expected, a.counts)
		f.JSDistance = &js
		chi := ChiSquareTest(p.expected, a.counts)
		f.ChiSquare = &chi
		f.Unseen = topUnseen(a.unseen, 5)
	}

	// Whether the window can be judged at all is the fixed PSI
	// threshold's question: a window too small to tell a PSI of
	// psi_threshold from sampling noise is not enough data.
	switch need := rowsNeeded(k, p.baseRows, t.PSI); {
	case f.Rows < t.MinSamples:
		f.Status = StatusNotEnoughData
		f.Reason = fmt.Sprintf("%s rows in the window; min_samples is %s", numfmt.Thousands(f.Rows), numfmt.Thousands(t.MinSamples))
	case f.PSINoise > t.PSI/noiseFactor:
		f.Status = StatusNotEnoughData
		if need > 0 {
			f.Reason = fmt.Sprintf("%d bins need about %s rows: an undrifted window of %s would score PSI ≈ %.3f, above 1/%d of psi_threshold %g",
				k, numfmt.Thousands(need), numfmt.Thousands(f.Rows), f.PSINoise, noiseFactor, t.PSI)
		} else {
			f.Reason = fmt.Sprintf("the baseline's %s rows are too few for %d bins", numfmt.Thousands(f.BaselineRows), k)
		}
	default:
		f.Status = StatusOK
		var why []string
		if psi > th.PSI {
			f.DriftedBy = append(f.DriftedBy, statPSI)
			why = append(why, fmt.Sprintf("PSI %.4g > %.4g", psi, th.PSI))
		}
		if f.KS != nil && f.KS.D > th.KS {
			f.DriftedBy = append(f.DriftedBy, statKS)
			why = append(why, fmt.Sprintf("KS D %.4g > %.4g", f.KS.D, th.KS))
		}
		if f.Wasserstein != nil && f.Wasserstein.Normalised > th.Wasserstein {
			f.DriftedBy = append(f.DriftedBy, statWasserstein)
			why = append(why, fmt.Sprintf("Wasserstein %.4g sd > %.4g", f.Wasserstein.Normalised, th.Wasserstein))
		}
		if f.JSDistance != nil && *f.JSDistance > th.JS {
			f.DriftedBy = append(f.DriftedBy, statJS)
			why = append(why, fmt.Sprintf("JS distance %.4g > %.4g", *f.JSDistance, th.JS))
		}
		if len(why) > 0 {
			f.Status = StatusDrift
			f.Reason = strings.Join(why, ", ")
			if th.Source != SourceFixed {
				f.Reason += " (" + th.Source + ")"
			}
		}
	}
	return f
}

// noiseFloor is the expected PSI of a window of n rows drawn from the
// baseline's own distribution, over k non-empty bins, the baseline
// itself m rows: PSI is about a chi-square statistic divided by the
// sample size, χ²(k−1)·(1/n + 1/m), whose mean this is.
func noiseFloor(k int, n, m float64) float64 {
	if k < 2 || n <= 0 {
		return 0
	}
	inv := 1 / n
	if m > 0 {
		inv += 1 / m
	}
	return float64(k-1) * inv
}

// rowsNeeded is the window size at which the noise floor of k bins
// falls to the threshold's share, or 0 if the baseline is too small for
// any window to get there.
func rowsNeeded(k int, m, threshold float64) int {
	room := threshold / noiseFactor
	if m > 0 {
		room -= float64(k-1) / m
	}
	if room <= 0 {
		return 0
	}
	return int(math.Ceil(float64(k-1) / room))
}

// bins returns the PSI bins: every bin of a numeric series but an empty
// "(other)" or "(missing)"; the ten largest terms of a categorical one.
func (p *plan) bins(actual []float64) []Bin {
	se, sa := sum(p.expected), sum(actual)
	var out []Bin
	for i, label := range p.labels {
		e, a := 0.0, 0.0
		if se > 0 {
			e = p.expected[i] / se
		}
		if sa > 0 {
			a = actual[i] / sa
		}
		if e == 0 && a == 0 && (i >= p.other() || p.kind == KindCategorical) {
			continue
		}
		out = append(out, Bin{Bin: label, Expected: e, Actual: a, PSI: psiContribution(e, a)})
	}
	if p.kind == KindCategorical && p.part == "" {
		slices.SortStableFunc(out, func(x, y Bin) int { return cmp.Compare(y.PSI, x.PSI) })
		if len(out) > 10 {
			out = out[:10]
		}
	}
	return out
}

// topUnseen returns the n most frequent unseen categories.
func topUnseen(m map[string]int, n int) []Count {
	out := make([]Count, 0, len(m))
	for v, c := range m {
		out = append(out, Count{v, c})
	}
	slices.SortFunc(out, func(a, b Count) int { return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Value, b.Value)) })
	if len(out) > n {
		out = out[:n]
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
