package registry_test

import (
	"strconv"
	"testing"

	"github.com/mlpipe/mlpipe/registry"
)

func TestHint(t *testing.T) {
	empty, _ := registry.Open(t.TempDir())
	s, _ := registry.Open(t.TempDir())
	for i, m := range []string{"flights-delay", "flights-delay", "penguins-species"} {
		// Distinct contents: the same bytes would be one version.
		if _, err := s.Register(m, modelDir(t, m+strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetAlias("flights-delay", "production", 2); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAlias("flights-delay", "previous", 1); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		store *registry.Store
		ref   string
		want  string
	}{
		{"OK/resolves", s, "flights-delay@production", ""},
		{"ErrTypo", s, "flights-dealy@production", "did you mean flights-delay? models: flights-delay, penguins-species"},
		{"ErrFar", s, "taxi-fares", "models: flights-delay, penguins-species"},
		{"ErrAliasTypo", s, "flights-delay@prodution", "did you mean flights-delay@production? flights-delay has versions v1..v2, aliases previous=v1 production=v2"},
		{"ErrNoAlias", s, "penguins-species", "penguins-species has version v1 and no aliases"},
		{"ErrVersion", s, "flights-delay@7", "flights-delay has versions v1..v2, aliases previous=v1 production=v2"},
		{"ErrEmpty", empty, "flights-delay", "the registry has no models yet; `mlpipe run` registers one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.store.Hint(tt.ref); got != tt.want {
				t.Errorf("Hint(%q) =\n  %q\nwant\n  %q", tt.ref, got, tt.want)
			}
		})
	}
}
