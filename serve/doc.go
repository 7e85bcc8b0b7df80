// Package serve is the HTTP side of mlserve, the serving binary: it
// serves one model bundle, swaps in new versions without dropping a
// request, and reports what it does.
//
// In: a model bundle (LoadModel checks it: its files must match its
// manifest, and it must score its own signature example as recorded), or
// a Registry and a reference
// ("NAME@production") that Reload resolves and Run polls. Out: a
// fasthttp.RequestHandler (Run serves it with fasthttp; see Server for
// why not net/http) with these routes (docs/serving.md has examples):
//
//	POST /v1/models/{name}/predict   native API: one instance, or {"instances": [...]}
//	POST /v1/models/{name}/labels    delayed ground truth, by prediction id
//	GET  /v1/models/{name}           the model: inputs, classes, threshold, lineage
//	POST /v2/models/{name}[/versions/{v}]/infer   Open Inference Protocol (KServe v2)
//	GET  /v2, /v2/health/{live,ready}, /v2/models/{name}[/versions/{v}][/ready]
//	GET  /healthz, /readyz           liveness; readiness (503 until a model is loaded)
//	GET  /metrics                    Prometheus metrics (own registry)
//	GET  /openapi.json               the native API as OpenAPI 3
//	POST /admin/reload               check the registry alias now (token or loopback)
//
// A request is read into pooled buffers by a small JSON reader
// (internal/jsonread), its rows turned into typed features.Values by
// the model's input rules, encoded by features.Encoder (bit for bit
// features.Pipeline.TransformRow) and scored by the bundle's model; the
// response is appended to a reused buffer. Each request loads the model
// pointer once, so a hot swap never mixes versions and every response
// names the version that scored it.
//
// Errors are the sentinels in errors.go, wrapped with the field they
// are about; the edge maps them to status codes: a client's mistake is
// always a 4xx with {"error": "..."} naming the field, never a 5xx.
//
// Every prediction and label can go to a Sink (the prediction log);
// its calls must not block. LiveDrift (drift.go) turns the predictions a
// Sink offers it into PSI gauges on /metrics (Options.Collectors); the
// strings of an instance are cut to Options.MaxEventField first.
//
// Options documents the limits (body size, batch size, requests in
// flight), timeouts and the admin token. admission.go bounds the memory
// under any load: a cap on connections, and a budget of request bytes in
// flight (bodies, read by the work routes as they arrive, and what their
// rows can allocate); past either, 503 with Retry-After. A malformed
// request's answer and log line never quote the request (its
// Authorization header).
package serve
