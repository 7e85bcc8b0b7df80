package jsonw_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mlpipe/mlpipe/internal/jsonw"
)

func TestAppendCapped(t *testing.T) {
	long := strings.Repeat("A", 100)
	tests := []struct {
		name, in, want string
		cut            bool
	}{
		{"Short", `{"origin":"ATL","distance":1250}`, `{"origin":"ATL","distance":1250}`, false},
		{"Long", `{"origin":"` + long + `","distance":1250}`, `{"origin":"AAAAAAAA…(100 bytes)","distance":1250}`, true},
		{"Escapes", `{"a":"\u00e9\u00e9\u00e9` + long + `"}`, `{"a":"\u00e9…(118 bytes)"}`, true},
		{"BackslashAtCut", `{"a":"AAAAAAA\"` + long + `"}`, `{"a":"AAAAAAA…(109 bytes)"}`, true},
		{"UTF8", `{"a":"ééééé` + long + `"}`, `{"a":"éééé…(110 bytes)"}`, true},
		{"KeysAndNumbers", `{"` + long + `":1}`, `{"AAAAAAAA…(100 bytes)":1}`, true},
	}
	for _, tt := range tests {
		got, cut := jsonw.AppendCapped(nil, []byte(tt.in), 8)
		if string(got) != tt.want || cut != tt.cut {
			t.Errorf("%s: %s (cut %v)\nwant %s (cut %v)", tt.name, got, cut, tt.want, tt.cut)
		}
		if !json.Valid(got) {
			t.Errorf("%s: not JSON: %s", tt.name, got)
		}
	}
}
