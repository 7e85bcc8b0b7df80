package report

import (
	"fmt"
	"html/template"
	"time"

	"github.com/mlpipe/mlpipe/internal/numfmt"
)

// Style is the report's style sheet, which the dashboard shares: plain
// CSS, system fonts, no external resource.
const Style = `
:root{--fg:#1d2330;--muted:#5b6474;--line:#d9dee7;--bg:#fff;--soft:#f4f6f9;--accent:#1f77b4;--good:#1a7f37;--bad:#c0362c;--warn:#9a6700}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Liberation Sans",Arial,sans-serif;color:var(--fg);background:var(--bg)}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
nav.top{display:flex;gap:1.2em;align-items:center;padding:.6em 1.5em;background:#1d2330}
nav.top a{color:#e8ecf3;font-weight:600}nav.top a.here{color:#fff;border-bottom:2px solid #8fc1ea}
nav.top .brand{color:#8fc1ea;margin-right:1em}
header,main,footer{max-width:1200px;margin:0 auto;padding:0 1.5em}
header{padding-top:1.2em}
h1{font-size:1.5em;margin:.2em 0 .4em}h2{font-size:1.2em;margin:1.6em 0 .5em;padding-bottom:.2em;border-bottom:1px solid var(--line)}
h3{font-size:1em;margin:1.2em 0 .4em}
code,.mono{font-family:ui-monospace,"DejaVu Sans Mono","Liberation Mono",Menlo,monospace;font-size:.92em}
.muted{color:var(--muted)}
nav.toc{display:flex;flex-wrap:wrap;gap:.3em .9em;font-size:.92em;margin:.4em 0 0}
table{border-collapse:collapse;margin:.4em 0 1em;font-size:.93em}
th,td{padding:.3em .7em;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:var(--soft);font-weight:600;white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tr.best td{background:#eef6ee}
tr.diff td{background:#fff6dd}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25em 1.2em;margin:.4em 0}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0;overflow-wrap:anywhere}
.cards{display:flex;flex-wrap:wrap;gap:.8em;margin:.6em 0}
.card{border:1px solid var(--line);border-radius:6px;padding:.5em .9em;min-width:8.5em;background:var(--soft)}
.card .k{color:var(--muted);font-size:.85em}.card .v{font-size:1.25em;font-weight:600}
.status-ok,.good{color:var(--good)}.status-failed,.status-invalid,.bad{color:var(--bad)}.status-cancelled,.kept,.warn{color:var(--warn)}
.pill{display:inline-block;padding:0 .5em;border-radius:1em;border:1px solid currentColor;font-size:.85em;font-weight:600}
.figs{display:flex;flex-wrap:wrap;gap:1em}
figure{margin:0;max-width:100%}figure svg{max-width:100%;height:auto;display:block}
figcaption{color:var(--muted);font-size:.85em;max-width:26em}
.bar{display:inline-block;height:.8em;background:var(--accent);vertical-align:middle;border-radius:2px}
.bars td{white-space:nowrap}
.empty{color:var(--muted);font-style:italic}
.confusion td{text-align:right;min-width:7em}
.confusion td.hit{background:#eef6ee}.confusion td.miss{background:#fbeceb}
footer{color:var(--muted);font-size:.85em;padding-top:2em;padding-bottom:2em}
form.inline{display:inline}
button{font:inherit;padding:.2em .8em;border:1px solid var(--accent);background:#fff;color:var(--accent);border-radius:4px;cursor:pointer}
button:hover{background:var(--accent);color:#fff}
input,select{font:inherit;padding:.15em .3em}
.filters{display:flex;flex-wrap:wrap;gap:.8em;align-items:end;margin:.6em 0}
.filters label{display:flex;flex-direction:column;font-size:.85em;color:var(--muted)}
.heat td.cell{text-align:right;font-variant-numeric:tabular-nums}
`

var funcs = template.FuncMap{
	"f4":    f4,
	"g4":    g4,
	"add":   func(a, b int) int { return a + b },
	"pct":   pct,
	"dur":   func(d time.Duration) string { return duration(d) },
	"short": short,
	"n":     func(n int) string { return numfmt.Thousands(n) },
	"n64":   func(n int64) string { return numfmt.Thousands(n) },
	"width": func(share, max float64) string {
		if max <= 0 {
			return "0"
		}
		return fmt.Sprintf("%.1f", 12*share/max) // em: the longest bar is 12em
	},
	"style": func() template.CSS { return template.CSS(Style) },
	"deref": func(p *float64) string {
		if p == nil {
			return "—"
		}
		return f4(*p)
	},
	"rate": func(p *float64) string {
		if p == nil {
			return "—"
		}
		return pct(*p)
	},
}

var pageTmpl = template.Must(template.New("page").Funcs(funcs).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · mlpipe</title>
<style>{{style}}</style>
</head>
<body>
{{if .Links}}<nav class="top"><span class="brand">mlpipe</span>{{range .Links}}<a href="{{.Href}}">{{.Text}}</a>{{end}}</nav>{{end}}
<header>
<h1>{{.Title}}</h1>
<nav class="toc">{{range .Sections}}<a href="#{{.ID}}">{{.Title}}</a>{{end}}</nav>
</header>
<main>
{{with .S}}
<section id="overview">
<h2>Overview</h2>
<div class="cards">{{range $.Headline}}<div class="card"><div class="k">{{.Name}}</div><div class="v {{.Class}}">{{.Value}}</div></div>{{end}}</div>
{{if .Error}}<p class="bad">Error: <code>{{.Error}}</code></p>{{end}}
<dl class="facts">
<dt>config</dt><dd class="mono">{{.Config}}</dd>
<dt>label</dt><dd class="mono">{{.Label}}</dd>
<dt>started</dt><dd>{{.StartedAt}}</dd>
<dt>ended</dt><dd>{{.EndedAt}}</dd>
{{with .Model}}<dt>model</dt><dd>{{.Kind}}: {{.Features}} feature columns, {{if eq .Task "regression"}}a regression of {{$.S.Label}}{{else}}{{.Classes}} classes, threshold {{f4 .Threshold}}{{end}}</dd>{{end}}
</dl>
</section>

<section id="data">
<h2>Data</h2>
<dl class="facts">
<dt>source</dt><dd class="mono">{{.Source}}</dd>
<dt>rows</dt><dd>{{n64 .Rows}}</dd>
<dt>columns</dt><dd>{{.Columns}}</dd>
<dt>fingerprint</dt><dd class="mono">{{.Fingerprint}}</dd>
</dl>
{{if .Files}}
<table id="files">
<thead><tr><th>file</th><th>format</th><th class="num">rows</th><th class="num">rows in the file</th></tr></thead>
<tbody>{{range .Files}}<tr><td class="mono">{{.Path}}</td><td>{{.Format}}</td><td class="num">{{n64 .Rows}}</td><td class="num">{{n64 .FileRows}}</td></tr>{{end}}</tbody>
</table>
{{end}}
{{if .Splits}}
<h3>Splits</h3>
<table id="splits">
{{if $.Regression}}<thead><tr><th>split</th><th class="num">rows</th><th>from</th><th>to</th><th class="num">mean target</th><th class="num">standard deviation</th></tr></thead>
<tbody>{{range .Splits}}<tr><td>{{.Name}}</td><td class="num">{{n64 .Rows}}</td><td>{{.From}}</td><td>{{.To}}</td><td class="num">{{with .MeanTarget}}{{g4 .}}{{end}}</td><td class="num">{{with .StdTarget}}{{g4 .}}{{end}}</td></tr>{{end}}</tbody>
{{else}}<thead><tr><th>split</th><th class="num">rows</th><th>from</th><th>to</th><th class="num">positive rate</th></tr></thead>
<tbody>{{range .Splits}}<tr><td>{{.Name}}</td><td class="num">{{n64 .Rows}}</td><td>{{.From}}</td><td>{{.To}}</td><td class="num">{{rate .PositiveRate}}</td></tr>{{end}}</tbody>{{end}}
</table>
{{$splits := .Splits}}{{with index .Splits 0}}{{if .GroupedBy}}<p>Split at random by the values of {{.GroupedBy}}, each value's rows in one split:{{range $i, $s := $splits}}{{if $i}},{{end}} {{$s.Groups}} values in {{$s.Name}}{{end}}.</p>{{end}}{{end}}
{{else}}<p class="empty">No splits: the run stopped before splitting the data.</p>{{end}}
</section>

<section id="validation">
<h2>Validation</h2>
{{with .Validation}}
<p>{{n64 .Rows}} rows checked: <span class="{{if .Errors}}bad{{else}}good{{end}}">{{.Errors}} errors</span>, <span class="{{if $.Warnings}}warn{{end}}">{{$.Warnings}} warnings</span>.</p>
{{if .Issues}}
<table id="issues">
<thead><tr><th>severity</th><th>code</th><th>column</th><th class="num">row</th><th class="num">rows affected</th><th>message</th></tr></thead>
<tbody>{{range .Issues}}<tr><td class="{{if eq (print .Severity) "error"}}bad{{else}}warn{{end}}">{{.Severity}}</td><td class="mono">{{.Code}}</td><td>{{.Column}}</td><td class="num">{{if .Row}}{{n64 .Row}}{{end}}</td><td class="num">{{if .Count}}{{n64 .Count}}{{end}}</td><td>{{.Message}}</td></tr>{{end}}</tbody>
</table>
{{else}}<p class="empty">No issues.</p>{{end}}
{{else}}<p class="empty">The data was not validated.</p>{{end}}
</section>

<section id="profile">
<h2>Profile</h2>
{{if $.Profile}}
<table id="profile-table">
<thead><tr><th>column</th><th>type</th><th class="num">values</th><th class="num">nulls</th><th class="num">distinct</th><th class="num">min</th><th class="num">mean</th><th class="num">max</th><th class="num">std</th></tr></thead>
<tbody>{{range $.Profile}}<tr><td>{{.Name}}</td><td class="mono">{{.Type}}</td><td class="num">{{n64 .Count}}</td><td class="num">{{n64 .Nulls}}</td><td class="num">{{.Distinct}}</td><td class="num">{{.Min}}</td><td class="num">{{.Mean}}</td><td class="num">{{.Max}}</td><td class="num">{{.Std}}</td></tr>{{end}}</tbody>
</table>
<div class="figs">
{{range $.Profile}}{{if .Histogram}}<figure>{{.Histogram}}<figcaption>{{.Name}}: {{with .Numeric}}{{len .Histogram.Counts}}{{end}} equal-width bins</figcaption></figure>{{end}}{{end}}
{{range $.Profile}}{{if .Top}}<figure><h3>{{.Name}}: top {{len .Top}} of {{.Distinct}}</h3>
<table class="bars"><thead><tr><th>value</th><th class="num">rows</th><th>share</th></tr></thead>
<tbody>{{$max := .TopMax}}{{range .Top}}<tr><td class="mono">{{.Value}}</td><td class="num">{{n64 .Count}}</td><td><span class="bar" style="width:{{width .Share $max}}em"></span> {{pct .Share}}</td></tr>{{end}}</tbody></table>
{{with .Categorical}}{{if .OtherCount}}<figcaption>and {{n64 .OtherCount}} rows ({{pct .OtherShare}}) in other categories</figcaption>{{end}}{{end}}</figure>{{end}}{{end}}
</div>
{{else}}<p class="empty">No profile: the run stopped before profiling the data.</p>{{end}}
</section>

<section id="leaderboard">
<h2>Leaderboard</h2>
{{if $.Leaderboard}}
<table id="leaderboard-table">
<thead><tr><th>model</th><th>parameters</th>{{with $.S.Selection}}{{if .Folds}}<th class="num">{{.Folds}}-fold cross-validation</th>{{end}}{{end}}<th class="num">validation score</th><th class="num">fit time</th><th class="num">peak heap</th><th>note</th></tr></thead>
<tbody>{{range $.Leaderboard}}<tr{{if .Best}} class="best"{{end}}><td>{{.Model}}{{if .Best}} <span class="pill good">selected</span>{{end}}</td><td class="mono">{{.Params}}</td>{{with $.S.Selection}}{{if .Folds}}<td class="num">{{end}}{{end}}{{if .CV}}{{.Metric}} {{.CV}}{{end}}{{with $.S.Selection}}{{if .Folds}}</td>{{end}}{{end}}<td class="num">{{if .Error}}<span class="bad">error</span>{{else if .Valid}}{{.Metric}} {{.Valid}}{{end}}</td><td class="num">{{.Fit}}</td><td class="num">{{.Heap}}</td><td class="muted">{{.Error}}{{.Note}}</td></tr>{{end}}</tbody>
</table>
{{with $.S.Selection}}{{if .Folds}}<p>Candidates ranked by the mean (± standard deviation) of their score on {{.Folds}} held-out folds of the training split{{if .GroupedBy}}, each {{.GroupedBy}}'s rows in one fold{{end}}; the selected one was then fitted on the whole training split and scored on validation.</p>{{end}}{{if .Skipped}}<p>{{.Skipped}} random-search trials were skipped: the time budget ran out.</p>{{end}}{{end}}
{{with $.S.Model}}{{with .ClassWeights}}<p id="class-weights">The selected model was fitted with class weights: {{range $c, $w := .}}<span class="mono">{{$c}}</span> {{g4 $w}}&ensp;{{end}}(each row's loss counts its class's weight).</p>{{end}}{{end}}
{{else}}<p class="empty">No models were trained.</p>{{end}}
</section>

<section id="metrics">
<h2>Test metrics</h2>
{{if $.Metrics}}
<table id="metrics-table">
<thead><tr><th>metric</th><th class="num">test split</th></tr></thead>
<tbody>{{range $.Metrics}}<tr><td>{{.Name}}</td><td class="num">{{.Value}}</td></tr>{{end}}</tbody>
</table>
{{with $.Regression}}
<h3>Against constant baselines</h3>
<p>A model that does not beat predicting the training targets' mean or median has learned nothing.</p>
<table id="baselines">
<thead><tr><th>predictor</th><th class="num">RMSE</th><th class="num">MAE</th><th class="num">R²</th><th class="num">median absolute error</th></tr></thead>
<tbody><tr class="best"><td>model</td><td class="num">{{g4 .RMSE}}</td><td class="num">{{g4 .MAE}}</td><td class="num">{{f4 .R2}}</td><td class="num">{{g4 .MedianAE}}</td></tr>
{{range .Baselines}}<tr><td>{{.Name}} ({{g4 .Value}})</td><td class="num">{{g4 .RMSE}}</td><td class="num">{{g4 .MAE}}</td><td class="num">{{f4 .R2}}</td><td class="num">{{g4 .MedianAE}}</td></tr>{{end}}</tbody>
</table>
<h3>Deciles of the prediction</h3>
<p>The test rows in ten equal parts by prediction: where the mean target departs from the mean prediction, the model is biased for that range.</p>
<table id="deciles">
<thead><tr><th class="num">decile</th><th class="num">rows</th><th class="num">predictions from</th><th class="num">to</th><th class="num">mean prediction</th><th class="num">mean target</th></tr></thead>
<tbody>{{range $i, $d := .Deciles}}<tr><td class="num">{{add $i 1}}</td><td class="num">{{n .Rows}}</td><td class="num">{{g4 .MinPrediction}}</td><td class="num">{{g4 .MaxPrediction}}</td><td class="num">{{g4 .MeanPrediction}}</td><td class="num">{{g4 .MeanTarget}}</td></tr>{{end}}</tbody>
</table>
{{end}}
{{with $.Multi}}
<table id="per-class">
<thead><tr><th>class</th><th class="num">precision</th><th class="num">recall</th><th class="num">F1</th><th class="num">support</th><th class="num">predicted</th></tr></thead>
<tbody>{{range .PerClass}}<tr><td>{{if .Name}}{{.Name}}{{else}}{{.Class}}{{end}}</td><td class="num">{{f4 .Precision}}</td><td class="num">{{f4 .Recall}}</td><td class="num">{{f4 .F1}}</td><td class="num">{{n .Support}}</td><td class="num">{{n .Predicted}}</td></tr>{{end}}</tbody>
</table>
{{end}}
{{else}}<p class="empty">The model was not evaluated.</p>{{end}}
</section>

<section id="curves">
<h2>Curves</h2>
{{if $.Plots}}<div class="figs">{{range $.Plots}}<figure>{{.SVG}}<figcaption>{{.Caption}}</figcaption></figure>{{end}}</div>
{{else}}<p class="empty">No curves: they are drawn for a binary or regression model that was evaluated.</p>{{end}}
</section>

<section id="confusion">
<h2>Confusion matrix</h2>
{{with $.Confusion}}{{if .Classes}}
<p>Rows are the true classes, columns the predicted ones (the most probable class).</p>
<table class="confusion" id="confusion-table">
<thead><tr><th>actual \ predicted</th>{{range .Classes}}<th class="num">{{.}}</th>{{end}}</tr></thead>
<tbody>{{range $i, $row := .Matrix}}<tr><th>{{index $.Confusion.Classes $i}}</th>{{range $j, $c := $row}}<td class="{{if eq $i $j}}hit{{else}}miss{{end}}">{{n $c}}</td>{{end}}</tr>{{end}}</tbody>
</table>
{{else}}
<p>At the threshold <strong>{{.Threshold}}</strong> ({{.Method}}{{if .ChosenOn}}, chosen on the {{.ChosenOn}} split{{end}}): a row scoring at or above it is predicted positive.</p>
<table class="confusion" id="confusion-table">
<thead><tr><th>actual \ predicted</th><th class="num">negative</th><th class="num">positive</th><th class="num">rows</th></tr></thead>
<tbody>
<tr><th>negative</th><td class="hit">{{n .TN}}<br><span class="muted">{{pct .TNR}} TNR</span></td><td class="miss">{{n .FP}}<br><span class="muted">{{pct .FPR}} FPR</span></td><td>{{n (add .TN .FP)}}</td></tr>
<tr><th>positive</th><td class="miss">{{n .FN}}<br><span class="muted">{{pct .FNR}} FNR</span></td><td class="hit">{{n .TP}}<br><span class="muted">{{pct .TPR}} recall</span></td><td>{{n (add .FN .TP)}}</td></tr>
<tr><th>rows</th><td>{{n .PredNeg}}</td><td>{{n .PredPos}}</td><td>{{n .Rows}}</td></tr>
</tbody>
</table>
{{end}}{{else}}<p class="empty">{{if $.Regression}}A regression has no confusion matrix: the deciles under Test metrics show where its predictions go wrong.{{else}}The model was not evaluated.{{end}}</p>{{end}}
</section>

<section id="slices">
<h2>Slices</h2>
{{if $.HasSlice}}{{if $.Regression}}{{with $.Regression.SliceErrors}}
<p>{{n .Slices}} slices of the test split. The worst are those with at least {{n .MinRows}} rows, by RMSE and by MAE.</p>
<h3>Worst slices by RMSE</h3>
{{template "regression-slices" .WorstRMSE}}
<h3>Worst slices by MAE</h3>
{{template "regression-slices" .WorstMAE}}
<h3>Busiest slices</h3>
{{template "regression-slices" .Largest}}
{{end}}{{else}}{{with $.Binary.Slices}}
<p>{{n .Slices}} slices of the test split. The worst are those with at least {{n .MinRows}} rows and both classes, by ROC AUC.</p>
<h3>Worst slices</h3>
{{template "slices" .Worst}}
<h3>Busiest slices</h3>
{{template "slices" .Largest}}
{{end}}{{end}}{{else}}<p class="empty">No slices: set evaluate.slice_by in the config to evaluate slices.</p>{{end}}
</section>

<section id="importance">
<h2>Feature importance</h2>
{{with $.Explain}}
<p>Mean magnitude of each input's contribution to {{.Margin}} ({{.Method}}, exact SHAP values; docs/architecture.md), over {{n .Rows}} of the {{n .Of}} test rows drawn at random. A cross of two inputs is an input of its own.</p>
<div class="figs">
<figure><h3>Mean |contribution| by input</h3>
<table class="bars" id="explain-importance"><thead><tr><th>input</th><th class="num">mean |contribution|</th><th>share</th></tr></thead>
<tbody>{{$max := (index .Importance 0).Share}}{{range .Importance}}<tr><td>{{.Input}}</td><td class="num">{{printf "%.4g" .MeanAbs}}</td><td><span class="bar" style="width:{{width .Share $max}}em"></span> {{pct .Share}}</td></tr>{{end}}</tbody></table></figure>
</div>
<h3>Contribution against value</h3>
<p>Each dot is one explained test row (every {{.Step}}th of the sample): the input's contribution against its value; categories are ordered by their mean contribution.</p>
<div class="figs" id="explain-summary">{{range $.ExplainPlots}}<figure>{{.SVG}}</figure>{{end}}</div>
{{end}}
{{if $.Importance}}
{{if eq $.ImportanceKind "coefficient"}}<h3>Standardised coefficients</h3>
<p>The standard deviation of each feature's contribution to the model's score over the training rows (for a numeric feature, |coefficient| × its standard deviation), as a share of the sum; a feature computed from several inputs (a cross) is credited to them together.</p>
{{else}}<h3>Split gain</h3>
<p>Total split gain of each feature over the model's trees (gbdt: the loss its splits remove; golearn's trees: the class entropy, information gain), as a share of the sum; a feature computed from several inputs (a cross) is credited to them together.</p>{{end}}
<div class="figs">
<figure><h3>By input column</h3>
<table class="bars" id="importance-inputs"><thead><tr><th>input</th><th>share of the {{if eq $.ImportanceKind "coefficient"}}total{{else}}gain{{end}}</th></tr></thead>
<tbody>{{$max := (index $.ImportanceByInput 0).Share}}{{range $.ImportanceByInput}}<tr><td>{{.Input}}</td><td><span class="bar" style="width:{{width .Share $max}}em"></span> {{pct .Share}}</td></tr>{{end}}</tbody></table></figure>
<figure><h3>By feature column</h3>
<table class="bars" id="importance-features"><thead><tr><th>feature</th><th>input</th><th class="num">{{if eq $.ImportanceKind "coefficient"}}std. coefficient{{else}}gain{{end}}</th><th>share</th></tr></thead>
<tbody>{{$max := (index $.Importance 0).Share}}{{range $.Importance}}<tr><td class="mono">{{.Feature}}</td><td>{{.Input}}</td><td class="num">{{printf "%.4g" .Gain}}</td><td><span class="bar" style="width:{{width .Share $max}}em"></span> {{pct .Share}}</td></tr>{{end}}</tbody></table></figure>
</div>
{{else}}<p class="empty">{{$.ImportanceNote}}</p>{{end}}
</section>

<section id="gate">
<h2>Promotion gate</h2>
{{with $.Gate}}
<p class="{{.Class}}"><strong>{{.Decision}}</strong>{{if .Version}}: stored as version {{.Version}}{{end}}</p>
<p>{{.Reason}}</p>
<dl class="facts">
<dt>metric</dt><dd>{{.Metric}}</dd>
<dt>candidate</dt><dd>{{f4 .Candidate}}</dd>
<dt>production</dt><dd>{{if .Production}}{{deref .Production}} (version {{.ProductionVersion}}){{else}}none{{end}}</dd>
<dt>minimum improvement</dt><dd>{{f4 .MinImprovement}}</dd>
</dl>
{{else}}<p class="empty">No gate decision: the run had no registry, or stopped before the gate.</p>{{end}}
</section>

<section id="stages">
<h2>Stages</h2>
<table class="bars" id="stages-table">
<thead><tr><th>stage</th><th class="num">duration</th><th>share of the run</th><th>step cache</th><th>why</th></tr></thead>
<tbody>{{range $.Stages}}<tr><td>{{.Name}}{{if .Error}} <span class="bad">failed</span>{{end}}</td><td class="num">{{dur .Duration}}</td><td><span class="bar" style="width:{{width .Share 1.0}}em"></span> {{pct .Share}}</td><td>{{if eq .Cache "hit"}}<span class="good">hit</span>{{else}}{{.Cache}}{{end}}</td><td class="muted">{{if .Error}}<span class="bad">{{.Error}}</span>{{else}}{{.Reason}}{{end}}</td></tr>{{end}}</tbody>
<tfoot><tr><th>total</th><th class="num">{{dur $.Duration}}</th><th></th><th></th><th></th></tr></tfoot>
</table>
</section>

<section id="lineage">
<h2>Lineage</h2>
<dl class="facts">{{range $.Lineage}}{{if .Value}}<dt>{{.Name}}</dt><dd class="{{.Class}}">{{.Value}}</dd>{{end}}{{end}}</dl>
</section>
{{end}}
</main>
<footer>Generated by mlpipe at {{.Now}}.</footer>
</body>
</html>
{{define "slices"}}{{if .}}<table class="slices">
<thead><tr><th>slice</th><th class="num">rows</th><th class="num">positive rate</th><th class="num">ROC AUC</th><th class="num">PR AUC</th><th class="num">log loss</th><th class="num">precision</th><th class="num">recall</th><th class="num">F1</th></tr></thead>
<tbody>{{range .}}<tr><td class="mono">{{.Key}}</td><td class="num">{{n .Rows}}</td><td class="num">{{pct .PositiveRate}}</td><td class="num">{{deref .ROCAUC}}</td><td class="num">{{deref .PRAUC}}</td><td class="num">{{f4 .LogLoss}}</td><td class="num">{{f4 .Precision}}</td><td class="num">{{f4 .Recall}}</td><td class="num">{{f4 .F1}}</td></tr>{{end}}</tbody>
</table>{{else}}<p class="empty">None.</p>{{end}}{{end}}
{{define "regression-slices"}}{{if .}}<table class="slices">
<thead><tr><th>slice</th><th class="num">rows</th><th class="num">mean target</th><th class="num">mean prediction</th><th class="num">RMSE</th><th class="num">MAE</th></tr></thead>
<tbody>{{range .}}<tr><td class="mono">{{.Key}}</td><td class="num">{{n .Rows}}</td><td class="num">{{g4 .MeanTarget}}</td><td class="num">{{g4 .MeanPrediction}}</td><td class="num">{{g4 .RMSE}}</td><td class="num">{{g4 .MAE}}</td></tr>{{end}}</tbody>
</table>{{else}}<p class="empty">None.</p>{{end}}{{end}}
`))
