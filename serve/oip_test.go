package serve_test

import (
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/mlpipe/mlpipe/serve"
	"github.com/valyala/fasthttp"
)

// oipDatatype is the OIP datatype the server wants for a contract type.
func oipDatatype(typ string) string {
	switch typ {
	case "int64":
		return "INT64"
	case "float64":
		return "FP64"
	case "bool":
		return "BOOL"
	}
	return "BYTES"
}

// oipBody builds an inference request with one column per input of m.
func oipBody(t testing.TB, m *serve.Model, rows []map[string]any) string {
	t.Helper()
	var inputs []map[string]any
	for _, in := range m.Inputs() {
		col := make([]any, len(rows))
		for i, r := range rows {
			col[i] = r[in.Name]
		}
		inputs = append(inputs, map[string]any{"name": in.Name, "shape": []int{len(rows)}, "datatype": oipDatatype(in.Type), "data": col})
	}
	return mustJSON(t, map[string]any{"inputs": inputs})
}

type oipResponse struct {
	ModelName    string `json:"model_name"`
	ModelVersion string `json:"model_version"`
	ID           string `json:"id"`
	Outputs      []struct {
		Name     string `json:"name"`
		Datatype string `json:"datatype"`
		Shape    []int  `json:"shape"`
		Data     []any  `json:"data"`
	} `json:"outputs"`
}

// TestInfer checks that OIP and the native API give the same answers
// for the same rows, bit for bit, and the response's form.
func TestInfer(t *testing.T) {
	s := newServer(t, serve.Options{})
	rows := fixtureRows(t, 200) // any batch; 200 rows cover both labels
	rows[5]["origin"] = "ZZZ"
	rec := do(s.Handler(), "POST", "/v2/models/flights-delay/infer", oipBody(t, s.Model(), rows))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var resp oipResponse
	decodeBody(t, rec, &resp)
	if resp.ModelName != modelName || resp.ModelVersion != "1" || resp.ID != rec.Header().Get("X-Request-Id") || len(resp.Outputs) != 3 {
		t.Fatalf("response head: %+v", resp)
	}
	nat := do(s.Handler(), "POST", "/v1/models/flights-delay/predict", mustJSON(t, map[string]any{"instances": rows}))
	var want nativeResponse
	decodeBody(t, nat, &want)
	for k, name := range []string{"probability", "label", "unknown"} {
		o := resp.Outputs[k]
		if o.Name != name || len(o.Shape) != 1 || o.Shape[0] != len(rows) || len(o.Data) != len(rows) {
			t.Fatalf("output %d: %s %v, %d values", k, o.Name, o.Shape, len(o.Data))
		}
	}
	for i, p := range want.Predictions {
		if got := resp.Outputs[0].Data[i].(float64); math.Float64bits(got) != math.Float64bits(*p.Probability) {
			t.Errorf("row %d: OIP %v, native %v", i, got, *p.Probability)
		}
		if got := resp.Outputs[1].Data[i].(string); got != p.Label {
			t.Errorf("row %d: OIP label %q, native %q", i, got, p.Label)
		}
		if got := resp.Outputs[2].Data[i].(string); got != strings.Join(p.Unknown, ",") {
			t.Errorf("row %d: OIP unknown %q, native %v", i, got, p.Unknown)
		}
	}
	if resp.Outputs[2].Data[5] != "origin" {
		t.Errorf("unknown of row 5 = %v, want origin", resp.Outputs[2].Data[5])
	}

	// The id is echoed; requested outputs are the only ones returned; the
	// version path works; [N, 1] tensors and nested data are read.
	body := `{"id":"req-42","outputs":[{"name":"label"}],"parameters":{"x":1},"inputs":[
		{"name":"date","shape":[1,1],"datatype":"BYTES","data":[["2001-06-15T08:30:00"]]},
		{"name":"distance","shape":[1],"datatype":"INT64","data":[1250]},
		{"name":"origin","shape":[1],"datatype":"BYTES","data":["ATL"]},
		{"name":"destination","shape":[1],"datatype":"BYTES","data":["LAX"],"parameters":{"content_type":"str"}}]}`
	rec = do(s.Handler(), "POST", "/v2/models/flights-delay/versions/1/infer", body)
	var one oipResponse
	decodeBody(t, rec, &one)
	if rec.Code != 200 || one.ID != "req-42" || len(one.Outputs) != 1 || one.Outputs[0].Name != "label" {
		t.Errorf("%d %s", rec.Code, rec.Body)
	}
}

// TestOIPRoutes checks the metadata and health routes of the protocol.
func TestOIPRoutes(t *testing.T) {
	s := newServer(t, serve.Options{ServerVersion: "test"})
	empty := serve.New(serve.Options{})
	tests := []struct {
		name string
		h    fasthttp.RequestHandler
		path string
		code int
		want string
	}{
		{"OK/live", s.Handler(), "/v2/health/live", 200, `{"live":true}`},
		{"OK/ready", s.Handler(), "/v2/health/ready", 200, `{"ready":true}`},
		{"ErrNotReady", empty.Handler(), "/v2/health/ready", 503, `"ready":false`},
		{"OK/liveNoModel", empty.Handler(), "/v2/health/live", 200, `{"live":true}`},
		{"OK/server", s.Handler(), "/v2", 200, `"name":"mlserve"`},
		{"OK/serverSlash", s.Handler(), "/v2/", 200, `"version":"test"`},
		{"OK/model", s.Handler(), "/v2/models/flights-delay", 200, `{"name":"distance","datatype":"INT64","shape":[-1]}`},
		{"OK/modelVersion", s.Handler(), "/v2/models/flights-delay/versions/1", 200, `"versions":["1"]`},
		{"OK/modelOutputs", s.Handler(), "/v2/models/flights-delay", 200, `{"name":"probability","datatype":"FP64","shape":[-1]}`},
		{"ErrModel", s.Handler(), "/v2/models/nope", 404, `"error":"not found: model \"nope\"`},
		{"ErrVersion", s.Handler(), "/v2/models/flights-delay/versions/2", 404, `version \"2\"`},
		{"ErrVersionText", s.Handler(), "/v2/models/flights-delay/versions/latest", 404, `"error"`},
		{"OK/modelReady", s.Handler(), "/v2/models/flights-delay/ready", 200, `{"name":"flights-delay","ready":true}`},
		{"OK/modelVersionReady", s.Handler(), "/v2/models/flights-delay/versions/v1/ready", 200, `"ready":true`},
		{"ErrModelReadyVersion", s.Handler(), "/v2/models/flights-delay/versions/3/ready", 404, `"error"`},
		{"ErrModelNotLoaded", empty.Handler(), "/v2/models/flights-delay/ready", 503, `"error":"no model is loaded"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := do(tt.h, "GET", tt.path, "")
			if rec.Code != tt.code || !strings.Contains(rec.Body.String(), tt.want) {
				t.Errorf("%d %s; want %d and %s", rec.Code, rec.Body, tt.code, tt.want)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
}
