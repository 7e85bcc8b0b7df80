// Package report writes the run report: one self-contained HTML page
// that shows what a pipeline run did and how good its model is.
//
// In: a run's pipeline.Summary (what `mlpipe run` saves as
// REGISTRY/runs/RUN_ID/summary.json) and, when the run registered a
// model version, that version's bundle (nil otherwise). Read loads both
// from a registry by run id.
//
// Out: an HTML document (Write) with these sections, each an element
// with a stable id: overview, data (files and splits), validation
// (warnings and errors), profile (a histogram per numeric column, the
// top categories of the others), leaderboard, metrics (test split),
// curves (ROC, precision–recall, calibration), confusion (the matrix at
// the chosen threshold), slices (worst and busiest), importance (for a
// model that explains itself, the mean |SHAP contribution| of each raw
// input on a sample of the test split as a bar chart, and a panel per
// input of contribution against value; for a model with an Importance
// method, such as gbdt, the gain per feature, mapped to the raw input
// columns), gate (the promotion decision and its
// reason), stages (timings and step-cache decisions) and lineage. A
// section with nothing to show says so rather than disappearing, so the
// page has the same outline for every run.
//
// The page is small and needs nothing else: plots are inline SVG drawn
// with gonum/plot (the ROC, PR and calibration plots are package
// evaluate's), styles are inline, and there is no script, font, image
// or link to another host. The default run's report (3M rows, gbdt) is
// about 80 KB.
//
// Write does no I/O beyond w; Read reads the registry.
package report
