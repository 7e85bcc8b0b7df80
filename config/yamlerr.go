package config

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The YAML decoder reports problems as "line N: ..." without the key path.
// These helpers put the path back, so that an error reads
// "configs/flights.yaml:12: data.formatt: unknown key".

var (
	lineRE     = regexp.MustCompile(`^line (\d+): (.*)$`)
	notFoundRE = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
	cannotRE   = regexp.MustCompile(`^cannot unmarshal !!(\w+) ?(.*) into (\S+)$`)
)

func describeDecodeError(err error, name string, root *yaml.Node) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return fmt.Errorf("%s: %w: %v", name, ErrInvalid, cleanYAMLError(err))
	}
	msgs := make([]string, 0, len(te.Errors))
	for _, e := range te.Errors {
		m := lineRE.FindStringSubmatch(e)
		if m == nil {
			msgs = append(msgs, name+": "+e)
			continue
		}
		line, _ := strconv.Atoi(m[1])
		msg := m[2]
		var path string
		if f := notFoundRE.FindStringSubmatch(msg); f != nil {
			msg = "unknown key"
			if path = pathAtLine(root, line, f[1]); path == "" {
				path = f[1]
			}
		} else if c := cannotRE.FindStringSubmatch(msg); c != nil {
			path = pathAtLine(root, line, "")
			msg = strings.TrimSpace(fmt.Sprintf("cannot use %s %s", c[1], c[2])) + " as " + goTypeName(c[3])
		} else {
			path = pathAtLine(root, line, "")
		}
		if path != "" {
			msgs = append(msgs, fmt.Sprintf("%s:%d: %s: %s", name, line, path, msg))
		} else {
			msgs = append(msgs, fmt.Sprintf("%s:%d: %s", name, line, msg))
		}
	}
	return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(msgs, "; "))
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
