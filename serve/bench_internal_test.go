package serve

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/mlpipe/mlpipe/bundle"
	"github.com/valyala/fasthttp"
)

// The benchmarks measure the predict path stage by stage (decode,
// features, model, encode) and whole (the handler, without the network),
// for one row and a batch of 1,000, through both APIs. They use the real
// model in ../out/registry when `make run` has built it, else the
// fixture model the test binary trains (see TestMain).
//
//	go test -run '^$' -bench Predict -benchmem ./serve/

// benchModel loads the production model of the real registry or of the
// fixture one.
func benchModel(b testing.TB) *Model {
	b.Helper()
	reg := "../out/registry"
	if _, err := os.Stat(filepath.Join(reg, "models", "flights-delay", "aliases", "production")); err != nil {
		reg = os.Getenv("MLSERVE_TEST_REGISTRY")
	}
	alias, err := os.ReadFile(filepath.Join(reg, "models", "flights-delay", "aliases", "production"))
	if err != nil {
		b.Skip("no registry:", err)
	}
	v := 0
	fmt.Sscan(string(alias), &v)
	m, err := LoadModel(filepath.Join(reg, "models", "flights-delay", fmt.Sprintf("v%d", v)), v)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("model %s v%d (%s) from %s", m.Name, m.Version, m.Bundle.Kind, reg)
	return m
}

// benchRows returns the first n rows of the fixture as request
// instances (without the label column).
func benchRows(b testing.TB, n int) []map[string]json.RawMessage {
	f, err := os.Open("../testdata/flights-10k.jsonl")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var rows []map[string]json.RawMessage
	sc := bufio.NewScanner(f)
	for sc.Scan() && len(rows) < n {
		var r map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			b.Fatal(err)
		}
		delete(r, "delay")
		rows = append(rows, r)
	}
	return rows
}

// bodies returns the native and OIP request bodies of n fixture rows (a
// single instance for n = 1).
func bodies(b testing.TB, m *Model, n int) (native, oip []byte) {
	rows := benchRows(b, n)
	var err error
	if n == 1 {
		native, err = json.Marshal(rows[0])
	} else {
		native, err = json.Marshal(map[string]any{"instances": rows})
	}
	if err != nil {
		b.Fatal(err)
	}
	var inputs []map[string]any
	for _, in := range m.inputs {
		col := make([]json.RawMessage, n)
		for i, r := range rows {
			col[i] = r[in.name]
		}
		inputs = append(inputs, map[string]any{"name": in.name, "shape": []int{n}, "datatype": in.oipType, "data": col})
	}
	oip, err = json.Marshal(map[string]any{"inputs": inputs})
	if err != nil {
		b.Fatal(err)
	}
	return native, oip
}

// BenchmarkPredict reports ns/op and allocs/op of each stage, and rows/s
// of the whole handler.
func BenchmarkPredict(b *testing.B) {
	m := benchModel(b)
	for _, n := range []int{1, 1000} { // one row, and the batch size of the throughput target
		native, oip := bodies(b, m, n)
		for _, api := range []struct {
			name   string
			body   []byte
			path   string
			decode func(sc *scratch) error
			encode func(sc *scratch)
		}{
			{apiNative, native, "/v1/models/flights-delay/predict",
				func(sc *scratch) error { _, err := m.decodeNative(sc, native, n, false); return err },
				func(sc *scratch) { sc.resp = m.appendNative(sc.resp[:0], sc, "bench", n > 1) }},
			{apiOIP, oip, "/v2/models/flights-delay/infer",
				func(sc *scratch) error { return m.decodeOIP(sc, oip, n) },
				func(sc *scratch) { sc.resp = m.appendOIP(sc.resp[:0], sc, "bench") }},
		} {
			prefix := fmt.Sprintf("%s/rows=%d/", api.name, n)
			sc := new(scratch)
			if err := api.decode(sc); err != nil {
				b.Fatal(err)
			}
			m.score(sc)
			stage := func(name string, fn func()) {
				b.Run(prefix+name, func(b *testing.B) {
					b.ReportAllocs()
					b.SetBytes(int64(len(api.body)))
					for b.Loop() {
						fn()
					}
					b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
				})
			}
			stage("decode", func() { _ = api.decode(sc) })
			stage("features", func() { m.encodeFeatures(sc) })
			stage("model", func() { m.predict(sc) })
			stage("encode", func() { api.encode(sc) })
			// The handler stage serves one request on a reused context,
			// as fasthttp's server does between requests of a connection;
			// handler-sink passes every row to a sink that discards it
			// (the cost of the events themselves).
			for _, h := range []struct {
				name string
				opts Options
			}{{"handler", Options{MaxBatch: n}}, {"handler-sink", Options{MaxBatch: n, Sink: discardSink{}}}} {
				s := New(h.opts)
				s.SetModel(m)
				handle := s.Handler()
				var ctx fasthttp.RequestCtx
				var req fasthttp.Request
				req.Header.SetMethod("POST")
				req.SetRequestURI(api.path)
				req.Header.SetContentType("application/json")
				req.SetBody(api.body)
				ctx.Init(&req, nil, nil)
				stage(h.name, func() {
					ctx.Response.Reset()
					handle(&ctx)
					if code := ctx.Response.StatusCode(); code != fasthttp.StatusOK {
						b.Fatalf("status %d: %s", code, ctx.Response.Body())
					}
				})
			}
		}
	}
}

// BenchmarkLoadModel measures loading the production bundle as mlserve
// and `mlpipe predict` do before their first request or chunk: verifying
// and decoding the bundle, then building the serving tables and checking
// the signature's example (serve), the same without the explainer's
// tables, as `mlpipe predict` loads (predict), and bundle.Load alone. cpu-ns/op is the
// process's CPU time (user and system, the garbage collector's workers
// included) a load: steadier than the wall time on a shared machine.
//
//	go test -run '^$' -bench LoadModel -benchmem ./serve/
func BenchmarkLoadModel(b *testing.B) {
	m := benchModel(b)
	for _, bm := range []struct {
		name string
		load func() error
	}{
		{"serve", func() error { _, err := LoadModel(m.Dir, m.Version); return err }},
		{"predict", func() error {
			_, err := LoadModelWith(m.Dir, m.Version, LoadOptions{LazyExplainer: true})
			return err
		}},
		{"bundle", func() error { _, err := bundle.Load(m.Dir); return err }},
	} {
		b.Run(bm.name, func(b *testing.B) {
			start := cpuTime()
			for b.Loop() {
				if err := bm.load(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuTime()-start).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime is the process's CPU time so far, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
