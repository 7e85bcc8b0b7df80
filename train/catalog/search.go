package catalog

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/mlpipe/mlpipe/internal/suggest"
	"github.com/mlpipe/mlpipe/train"
)

// Random search. A model of the config's `models:` list may have a
// `search:` beside its params and grid: the parameters that random search
// draws for it, each from a range or a list of values, or "default" for
// the family's documented range. Each trial draws every listed parameter
// independently (seeded) on top of the model's params.
//
//	search: default                      # every documented range below
//	search:
//	  learning_rate: {min: 0.02, max: 0.3, log: true}
//	  max_leaves: [15, 31, 63, 127]
//	  lambda: default
//
// The documented ranges follow the tunability study of Probst, Boulesteix
// and Bischl, "Tunability: importance of hyperparameters of machine
// learning algorithms", JMLR 20 (2019), table 3 (the ranges they tuned
// XGBoost and glmnet over), narrowed where our defaults or our parameter's
// meaning differ: see each entry.

// Range is where random search draws one parameter from: uniformly in
// [Min, Max] (uniformly in log space when Log, which needs Min > 0), or
// one of Values. A whole-number parameter draws whole numbers.
type Range struct {
	Min, Max float64
	Log      bool
	Values   []any
}

func (r Range) String() string {
	if r.Values != nil {
		return fmt.Sprint(r.Values)
	}
	if r.Log {
		return fmt.Sprintf("[%g, %g], log-uniform", r.Min, r.Max)
	}
	return fmt.Sprintf("[%g, %g], uniform", r.Min, r.Max)
}

// The documented ranges of `search: default`.
var (
	gbdtSpace = map[string]Range{
		// Probst et al.: eta in [2^-10, 1]; we start at 0.01, below which
		// the few hundred rounds below cannot converge.
		"learning_rate": {Min: 0.01, Max: 0.3, Log: true},
		// With early stopping (20 rounds) the bound matters more than the
		// value: enough rounds for the smallest learning rate.
		"rounds": {Min: 50, Max: 500, Log: true},
		// Leaf-wise trees: 2^2 to 2^8 leaves (XGBoost's max_depth 2–8).
		"max_leaves": {Min: 4, Max: 256, Log: true},
		// min_child_weight 1 to 2^7 in Probst et al., in rows here.
		"min_samples_leaf": {Min: 2, Max: 128, Log: true},
		// lambda 2^-10 to 2^10 there; beyond 10 it only slows learning.
		"lambda":     {Min: 1e-3, Max: 10, Log: true},
		"subsample":  {Min: 0.5, Max: 1},
		"col_sample": {Min: 0.5, Max: 1},
	}
	logregSpace = map[string]Range{
		// glmnet's lambda 2^-10 to 2^10 in Probst et al.; C is 1/lambda.
		"c": {Min: 1e-3, Max: 1e3, Log: true},
	}
	ridgeSpace = map[string]Range{
		"alpha": {Min: 1e-3, Max: 1e3, Log: true},
	}
	rfSpace = map[string]Range{
		// golearn's forest is slow (train/golearn/doc.go): at most 100.
		"trees": {Min: 10, Max: 100},
	}
)

// DefaultSpace returns the documented search range of each parameter of
// trainer name, by parameter name (empty for a family with none).
func DefaultSpace(name string) map[string]Range { return maps.Clone(entries[name].space) }

// SearchDefault is the `search:` value, or the value of one parameter in
// it, that takes the documented range.
const SearchDefault = "default"

// Space is a model's parsed `search:`: a Range per parameter.
type Space map[string]Range

// ParseSpace reads the `search:` of a model called name, as decoded from
// YAML or JSON: "default", or a mapping from parameter names to a range
// ({min, max, log}), a list of values, or "default". Every range is
// checked: its parameter known and searchable, its bounds valid values of
// the parameter. nil is an empty Space.
func ParseSpace(name string, v any) (Space, error) {
	e, ok := entries[name]
	if !ok {
		return nil, fmt.Errorf("%w %q (known: %s)", train.ErrUnknownModel, name, strings.Join(Names(), ", "))
	}
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		if v != SearchDefault {
			return nil, fmt.Errorf("%q: want %s (every documented range) or a range per parameter", v, SearchDefault)
		}
		if len(e.space) == 0 {
			return nil, fmt.Errorf("%s has no parameter to search", name)
		}
		return Space(maps.Clone(e.space)), nil
	case map[string]any:
		sp := Space{}
		for _, param := range slices.Sorted(maps.Keys(v)) {
			r, err := parseRange(name, param, v[param])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", param, err)
			}
			sp[param] = r
		}
		if len(sp) == 0 {
			return nil, fmt.Errorf("the mapping is empty (want %s or a range per parameter)", SearchDefault)
		}
		return sp, nil
	}
	return nil, fmt.Errorf("%v: want %s or a range per parameter", v, SearchDefault)
}

// parseRange reads and checks the range of one parameter.
func parseRange(model, param string, v any) (Range, error) {
	var known []string
	types := map[string]string{}
	for _, p := range Params(model) {
		known = append(known, p.Name)
		types[p.Name] = p.Type
	}
	typ, ok := types[param]
	if !ok {
		if h := suggest.DidYouMean(param, known, nil); h != "" {
			return Range{}, fmt.Errorf("unknown parameter of %s (%s)", model, h)
		}
		return Range{}, fmt.Errorf("unknown parameter of %s (known: %s)", model, strings.Join(known, ", "))
	}
	var r Range
	switch v := v.(type) {
	case string:
		if v != SearchDefault {
			return Range{}, fmt.Errorf("%q: want %s, a list of values or {min: A, max: B, log: true|false}", v, SearchDefault)
		}
		d, ok := entries[model].space[param]
		if !ok {
			return Range{}, fmt.Errorf("has no documented range: give its own ({min: A, max: B}) or a list of values")
		}
		return d, nil
	case []any:
		if len(v) == 0 {
			return Range{}, fmt.Errorf("the list of values is empty")
		}
		r.Values = v
	case map[string]any:
		for k := range v {
			if k != "min" && k != "max" && k != "log" {
				return Range{}, fmt.Errorf("unknown key %q (want min, max and log)", k)
			}
		}
		lo, okLo := train.Number(v["min"])
		hi, okHi := train.Number(v["max"])
		if !okLo || !okHi {
			return Range{}, fmt.Errorf("a range needs numbers min and max, got %v and %v", describe(v["min"]), describe(v["max"]))
		}
		log, isBool := v["log"].(bool)
		if _, set := v["log"]; set && !isBool {
			return Range{}, fmt.Errorf("log: want true or false, got %s", describe(v["log"]))
		}
		r = Range{Min: lo, Max: hi, Log: log}
		switch {
		case typ != "int" && typ != "float":
			return Range{}, fmt.Errorf("is not a number: give a list of values")
		case !(lo < hi):
			return Range{}, fmt.Errorf("min %g is not below max %g", lo, hi)
		case log && !(lo > 0):
			return Range{}, fmt.Errorf("a log range needs min > 0, got %g", lo)
		case typ == "int" && (lo != math.Trunc(lo) || hi != math.Trunc(hi)):
			return Range{}, fmt.Errorf("%s takes whole numbers: min and max must be whole", param)
		}
	default:
		return Range{}, fmt.Errorf("%s: want %s, a list of values or {min: A, max: B, log: true|false}", describe(v), SearchDefault)
	}
	// Every value the range can give must be valid: its ends, or each
	// listed value.
	ends := r.Values
	if ends == nil {
		ends = []any{r.Min, r.Max}
		if typ == "int" {
			ends = []any{int(r.Min), int(r.Max)}
		}
	}
	for _, x := range ends {
		if err := CheckParams(model, map[string]any{param: x}); err != nil {
			return Range{}, fmt.Errorf("%v is not a valid value: %w", describe(x), err)
		}
	}
	return r, nil
}

// Draw returns one trial's parameters for trainer name: a copy of base
// with every parameter of sp drawn from its range by rng. A whole-number
// parameter gets an int; a log range draws uniformly in log space.
func Draw(name string, sp Space, base map[string]any, rng *rand.Rand) map[string]any {
	types := map[string]string{}
	for _, p := range Params(name) {
		types[p.Name] = p.Type
	}
	out := maps.Clone(base)
	if out == nil {
		out = map[string]any{}
	}
	// Sorted, so that the same seed draws the same values whatever the
	// map's order.
	for _, param := range slices.Sorted(maps.Keys(sp)) {
		r := sp[param]
		if r.Values != nil {
			out[param] = r.Values[rng.IntN(len(r.Values))]
			continue
		}
		lo, hi := r.Min, r.Max
		if types[param] == "int" {
			hi++ // draw in [min, max+1) and round down: max is as likely as any value
		}
		var x float64
		if r.Log {
			x = math.Exp(math.Log(lo) + rng.Float64()*(math.Log(hi)-math.Log(lo)))
		} else {
			x = lo + rng.Float64()*(hi-lo)
		}
		if types[param] == "int" {
			out[param] = min(int(math.Floor(x)), int(r.Max))
			continue
		}
		// Four significant digits: 0.0734, not 0.07341829837; the
		// leaderboard shows what was fitted.
		out[param] = roundSig(x, 4)
	}
	return out
}

// roundSig rounds x to n significant digits.
func roundSig(x float64, n int) float64 {
	if x == 0 {
		return 0
	}
	p := math.Pow(10, float64(n-1)-math.Floor(math.Log10(math.Abs(x))))
	return math.Round(x*p) / p
}
