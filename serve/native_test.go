package serve_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mlpipe/mlpipe/bundle"
	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/registry"
	"github.com/mlpipe/mlpipe/serve"
)

// nativePrediction is one prediction of the native API.
type nativePrediction struct {
	Probability   *float64           `json:"probability"`
	Probabilities map[string]float64 `json:"probabilities"`
	Label         string             `json:"label"`
	Unknown       []string           `json:"unknown"`
}

type nativeResponse struct {
	ID      string `json:"id"`
	Model   string `json:"model"`
	Version int    `json:"version"`
	nativePrediction
	Predictions []nativePrediction `json:"predictions"`
}

// loadBundle loads version v of the fixture model the way training
// wrote it, for reference scores.
func loadBundle(t testing.TB, v int) *bundle.Bundle {
	t.Helper()
	store, err := registry.Open(fixtureReg)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := store.VersionDir(modelName, v)
	if err != nil {
		t.Fatal(err)
	}
	b, err := bundle.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// reference scores a row through the training code's single-row path
// (features.Pipeline.TransformRow, train.Model.PredictRow).
func reference(t testing.TB, b *bundle.Bundle, row map[string]any) (float64, []string) {
	t.Helper()
	x, err := b.Features.TransformRow(features.Row(row), nil)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, b.Model.Outputs())
	b.Model.PredictRow(x, out)
	unseen, err := b.Features.Unseen(features.Row(row))
	if err != nil {
		t.Fatal(err)
	}
	return out[0], unseen
}

// TestPredictParity is the serving end of the guard against skew: on
// fixture rows, single and batched, the served probability is bit for
// bit the one the training code's single-row path gives, the label
// follows the bundle's threshold, and "unknown" lists the inputs
// Pipeline.Unseen finds.
func TestPredictParity(t *testing.T) {
	s := newServer(t, serve.Options{})
	b := loadBundle(t, 1)
	rows := fixtureRows(t, 1000) // a typical batch; the first 1,000 rows of the fixture
	// Unseen airports, so that the unknown bucket is exercised.
	rows[3]["origin"], rows[7]["destination"] = "ZZZ", "QQQ"
	check := func(t *testing.T, i int, p nativePrediction) {
		want, unseen := reference(t, b, rows[i])
		if p.Probability == nil || math.Float64bits(*p.Probability) != math.Float64bits(want) {
			t.Fatalf("row %d: probability %v, the training path gives %v", i, p.Probability, want)
		}
		label := b.Classes[0]
		if want >= b.Threshold {
			label = b.Classes[1]
		}
		if p.Label != label {
			t.Errorf("row %d: label %q, want %q (p %v, threshold %v)", i, p.Label, label, want, b.Threshold)
		}
		if !slices.Equal(p.Unknown, unseen) {
			t.Errorf("row %d: unknown %v, want %v", i, p.Unknown, unseen)
		}
	}
	t.Run("Batch", func(t *testing.T) {
		rec := do(s.Handler(), "POST", "/v1/models/flights-delay/predict", mustJSON(t, map[string]any{"instances": rows}))
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		var resp nativeResponse
		decodeBody(t, rec, &resp)
		if resp.Model != modelName || resp.Version != 1 || resp.ID == "" || resp.ID != rec.Header().Get("X-Request-Id") {
			t.Errorf("model %q version %d id %q (header %q)", resp.Model, resp.Version, resp.ID, rec.Header().Get("X-Request-Id"))
		}
		if len(resp.Predictions) != len(rows) {
			t.Fatalf("%d predictions for %d rows", len(resp.Predictions), len(rows))
		}
		for i, p := range resp.Predictions {
			check(t, i, p)
		}
		if len(resp.Predictions[3].Unknown) == 0 || len(resp.Predictions[7].Unknown) == 0 {
			t.Error("unseen airports are not reported")
		}
	})
	t.Run("Single", func(t *testing.T) {
		for i := range 20 { // enough rows for both labels and the unseen airports
			rec := do(s.Handler(), "POST", "/v1/models/flights-delay/predict", mustJSON(t, rows[i]))
			if rec.Code != http.StatusOK {
				t.Fatalf("row %d: status %d: %s", i, rec.Code, rec.Body)
			}
			var resp nativeResponse
			decodeBody(t, rec, &resp)
			if resp.Predictions != nil || resp.Version != 1 {
				t.Errorf("row %d: a single instance got %+v", i, resp)
			}
			check(t, i, resp.nativePrediction)
		}
	})
}

// TestPredictMulticlass serves the three-class penguins bundle from its
// directory: probabilities by class, the argmax label, no version, and
// null accepted where training data had nulls (sex).
func TestPredictMulticlass(t *testing.T) {
	m, err := serve.LoadModel(penguinsDir, 0)
	if err != nil {
		t.Fatal(err)
	}
	s := serve.New(serve.Options{})
	s.SetModel(m)
	sig := m.Bundle.Signature
	rec := do(s.Handler(), "POST", "/v1/models/"+m.Name+"/predict", mustJSON(t, sig.Example))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var resp nativeResponse
	decodeBody(t, rec, &resp)
	if resp.Probability != nil || len(resp.Probabilities) != 3 || resp.Version != 0 {
		t.Fatalf("response %s", rec.Body)
	}
	best := 0
	for k, c := range m.Bundle.Classes {
		if got := resp.Probabilities[c]; math.Abs(got-sig.ExampleOutput[k]) > 1e-12 {
			t.Errorf("P(%s) = %v, the signature records %v", c, got, sig.ExampleOutput[k])
		}
		if sig.ExampleOutput[k] > sig.ExampleOutput[best] {
			best = k
		}
	}
	if resp.Label != m.Bundle.Classes[best] {
		t.Errorf("label %q, want the argmax %q", resp.Label, m.Bundle.Classes[best])
	}
	if sig.Example["sex"] != nil {
		t.Fatalf("the penguins example has sex %v; the test wants a null there", sig.Example["sex"])
	}
	// OIP: probability is [N, K].
	rec = do(s.Handler(), "POST", "/v2/models/"+m.Name+"/infer", oipBody(t, m, []map[string]any{sig.Example}))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"shape":[1,3]`) {
		t.Errorf("OIP: %d %s", rec.Code, rec.Body)
	}
}

// recorder is a Sink that keeps every event: a copy of it, as a sink
// must (the event points into the request's scratch space).
type recorder struct {
	mu          sync.Mutex
	predictions []serve.PredictionEvent
	labels      []serve.LabelEvent
}

func (r *recorder) Prediction(p serve.PredictionEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p.Input = bytes.Clone(p.Input)
	p.Probabilities = slices.Clone(p.Probabilities)
	if p.Prediction != nil {
		v := *p.Prediction
		p.Prediction = &v
	}
	r.predictions = append(r.predictions, p)
}

func (r *recorder) Label(l serve.LabelEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.labels = append(r.labels, l)
}

// TestSink checks the prediction-log events of both APIs and of labels.
func TestSink(t *testing.T) {
	sink := &recorder{}
	s := newServer(t, serve.Options{Sink: sink})
	rows := fixtureRows(t, 3)
	rec := do(s.Handler(), "POST", "/v1/models/flights-delay/predict", mustJSON(t, map[string]any{"instances": rows}), "X-Request-Id", "batch-1")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var batch nativeResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &batch); err != nil || len(batch.Predictions) != len(rows) {
		t.Fatalf("batch response %s: %v", rec.Body, err)
	}
	rec = do(s.Handler(), "POST", "/v1/models/flights-delay/predict", mustJSON(t, rows[0]), "X-Request-Id", "one-1")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	rec = do(s.Handler(), "POST", "/v2/models/flights-delay/infer", oipBody(t, s.Model(), rows[:2]), "X-Request-Id", "oip-1")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	wantIDs := []string{"batch-1#0", "batch-1#1", "batch-1#2", "one-1", "oip-1#0", "oip-1#1"}
	if len(sink.predictions) != len(wantIDs) {
		t.Fatalf("%d prediction events, want %d", len(sink.predictions), len(wantIDs))
	}
	for k, ev := range sink.predictions {
		if ev.ID != wantIDs[k] || ev.Model != modelName || ev.Version != 1 || len(ev.Probabilities) != 1 || ev.Label == "" || ev.Time.IsZero() {
			t.Errorf("event %d: %+v", k, ev)
		}
		// The logged input is the row's raw fields, whichever the API.
		var got map[string]any
		dec := json.NewDecoder(strings.NewReader(string(ev.Input)))
		dec.UseNumber()
		if err := dec.Decode(&got); err != nil {
			t.Fatalf("event %d: input %s: %v", k, ev.Input, err)
		}
		row := rows[[]int{0, 1, 2, 0, 0, 1}[k]]
		if mustJSON(t, got) != mustJSON(t, row) {
			t.Errorf("event %d: input %s, want %s", k, ev.Input, mustJSON(t, row))
		}
		// Each event of the batch has its own row's probability.
		if k < len(batch.Predictions) && len(ev.Probabilities) == 1 && ev.Probabilities[0] != *batch.Predictions[k].Probability {
			t.Errorf("event %d: probability %v, the response says %v", k, ev.Probabilities[0], *batch.Predictions[k].Probability)
		}
	}
	rec = do(s.Handler(), "POST", "/v1/models/flights-delay/labels", `{"labels":[{"id":"batch-1#0","label":true},{"id":"one-1","label":0}]}`)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("labels: status %d: %s", rec.Code, rec.Body)
	}
	if len(sink.labels) != 2 || sink.labels[0].ID != "batch-1#0" || string(sink.labels[0].Label) != "true" || string(sink.labels[1].Label) != "0" {
		t.Errorf("label events %+v", sink.labels)
	}
	// The ids of a batch whose row numbers have one, two and three digits.
	sink.predictions = nil
	rows = fixtureRows(t, 103)
	rec = do(s.Handler(), "POST", "/v1/models/flights-delay/predict", mustJSON(t, map[string]any{"instances": rows}), "X-Request-Id", "big")
	if rec.Code != http.StatusOK || len(sink.predictions) != len(rows) {
		t.Fatalf("status %d, %d events: %s", rec.Code, len(sink.predictions), rec.Body)
	}
	for i, ev := range sink.predictions {
		if want := fmt.Sprintf("big#%d", i); ev.ID != want {
			t.Errorf("event %d: id %q, want %q", i, ev.ID, want)
		}
	}
}

// TestLabels checks the labels endpoint's validation (no sink: labels are
// checked and counted, then dropped).
func TestLabels(t *testing.T) {
	s := newServer(t, serve.Options{MaxBatch: 2})
	tests := []struct {
		name, body string
		code       int
		want       string // in the body
	}{
		{"OK/one", `{"id":"abc","label":true}`, 202, `"accepted":1`},
		{"OK/string", `{"label":"delayed","id":"abc"}`, 202, `"accepted":1`},
		{"OK/many", `{"labels":[{"id":"a","label":1},{"id":"b","label":0.5}]}`, 202, `"accepted":2`},
		{"ErrEmptyID", `{"id":"","label":true}`, 400, `"id"`},
		{"ErrNumberID", `{"id":7,"label":true}`, 400, `"id": want a string`},
		{"ErrNullLabel", `{"id":"a","label":null}`, 400, `"label": want a bool, number or string`},
		{"ErrObjectLabel", `{"id":"a","label":{}}`, 400, `"label"`},
		{"ErrMissingLabel", `{"id":"a"}`, 400, `missing field "label"`},
		{"ErrMissingID", `{"label":true}`, 400, `missing field "id"`},
		{"ErrExtra", `{"id":"a","label":true,"score":1}`, 400, `unknown field "score"`},
		{"ErrEmptyList", `{"labels":[]}`, 400, `empty`},
		{"ErrOverLimit", `{"labels":[{"id":"a","label":1},{"id":"b","label":1},{"id":"c","label":1}]}`, 413, `more than 2`},
		{"ErrNestedBad", `{"labels":[{"id":"a","label":1},{"id":"b"}]}`, 400, `labels[1]: missing field`},
		// A number predict would refuse is refused here too, rather than
		// logged as the string "1e400".
		{"ErrHugeLabel", `{"id":"a","label":1e400}`, 400, `1e400 is out of the range of a float64`},
		{"ErrHugeLabelInList", `{"labels":[{"id":"a","label":1},{"id":"b","label":-1e309}]}`, 400, `labels[1]: field "label": -1e309`},
		{"ErrJSON", `{"id":"a",`, 400, `invalid JSON`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := do(s.Handler(), "POST", "/v1/models/flights-delay/labels", tt.body)
			var e struct {
				Error string `json:"error"`
			}
			decodeBody(t, rec, &e)
			if tt.code >= 400 && !strings.Contains(e.Error, tt.want) || tt.code < 400 && !strings.Contains(rec.Body.String(), tt.want) || rec.Code != tt.code {
				t.Errorf("%d %s; want %d and %q", rec.Code, rec.Body, tt.code, tt.want)
			}
		})
	}
}

// TestModelInfo checks GET /v1/models/{name}.
func TestModelInfo(t *testing.T) {
	s := newServer(t, serve.Options{})
	rec := do(s.Handler(), "GET", "/v1/models/flights-delay", "")
	var info struct {
		Name    string `json:"name"`
		Version int    `json:"version"`
		Inputs  []struct {
			Name string   `json:"name"`
			Type string   `json:"type"`
			Min  *float64 `json:"min"`
			Max  *float64 `json:"max"`
		} `json:"inputs"`
	}
	decodeBody(t, rec, &info)
	if rec.Code != 200 || info.Name != modelName || info.Version != 1 || len(info.Inputs) != 4 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	// distance: never negative in training, so min 0; max is 10 times the
	// largest training distance of the fixture.
	d := info.Inputs[1]
	if d.Name != "distance" || d.Min == nil || *d.Min != 0 || d.Max == nil || *d.Max <= 0 {
		t.Errorf("distance: %+v", d)
	}
}
