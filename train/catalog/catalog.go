// Package catalog names the trainers a config can ask for.
//
// In: a model name from the config's `models:` list ("gbdt", "logreg",
// "golearn-rf", ...), its parameters by snake_case name, and the run's
// seed. Out: a train.Trainer, or an error naming the unknown model or
// parameter (with the nearest known name), the value of the wrong type,
// or the value out of range; class_weight, which gbdt and logreg take,
// wraps the trainer (train.WithClassWeight). For random search it parses
// a model's `search:` (ParseSpace; each family's documented ranges are in
// search.go) and draws trials from it (Draw). It also maps each saved
// model kind to its decoder, for train.Load.
//
// It is the one place that knows every model family; the families do
// not know each other.
package catalog

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/mlpipe/mlpipe/model/kinds"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/mlpipe/mlpipe/internal/suggest"
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
	// weights is true when the family's Fit honours
	// train.Dataset.ClassWeights, and so takes class_weight.
	weights bool
	// space is the family's documented random-search range of each
	// parameter that `search: default` draws (see search.go).
	space map[string]Range
}

var classification = []train.Task{train.Binary, train.Multiclass}

var entries = map[string]entry{
	"gbdt": {
		params:  func() any { return &gbdt.Params{} },
		build:   func(p any) train.Trainer { return gbdt.New(*p.(*gbdt.Params)) },
		about:   "histogram gradient-boosted trees (mlpipe's own)",
		tasks:   []train.Task{train.Binary, train.Multiclass, train.Regression},
		weights: true,
		space:   gbdtSpace,
	},
	"logreg": {
		params:  func() any { return &logreg.Params{} },
		build:   func(p any) train.Trainer { return logreg.New(*p.(*logreg.Params)) },
		about:   "L2-regularised logistic regression on gonum",
		tasks:   classification,
		weights: true,
		space:   logregSpace,
	},
	ridge.Name: {
		params: func() any { return &ridge.Params{} },
		build:  func(p any) train.Trainer { return ridge.New(*p.(*ridge.Params)) },
		about:  "ridge regression (L2-penalised least squares) on gonum",
		tasks:  []train.Task{train.Regression},
		space:  ridgeSpace,
	},
	golearn.NameRF: {
		params: func() any { return &golearn.RFParams{} },
		build:  func(p any) train.Trainer { return golearn.NewRF(*p.(*golearn.RFParams)) },
		about:  "golearn's RandomForest (ID3 trees), a baseline",
		tasks:  classification,
		space:  rfSpace,
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
	cw, rest, err := classWeight(name, params)
	if err != nil {
		return nil, err
	}
	params = rest
	p, err := checked(name, params)
	if err != nil {
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
	return train.WithClassWeight(e.build(p), cw), nil
}

// CheckParams reports whether params are valid for trainer name, without
// building it (for config validation): every name known, every value of
// the right type and in range.
func CheckParams(name string, params map[string]any) error {
	_, err := checked(name, params)
	return err
}

// checked decodes and checks params and returns the family's Params.
func checked(name string, params map[string]any) (any, error) {
	e, ok := entries[name]
	if !ok {
		return nil, fmt.Errorf("%w %q (known: %s)", train.ErrUnknownModel, name, strings.Join(Names(), ", "))
	}
	_, params, err := classWeight(name, params)
	if err != nil {
		return nil, err
	}
	p := e.params()
	if err := decodeParams(name, params, p); err != nil {
		return nil, err
	}
	if c, ok := p.(interface{ Check() error }); ok {
		if err := c.Check(); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return p, nil
}

// classWeight takes the class_weight parameter out of params: it is no
// family's own, every family that honours train.Dataset.ClassWeights
// takes it (see train.WithClassWeight).
func classWeight(name string, params map[string]any) (train.ClassWeight, map[string]any, error) {
	v, ok := params[ClassWeightParam]
	if !ok {
		return train.ClassWeight{}, params, nil
	}
	if !entries[name].weights {
		var takes []string
		for _, n := range Names() {
			if entries[n].weights {
				takes = append(takes, n)
			}
		}
		return train.ClassWeight{}, nil, fmt.Errorf("%s does not take %s (%s do)", name, ClassWeightParam, strings.Join(takes, " and "))
	}
	cw, err := train.ParseClassWeight(v)
	if err != nil {
		return train.ClassWeight{}, nil, fmt.Errorf("%s: %w", name, err)
	}
	rest := make(map[string]any, len(params)-1)
	for k, v := range params {
		if k != ClassWeightParam {
			rest[k] = v
		}
	}
	return cw, rest, nil
}

// ClassWeightParam is the parameter that weights classes: "balanced" or
// a weight per class (train.ClassWeight), for the trainers that take it.
const ClassWeightParam = "class_weight"

// TakesClassWeight reports whether trainer name takes class_weight.
func TakesClassWeight(name string) bool { return entries[name].weights }

// CheckTask reports whether trainer name, with params, fits task: the
// family must fit it (logreg fits no regression, ridge no classifier), and
// so must its parameters (a gbdt regression objective fits no
// classifier; class_weight fits no regression). Config validation calls
// it for every candidate.
func CheckTask(name string, params map[string]any, task train.Task) error {
	e, ok := entries[name]
	if !ok {
		return fmt.Errorf("%w %q (known: %s)", train.ErrUnknownModel, name, strings.Join(Names(), ", "))
	}
	if !slices.Contains(e.tasks, task) {
		return fmt.Errorf("%s does not fit a %s task (for a %s, use %s)", name, task, task, strings.Join(For(task), ", "))
	}
	if _, ok := params[ClassWeightParam]; ok && task == train.Regression {
		return fmt.Errorf("%s: %s applies to a class label, not a regression", name, ClassWeightParam)
	}
	p, err := checked(name, params)
	if err != nil {
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
// params. An unknown name is an error that suggests the nearest known
// one; a value of the wrong type is an error that names the parameter
// and the type it wants.
func decodeParams(model string, params map[string]any, dst any) error {
	fields := map[string]string{} // lower-case name without "_" → JSON key of the field
	for _, p := range paramsOf(dst) {
		fields[strings.ReplaceAll(p.Name, "_", "")] = p.key
	}
	norm := map[string]any{}
	for _, k := range slices.Sorted(maps.Keys(params)) {
		name, ok := fields[strings.ToLower(strings.ReplaceAll(k, "_", ""))]
		if !ok {
			known := []string{}
			for _, p := range paramsOf(dst) {
				known = append(known, p.Name)
			}
			if entries[model].weights {
				known = append(known, ClassWeightParam)
			}
			sort.Strings(known)
			if h := suggest.DidYouMean(k, known, nil); h != "" {
				return fmt.Errorf("%s: unknown parameter %q (%s)", model, k, h)
			}
			return fmt.Errorf("%s: unknown parameter %q (known: %s)", model, k, strings.Join(known, ", "))
		}
		norm[name] = params[k]
	}
	b, err := json.Marshal(norm)
	if err != nil {
		return fmt.Errorf("%s: parameters: %w", model, err)
	}
	if err := json.Unmarshal(b, dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fmt.Errorf("%s: %s: want %s, got %s", model, snakeKey(te.Field), typeWord(te.Type.Kind()), describe(norm[te.Field]))
		}
		return fmt.Errorf("%s: parameters: %v", model, err)
	}
	return nil
}

// Defaults returns the default value of each parameter of trainer name
// that has a fixed one, by snake_case name: what a parameter left out
// means. Parallelism (the machine's CPUs) and seed (the run's) are left
// out, as are parameters whose default depends on the data (0 here).
func Defaults(name string) map[string]any {
	e, ok := entries[name]
	if !ok {
		return nil
	}
	r, ok := e.params().(interface{ Resolved() (any, error) })
	if !ok {
		return nil
	}
	p, err := r.Resolved()
	if err != nil {
		return nil
	}
	v := reflect.ValueOf(p)
	out := map[string]any{}
	for _, prm := range paramsOf(e.params()) {
		if prm.Name == "parallelism" || prm.Name == "seed" {
			continue
		}
		f := v.FieldByNameFunc(func(n string) bool {
			return snakeKey(n) == prm.Name || strings.EqualFold(n, strings.ReplaceAll(prm.Name, "_", ""))
		})
		if !f.IsValid() || f.IsZero() && f.Kind() != reflect.Bool {
			continue
		}
		out[prm.Name] = f.Interface()
	}
	return out
}

// Param is one parameter of a trainer family, as a config names it.
type Param struct {
	// Name is the snake_case name (learning_rate).
	Name string
	// Type is "int", "float", "bool" or "string".
	Type string
	key  string // the JSON key of the field
}

// Params lists the parameters of trainer name, sorted by name,
// class_weight included for the families that take it.
func Params(name string) []Param {
	e, ok := entries[name]
	if !ok {
		return nil
	}
	ps := paramsOf(e.params())
	if e.weights {
		ps = append(ps, Param{Name: ClassWeightParam, Type: "class_weight"})
	}
	slices.SortFunc(ps, func(a, b Param) int { return strings.Compare(a.Name, b.Name) })
	return ps
}

// paramsOf lists the settable fields of a Params struct (dst points to
// it): exported, not a func, not tagged json:"-".
func paramsOf(dst any) []Param {
	var out []Param
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
		out = append(out, Param{Name: snakeKey(key), Type: typeName(f.Type.Kind()), key: key})
	}
	return out
}

// snakeKey is the snake_case name of a JSON key: a tag is already one, a
// Go field name (logreg's MaxIter) is converted.
func snakeKey(key string) string {
	if strings.ContainsRune(key, '_') || strings.ToLower(key) == key {
		return key
	}
	return snake(key)
}

func typeName(k reflect.Kind) string {
	switch k {
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint64, reflect.Uint32, reflect.Uint:
		return "int"
	case reflect.Float64, reflect.Float32:
		return "float"
	case reflect.Bool:
		return "bool"
	}
	return "string"
}

// typeWord is what a parameter of kind k wants, for errors.
func typeWord(k reflect.Kind) string {
	switch typeName(k) {
	case "int":
		if k == reflect.Uint64 || k == reflect.Uint32 || k == reflect.Uint {
			return "a whole number >= 0"
		}
		return "a whole number"
	case "float":
		return "a number"
	case "bool":
		return "true or false"
	}
	return "text"
}

// describe shows a YAML value in an error: text quoted, numbers as they
// are.
func describe(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case nil:
		return "nothing"
	}
	return fmt.Sprint(v)
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

// Decoders maps every saved model kind to its decoder, for train.Load
// (model/kinds.Decoders: serving loads models without this catalog).
func Decoders() map[string]train.Decoder { return kinds.Decoders() }
