// Package ui is the dashboard of a registry: server-rendered pages of
// runs, models and monitoring (`mlpipe ui`).
//
// In: a registry.Store (run records under runs/, model versions and
// aliases under models/), the monitor's reports under
// REGISTRY/monitoring/MODEL/*.json (monitor.Report), and backtest
// results (backtest.Result) under REGISTRY/backtests/*/backtest.json or
// given in Options.Backtests. Out: an http.Handler (Handler, New) with
// these pages:
//
//	GET  /                          303 to /runs
//	GET  /runs                      the runs, sortable and filterable by query parameters:
//	                                sort (started, id, status, duration, model, auc,
//	                                logloss, gate), order (asc, desc), status, gate, model,
//	                                q (a substring), min_auc, limit; 400 for a bad value
//	GET  /runs/RUN_ID               the run report (package report); 404 for an unknown id
//	GET  /compare?run=A&run=B...    runs side by side, differences highlighted; 400 for
//	                                fewer than two runs, 404 for an unknown one
//	GET  /models                    every model, its aliases and production metrics
//	GET  /models/NAME               versions with metrics, gate decisions and lineage;
//	                                promote and rollback buttons with AllowActions
//	POST /models/NAME/promote       form version, csrf: production ← version, previous ←
//	                                the old production; 303 back to the model's page
//	POST /models/NAME/rollback      form csrf: production ← previous, previous ← the old
//	                                production
//	GET  /monitoring                drift per feature and performance over time per
//	                                model, and the latest backtest chart
//
// The POSTs answer 403 unless AllowActions is set and the form carries
// the server's CSRF token, 404 for an unknown model or version, and 409
// when another process holds the registry's writer lock (they take it
// as `mlpipe models promote` does) or there is nothing to roll back to.
// Unknown paths, run ids and model names are 404, never 500: ids and
// names are checked against the registry's naming rule, so no path
// leaves the registry.
//
// Pages are plain HTML and CSS: no script runs (the Content-Security-
// Policy forbids it) and nothing is fetched from elsewhere. They are
// fast on large registries: the runs list keeps a small row per run in
// memory, read once from its summary.json (run records never change),
// and renders 1,000 runs in about 25 ms on two cores (BenchmarkRunsList);
// rendered run reports and read model versions are cached too.
//
// Mounted under a path of another server (http.StripPrefix), the
// handler needs Options.Prefix so that its links and redirects carry it.
//
// CheckAddr keeps the dashboard, which has no authentication, on
// loopback unless told otherwise.
package ui
