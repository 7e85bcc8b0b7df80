package registry

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/mlpipe/mlpipe/internal/suggest"
)

// Hint says what the registry holds when ref ("NAME", "NAME@ALIAS" or
// "NAME@VERSION") names nothing that Resolve finds, for the hint of an
// error: the nearest model name and the models there are ("did you mean
// flights-delay?; models: flights-delay, penguins-species"), or, for a
// model that exists, its versions and aliases and the nearest alias.
// It is "" when ref resolves, or the registry cannot be read.
func (s *Store) Hint(ref string) string {
	if _, _, err := s.Resolve(ref); err == nil {
		return ""
	}
	name, at, _ := strings.Cut(ref, "@")
	models, err := s.Models()
	if err != nil {
		return ""
	}
	if len(models) == 0 {
		return "the registry has no models yet; `mlpipe run` registers one"
	}
	if !slices.Contains(models, name) {
		return joinHint(suggest.DidYouMean(name, models, nil), "models: "+strings.Join(models, ", "))
	}
	vs, err := s.Versions(name)
	if err != nil || len(vs) == 0 {
		return name + " has no versions"
	}
	aliases, err := s.Aliases(name)
	if err != nil {
		return ""
	}
	held := fmt.Sprintf("%s has versions v%d..v%d", name, vs[0], vs[len(vs)-1])
	if len(vs) == 1 {
		held = fmt.Sprintf("%s has version v%d", name, vs[0])
	}
	var names, list []string
	for _, a := range slices.Sorted(maps.Keys(aliases)) {
		names = append(names, a)
		list = append(list, fmt.Sprintf("%s=v%d", a, aliases[a]))
	}
	if len(list) == 0 {
		held += " and no aliases"
	} else {
		held += ", aliases " + strings.Join(list, " ")
	}
	if at == "" {
		at = "production"
	}
	return joinHint(suggest.DidYouMean(at, names, func(a string) string { return name + "@" + a }), held)
}

// joinHint puts a "did you mean" (or nothing) before what exists.
func joinHint(didYouMean, held string) string {
	if didYouMean == "" {
		return held
	}
	return didYouMean + " " + held
}
