package serve_test

import (
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/mlpipe/mlpipe/registry"
	"github.com/mlpipe/mlpipe/serve"
)

// massServer serves version 1 of the regression fixture (the penguins
// body mass, configs/penguins-body-mass.yaml) with sink.
func massServer(t *testing.T, sink serve.Sink) (*serve.Server, *serve.Model) {
	t.Helper()
	store, err := registry.Open(massReg)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := store.VersionDir(massModel, 1)
	if err != nil {
		t.Fatal(err)
	}
	m, err := serve.LoadModel(dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	s := serve.New(serve.Options{Sink: sink})
	s.SetModel(m)
	return s, m
}

// penguinRows are request instances for the regression fixture.
var penguinRows = []map[string]any{
	{"species": "Gentoo", "island": "Biscoe", "beak_length_mm": 47.5, "beak_depth_mm": 15.0, "flipper_length_mm": 218.0, "sex": "MALE"},
	{"species": "Adelie", "island": "Dream", "beak_length_mm": 36.0, "beak_depth_mm": 18.5, "flipper_length_mm": 186.0, "sex": "FEMALE"},
	{"species": "Chinstrap", "island": "Dream", "beak_length_mm": 50.0, "beak_depth_mm": 19.0, "flipper_length_mm": 196.0, "sex": nil},
}

// TestPredictRegression serves a regression: the native response has a
// "prediction" (for one instance and for a batch) and no probability or
// label; OIP answers "prediction" FP64; both give the model's own
// numbers; the metadata, the model info and /openapi.json say
// "regression"; /metrics has the prediction histogram; the log gets the
// predictions and the labels endpoint takes numbers.
func TestPredictRegression(t *testing.T) {
	sink := &recorder{}
	s, m := massServer(t, sink)
	h := s.Handler()
	path := "/v1/models/" + massModel

	// The model's own numbers, through the training code's batch path.
	want := make([]float64, len(penguinRows))
	for i, r := range penguinRows {
		x, err := m.Bundle.Features.TransformRow(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		m.Bundle.Model.PredictRow(x, want[i:i+1])
	}
	for i, w := range want {
		if !(w > 2000 && w < 7000) {
			t.Fatalf("row %d: the model predicts %v g, not a penguin's weight", i, w)
		}
	}

	type pred struct {
		Prediction  *float64 `json:"prediction"`
		Probability *float64 `json:"probability"`
		Label       *string  `json:"label"`
	}
	var one struct {
		pred
		Predictions []pred `json:"predictions"`
	}
	rec := do(h, "POST", path+"/predict", mustJSON(t, penguinRows[0]), "X-Request-Id", "one")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	decodeBody(t, rec, &one)
	if one.Prediction == nil || one.Probability != nil || one.Label != nil || math.Abs(*one.Prediction-want[0]) > 1e-9 {
		t.Fatalf("single response %s, want prediction %v and nothing else", rec.Body, want[0])
	}
	rec = do(h, "POST", path+"/predict", mustJSON(t, map[string]any{"instances": penguinRows}), "X-Request-Id", "batch")
	decodeBody(t, rec, &one)
	if rec.Code != http.StatusOK || len(one.Predictions) != len(penguinRows) {
		t.Fatalf("batch: %d %s", rec.Code, rec.Body)
	}
	for i, p := range one.Predictions {
		if p.Prediction == nil || p.Label != nil || math.Abs(*p.Prediction-want[i]) > 1e-9 {
			t.Errorf("batch row %d: %+v, want prediction %v", i, p, want[i])
		}
	}

	// OIP: "prediction" FP64 [N]; a classifier's outputs are refused.
	rec = do(h, "POST", "/v2/models/"+massModel+"/infer", oipBody(t, m, penguinRows), "X-Request-Id", "oip")
	var inf struct {
		Outputs []struct {
			Name     string `json:"name"`
			Datatype string `json:"datatype"`
			Shape    []int  `json:"shape"`
			Data     []any  `json:"data"`
		} `json:"outputs"`
	}
	decodeBody(t, rec, &inf)
	if rec.Code != http.StatusOK || len(inf.Outputs) != 2 || inf.Outputs[0].Name != "prediction" || inf.Outputs[0].Datatype != "FP64" ||
		len(inf.Outputs[0].Shape) != 1 || inf.Outputs[0].Shape[0] != 3 || inf.Outputs[1].Name != "unknown" {
		t.Fatalf("OIP: %d %s", rec.Code, rec.Body)
	}
	for i, v := range inf.Outputs[0].Data {
		if math.Abs(v.(float64)-want[i]) > 1e-9 {
			t.Errorf("OIP row %d: %v, want %v", i, v, want[i])
		}
	}
	body := strings.Replace(oipBody(t, m, penguinRows[:1]), `{"inputs"`, `{"outputs":[{"name":"label"}],"inputs"`, 1)
	rec = do(h, "POST", "/v2/models/"+massModel+"/infer", body)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `unknown output \"label\" (the outputs of this regression model are prediction, unknown)`) {
		t.Errorf("OIP asking for a label: %d %s", rec.Code, rec.Body)
	}

	// What the model is, in each place a client looks.
	for _, c := range []struct{ path, want string }{
		{path, `"task":"regression"`},
		{path, `"target":"body_mass_g"`},
		{path, `"outputs":["prediction","unknown"]`},
		{"/v2/models/" + massModel, `{"name":"prediction","datatype":"FP64","shape":[-1]}`},
		{"/v2/models/" + massModel, `"parameters":{"task":"regression"}`},
		{"/openapi.json", `"x-mlpipe-model": {"name":"penguins-body-mass","outputs":["prediction","unknown"],"task":"regression","version":1}`},
	} {
		rec := do(h, "GET", c.path, "")
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), c.want) {
			t.Errorf("GET %s: %d, want %s in %.300s", c.path, rec.Code, c.want, rec.Body)
		}
	}
	rec = do(h, "GET", path, "")
	if strings.Contains(rec.Body.String(), `"classes"`) || strings.Contains(rec.Body.String(), `"threshold"`) {
		t.Errorf("a regression's model info has classes or a threshold: %s", rec.Body)
	}
	var doc map[string]any
	if err := json.Unmarshal(do(h, "GET", "/openapi.json", "").Body.Bytes(), &doc); err != nil {
		t.Errorf("/openapi.json with the model is not JSON: %v", err)
	}

	// The histogram of predictions: 1 + 3 native, 3 OIP.
	metrics := do(h, "GET", "/metrics", "").Body.String()
	if !strings.Contains(metrics, "mlserve_predicted_value_count 7") || !strings.Contains(metrics, `mlserve_predicted_value_bucket{le="`) {
		t.Errorf("/metrics has no prediction histogram of 7 rows:\n%s", grepLines(metrics, "predicted"))
	}

	// The log: predictions as numbers, labels as numbers.
	if len(sink.predictions) != 7 {
		t.Fatalf("%d prediction events, want 7", len(sink.predictions))
	}
	for k, ev := range sink.predictions {
		if ev.Prediction == nil || ev.Probabilities != nil || ev.Label != "" {
			t.Errorf("event %d: %+v", k, ev)
		}
	}
	if got := *sink.predictions[0].Prediction; got != *one.Predictions[0].Prediction && math.Abs(got-want[0]) > 1e-9 {
		t.Errorf("event 0 logs %v, the response said %v", got, want[0])
	}
	rec = do(h, "POST", path+"/labels", `{"labels":[{"id":"one","label":4250},{"id":"batch#1","label":3312.5}]}`)
	if rec.Code != http.StatusAccepted || len(sink.labels) != 2 || string(sink.labels[1].Label) != "3312.5" {
		t.Errorf("labels: %d %s, %d events", rec.Code, rec.Body, len(sink.labels))
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for line := range strings.Lines(s) {
		if strings.Contains(line, sub) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "")
}
