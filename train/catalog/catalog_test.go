package catalog_test

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/catalog"
)

func TestTrainer(t *testing.T) {
	tests := []struct {
		name   string
		model  string
		params map[string]any
		want   string // substring of the error; "" for none
	}{
		{"OK/gbdt", "gbdt", map[string]any{"learning_rate": 0.05, "max_leaves": 31, "rounds": 10}, ""},
		{"OK/gbdt-camel", "gbdt", map[string]any{"LearningRate": 0.05}, ""},
		{"OK/logreg", "logreg", map[string]any{"c": 0.5, "max_iter": 50}, ""},
		{"ErrUnknownModel", "xgboost", nil, "unknown model kind"},
		{"OK/class_weight", "logreg", map[string]any{"class_weight": "balanced"}, ""},
		{"OK/class_weight_map", "gbdt", map[string]any{"class_weight": map[string]any{"rain": 2}}, ""},
		{"ErrUnknownParam", "gbdt", map[string]any{"learnin_rate": 0.1}, `gbdt: unknown parameter "learnin_rate" (did you mean learning_rate?)`},
		{"ErrUnknownParamFar", "ridge", map[string]any{"lambda": 0.1}, `ridge: unknown parameter "lambda" (known: alpha, parallelism)`},
		{"ErrWrongType", "logreg", map[string]any{"c": "high"}, `logreg: c: want a number, got "high"`},
		{"ErrFloatForInt", "gbdt", map[string]any{"rounds": 2.5}, `gbdt: rounds: want a whole number, got 2.5`},
		{"ErrBoolType", "golearn-rf", map[string]any{"native_categorical": "yes"}, `golearn-rf: native_categorical: want true or false, got "yes"`},
		{"ErrRange", "logreg", map[string]any{"c": -1}, `logreg: c is -1, want > 0`},
		{"ErrRangeGbdt", "gbdt", map[string]any{"subsample": 2}, `gbdt: subsample 2 is not in (0, 1]`},
		{"ErrRangeRidge", "ridge", map[string]any{"alpha": -2}, `ridge: alpha is -2, want a positive number`},
		{"ErrRangeRF", "golearn-rf", map[string]any{"trees": -5}, `golearn-rf: trees is -5, want > 0`},
		{"ErrClassWeightFamily", "golearn-rf", map[string]any{"class_weight": "balanced"}, `golearn-rf does not take class_weight (gbdt and logreg do)`},
		{"ErrClassWeightValue", "gbdt", map[string]any{"class_weight": "balance"}, `gbdt: class_weight "balance": want balanced`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := catalog.Trainer(tt.model, tt.params, 7)
			if tt.want == "" {
				if err != nil || tr.Name() != tt.model {
					t.Fatalf("Trainer = %v, %v", tr, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			if tt.name == "ErrUnknownModel" && !errors.Is(err, train.ErrUnknownModel) {
				t.Errorf("err does not wrap ErrUnknownModel")
			}
		})
	}
}

func TestCheckParams(t *testing.T) {
	for _, tc := range []struct {
		model  string
		params map[string]any
		task   train.Task
		want   string
	}{
		{"logreg", map[string]any{"c": 0}, train.Binary, ""},
		{"logreg", map[string]any{"tol": -1}, train.Binary, "logreg: tol is -1, want > 0"},
		{"gbdt", map[string]any{"class_weight": "balanced"}, train.Regression, "gbdt: class_weight applies to a class label, not a regression"},
		{"gbdt", map[string]any{"objective": "huber"}, train.Binary, "gbdt: objective huber is for a regression"},
		{"ridge", nil, train.Binary, "ridge does not fit a binary task"},
	} {
		err := catalog.CheckTask(tc.model, tc.params, tc.task)
		if got := fmt.Sprint(err); (tc.want == "" && err != nil) || (tc.want != "" && !strings.HasPrefix(got, tc.want)) {
			t.Errorf("CheckTask(%s, %v, %s) = %v, want %q", tc.model, tc.params, tc.task, err, tc.want)
		}
	}
}

func TestParams(t *testing.T) {
	var names []string
	for _, p := range catalog.Params("logreg") {
		names = append(names, p.Name+":"+p.Type)
	}
	if got, want := strings.Join(names, " "), "c:float class_weight:class_weight max_iter:int parallelism:int tol:float"; got != want {
		t.Errorf("Params(logreg) = %s, want %s", got, want)
	}
	for _, name := range catalog.Names() {
		for param := range catalog.DefaultSpace(name) {
			if !slices.ContainsFunc(catalog.Params(name), func(p catalog.Param) bool { return p.Name == param }) {
				t.Errorf("%s: the default search space has %q, which is not a parameter", name, param)
			}
		}
	}
}

func TestParseSpace(t *testing.T) {
	for _, tc := range []struct {
		model string
		in    any
		want  string // the space as "param range; ..." or the error
	}{
		{"logreg", "default", "c [0.001, 1000], log-uniform"},
		{"gbdt", map[string]any{"max_leaves": []any{15, 31}, "lambda": "default"}, "lambda [0.001, 10], log-uniform; max_leaves [15 31]"},
		{"gbdt", map[string]any{"subsample": map[string]any{"min": 0.5, "max": 1}}, "subsample [0.5, 1], uniform"},
		{"golearn-id3", "default", "golearn-id3 has no parameter to search"},
		{"gbdt", "all", `"all": want default (every documented range) or a range per parameter`},
		{"gbdt", map[string]any{"learnig_rate": "default"}, "learnig_rate: unknown parameter of gbdt (did you mean learning_rate?)"},
		{"gbdt", map[string]any{"subsample": map[string]any{"min": 0.5, "max": 2}}, "subsample: 2 is not a valid value: gbdt: subsample 2 is not in (0, 1]"},
		{"gbdt", map[string]any{"lambda": map[string]any{"min": 0, "max": 2, "log": true}}, "lambda: a log range needs min > 0, got 0"},
		{"gbdt", map[string]any{"rounds": map[string]any{"min": 10.5, "max": 20}}, "rounds: rounds takes whole numbers: min and max must be whole"},
		{"gbdt", map[string]any{"rounds": map[string]any{"min": 30, "max": 20}}, "rounds: min 30 is not below max 20"},
		{"gbdt", map[string]any{"rounds": map[string]any{"min": 1, "maks": 20}}, `rounds: unknown key "maks" (want min, max and log)`},
		{"gbdt", map[string]any{"objective": map[string]any{"min": 1, "max": 2}}, "objective: is not a number: give a list of values"},
		{"gbdt", map[string]any{"max_bins": []any{16, 300}}, "max_bins: 300 is not a valid value: gbdt: max bins 300 is not in [2, 255]"},
		{"logreg", map[string]any{"max_iter": "default"}, "max_iter: has no documented range: give its own ({min: A, max: B}) or a list of values"},
	} {
		sp, err := catalog.ParseSpace(tc.model, tc.in)
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(sp)) {
			parts = append(parts, k+" "+sp[k].String())
		}
		got := strings.Join(parts, "; ")
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("ParseSpace(%s, %v) = %q, want %q", tc.model, tc.in, got, tc.want)
		}
	}
}

// TestDraw checks that trials are seeded, stay in their ranges, give
// whole numbers to whole-number parameters, and reach both ends of a
// small integer range (max included).
func TestDraw(t *testing.T) {
	sp, err := catalog.ParseSpace("gbdt", map[string]any{
		"learning_rate": "default", "max_leaves": map[string]any{"min": 2, "max": 4}, "subsample": []any{0.5, 1.0}})
	if err != nil {
		t.Fatal(err)
	}
	draw := func(seed uint64) []map[string]any {
		rng := rand.New(rand.NewPCG(seed, 1))
		var out []map[string]any
		for range 200 {
			out = append(out, catalog.Draw("gbdt", sp, map[string]any{"rounds": 50}, rng))
		}
		return out
	}
	a, b := draw(1), draw(1)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatal("the same seed drew different trials")
	}
	if fmt.Sprint(a) == fmt.Sprint(draw(2)) {
		t.Fatal("another seed drew the same trials")
	}
	leaves := map[int]int{}
	var below, above int // learning rates below and above the log-midpoint sqrt(0.01·0.3)
	for _, p := range a {
		lr := p["learning_rate"].(float64)
		l := p["max_leaves"].(int)
		leaves[l]++
		if lr < 0.01 || lr > 0.3 || p["rounds"] != 50 {
			t.Fatalf("trial %v out of its ranges", p)
		}
		if lr < math.Sqrt(0.01*0.3) {
			below++
		} else {
			above++
		}
		if err := catalog.CheckParams("gbdt", p); err != nil {
			t.Fatal(err)
		}
	}
	if len(leaves) != 3 || leaves[2] < 40 || leaves[4] < 40 {
		t.Errorf("max_leaves drawn %v, want 2, 3 and 4 about equally", leaves)
	}
	// Log-uniform: as many below the geometric midpoint as above.
	if below < 70 || above < 70 {
		t.Errorf("learning rates: %d below the log-midpoint, %d above; want about 100 each", below, above)
	}
}

func TestDecoders(t *testing.T) {
	for _, name := range catalog.Names() {
		if catalog.Decoders()[name] == nil {
			t.Errorf("no decoder for %q", name)
		}
	}
}
