// Package catalog names the trainers a config can ask for.
//
// In: a model name from the config's `models:` list ("gbdt", "logreg",
// "golearn-rf", ...), its parameters by snake_case name, and the run's
// seed. Out: a train.Trainer, or an error naming the unknown model or
// parameter. It also maps each saved model kind to its decoder, for
// train.Load.
//
// It is the one place that knows every model family; the families do
// not know each other.
package catalog

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/gbdt"
	"github.com/mlpipe/mlpipe/train/golearn"
	"github.com/mlpipe/mlpipe/train/logreg"
	"github.com/mlpipe/mlpipe/train/ridge"
)

// entry is one trainer family: how to build it from decoded params.
type entry struct {
	// params returns a pointer to a new Params struct of the family.
	params func() any
	// build makes the trainer from the filled Params.
	build func(p any) train.Trainer
	// about is one line for --help and errors.
	about string
	// note is shown beside the family's rows of the leaderboard.
	note string
	// tasks are the tasks the family fits.
	tasks []train.Task
}

var classification = []train.Task{train.Binary, train.Multiclass}

var entries = map[string]entry{
	"gbdt": {
		params: func() any { return &gbdt.Params{} },
		build:  func(p any) train.Trainer { return gbdt.New(*p.(*gbdt.Params)) },
		about:  "histogram gradient-boosted trees (mlpipe's own)",
		tasks:  []train.Task{train.Binary, train.Multiclass, train.Regression},
	},
	"logreg": {
		params: func() any { return &logreg.Params{} },
		build:  func(p any) train.Trainer { return logreg.New(*p.(*logreg.Params)) },
		about:  "L2-regularised logistic regression on gonum",
		tasks:  classification,
	},
	ridge.Name: {
		params: func() any { return &ridge.Params{} },
		build:  func(p any) train.Trainer { return ridge.New(*p.(*ridge.Params)) },
		about:  "ridge regression (L2-penalised least squares) on gonum",
		tasks:  []train.Task{train.Regression},
	},
	golearn.NameRF: {
		params: func() any { return &golearn.RFParams{} },
		build:  func(p any) train.Trainer { return golearn.NewRF(*p.(*golearn.RFParams)) },
		about:  "golearn's RandomForest (ID3 trees), a baseline",
		tasks:  classification,
	},
	golearn.NameID3: {
		params: func() any { return &golearn.ID3Params{} },
		build:  func(p any) train.Trainer { return golearn.NewID3(*p.(*golearn.ID3Params)) },
		about:  "golearn's ID3 decision tree, a baseline",
		tasks:  classification,
	},
}

// Names lists the trainer names, sorted.
func Names() []string {
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Note returns the leaderboard note of a trainer family (a known limit),
// or "".
func Note(name string) string { return entries[name].note }

// Known reports whether name is a trainer.
func Known(name string) bool { _, ok := entries[name]; return ok }

// Trainer returns the trainer called name with the given parameters
// (snake_case keys: learning_rate, max_leaves, c, ...; missing ones take
// their defaults). If the family's Params has a Seed field and params
// does not set it, it is set to seed.
func Trainer(name string, params map[string]any, seed uint64) (train.Trainer, error) {
	if _, ok := entries[name]; !ok {
		return nil, fmt.Errorf("trainer %q: %w (known: %s)", name, train.ErrUnknownModel, strings.Join(Names(), ", "))
	}
	return WithProgress(name, params, seed, nil)
}

// ProgressFunc receives a trainer's progress after each round or
// iteration: the 0-based round and the training and validation losses.
type ProgressFunc = func(round int, trainLoss, validLoss float64)

// WithProgress returns the trainer called name like Trainer does, with
// progress reported to fn if the family supports it (its Params has a
// Progress field of type ProgressFunc); others ignore fn.
func WithProgress(name string, params map[string]any, seed uint64, fn ProgressFunc) (train.Trainer, error) {
	e, ok := entries[name]
	if !ok {
		return Trainer(name, params, seed)
	}
	p := e.params()
	if err := decodeParams(name, params, p); err != nil {
		return nil, err
	}
	v := reflect.ValueOf(p).Elem()
	if f := v.FieldByName("Seed"); f.IsValid() && f.CanSet() && f.Kind() == reflect.Uint64 {
		if _, set := params["seed"]; !set {
			f.SetUint(seed)
		}
	}
	if f := v.FieldByName("Progress"); fn != nil && f.IsValid() && f.CanSet() && f.Type() == reflect.TypeOf(fn) {
		f.Set(reflect.ValueOf(fn))
	}
	return e.build(p), nil
}

// CheckParams reports whether params are valid for trainer name, without
// building it (for config validation).
func CheckParams(name string, params map[string]any) error {
	e, ok := entries[name]
	if !ok {
		return fmt.Errorf("%w %q (known: %s)", train.ErrUnknownModel, name, strings.Join(Names(), ", "))
	}
	return decodeParams(name, params, e.params())
}

// CheckTask reports whether trainer name, with params, fits task: the
// family must fit it (logreg fits no regression, ridge no classifier), and
// so must its parameters (a gbdt regression objective fits no
// classifier). Config validation calls it for every candidate.
func CheckTask(name string, params map[string]any, task train.Task) error {
	e, ok := entries[name]
	if !ok {
		return fmt.Errorf("%w %q (known: %s)", train.ErrUnknownModel, name, strings.Join(Names(), ", "))
	}
	if !slices.Contains(e.tasks, task) {
		return fmt.Errorf("%s does not fit a %s task (for a %s, use %s)", name, task, task, strings.Join(For(task), ", "))
	}
	p := e.params()
	if err := decodeParams(name, params, p); err != nil {
		return err
	}
	if c, ok := p.(interface{ CheckTask(train.Task) error }); ok {
		if err := c.CheckTask(task); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// For lists the trainers that fit task, sorted.
func For(task train.Task) []string {
	var names []string
	for _, n := range Names() {
		if slices.Contains(entries[n].tasks, task) {
			names = append(names, n)
		}
	}
	return names
}

// decodeParams fills dst (a pointer to a Params struct) from snake_case
// params. An unknown name is an error that lists the known ones.
func decodeParams(model string, params map[string]any, dst any) error {
	fields := map[string]string{} // lower-case name without "_" → JSON key of the field
	t := reflect.TypeOf(dst).Elem()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || f.Type.Kind() == reflect.Func || tag == "-" {
			continue
		}
		key := f.Name
		if tag != "" {
			key = tag
		}
		fields[strings.ToLower(f.Name)] = key
	}
	norm := map[string]any{}
	for k, v := range params {
		name, ok := fields[strings.ToLower(strings.ReplaceAll(k, "_", ""))]
		if !ok {
			var known []string
			for _, f := range fields {
				if strings.ContainsRune(f, '_') || strings.ToLower(f) == f {
					known = append(known, f)
				} else {
					known = append(known, snake(f))
				}
			}
			sort.Strings(known)
			return fmt.Errorf("%s: unknown parameter %q (known: %s)", model, k, strings.Join(known, ", "))
		}
		norm[name] = v
	}
	b, err := json.Marshal(norm)
	if err != nil {
		return fmt.Errorf("%s: parameters: %w", model, err)
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return fmt.Errorf("%s: parameters: %v", model, err)
	}
	return nil
}

// snake turns a Go field name into its snake_case parameter name:
// LearningRate → learning_rate, MinChildWeight → min_child_weight.
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && r >= 'A' && r <= 'Z' && (s[i-1] < 'A' || s[i-1] > 'Z') {
			b.WriteByte('_')
		}
		b.WriteRune(r)
	}
	return strings.ToLower(b.String())
}

// Decoders maps every saved model kind to its decoder, for train.Load.
func Decoders() map[string]train.Decoder {
	d := map[string]train.Decoder{
		"gbdt":     gbdt.Decode,
		"logreg":   logreg.Decode,
		ridge.Name: ridge.Decode,
	}
	for kind, dec := range golearn.Decoders() {
		d[kind] = dec
	}
	return d
}
