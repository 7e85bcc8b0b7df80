package config

import (
	"bufio"
	"fmt"
	"maps"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/catalog"
)

// referenceDoc is the config reference that TestReference checks.
const referenceDoc = "../docs/config.md"

// docKey is one row of a table of docs/config.md: its key and cells.
type docKey struct {
	key   string
	cells []string // the row's cells after the key: type, default, allowed, read by, meaning
	line  int
}

// codeKeys lists every key a config file can have, by walking the yaml
// tags of Config: "split.test_until", "schema.columns[].name",
// "models[].params" (a mapping; its keys are the trainers' parameters,
// listed by trainerParams). The value is the key's type as the reference
// writes it.
func codeKeys() map[string]string {
	keys := map[string]string{}
	var walk func(prefix string, t reflect.Type)
	walk = func(prefix string, t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			key := prefix + name
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			switch {
			case ft == reflect.TypeOf(time.Time{}):
				keys[key] = "date"
			case ft == reflect.TypeOf(time.Duration(0)):
				keys[key] = "duration"
			case ft.Kind() == reflect.Struct:
				walk(key+".", ft)
			case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
				walk(key+"[].", ft.Elem())
			default:
				keys[key] = typeWord(ft)
			}
		}
	}
	walk("", reflect.TypeOf(Config{}))
	keys["models[].search"] = "string or mapping" // "default" or ranges
	return keys
}

// typeWord names a Go type as the reference does.
func typeWord(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "bool"
	case reflect.Int, reflect.Int64, reflect.Uint64:
		return "int"
	case reflect.Float64:
		return "number"
	case reflect.Slice:
		return "list of " + typeWord(t.Elem()) + "s"
	case reflect.Map:
		return "mapping"
	case reflect.Interface:
		return "any"
	}
	return t.String()
}

// readReference reads the key rows of docs/config.md: the tables of the
// "Keys" part give full key paths; below a "### `trainer`" heading of
// the "Trainer parameters" part, the rows are the trainer's parameters,
// returned as "trainer: param".
func readReference(t *testing.T) map[string]docKey {
	t.Helper()
	f, err := os.Open(referenceDoc)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	row := regexp.MustCompile("^\\| `([^`]+)` \\|(.*)\\|\\s*$")
	heading := regexp.MustCompile("^### `([a-z0-9-]+)`")
	out := map[string]docKey{}
	trainer := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			trainer = ""
		}
		if m := heading.FindStringSubmatch(line); m != nil && catalog.Known(m[1]) {
			trainer = m[1]
		}
		m := row.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		key := m[1]
		if trainer != "" {
			key = trainer + ": " + key
		}
		if _, dup := out[key]; dup {
			t.Errorf("%s:%d: %s is documented twice", referenceDoc, n, key)
		}
		var cells []string
		for _, c := range strings.Split(m[2], "|") {
			cells = append(cells, strings.TrimSpace(c))
		}
		out[key] = docKey{key: key, cells: cells, line: n}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// trainerParams lists every trainer's parameters as "trainer: param",
// with their types.
func trainerParams() map[string]string {
	out := map[string]string{}
	for _, name := range catalog.Names() {
		for _, p := range catalog.Params(name) {
			typ := p.Type
			switch typ {
			case "float":
				typ = "number"
			case "class_weight":
				typ = "string or mapping"
			}
			out[name+": "+p.Name] = typ
		}
	}
	return out
}

// TestReference checks docs/config.md against the code: every key of a
// config file and every trainer parameter has a row, with its type; no
// row names a key the code does not have; every value the code allows
// for an enumerated key is listed in its row; and each trainer
// parameter's documented search range is the one `search: default` uses.
// A new key fails it until the reference describes it.
func TestReference(t *testing.T) {
	doc := readReference(t)
	want := codeKeys()
	for k, v := range trainerParams() {
		want[k] = v
	}
	for _, k := range slices.Sorted(maps.Keys(want)) {
		d, ok := doc[k]
		if !ok {
			t.Errorf("%s (%s) is a key in the code, not in %s", k, want[k], referenceDoc)
			continue
		}
		if len(d.cells) < 2 || d.cells[0] != want[k] {
			t.Errorf("%s:%d: %s: type %q, the code's is %q", referenceDoc, d.line, k, first(d.cells), want[k])
		}
	}
	for _, k := range slices.Sorted(maps.Keys(doc)) {
		if _, ok := want[k]; !ok {
			t.Errorf("%s:%d: %s is documented but is no key of the code", referenceDoc, doc[k].line, k)
		}
	}

	// Enumerations: every allowed value appears in its row.
	var metrics []string
	for _, task := range []train.Task{train.Binary, train.Multiclass, train.Regression} {
		metrics = append(metrics, Metrics(task)...)
	}
	var types []string
	for typ := range arrowTypes {
		types = append(types, typ)
	}
	sort.Strings(types)
	for key, values := range map[string][]string{
		"data.format":              append([]string{"auto"}, ingest.Formats...),
		"schema.columns[].type":    types,
		"label.kind":               {"binary", "multiclass", ingest.KindRegression},
		"label.missing":            {ingest.MissingError, ingest.MissingDrop},
		"label.transform":          {ingest.TransformLog1p},
		"split.method":             {"time", "random"},
		"features[].transform":     features.Kinds(),
		"features[].parts":         features.TimeParts(),
		"models[].name":            catalog.Names(),
		"selection.metric":         metrics,
		"gate.metric":              metrics,
		"schedule.policy":          {"always", "drift", "estimated"},
		"monitor.policy":           {"drift", "estimated"},
		"monitor.thresholds":       {"calibrated", "fixed"},
		"gbdt: objective":          {"log_loss", "squared_error", "huber", "absolute_error", "quantile"},
		"gbdt: class_weight":       {train.Balanced},
		"logreg: class_weight":     {train.Balanced},
		"models[].search":          {catalog.SearchDefault},
		"selection.cv_folds":       {fmt.Sprint(DefaultCVFolds), fmt.Sprintf("%d", MaxCVFolds), "5,000"},
		"selection.trials":         {fmt.Sprint(DefaultTrials)},
		"features[].min_frequency": {"1"},
	} {
		d, ok := doc[key]
		if !ok {
			continue // reported above
		}
		row := strings.Join(d.cells, " | ")
		for _, v := range values {
			if !strings.Contains(row, "`"+v+"`") && !strings.Contains(row, v) {
				t.Errorf("%s:%d: %s: the row does not list %q", referenceDoc, d.line, key, v)
			}
		}
	}
	// Defaults: the row of each trainer parameter with a fixed default
	// gives it.
	for _, name := range catalog.Names() {
		for param, v := range catalog.Defaults(name) {
			d, ok := doc[name+": "+param]
			if !ok {
				continue
			}
			if !strings.Contains(first(d.cells[1:]), fmt.Sprintf("`%v`", v)) {
				t.Errorf("%s:%d: %s: %s: the default cell %q does not give the code's default `%v`", referenceDoc, d.line, name, param, first(d.cells[1:]), v)
			}
		}
	}
	// Search ranges: the row of each searchable parameter shows the
	// range `search: default` draws from.
	for _, name := range catalog.Names() {
		for param, r := range catalog.DefaultSpace(name) {
			d, ok := doc[name+": "+param]
			if !ok {
				continue
			}
			if row := strings.Join(d.cells, " | "); !strings.Contains(row, r.String()) {
				t.Errorf("%s:%d: %s: %s: the row does not give its search range %s", referenceDoc, d.line, name, param, r)
			}
		}
	}
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}
