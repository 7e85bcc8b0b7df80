package config

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/mlpipe/mlpipe/internal/suggest"
)

// The YAML decoder reports problems as "line N: ..." without the key path.
// These helpers put the path back, so that an error reads
// "configs/flights.yaml:12: data.formatt: unknown key (did you mean
// format?)".

var (
	lineRE     = regexp.MustCompile(`^line (\d+): (.*)$`)
	notFoundRE = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
	cannotRE   = regexp.MustCompile(`^cannot unmarshal !!(\w+) ?(.*) into (\S+)$`)
)

// describeDecodeError returns the decoder's err as an invalid config
// error: each of its problems as "FILE:LINE: KEY: what is wrong", joined
// with "; ".
func describeDecodeError(err error, name string, root *yaml.Node) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		line, msg := yamlLine(cleanYAMLError(err))
		return invalid(name, line, "", msg)
	}
	msgs := make([]string, 0, len(te.Errors))
	for _, e := range te.Errors {
		line, msg := yamlLine(e)
		var path string
		if f := notFoundRE.FindStringSubmatch(msg); f != nil {
			msg = "unknown key"
			if path = pathAtLine(root, line, f[1]); path == "" {
				path = f[1]
			}
			if h := didYouMean(f[1], keysAt(reflect.TypeFor[Config](), parentOf(path))); h != "" {
				msg += " (" + h + ")"
			}
		} else if c := cannotRE.FindStringSubmatch(msg); c != nil {
			path = pathAtLine(root, line, "")
			msg = strings.TrimSpace(fmt.Sprintf("cannot use %s %s", c[1], c[2])) + " as " + goTypeName(c[3])
		} else if line > 0 {
			path = pathAtLine(root, line, "")
		}
		msgs = append(msgs, invalid(name, line, path, msg).Error())
	}
	return &invalidError{strings.Join(msgs, "; ")}
}

// yamlLine splits the decoder's "line N: what" into N and what; N is 0
// when the message has no line.
func yamlLine(msg string) (int, string) {
	m := lineRE.FindStringSubmatch(msg)
	if m == nil {
		return 0, msg
	}
	line, _ := strconv.Atoi(m[1])
	return line, m[2]
}

// didYouMean is the hint for an unknown word among known ones: "did you
// mean X?" if one is near, else the list of them ("want a, b"); "" if
// none are known.
func didYouMean(word string, known []string) string {
	if len(known) == 0 {
		return ""
	}
	if h := suggest.DidYouMean(word, known, nil); h != "" {
		return h
	}
	return "want " + strings.Join(known, ", ")
}

// parentOf is the path of the mapping that holds the key at path:
// "data" for "data.formatt", "schema.columns[2]" for
// "schema.columns[2].nulable", "" for a top-level key.
func parentOf(path string) string {
	if i := strings.LastIndex(path, "."); i >= 0 {
		return path[:i]
	}
	return ""
}

// keysAt lists the YAML keys of the mapping at path in a value of type
// t: the keys a config may have there, for the "did you mean" of an
// unknown one. A path it cannot follow (into a map of parameters, say)
// has none.
func keysAt(t reflect.Type, path string) []string {
	for _, part := range splitPath(path) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch {
		case part.index >= 0 && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array):
			t = t.Elem()
		case part.index < 0 && t.Kind() == reflect.Struct:
			f, ok := fieldByKey(t, part.key)
			if !ok {
				return nil
			}
			t = f.Type
		default:
			return nil
		}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var keys []string
	eachKey(t, func(key string, _ reflect.StructField) bool {
		keys = append(keys, key)
		return true
	})
	return keys
}

// fieldByKey finds the field of struct t that YAML key decodes into.
func fieldByKey(t reflect.Type, key string) (found reflect.StructField, ok bool) {
	eachKey(t, func(k string, f reflect.StructField) bool {
		if k == key {
			found, ok = f, true
		}
		return !ok
	})
	return found, ok
}

// eachKey calls fn with each YAML key of struct t and its field, those
// of inlined structs included, until fn returns false.
func eachKey(t reflect.Type, fn func(key string, f reflect.StructField) bool) bool {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if strings.Contains(","+opts+",", ",inline,") {
			if ft := f.Type; ft.Kind() == reflect.Struct && !eachKey(ft, fn) {
				return false
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name) // the decoder's default
		}
		if !fn(name, f) {
			return false
		}
	}
	return true
}

func goTypeName(t string) string {
	switch t {
	case "int", "int64", "uint64":
		return "an integer"
	case "float64":
		return "a number"
	case "bool":
		return "true or false"
	case "time.Time":
		return "a date (2001-05-01 or 2001-05-01T00:00:00Z)"
	case "string":
		return "a string"
	}
	if strings.HasPrefix(t, "[]") {
		return "a list"
	}
	return "a " + strings.TrimPrefix(t, "*")
}

func cleanYAMLError(err error) string {
	return strings.TrimPrefix(err.Error(), "yaml: ")
}

// pathAtLine returns the key path of the first mapping key on line whose
// name is key (any name if key is ""), e.g. "schema.columns[2].type".
func pathAtLine(root *yaml.Node, line int, key string) string {
	var walk func(n *yaml.Node, path string) string
	walk = func(n *yaml.Node, path string) string {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				if p := walk(c, path); p != "" {
					return p
				}
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := join(path, k.Value)
				if k.Line == line && (key == "" || k.Value == key) {
					return p
				}
				if found := walk(v, p); found != "" {
					return found
				}
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				if p := walk(c, fmt.Sprintf("%s[%d]", path, i)); p != "" {
					return p
				}
			}
		}
		return ""
	}
	return walk(root, "")
}

// lineOf returns the line of the key at path ("split.test_from",
// "schema.columns[1].type"), or of its nearest existing parent; 0 if none.
func lineOf(root *yaml.Node, path string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	for _, part := range splitPath(path) {
		if n == nil {
			break
		}
		switch {
		case part.index >= 0 && n.Kind == yaml.SequenceNode && part.index < len(n.Content):
			n = n.Content[part.index]
			line = n.Line
		case part.index < 0 && n.Kind == yaml.MappingNode:
			var next *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == part.key {
					line, next = n.Content[i].Line, n.Content[i+1]
				}
			}
			n = next
		default:
			n = nil
		}
	}
	return line
}

type pathPart struct {
	key   string
	index int
}

func splitPath(path string) []pathPart {
	var parts []pathPart
	for _, seg := range strings.Split(path, ".") {
		key, rest, _ := strings.Cut(seg, "[")
		if key != "" {
			parts = append(parts, pathPart{key: key, index: -1})
		}
		for rest != "" {
			num, after, _ := strings.Cut(rest, "]")
			i, _ := strconv.Atoi(num)
			parts = append(parts, pathPart{index: i})
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return parts
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
