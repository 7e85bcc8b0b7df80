package suggest

import "testing"

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "abc", 3},
		{"abc", "", 3},
		{"registry", "registry", 0},
		{"regsitry", "registry", 1}, // one swap
		{"formatt", "format", 1},    // one insertion
		{"kitten", "sitting", 3},    // the textbook example
		{"ca", "abc", 3},            // OSA, not the unrestricted distance (2)
		{"rocauc", "roc_auc", 1},
		{"café", "cafe", 1}, // runes, not bytes
	}
	for _, tt := range tests {
		if got := Distance(tt.a, tt.b); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := Distance(tt.b, tt.a); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d (symmetric)", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestClosest(t *testing.T) {
	commands := []string{"ingest", "run", "train", "evaluate", "models", "runs", "registry", "export", "monitor", "report", "ui", "version"}
	tests := []struct {
		name, word string
		cands      []string
		want       string
		ok         bool
	}{
		{"OK/swap", "regsitry", commands, "registry", true},
		{"OK/missing-letter", "modles", commands, "models", true},
		{"OK/extra-letter", "trainn", commands, "train", true},
		{"OK/case", "Export", commands, "export", true},
		{"OK/dash-underscore", "roc-auc", []string{"roc_auc", "pr_auc"}, "roc_auc", true},
		{"OK/tie-first", "rum", commands, "run", true}, // run and runs: run is nearer (1 against 2)
		{"OK/short", "ux", commands, "ui", true},
		{"ErrFar", "deploy", commands, "", false},
		{"ErrShortFar", "xy", commands, "", false},
		{"ErrEmpty", "", commands, "", false},
		{"ErrNoCandidates", "run", nil, "", false},
		{"ErrSelf", "run", []string{"run"}, "", false}, // the word itself is no suggestion
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Closest(tt.word, tt.cands)
			if got != tt.want || ok != tt.ok {
				t.Errorf("Closest(%q) = %q, %v; want %q, %v", tt.word, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestDidYouMean(t *testing.T) {
	flag := func(s string) string { return "--" + s }
	if got := DidYouMean("regsitry", []string{"registry", "config"}, flag); got != "did you mean --registry?" {
		t.Errorf("got %q", got)
	}
	if got := DidYouMean("gbdtt", []string{"gbdt", "logreg"}, nil); got != "did you mean gbdt?" {
		t.Errorf("got %q", got)
	}
	if got := DidYouMean("xgboost", []string{"gbdt", "logreg"}, nil); got != "" {
		t.Errorf("got %q, want nothing", got)
	}
}
