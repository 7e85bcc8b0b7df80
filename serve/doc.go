// Package serve is the HTTP side of mlserve, the serving binary.
//
// In: a listen address, and (once the registry exists) a model bundle.
// Out: an http.Handler with the health endpoints that load balancers and
// Kubernetes probe:
//
//	GET /healthz  200 while the process is up (liveness)
//	GET /readyz   200 once a model is loaded, 503 before (readiness)
//
// Today no model is loaded, so /readyz answers 503 with the reason: the
// prediction API, hot reload and metrics arrive with the registry (see
// the open issues and docs/architecture.md). Run is the server loop with
// graceful shutdown that those build on.
package serve
