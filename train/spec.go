package train

import (
	"maps"
	"slices"
)

// ModelSpec is one entry of the `models:` section of a pipeline config:
// a trainer by name, its hyper-parameters, an optional grid of values to
// try (every combination is a candidate) and an optional random search.
type ModelSpec struct {
	// Name is the trainer: "gbdt", "logreg", "golearn-rf", "golearn-id3", ...
	Name string `yaml:"name" json:"name"`
	// Params are the trainer's hyper-parameters by their snake_case names
	// (learning_rate, max_leaves, c, ...); a missing one takes its default.
	Params map[string]any `yaml:"params,omitempty" json:"params,omitempty"`
	// Grid lists values to try per parameter.
	Grid map[string][]any `yaml:"grid,omitempty" json:"grid,omitempty"`
	// Search is what random search draws for this model: "default" (the
	// trainer's documented ranges) or a range per parameter ({min, max,
	// log}, a list of values, or "default"). train/catalog parses it
	// (ParseSpace); the config's selection.trials says how many trials.
	Search any `yaml:"search,omitempty" json:"search,omitempty"`
}

// Candidates expands the grid: one parameter set per combination, in a
// stable order (parameters sorted by name, values in the order given).
func (s ModelSpec) Candidates() []map[string]any {
	out := []map[string]any{copyParams(s.Params)}
	for _, k := range slices.Sorted(maps.Keys(s.Grid)) {
		var next []map[string]any
		for _, base := range out {
			for _, v := range s.Grid[k] {
				p := copyParams(base)
				p[k] = v
				next = append(next, p)
			}
		}
		if len(next) > 0 {
			out = next
		}
	}
	return out
}

func copyParams(p map[string]any) map[string]any {
	out := make(map[string]any, len(p))
	for k, v := range p {
		out[k] = v
	}
	return out
}
