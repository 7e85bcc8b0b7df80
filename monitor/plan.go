package monitor

import (
	"fmt"
	"slices"
	"strconv"

	"gonum.org/v1/gonum/stat"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/ingest/profile"
)

// A plan is how one monitored series (a feature, a timestamp's part, or
// the predicted probability) is binned and what its baseline is. It is
// built once from the Baseline and read concurrently afterwards.
//
// Every plan's buckets end with two fixed ones: "(other)", for a
// category outside the training categories (unseen, or beyond the
// profile's MaxCategories), always empty for a numeric series; and
// "(missing)", for a null, absent, NaN or wrongly typed value.
type plan struct {
	name  string // the series' name in the report: "distance", "date:hour", "probability"
	input string // the raw input it reads ("" for the probability)
	typ   string // the input's contract type
	kind  string // KindNumeric or KindCategorical
	part  string // partHour or partDayOfWeek for a timestamp, else ""

	// noBaseline, when set, says why the series cannot be compared.
	noBaseline string

	// Buckets: labels[k] names bucket k; expected[k] is the baseline's
	// count in it; baseRows the rows behind expected (the PSI noise floor
	// counts on them).
	labels   []string
	expected []float64
	baseRows float64

	// Numeric: inner edges of right-closed bins, the reference sample
	// sorted (nil with the profile only) and the scale of Wasserstein.
	edges     []float64
	ref       []float64
	scale     float64
	scaleNote string
	// wUnit is the normalised Wasserstein distance's expected value
	// under no drift, per √(1/n + 1/m) (wassersteinUnit; 0 without ref).
	wUnit float64

	// Categorical: the bucket of each training category.
	index map[string]int
}

// Kinds of series.
const (
	KindNumeric     = "numeric"
	KindCategorical = "categorical"
)

const (
	otherLabel   = "(other)"
	missingLabel = "(missing)"
)

// psiProbs are the probabilities whose training quantiles bound the PSI
// bins of a numeric series: the deciles, ten bins with open ends.
var psiProbs = []float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9}

func (p *plan) other() int   { return len(p.labels) - 2 }
func (p *plan) missing() int { return len(p.labels) - 1 }

// observe bins one value: its bucket, its number (numeric, when
// present), its category (categorical, when present) and its state.
func (p *plan) observe(v any) (bucket int, x float64, cat string, st state) {
	switch {
	case isTimestamp(p.typ):
		t, st := timeOf(v)
		if st != present {
			return p.missing(), 0, "", st
		}
		return partIndex(t, p.part), 0, "", present
	case p.kind == KindNumeric:
		x, st := numberOf(v)
		if st != present {
			return p.missing(), 0, "", st
		}
		return binOf(p.edges, x), x, "", present
	default:
		c, st := categoryOf(v, p.typ)
		if st != present {
			return p.missing(), 0, "", st
		}
		if k, ok := p.index[c]; ok {
			return k, 0, c, present
		}
		return p.other(), 0, c, present
	}
}

// plans builds the plans of every input of b, in input order; a
// timestamp input gets two (hour and day of week). Inputs of other
// types are left out, with a note.
func plans(b *Baseline) (out []*plan, notes []string) {
	for _, in := range b.Inputs {
		var col *profile.ColumnProfile
		if b.Profile != nil {
			col = b.Profile.Column(in.Name)
		}
		var refVals []any
		if b.Reference != nil {
			refVals = b.Reference.Inputs[in.Name]
		}
		switch {
		case isNumber(in.Type):
			out = append(out, numericPlan(in, col, refVals))
		case isCategory(in.Type):
			out = append(out, categoricalPlan(in, col))
		case isTimestamp(in.Type):
			for _, part := range []string{partHour, partDayOfWeek} {
				out = append(out, timePlan(in, part, refVals, b.Reference != nil))
			}
		default:
			notes = append(notes, fmt.Sprintf("input %q of type %s is not monitored", in.Name, in.Type))
		}
	}
	return out, notes
}

// numericPlan bins a number by the training deciles (profile.json).
// The expected counts come from the reference sample when there is one
// (exact, ties included), else from the profile's quantiles (see
// profileCounts).
func numericPlan(in features.Input, col *profile.ColumnProfile, refVals []any) *plan {
	p := &plan{name: in.Name, input: in.Name, typ: in.Type, kind: KindNumeric}
	if col == nil || col.Numeric == nil {
		p.noBaseline = fmt.Sprintf("input %q is not a numeric column of the training profile", in.Name)
		p.labels = []string{otherLabel, missingLabel}
		return p
	}
	p.edges = QuantileEdges(col.Numeric.Quantiles, psiProbs)
	p.labels = append(edgeLabels(p.edges), otherLabel, missingLabel)
	p.scale = col.Numeric.Std
	if !(p.scale > 0) {
		p.scale = 1
		p.scaleNote = "the training standard deviation is 0 (a constant column): the Wasserstein distance is not normalised"
	}
	if refVals != nil {
		p.expected = make([]float64, len(p.labels))
		for _, v := range refVals {
			b, x, _, _ := p.observe(v)
			p.expected[b]++
			if b != p.missing() {
				p.ref = append(p.ref, x)
			}
		}
		slices.Sort(p.ref)
		if p.ref == nil {
			p.ref = []float64{} // a sample, all missing: still the baseline
		}
		p.baseRows = float64(len(refVals))
		p.wUnit = wassersteinUnit(p.ref, p.scale)
		return p
	}
	p.expected = profileCounts(col, p.edges)
	p.baseRows = float64(col.Count + col.Nulls)
	return p
}

// profileCounts estimates the training counts of the bins of edges from
// the profile alone. F(e), the share of training values <= e, is read
// as the largest probability whose quantile is <= e: exact for a
// continuous column (F(q_p) = p), and a lower bound where a value is
// repeated (F(q_p) >= p), for every probability in profile.QuantileProbs
// (so the 1% tails and the maximum count too). Nulls are exact.
func profileCounts(col *profile.ColumnProfile, edges []float64) []float64 {
	counts := make([]float64, len(edges)+3)
	n := float64(col.Count)
	prev := 0.0
	for k, e := range edges {
		f := 0.0
		for _, q := range col.Numeric.Quantiles {
			if q.Value <= e && q.P > f {
				f = q.P
			}
		}
		counts[k] = max(f-prev, 0) * n
		prev = max(prev, f)
	}
	counts[len(edges)] = max(1-prev, 0) * n
	counts[len(edges)+2] = float64(col.Nulls)
	return counts
}

// edgeLabels names the right-closed bins of edges.
func edgeLabels(edges []float64) []string {
	g := func(x float64) string { return strconv.FormatFloat(x, 'g', 6, 64) }
	if len(edges) == 0 {
		return []string{"(-inf, +inf)"}
	}
	out := []string{"(-inf, " + g(edges[0]) + "]"}
	for k := 1; k < len(edges); k++ {
		out = append(out, "("+g(edges[k-1])+", "+g(edges[k])+"]")
	}
	return append(out, "("+g(edges[len(edges)-1])+", +inf)")
}

// categoricalPlan buckets a string or bool by the training categories of
// the profile, whose counts are exact (all training rows).
func categoricalPlan(in features.Input, col *profile.ColumnProfile) *plan {
	p := &plan{name: in.Name, input: in.Name, typ: in.Type, kind: KindCategorical, index: map[string]int{}}
	if col == nil || col.Categorical == nil {
		p.noBaseline = fmt.Sprintf("input %q is not a categorical column of the training profile", in.Name)
		p.labels = []string{otherLabel, missingLabel}
		return p
	}
	for _, f := range col.Categorical.Top {
		p.index[f.Value] = len(p.labels)
		p.labels = append(p.labels, f.Value)
		p.expected = append(p.expected, float64(f.Count))
	}
	p.labels = append(p.labels, otherLabel, missingLabel)
	p.expected = append(p.expected, float64(col.Categorical.OtherCount), float64(col.Nulls))
	p.baseRows = float64(col.Count + col.Nulls)
	return p
}

// timePlan buckets a timestamp by one part (hour or day of the week),
// with the reference sample as the baseline: the profile holds the
// timestamps' quantiles, not the hours.
func timePlan(in features.Input, part string, refVals []any, haveRef bool) *plan {
	p := &plan{name: in.Name + ":" + part, input: in.Name, typ: in.Type, kind: KindCategorical, part: part}
	p.labels = append(slices.Clone(partLabels(part)), otherLabel, missingLabel)
	if !haveRef || refVals == nil {
		p.noBaseline = fmt.Sprintf("the %s of a timestamp needs the reference sample (%s)", part, ReferenceFile)
		return p
	}
	p.expected = make([]float64, len(p.labels))
	for _, v := range refVals {
		b, _, _, _ := p.observe(v)
		p.expected[b]++
	}
	p.baseRows = float64(len(refVals))
	return p
}

// scorePlan bins the predicted probability (a regression's predicted
// value) by the deciles of the reference scores (the validation sample),
// which are also its baseline. It is nil when there are no reference
// scores.
func scorePlan(ref *Reference) *plan {
	p := &plan{name: "probability", typ: "float64", kind: KindNumeric}
	if ref != nil && ref.Output != "" {
		p.name = ref.Output
	}
	if ref == nil || len(ref.Scores) == 0 {
		return nil
	}
	p.ref = slices.Sorted(slices.Values(ref.Scores))
	var qs []profile.Quantile
	for _, q := range psiProbs {
		qs = append(qs, profile.Quantile{P: q, Value: stat.Quantile(q, stat.Empirical, p.ref, nil)})
	}
	p.edges = QuantileEdges(qs, psiProbs)
	p.labels = append(edgeLabels(p.edges), otherLabel, missingLabel)
	p.expected = binCounts(p.edges, p.ref)
	p.expected = append(p.expected, 0, 0)
	p.baseRows = float64(len(p.ref))
	p.scale = stat.StdDev(p.ref, nil)
	if !(p.scale > 0) {
		p.scale = 1
		p.scaleNote = "the reference scores are constant: the Wasserstein distance is not normalised"
	}
	p.wUnit = wassersteinUnit(p.ref, p.scale)
	return p
}
