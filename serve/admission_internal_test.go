package serve

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/valyala/fasthttp"
)

type discardSink struct{}

func (discardSink) Prediction(PredictionEvent) {}
func (discardSink) Label(LabelEvent)           {}

// TestRowBytes checks the budget's estimate of a row's working memory
// (rowCost) against what a batch really allocates, through each API,
// with a sink: the handler's allocations for a batch of 5,000 rows on a
// cold scratch, per row, must not exceed it.
func TestRowBytes(t *testing.T) {
	m := benchModel(t)
	const n = 5000
	native, oip := bodies(t, m, n)
	for _, api := range []struct {
		name, path string
		body       []byte
	}{
		{apiNative, "/v1/models/flights-delay/predict", native},
		{apiOIP, "/v2/models/flights-delay/infer", oip},
	} {
		s := New(Options{MaxBatch: n, Sink: discardSink{}})
		s.SetModel(m)
		h := s.Handler()
		var ctx fasthttp.RequestCtx
		ctx.Request.Header.SetMethod("POST")
		ctx.Request.SetRequestURI(api.path)
		ctx.Request.Header.SetContentType("application/json")
		ctx.Request.SetBody(api.body)
		runtime.GC()
		runtime.GC() // empties the scratch pool
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		h(&ctx)
		runtime.ReadMemStats(&after)
		if code := ctx.Response.StatusCode(); code != 200 {
			t.Fatalf("%s: %d %s", api.name, code, ctx.Response.Body())
		}
		allocated := int64(after.TotalAlloc - before.TotalAlloc)
		charged := s.workBytes(api.body, api.name) + int64(len(api.body))
		t.Logf("%s: %d rows allocated %d bytes (%d a row); the budget charges %d (%d a row) for the %d-byte body", api.name, n, allocated, allocated/n, charged, m.rowBytes, len(api.body))
		if allocated > charged {
			t.Errorf("%s: the request allocated %d bytes, more than the %d the budget charges", api.name, allocated, charged)
		}
	}
}

// TestExplainRowBytes: a request that explains MaxExplain rows
// allocates no more than the budget charges it.
func TestExplainRowBytes(t *testing.T) {
	models := []*Model{benchModel(t)}
	// The fixture registry's v2 is a gbdt (TreeSHAP), v1 a logreg.
	if reg := os.Getenv("MLSERVE_TEST_REGISTRY"); reg != "" {
		if m, err := LoadModel(filepath.Join(reg, "models", "flights-delay", "v2"), 2); err == nil {
			models = append(models, m)
		}
	}
	for _, m := range models {
		t.Run(m.Bundle.Kind, func(t *testing.T) { explainRowBytes(t, m) })
	}
}

func explainRowBytes(t *testing.T, m *Model) {
	if m.explain.ex == nil {
		t.Skipf("the model cannot explain: %v", m.explain.err)
	}
	const n = DefaultMaxExplain
	rows := benchRows(t, n)
	body, _ := json.Marshal(map[string]any{"instances": rows, "explain": true})
	s := New(Options{MaxBatch: n, Sink: discardSink{}})
	s.SetModel(m)
	h := s.Handler()
	var ctx fasthttp.RequestCtx
	ctx.Request.Header.SetMethod("POST")
	ctx.Request.SetRequestURI("/v1/models/flights-delay/predict")
	ctx.Request.Header.SetContentType("application/json")
	ctx.Request.SetBody(body)
	runtime.GC()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	h(&ctx)
	runtime.ReadMemStats(&after)
	if code := ctx.Response.StatusCode(); code != 200 {
		t.Fatalf("%d %s", code, ctx.Response.Body())
	}
	allocated := int64(after.TotalAlloc - before.TotalAlloc)
	charged := s.workBytes(body, apiNative) + int64(len(body))
	t.Logf("explaining %d rows allocated %d bytes; the budget charges %d", n, allocated, charged)
	// Under -race the same request allocates about 30% more (the real
	// model's: 499,368 against 379,560 bytes, 2026-12-06): the budget is
	// for the binary mlserve ships, so only a normal build is held to it.
	if allocated > charged && !raceEnabled {
		t.Errorf("explaining allocated %d bytes, more than the %d the budget charges", allocated, charged)
	}
}

// usedSink records the budget in use when a request's first prediction
// reaches the sink: after decoding and scoring, before the request ends.
type usedSink struct {
	s    *Server
	used *int64
}

func (u usedSink) Prediction(PredictionEvent) {
	if *u.used < 0 {
		*u.used = u.s.budget.used.Load()
	}
}
func (usedSink) Label(LabelEvent) {}

// TestSettle: once a batch is decoded, it holds the budget for its real
// rows, not for the rows its body could have held (settle). Without it a
// 1,000-row OIP batch held several times its rows' memory for its whole
// life, and 16 of them at once were refused under the default budget.
func TestSettle(t *testing.T) {
	m := benchModel(t)
	const n = 1000
	native, oip := bodies(t, m, n)
	for _, api := range []struct {
		name, path string
		body       []byte
	}{
		{apiNative, "/v1/models/flights-delay/predict", native},
		{apiOIP, "/v2/models/flights-delay/infer", oip},
	} {
		used := int64(-1)
		s := New(Options{MaxBatch: 10 * n})
		s.sink = usedSink{s: s, used: &used}
		s.SetModel(m)
		var ctx fasthttp.RequestCtx
		ctx.Request.Header.SetMethod("POST")
		ctx.Request.SetRequestURI(api.path)
		ctx.Request.Header.SetContentType("application/json")
		ctx.Request.SetBody(api.body)
		s.Handler()(&ctx)
		if code := ctx.Response.StatusCode(); code != 200 {
			t.Fatalf("%s: %d %s", api.name, code, ctx.Response.Body())
		}
		upFront := s.workBytes(api.body, api.name)
		want := int64(n)*m.rowBytes + int64(len(api.body))
		t.Logf("%s: %d rows charged %d bytes up front, %d once decoded", api.name, n, upFront, used)
		if used != want {
			t.Errorf("%s: %d bytes in use after decoding, want %d (%d rows of %d bytes and the body)", api.name, used, want, n, m.rowBytes)
		}
		if after := s.budget.used.Load(); after != 0 {
			t.Errorf("%s: %d bytes still charged after the request", api.name, after)
		}
	}
}
