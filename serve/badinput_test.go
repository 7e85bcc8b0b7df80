package serve_test

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/mlpipe/mlpipe/serve"
	"github.com/valyala/fasthttp"
)

// good is a valid native instance of the fixture model; the bad requests
// below are small edits of it.
const good = `{"date":"2001-06-15T08:30:00","distance":1250,"origin":"ATL","destination":"LAX"}`

// withField returns good with one field's JSON value replaced (or the
// field removed, for value "").
func withField(field, value string) string {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(good), &m); err != nil {
		panic(err)
	}
	var b strings.Builder
	b.WriteString("{")
	first := true
	for _, k := range []string{"date", "distance", "origin", "destination"} {
		v := string(m[k])
		if k == field {
			v = value
		}
		if v == "" {
			continue
		}
		if !first {
			b.WriteString(",")
		}
		first = false
		b.WriteString(`"` + k + `":` + v)
	}
	return b.String() + "}"
}

// oipGood is a valid inference request of the fixture model, with
// placeholders for edits.
func oipWith(date, distance, origin string) string {
	if date == "" {
		date = `{"name":"date","shape":[1],"datatype":"BYTES","data":["2001-06-15T08:30:00"]}`
	}
	if distance == "" {
		distance = `{"name":"distance","shape":[1],"datatype":"INT64","data":[1250]}`
	}
	if origin == "" {
		origin = `{"name":"origin","shape":[1],"datatype":"BYTES","data":["ATL"]}`
	}
	return `{"inputs":[` + date + `,` + distance + `,` + origin + `,{"name":"destination","shape":[1],"datatype":"BYTES","data":["LAX"]}]}`
}

// badRequests are malformed requests and the status and message part
// each must get: a 4xx naming what is wrong, never a 5xx.
var badRequests = []struct {
	name, method, path, body string
	header                   []string
	code                     int
	want                     string
}{
	// Bodies that are not the JSON we read.
	{"InvalidJSON", "POST", predictPath, `{"date":"2001-06-15T08:30:00",`, nil, 400, "invalid JSON"},
	{"NotJSON", "POST", predictPath, `hello`, nil, 400, "invalid JSON"},
	{"EmptyBody", "POST", predictPath, ``, []string{"Content-Type", "application/json"}, 400, "empty body"},
	{"TopLevelArray", "POST", predictPath, `[` + good + `]`, nil, 400, "the body is an array"},
	{"TrailingData", "POST", predictPath, good + ` {}`, nil, 400, "after the end"},
	{"WrongContentType", "POST", predictPath, good, []string{"Content-Type", "text/plain"}, 415, "Content-Type"},
	{"FormContentType", "POST", predictPath, good, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "application/json"},
	// Fields: missing, null, wrong type, out of range, unknown.
	{"MissingField", "POST", predictPath, withField("distance", ""), nil, 400, `missing field "distance"`},
	{"EmptyObject", "POST", predictPath, `{}`, nil, 400, `missing field "date"`},
	{"Null", "POST", predictPath, withField("origin", "null"), nil, 400, `field "origin": null is not allowed`},
	{"NumberAsString", "POST", predictPath, withField("distance", `"1250"`), nil, 400, `field "distance": want a number, got a string`},
	{"NaNString", "POST", predictPath, withField("distance", `"NaN"`), nil, 400, `field "distance": want a number`},
	{"InfString", "POST", predictPath, withField("distance", `"Infinity"`), nil, 400, `field "distance": want a number`},
	{"NaNLiteral", "POST", predictPath, withField("distance", `NaN`), nil, 400, "invalid JSON"},
	{"Overflow", "POST", predictPath, withField("distance", `1e400`), nil, 400, `field "distance": 1e400 is out of the range`},
	{"Negative", "POST", predictPath, withField("distance", `-5`), nil, 400, `field "distance": -5 is negative`},
	{"Absurd", "POST", predictPath, withField("distance", `1000000000`), nil, 400, `field "distance": 1000000000 is out of range`},
	{"NotWhole", "POST", predictPath, withField("distance", `12.5`), nil, 400, `field "distance": 12.5 is not a whole number`},
	{"DistanceBool", "POST", predictPath, withField("distance", `true`), nil, 400, `field "distance": want a number, got a bool`},
	{"BadDate", "POST", predictPath, withField("date", `"2001-13-45"`), nil, 400, `field "date"`},
	{"DateWithZone", "POST", predictPath, withField("date", `"2001-06-15T08:30:00Z"`), nil, 400, `field "date": "2001-06-15T08:30:00Z" has a time zone`},
	{"DateNumber", "POST", predictPath, withField("date", `20010615`), nil, 400, `field "date": want a timestamp string`},
	{"OriginNumber", "POST", predictPath, withField("origin", `7`), nil, 400, `field "origin": want a string, got a number`},
	{"OriginObject", "POST", predictPath, withField("origin", `{"code":"ATL"}`), nil, 400, `field "origin": want a string, got an object`},
	{"BadUTF8", "POST", predictPath, withField("origin", "\"\xff\xfe\""), nil, 400, "invalid UTF-8"},
	{"UnknownField", "POST", predictPath, strings.Replace(good, `{`, `{"delay":5,`, 1), nil, 400, `unknown field "delay"`},
	{"DuplicateField", "POST", predictPath, strings.Replace(good, `{`, `{"origin":"SFO",`, 1), nil, 400, `duplicate field "origin"`},
	// Batches.
	{"EmptyBatch", "POST", predictPath, `{"instances":[]}`, nil, 400, `"instances" is empty`},
	{"BatchOverLimit", "POST", predictPath, `{"instances":[` + strings.TrimSuffix(strings.Repeat(good+",", 4), ",") + `]}`, nil, 413, "more than 3 instances"},
	{"BatchNotArray", "POST", predictPath, `{"instances":{}}`, nil, 400, `"instances" is an object`},
	{"BatchRowNotObject", "POST", predictPath, `{"instances":[1]}`, nil, 400, "instances[0] is a number"},
	{"BatchRowError", "POST", predictPath, `{"instances":[` + good + `,` + withField("distance", `-1`) + `]}`, nil, 400, `instances[1]: field "distance"`},
	{"BatchExtraKey", "POST", predictPath, `{"instances":[` + good + `],"model":"x"}`, nil, 400, `unknown field "model"`},
	{"InstancesMixed", "POST", predictPath, strings.Replace(good, `}`, `,"instances":[]}`, 1), nil, 400, `"instances" cannot be mixed`},
	{"BodyOverLimit", "POST", predictPath, `{"instances":[` + strings.Repeat(" ", 5000) + `]}`, nil, 413, "limit"},
	// Paths and methods.
	{"UnknownModel", "POST", "/v1/models/nope/predict", good, nil, 404, `model "nope" is not served here`},
	{"TraversalEncoded", "POST", "/v1/models/..%2f..%2fetc/predict", good, nil, 404, `model "../../etc"`},
	{"TraversalDots", "POST", "/v1/models/../../etc/predict", good, nil, 400, `'..' segment`},
	{"DoubleSlash", "POST", "/v1/models//predict", good, nil, 400, "empty"},
	{"WrongMethod", "GET", predictPath, "", nil, 405, "method GET is not allowed"},
	{"UnknownPath", "GET", "/v1/nope", "", nil, 404, "no route"},
	{"LabelsUnknownModel", "POST", "/v1/models/nope/labels", `{"id":"a","label":true}`, nil, 404, `model "nope"`},
	{"GzipBody", "POST", predictPath, "\x1f\x8b\x08\x00", []string{"Content-Encoding", "gzip"}, 415, `Content-Encoding "gzip" is not supported`},
	// The Open Inference Protocol.
	{"OIPShapeMismatch", "POST", inferPath, oipWith("", `{"name":"distance","shape":[2],"datatype":"INT64","data":[1250,100]}`, ""), nil, 400, `input "distance": shape [2], but an earlier input has 1 rows`},
	{"OIPDataShortOfShape", "POST", inferPath, oipWith("", `{"name":"distance","shape":[1],"datatype":"INT64","data":[]}`, ""), nil, 400, `input "distance": 0 values, but the shape says 1`},
	{"OIPDataOverShape", "POST", inferPath, oipWith("", `{"name":"distance","shape":[1],"datatype":"INT64","data":[1,2]}`, ""), nil, 400, `input "distance": more values than the shape's 1`},
	{"OIPShape3D", "POST", inferPath, oipWith("", `{"name":"distance","shape":[1,1,1],"datatype":"INT64","data":[1250]}`, ""), nil, 400, "more than 2 dimensions"},
	{"OIPShapeWide", "POST", inferPath, oipWith("", `{"name":"distance","shape":[1,2],"datatype":"INT64","data":[1250,1]}`, ""), nil, 400, `input "distance": shape [1, 2]`},
	{"OIPShapeZero", "POST", inferPath, oipWith(`{"name":"date","shape":[0],"datatype":"BYTES","data":[]}`, "", ""), nil, 400, "want at least one row"},
	{"OIPShapeNegative", "POST", inferPath, oipWith("", `{"name":"distance","shape":[-1],"datatype":"INT64","data":[1250]}`, ""), nil, 400, "not a non-negative whole number"},
	{"OIPWrongDatatype", "POST", inferPath, oipWith("", `{"name":"distance","shape":[1],"datatype":"FP64","data":[1250]}`, ""), nil, 400, `input "distance": datatype "FP64"; want INT64`},
	{"OIPStringInInt", "POST", inferPath, oipWith("", `{"name":"distance","shape":[1],"datatype":"INT64","data":["1250"]}`, ""), nil, 400, `input "distance", row 0: want a number, got a string`},
	{"OIPNegative", "POST", inferPath, oipWith("", `{"name":"distance","shape":[1],"datatype":"INT64","data":[-3]}`, ""), nil, 400, `input "distance", row 0: -3 is negative`},
	{"OIPBadDate", "POST", inferPath, oipWith(`{"name":"date","shape":[1],"datatype":"BYTES","data":["yesterday"]}`, "", ""), nil, 400, `input "date", row 0`},
	{"OIPMissingInput", "POST", inferPath, `{"inputs":[{"name":"date","shape":[1],"datatype":"BYTES","data":["2001-06-15T08:30:00"]}]}`, nil, 400, `missing input "distance"`},
	{"OIPUnknownInput", "POST", inferPath, oipWith("", "", `{"name":"airport","shape":[1],"datatype":"BYTES","data":["ATL"]}`), nil, 400, `unknown input "airport"`},
	{"OIPDuplicateInput", "POST", inferPath, oipWith("", "", `{"name":"date","shape":[1],"datatype":"BYTES","data":["2001-06-15T08:30:00"]}`), nil, 400, `input "date": given twice`},
	{"OIPMissingData", "POST", inferPath, oipWith("", `{"name":"distance","shape":[1],"datatype":"INT64"}`, ""), nil, 400, `missing field "data"`},
	{"OIPDataNotArray", "POST", inferPath, oipWith("", `{"name":"distance","shape":[1],"datatype":"INT64","data":1250}`, ""), nil, 400, `data: want an array`},
	{"OIPUnknownOutput", "POST", inferPath, strings.Replace(oipWith("", "", ""), `{"inputs"`, `{"outputs":[{"name":"score"}],"inputs"`, 1), nil, 400, `unknown output "score"`},
	{"OIPIDNotString", "POST", inferPath, strings.Replace(oipWith("", "", ""), `{"inputs"`, `{"id":42,"inputs"`, 1), nil, 400, `field "id": want a string`},
	{"OIPUnknownField", "POST", inferPath, strings.Replace(oipWith("", "", ""), `{"inputs"`, `{"instances":[],"inputs"`, 1), nil, 400, `unknown field "instances"`},
	{"OIPParameterObject", "POST", inferPath, strings.Replace(oipWith("", "", ""), `{"inputs"`, `{"parameters":{"a":{}},"inputs"`, 1), nil, 400, "parameter is a string, number or bool"},
	{"OIPDeep", "POST", inferPath, oipWith("", `{"name":"distance","shape":[1],"datatype":"INT64","data":`+strings.Repeat("[", 100)+strings.Repeat("]", 100)+`}`, ""), nil, 400, "nesting deeper"},
	{"OIPNoInputs", "POST", inferPath, `{"id":"x"}`, nil, 400, `missing field "inputs"`},
	{"OIPOverLimit", "POST", inferPath, oipWith(`{"name":"date","shape":[4],"datatype":"BYTES","data":["a","b","c","d"]}`, "", ""), nil, 413, "batch limit is 3"},
	{"OIPWrongContentType", "POST", inferPath, oipWith("", "", ""), []string{"Content-Type", "text/csv"}, 415, "Content-Type"},
	{"OIPUnknownVersion", "POST", "/v2/models/flights-delay/versions/7/infer", oipWith("", "", ""), nil, 404, `version "7"`},
	{"OIPUnknownModel", "POST", "/v2/models/nope/infer", oipWith("", "", ""), nil, 404, `model "nope"`},
}

const (
	predictPath = "/v1/models/flights-delay/predict"
	inferPath   = "/v2/models/flights-delay/infer"
)

// badLimits are the limits of the bad-request server: small, so that
// the limit cases stay small.
var badLimits = serve.Options{MaxBatch: 3, MaxBodyBytes: 4096}

// TestBadRequests sends every bad request and checks its status and that
// the JSON error names what is wrong.
func TestBadRequests(t *testing.T) {
	if len(badRequests) < 25 {
		t.Fatalf("%d bad requests; the issue asks for at least 25", len(badRequests))
	}
	s := newServer(t, badLimits)
	for _, tt := range badRequests {
		t.Run(tt.name, func(t *testing.T) {
			rec := do(s.Handler(), tt.method, tt.path, tt.body, tt.header...)
			var e struct {
				Error string `json:"error"`
			}
			decodeBody(t, rec, &e)
			if rec.Code != tt.code || !strings.Contains(e.Error, tt.want) {
				t.Errorf("got %d %q; want %d and %q", rec.Code, e.Error, tt.code, tt.want)
			}
		})
	}
	// The bodies are small edits of valid requests: check the valid ones.
	for _, b := range []struct{ path, body string }{{predictPath, good}, {inferPath, oipWith("", "", "")}} {
		if rec := do(s.Handler(), "POST", b.path, b.body); rec.Code != 200 {
			t.Errorf("valid request to %s: %d %s", b.path, rec.Code, rec.Body)
		}
	}
}

var (
	fuzzOnce   sync.Once
	fuzzServer *serve.Server
)

// fuzzHandler is one server shared by the fuzz targets' runs.
func fuzzHandler(t *testing.T) fasthttp.RequestHandler {
	fuzzOnce.Do(func() { fuzzServer = newServer(t, badLimits) })
	return fuzzServer.Handler()
}

// fuzzPost sends body to path and fails on a 5xx or a non-JSON answer.
func fuzzPost(t *testing.T, path string, body []byte) {
	rec := do(fuzzHandler(t), "POST", path, string(body), "Content-Type", "application/json")
	if rec.Code >= 500 {
		t.Fatalf("%q: status %d: %s", body, rec.Code, rec.Body)
	}
	if !json.Valid(rec.Body.Bytes()) {
		t.Fatalf("%q: status %d with a body that is not JSON: %q", body, rec.Code, rec.Body)
	}
}

// FuzzNative feeds arbitrary bodies to the native predict route: no
// panic, never a 5xx, always a JSON answer. The seed corpus (the bad
// requests and valid bodies) runs with go test.
func FuzzNative(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte(`{"instances":[` + good + `,` + good + `]}`))
	f.Add([]byte(withField("origin", `"\u00e9\ud83d"`)))
	for _, b := range badRequests {
		if b.path == predictPath {
			f.Add([]byte(b.body))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) { fuzzPost(t, predictPath, body) })
}

// FuzzOIP is FuzzNative for the OIP infer route.
func FuzzOIP(f *testing.F) {
	f.Add([]byte(oipWith("", "", "")))
	f.Add([]byte(`{"id":"x","inputs":[{"name":"date","shape":[2,1],"datatype":"BYTES","data":[["2001-06-15"],["2001-06-16 10:00"]]}]}`))
	for _, b := range badRequests {
		if b.path == inferPath {
			f.Add([]byte(b.body))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) { fuzzPost(t, inferPath, body) })
}
