package jsonread_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mlpipe/mlpipe/internal/jsonread"
)

// decode reads any value into the types encoding/json gives an any.
func decode(r *jsonread.Reader) (any, error) {
	switch r.Peek() {
	case jsonread.Null:
		return nil, r.Null()
	case jsonread.Bool:
		return r.Bool()
	case jsonread.Number:
		txt, err := r.Number()
		if err != nil {
			return nil, err
		}
		return strconv.ParseFloat(string(txt), 64)
	case jsonread.String:
		s, err := r.Str()
		return string(s), err
	case jsonread.Array:
		if err := r.BeginArray(); err != nil {
			return nil, err
		}
		out := []any{}
		for {
			more, err := r.Next()
			if err != nil {
				return nil, err
			}
			if !more {
				return out, nil
			}
			v, err := decode(r)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
	case jsonread.Object:
		if err := r.BeginObject(); err != nil {
			return nil, err
		}
		out := map[string]any{}
		for {
			k, more, err := r.Key()
			if err != nil {
				return nil, err
			}
			if !more {
				return out, nil
			}
			v, err := decode(r)
			if err != nil {
				return nil, err
			}
			out[string(k)] = v
		}
	}
	return nil, r.Skip()
}

func decodeAll(b []byte) (any, error) {
	var r jsonread.Reader
	r.Reset(b)
	v, err := decode(&r)
	if err != nil {
		return nil, err
	}
	return v, r.Finish()
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"OK/object", `{"a": 1, "b": [true, false, null], "c": {"d": "e"}}`, true},
		{"OK/empty", ` { } `, true},
		{"OK/emptyArray", `[]`, true},
		{"OK/numbers", `[0, -0, 1.5, -2e10, 3E+2, 4e-3, 12345678901234567890]`, true},
		{"OK/escapes", `"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00"`, true},
		{"OK/loneSurrogate", `"\ud800x"`, true},
		{"OK/utf8", `"héllo, 世界"`, true},
		{"ErrTrailingComma", `[1, 2,]`, false},
		{"ErrTrailingCommaObject", `{"a": 1,}`, false},
		{"ErrLeadingComma", `[,1]`, false},
		{"ErrMissingColon", `{"a" 1}`, false},
		{"ErrMissingComma", `{"a": 1 "b": 2}`, false},
		{"ErrUnquotedKey", `{a: 1}`, false},
		{"ErrNaN", `NaN`, false},
		{"ErrLeadingZero", `01`, false},
		{"ErrDot", `1.`, false},
		{"ErrExponent", `1e`, false},
		{"ErrPlus", `+1`, false},
		{"ErrControl", "\"a\x01b\"", false},
		{"ErrBadEscape", `"\x"`, false},
		{"ErrShortUnicode", `"\u12"`, false},
		{"ErrUnterminated", `"abc`, false},
		{"ErrTrailing", `{} {}`, false},
		{"ErrEmpty", ``, false},
		{"ErrTruncated", `{"a": [1, 2`, false},
		{"ErrBadUTF8", "\"\xff\"", false},
		{"ErrLiteral", `tru`, false},
		{"ErrDeep", strings.Repeat("[", jsonread.MaxDepth+1) + strings.Repeat("]", jsonread.MaxDepth+1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeAll([]byte(tt.in))
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok = %v", err, tt.ok)
			}
			if err != nil {
				var se *jsonread.SyntaxError
				if !errors.As(err, &se) {
					t.Errorf("err %T is not a *SyntaxError", err)
				}
				return
			}
			var want any
			if err := json.Unmarshal([]byte(tt.in), &want); err != nil {
				t.Fatalf("encoding/json: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %#v, encoding/json %#v", got, want)
			}
		})
	}
}

// FuzzDecode checks the reader against encoding/json: on valid UTF-8
// within the depth limit both accept the same documents and read the
// same values, and the reader never panics.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"a": 1, "b": [true, false, null], "c": {"d": "e"}}`,
		`{"instances": [{"date": "2001-06-15T08:30:00", "distance": 1250}]}`,
		`"\u00e9\ud83d\ude00"`, `[1e400]`, `-0.0e-0`, `{"a":}`, `[`, `"\`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := decodeAll(b)
		if !utf8.Valid(b) || strings.Count(string(b), "[")+strings.Count(string(b), "{") >= jsonread.MaxDepth {
			return
		}
		var want any
		jerr := json.Unmarshal(b, &want)
		if jerr != nil {
			var ute *json.UnmarshalTypeError
			if errors.As(jerr, &ute) { // a number out of float64 range
				return
			}
		}
		if (err == nil) != (jerr == nil) {
			t.Fatalf("%q: jsonread err %v, encoding/json err %v", b, err, jerr)
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: jsonread %#v, encoding/json %#v", b, got, want)
		}
	})
}

// TestObject: Object hands over each member's name in order, with the
// reader at its value, and stops at the first error, its own or the
// member function's.
func TestObject(t *testing.T) {
	stop := errors.New("stop")
	tests := []struct {
		name, in string
		stopAt   string // the member whose function fails, if any
		names    string // the names seen, joined
		err      bool
	}{
		{"Members", `{"a": 1, "b": {"c": [2]}, "d": "e"}`, "", "a,b,d", false},
		{"Empty", `{}`, "", "", false},
		{"MemberError", `{"a": 1, "b": 2, "c": 3}`, "b", "a,b", true},
		{"NotAnObject", `[1]`, "", "", true},
		{"Truncated", `{"a": 1,`, "", "a", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r jsonread.Reader
			r.Reset([]byte(tc.in))
			var names []string
			err := r.Object(func(name []byte) error {
				names = append(names, string(name))
				if string(name) == tc.stopAt {
					return stop
				}
				return r.Skip()
			})
			if got := strings.Join(names, ","); got != tc.names || (err != nil) != tc.err {
				t.Errorf("names %q, err %v; want %q, error %v", got, err, tc.names, tc.err)
			}
			if tc.stopAt != "" && !errors.Is(err, stop) {
				t.Errorf("err %v; want the member function's", err)
			}
		})
	}
}
