package serve_test

import (
	"encoding/json"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/mlpipe/mlpipe/registry"
	"github.com/mlpipe/mlpipe/serve"
)

// explanation is one margin's explanation in a native response.
type explanation struct {
	Base          float64            `json:"base"`
	Margin        float64            `json:"margin"`
	Contributions map[string]float64 `json:"contributions"`
	Other         *float64           `json:"other"`
}

// explainTol is the bound on |base + Σ contributions − margin|.
const explainTol = 1e-9

// check tests that the explanation adds up and, given keys (the
// contributions in the response's order), that they come largest first.
func (x explanation) check(t *testing.T, keys []string) {
	t.Helper()
	sum := x.Base
	for _, v := range x.Contributions {
		sum += v
	}
	if x.Other != nil {
		sum += *x.Other
	}
	if math.Abs(sum-x.Margin) > explainTol {
		t.Errorf("base %v + contributions = %v, margin %v", x.Base, sum, x.Margin)
	}
	for i := 1; i < len(keys); i++ {
		if math.Abs(x.Contributions[keys[i]]) > math.Abs(x.Contributions[keys[i-1]]) {
			t.Errorf("contributions %v not largest first: %q", x.Contributions, keys)
		}
	}
}

// contributionKeys returns the keys of each "contributions" object of a
// body, in order.
func contributionKeys(body string) [][]string {
	var out [][]string
	for _, m := range regexp.MustCompile(`"contributions":\{([^}]*)\}`).FindAllStringSubmatch(body, -1) {
		var keys []string
		for _, k := range regexp.MustCompile(`"([^"]+)":`).FindAllStringSubmatch(m[1], -1) {
			keys = append(keys, k[1])
		}
		out = append(out, keys)
	}
	return out
}

// TestExplainNative: "explain" beside the instances, before or after
// them, or among one instance's fields, adds to each prediction its
// base value, margin (the log-odds of its probability) and the
// contribution of every raw input, largest first, adding up to the
// margin; a number asks for that many and the rest's sum.
func TestExplainNative(t *testing.T) {
	s := newServer(t, serve.Options{})
	h := s.Handler()
	path := "/v1/models/" + modelName + "/predict"
	rows := fixtureRows(t, 20)
	inputs := []string{"date", "distance", "origin", "destination", "origin × destination"}
	for _, body := range []string{
		`{"explain":true,"instances":` + mustJSON(t, rows) + `}`,
		`{"instances":` + mustJSON(t, rows) + `,"explain":true}`,
	} {
		rec := do(h, "POST", path, body)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		var resp struct {
			Predictions []struct {
				Probability float64     `json:"probability"`
				Explanation explanation `json:"explanation"`
			} `json:"predictions"`
		}
		decodeBody(t, rec, &resp)
		keys := contributionKeys(rec.Body.String())
		for i, p := range resp.Predictions {
			x := p.Explanation
			x.check(t, keys[i])
			if len(x.Contributions) != len(inputs) || x.Other != nil {
				t.Errorf("row %d: contributions %v, want one per input %q", i, x.Contributions, inputs)
			}
			if logit := math.Log(p.Probability / (1 - p.Probability)); math.Abs(logit-x.Margin) > 1e-9 {
				t.Errorf("row %d: margin %v, log-odds of the probability %v", i, x.Margin, logit)
			}
		}
	}

	// One instance, "explain" among its fields, the 2 largest.
	one := mustJSON(t, rows[0])
	rec := do(h, "POST", path, one[:len(one)-1]+`,"explain":2}`)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var resp struct {
		Explanation explanation `json:"explanation"`
	}
	decodeBody(t, rec, &resp)
	resp.Explanation.check(t, contributionKeys(rec.Body.String())[0])
	if len(resp.Explanation.Contributions) != 2 || resp.Explanation.Other == nil {
		t.Errorf("explain 2: %s", rec.Body)
	}

	// Without "explain", nothing changes.
	if rec := do(h, "POST", path, one); strings.Contains(rec.Body.String(), "explanation") {
		t.Errorf("an unexplained request got %s", rec.Body)
	}
	metrics := do(h, "GET", "/metrics", "").Body.String()
	if !strings.Contains(metrics, `mlserve_explained_predictions_total{api="native"} 41`) {
		t.Errorf("metrics: want 41 explained native predictions:\n%s", grep(metrics, "explained"))
	}
}

func grep(text, word string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestExplainErrors: a bad "explain" is a 400 naming it, too many rows
// to explain a 413, and a model that cannot explain a 400 saying why.
func TestExplainErrors(t *testing.T) {
	s := newServer(t, serve.Options{MaxExplain: 2})
	h := s.Handler()
	path := "/v1/models/" + modelName + "/predict"
	rows := mustJSON(t, fixtureRows(t, 3))
	one := mustJSON(t, fixtureRows(t, 1)[0])
	for _, tc := range []struct {
		body string
		code int
		want string
	}{
		{`{"explain":"yes","instances":` + rows + `}`, 400, `\"explain\": want true, false or a number`},
		{`{"explain":0,"instances":` + rows + `}`, 400, `\"explain\": 0 is not a number of contributions`},
		{`{"explain":true,"instances":` + rows + `,"explain":true}`, 400, `duplicate field \"explain\"`},
		{`{"instances":[` + one[:len(one)-1] + `,"explain":true}]}`, 400, `instances[0]: \"explain\" goes beside \"instances\"`},
		{`{"instances":` + rows + `,"explain":true}`, 413, "3 instances to explain; the limit is 2"},
		{`{"instances":` + rows + `,"explain":false}`, 200, `"label"`},
	} {
		rec := do(h, "POST", path, tc.body)
		if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.want) {
			t.Errorf("%.60s...: %d %s; want %d with %s", tc.body, rec.Code, rec.Body, tc.code, tc.want)
		}
	}

	// A model saved before explanations (no node covers, or no training
	// means) serves, but cannot explain.
	dir := copyRegistry(t)
	store, err := registry.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	vdir, err := store.VersionDir(modelName, 1)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(vdir, "model.json"))
	if err != nil {
		t.Fatal(err)
	}
	// gbdt's node covers, or logreg's training means.
	old := regexp.MustCompile(`,"((leaf_)?cover|mean)":\[[^\]]*\]`).ReplaceAll(data, nil)
	if len(old) == len(data) {
		t.Fatal("the fixture model has no covers or means to remove")
	}
	if err := os.WriteFile(filepath.Join(vdir, "model.json"), old, 0o644); err != nil {
		t.Fatal(err)
	}
	remanifest(vdir) // an older model, as written then: it verifies
	m, err := serve.LoadModel(vdir, 1)
	if err != nil {
		t.Fatal(err)
	}
	s2 := serve.New(serve.Options{})
	s2.SetModel(m)
	rec := do(s2.Handler(), "POST", path, one[:len(one)-1]+`,"explain":true}`)
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), "cannot explain") || !strings.Contains(rec.Body.String(), "retrain") {
		t.Errorf("explaining a model without covers: %d %s", rec.Code, rec.Body)
	}
	if rec := do(s2.Handler(), "POST", path, one); rec.Code != 200 {
		t.Errorf("the model without covers should still predict: %d %s", rec.Code, rec.Body)
	}
	info := do(s2.Handler(), "GET", "/v1/models/"+modelName, "").Body.String()
	if !strings.Contains(info, `"explanations":{"available":false`) {
		t.Errorf("model info: %s", info)
	}
}

// TestExplainOIP: the parameter explain (or naming the output) adds the
// output "explanation": per row the base value then each input's
// contribution, the values of the native API, bit for bit; the model
// metadata lists the output.
func TestExplainOIP(t *testing.T) {
	s := newServer(t, serve.Options{})
	h := s.Handler()
	m := s.Model()
	rows := fixtureRows(t, 10)
	body := oipBody(t, m, rows)
	for _, req := range []string{
		body[:len(body)-1] + `,"parameters":{"explain":true}}`,
		body[:len(body)-1] + `,"outputs":[{"name":"probability"},{"name":"explanation"}]}`,
	} {
		rec := do(h, "POST", "/v2/models/"+modelName+"/infer", req)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		var resp struct {
			Outputs []struct {
				Name       string            `json:"name"`
				Shape      []int             `json:"shape"`
				Parameters map[string]string `json:"parameters"`
				Data       json.RawMessage   `json:"data"`
			} `json:"outputs"`
		}
		decodeBody(t, rec, &resp)
		last := resp.Outputs[len(resp.Outputs)-1]
		if last.Name != "explanation" || len(last.Shape) != 2 || last.Shape[0] != 10 || last.Shape[1] != 6 ||
			last.Parameters["columns"] != "base_value,date,distance,origin,destination,origin × destination" {
			t.Fatalf("explanation output %+v", last)
		}
		native := do(h, "POST", "/v1/models/"+modelName+"/predict", `{"explain":true,"instances":`+mustJSON(t, rows)+`}`)
		var nresp struct {
			Predictions []struct {
				Explanation explanation `json:"explanation"`
			} `json:"predictions"`
		}
		decodeBody(t, native, &nresp)
		var data []json.Number
		if err := json.Unmarshal(last.Data, &data); err != nil {
			t.Fatal(err)
		}
		names := strings.Split(last.Parameters["columns"], ",")
		for i := range 10 {
			x := nresp.Predictions[i].Explanation
			for j, name := range names {
				got, _ := data[i*6+j].Float64()
				want := x.Base
				if j > 0 {
					want = x.Contributions[name]
				}
				if got != want {
					t.Errorf("row %d %s: OIP %v, native %v", i, name, got, want)
				}
			}
		}
	}
	meta := do(h, "GET", "/v2/models/"+modelName, "").Body.String()
	if !strings.Contains(meta, `{"name":"explanation","datatype":"FP64","shape":[-1,6]}`) {
		t.Errorf("metadata: %s", meta)
	}
	info := do(h, "GET", "/v1/models/"+modelName, "").Body.String()
	if !strings.Contains(info, `"explanations":{"available":true,"base":[`) || !strings.Contains(info, `"method":"`) {
		t.Errorf("model info: %s", info)
	}
}

// TestExplainMulticlass: a K-class model explains each class's margin,
// by class name.
func TestExplainMulticlass(t *testing.T) {
	m, err := serve.LoadModel(penguinsDir, 0)
	if err != nil {
		t.Fatal(err)
	}
	s := serve.New(serve.Options{})
	s.SetModel(m)
	ex := m.Bundle.Signature.Example
	one := mustJSON(t, ex)
	rec := do(s.Handler(), "POST", "/v1/models/"+m.Name+"/predict", one[:len(one)-1]+`,"explain":true}`)
	if rec.Code != http.StatusOK {
		if strings.Contains(rec.Body.String(), "cannot explain") {
			t.Skipf("the penguins model (%s) cannot explain: %s", m.Bundle.Kind, rec.Body)
		}
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var resp struct {
		Probabilities map[string]float64     `json:"probabilities"`
		Explanation   map[string]explanation `json:"explanation"`
	}
	decodeBody(t, rec, &resp)
	keys := contributionKeys(rec.Body.String())
	if len(resp.Explanation) != 3 || len(keys) != 3 {
		t.Fatalf("explanation %s", rec.Body)
	}
	// softmax of the margins is the probabilities.
	var norm float64
	for _, c := range m.Bundle.Classes {
		norm += math.Exp(resp.Explanation[c].Margin)
	}
	for k, c := range m.Bundle.Classes {
		x := resp.Explanation[c]
		x.check(t, keys[k])
		if p := math.Exp(x.Margin) / norm; math.Abs(p-resp.Probabilities[c]) > 1e-12 {
			t.Errorf("class %s: softmax of the margins %v, probability %v", c, p, resp.Probabilities[c])
		}
	}
}

// TestExplainLazy: a model loaded with LazyExplainer builds its explainer
// on the first explained request (here several at once, for -race) and
// answers every explained request and the model metadata byte for byte
// as a model that built it at load.
func TestExplainLazy(t *testing.T) {
	eager := newServer(t, serve.Options{})
	m := eager.Model()
	lm, err := serve.LoadModelWith(m.Dir, m.Version, serve.LoadOptions{LazyExplainer: true})
	if err != nil {
		t.Fatal(err)
	}
	lazy := serve.New(serve.Options{})
	lazy.SetModel(lm)
	rows := fixtureRows(t, 5)
	oip := oipBody(t, m, rows)
	reqs := [][3]string{
		{"POST", "/v1/models/" + modelName + "/predict", `{"explain":2,"instances":` + mustJSON(t, rows) + `}`},
		{"POST", "/v2/models/" + modelName + "/infer", oip[:len(oip)-1] + `,"parameters":{"explain":true}}`},
		{"GET", "/v2/models/" + modelName, ""},
		{"GET", "/v1/models/" + modelName, ""},
	}
	// What differs between any two servers: the request id, the load time.
	differs := regexp.MustCompile(`"(id|loaded_at)":"[^"]*"`)
	body := func(s *serve.Server, r [3]string) string {
		return differs.ReplaceAllString(do(s.Handler(), r[0], r[1], r[2]).Body.String(), "")
	}
	got := make([]string, len(reqs))
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Go(func() { got[i] = body(lazy, r) })
	}
	wg.Wait()
	for i, r := range reqs {
		want := body(eager, r)
		if got[i] != want || !strings.Contains(want, "explanation") {
			t.Errorf("%s %s: lazy explainer answers\n%s\nwant\n%s", r[0], r[1], got[i], want)
		}
	}
}
