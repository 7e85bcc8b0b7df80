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
		// Padding between tokens costs nothing, and a long number is
		// written as the float64 it reads as (issue 19, item 4: an 8 MB
		// instance of spaces or zeros was queued for the log whole).
		{"Whitespace", "{\"a\" :\t1 ,\r\n \"b\": [ true, null ]" + strings.Repeat(" ", 100) + "}", `{"a":1,"b":[true,null]}`, true},
		{"LongNumbers", `{"d":1250.` + strings.Repeat("0", 100) + `,"e":-` + strings.Repeat("9", 20) + `e-` + strings.Repeat("0", 50) + `2}`, `{"d":1250,"e":-1000000000000000000}`, true},
		{"ShortNumbers", `{"d":-1.5e3,"e":12345678,"f":0}`, `{"d":-1.5e3,"e":12345678,"f":0}`, false},
		{"SpacesInStrings", `{"a":"x y z"}` + strings.Repeat(" ", 20), `{"a":"x y z"}`, true},
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
