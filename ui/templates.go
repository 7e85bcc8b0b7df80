package ui

import (
	"fmt"
	"html/template"
	"math"
	"slices"
	"time"

	"github.com/mlpipe/mlpipe/internal/numfmt"
	"github.com/mlpipe/mlpipe/report"
)

var funcs = template.FuncMap{
	"style": func() template.CSS { return template.CSS(report.Style + uiStyle) },
	"f4": func(p *float64) string {
		if p == nil || math.IsNaN(*p) {
			return "—"
		}
		return fmt.Sprintf("%.4f", *p)
	},
	"auc": func(x float64) string {
		if math.IsNaN(x) {
			return "—"
		}
		return fmt.Sprintf("%.4f", x)
	},
	"pct":   func(x float64) string { return fmt.Sprintf("%.1f%%", 100*x) },
	"dur":   fmtDuration,
	"short": short,
	"date":  func(t time.Time) string { return t.UTC().Format("2006-01-02") },
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04")
	},
	"secs": func(x float64) string { return fmt.Sprintf("%.1f s", x) },
	"n":    func(n int) string { return numfmt.Thousands(int64(n)) },
	"has":  func(xs []string, x string) bool { return slices.Contains(xs, x) },
}

// uiStyle adds the dashboard's own rules to the report's style sheet.
const uiStyle = `
table.runs td,#versions td{white-space:nowrap}
table.runs td.err{white-space:normal;max-width:20em}
.heat td.drift{background:#fbeceb;color:var(--bad);font-weight:600}
.heat td.not_enough_data,.heat td.no_baseline{color:var(--muted)}
.notice{padding:.5em .9em;border:1px solid var(--good);background:#eef6ee;border-radius:4px}
.error-code{font-size:3em;font-weight:700;color:var(--muted);margin:.3em 0 0}
`

// layout is the frame of every page; each page defines "content".
const layout = `{{define "page"}}<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · mlpipe</title>
<style>{{style}}</style>
</head>
<body>
<nav class="top"><span class="brand">mlpipe</span>{{range .Nav}}<a href="{{.Href}}"{{if eq $.Here (lower .Text)}} class="here"{{end}}>{{.Text}}</a>{{end}}</nav>
<header><h1>{{.Title}}</h1></header>
<main>
{{template "content" .}}
</main>
<footer>mlpipe dashboard{{if not .Actions}} · read-only (start with --allow-actions to promote and roll back){{end}}</footer>
</body>
</html>{{end}}`

func pageTemplate(content string) *template.Template {
	t := template.New("").Funcs(funcs).Funcs(template.FuncMap{"lower": lower})
	return template.Must(template.Must(t.Parse(layout)).Parse(content))
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

var errorTmpl = pageTemplate(`{{define "content"}}<p class="error-code">{{.D.Code}}</p><p id="error">{{.D.Message}}</p><p><a href="{{$.P}}/runs">Back to the runs</a></p>{{end}}`)

var runsTmpl = pageTemplate(`{{define "content"}}{{with .D}}
<form class="filters" method="get" action="{{$.P}}/runs" id="filters">
<input type="hidden" name="sort" value="{{.Q.Sort}}"><input type="hidden" name="order" value="{{.Q.Order}}">
<label>search<input type="search" name="q" value="{{.Q.Query}}" placeholder="run id, model, config…"></label>
<label>status<select name="status"><option value="">any</option>{{range .Statuses}}<option{{if eq . $.D.Q.Status}} selected{{end}}>{{.}}</option>{{end}}</select></label>
<label>gate<select name="gate"><option value="">any</option>{{range .Gates}}<option{{if eq . $.D.Q.Gate}} selected{{end}}>{{.}}</option>{{end}}<option value="none"{{if eq "none" $.D.Q.Gate}} selected{{end}}>none</option></select></label>
<label>model<select name="model"><option value="">any</option>{{range .Models}}<option{{if eq . $.D.Q.Model}} selected{{end}}>{{.}}</option>{{end}}</select></label>
<label>min test ROC AUC<input type="number" name="min_auc" min="0" max="1" step="0.001" value="{{.MinAUC}}" size="6"></label>
<button type="submit">Filter</button> <a href="{{$.P}}/runs">reset</a>
</form>
<form method="get" action="{{$.P}}/compare" id="compare">
<p><span id="count">{{n (len .Rows)}} of {{n .Total}} runs</span>. Tick two or more to <button type="submit">Compare</button></p>
<table class="runs" id="runs">
<thead><tr><th></th>{{range .Columns}}<th{{if .Num}} class="num"{{end}}><a href="{{.Href}}">{{.Title}}{{.Arrow}}</a></th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr id="run-{{.ID}}"><td><input type="checkbox" name="run" value="{{.ID}}" aria-label="compare {{.ID}}"></td>
<td class="mono"><a href="{{$.P}}/runs/{{.ID}}">{{.ID}}</a></td>
<td>{{when .StartedAt}}</td>
<td class="status-{{.Status}}"{{if .Error}} title="{{.Error}}"{{end}}>{{.Status}}</td>
<td class="num">{{dur .Duration}}</td>
<td>{{.Model}}</td>
<td class="num">{{f4 .AUC}}</td>
<td class="num">{{f4 .LogLoss}}</td>
<td class="num">{{f4 .RMSE}}</td>
<td>{{if .Gate}}<span class="{{if eq .Gate "promoted"}}good{{else if eq .Gate "rejected"}}bad{{else}}kept{{end}}">{{.Gate}}</span>{{if .Version}} v{{.Version}}{{end}}{{else}}—{{end}}</td>
</tr>
{{else}}<tr><td colspan="10" class="empty">No runs{{if .Total}} match the filters{{else}} yet: <code>mlpipe run --config FILE --registry DIR</code> records one{{end}}.</td></tr>{{end}}
</tbody>
</table>
</form>
{{end}}{{end}}`)

var compareTmpl = pageTemplate(`{{define "content"}}{{with .D}}
<p>Rows where the runs differ are highlighted (timings always differ and are not).</p>
<table id="compare-table">
<thead><tr><th></th>{{range .Runs}}<th class="mono"><a href="{{$.P}}/runs/{{.ID}}">{{.ID}}</a></th>{{end}}</tr></thead>
<tbody>{{range .Rows}}<tr{{if .Differ}} class="diff"{{end}}><th>{{.Name}}</th>{{range .Values}}<td>{{.}}</td>{{end}}</tr>{{end}}</tbody>
</table>
<p><a href="{{$.P}}/runs">Back to the runs</a></p>
{{end}}{{end}}`)

var modelsTmpl = pageTemplate(`{{define "content"}}
{{if .D}}<table id="models">
<thead><tr><th>model</th><th class="num">versions</th><th>aliases</th><th>production</th><th class="num">test ROC AUC</th><th class="num">test log loss</th><th class="num">test RMSE</th></tr></thead>
<tbody>{{range .D}}<tr><td><a href="{{$.P}}/models/{{.Name}}">{{.Name}}</a></td><td class="num">{{.Versions}}</td>
<td>{{range .Aliases}}<span class="pill">{{.Alias}} → v{{.Version}}</span> {{end}}</td>
<td>{{with .Production}}v{{.Version}}{{with .Info}} ({{.Kind}}){{end}}{{else}}—{{end}}</td>
<td class="num">{{with .Production}}{{f4 .AUC}}{{else}}—{{end}}</td><td class="num">{{with .Production}}{{f4 .LogLoss}}{{else}}—{{end}}</td><td class="num">{{with .Production}}{{f4 .RMSE}}{{else}}—{{end}}</td></tr>{{end}}</tbody>
</table>
{{else}}<p class="empty">No models registered yet.</p>{{end}}
{{end}}`)

var modelTmpl = pageTemplate(`{{define "content"}}{{with .D}}
{{if .Moved}}<p class="notice" id="moved">{{.Moved}}</p>{{end}}
<h2>Aliases</h2>
{{if .Aliases}}<table id="aliases"><thead><tr><th>alias</th><th>version</th></tr></thead>
<tbody>{{range .Aliases}}<tr><td>{{.Alias}}</td><td><a href="#v{{.Version}}">v{{.Version}}</a></td></tr>{{end}}</tbody></table>
{{else}}<p class="empty">No aliases.</p>{{end}}
{{if and $.Actions .Previous}}<form class="inline" method="post" action="{{$.P}}/models/{{.Name}}/rollback" id="rollback"><input type="hidden" name="csrf" value="{{$.CSRF}}"><button type="submit">Roll back production to v{{.Previous}}</button></form>{{end}}
<h2>Versions</h2>
<table id="versions">
<thead><tr><th>version</th><th>aliases</th><th>created</th><th>model</th><th class="num">validation</th><th class="num">test ROC AUC</th><th class="num">test log loss</th><th class="num">test RMSE</th><th>gate</th><th>run</th><th>config</th><th>data</th><th>code</th>{{if $.Actions}}<th></th>{{end}}</tr></thead>
<tbody>{{range .Versions}}{{$row := .}}<tr id="v{{.Version}}"><td>v{{.Version}}</td>
<td>{{range .Aliases}}<span class="pill{{if eq . "production"}} good{{end}}">{{.}}</span> {{end}}</td>
{{with .Info}}<td title="{{when .CreatedAt}}">{{date .CreatedAt}}</td><td>{{.Kind}}</td><td class="num">{{.Metric}} {{printf "%.4f" .Valid}}</td>{{else}}<td colspan="3" class="bad">{{.Err}}</td>{{end}}
<td class="num">{{f4 .AUC}}</td><td class="num">{{f4 .LogLoss}}</td><td class="num">{{f4 .RMSE}}</td>
<td>{{with .Gate}}<span class="{{if .Promote}}good{{else if .Rejected}}bad{{else}}kept{{end}}" title="{{.Reason}}">{{$row.Decision}}</span>{{else}}—{{end}}</td>
{{with .Info}}<td class="mono">{{if $row.RunExists}}<a href="{{$.P}}/runs/{{.RunID}}" title="{{.RunID}}">{{short .RunID 15}}</a>{{else}}{{short .RunID 15}}{{end}}</td><td class="mono" title="{{.ConfigHash}}">{{short .ConfigHash 8}}</td><td class="mono" title="{{.Fingerprint}}">{{short .Fingerprint 15}}</td><td class="mono">{{.CodeVersion}}</td>{{else}}<td></td><td></td><td></td><td></td>{{end}}
{{if $.Actions}}<td>{{if not (has $row.Aliases "production")}}<form class="inline" method="post" action="{{$.P}}/models/{{$.D.Name}}/promote"><input type="hidden" name="csrf" value="{{$.CSRF}}"><input type="hidden" name="version" value="{{.Version}}"><button type="submit" id="promote-v{{.Version}}">Promote</button></form>{{end}}</td>{{end}}
</tr>{{end}}</tbody>
</table>
<p class="muted">Promote points production at a version and previous at the old production version; roll back swaps them back. Both take the registry's writer lock, like <code>mlpipe models promote</code> and <code>rollback</code>.</p>
{{end}}{{end}}`)

var monitoringTmpl = pageTemplate(`{{define "content"}}{{with .D}}
{{range .Models}}
<section id="model-{{.Name}}">
<h2>{{.Name}}</h2>
{{if .Windows}}
{{$name := .Name}}{{with .Latest}}<p id="headline-{{$name}}">Latest window: <strong class="{{if .Retrain}}bad{{else}}good{{end}}">{{.Status}}</strong>, {{n .Predictions}} predictions{{if .Version}} of v{{.Version}}{{end}}.{{range .Reasons}} {{.}}.{{end}}</p>{{end}}
<div class="figs">{{if .DriftChart}}<figure>{{.DriftChart}}</figure>{{end}}{{if .PerfChart}}<figure>{{.PerfChart}}</figure>{{end}}</div>
<h3>PSI per feature and window</h3>
<table class="heat" id="drift-{{.Name}}">
<thead><tr><th>feature</th>{{range .Windows}}<th class="num">{{.Label}}</th>{{end}}</tr></thead>
<tbody>{{range .Drift}}<tr><td class="mono">{{.Feature}}</td>{{range .Cells}}<td class="cell {{.Status}}" title="{{.Status}}">{{.PSI}}</td>{{end}}</tr>{{end}}
<tr><th>decision</th>{{range .Windows}}<td class="cell {{if .Report.Retrain}}drift{{end}}">{{.Report.Status}}</td>{{end}}</tr></tbody>
</table>
{{else}}<p class="empty">No monitor reports yet: they are read from <code>{{$.D.Dir}}/{{.Name}}/*.json</code> (<code>mlpipe monitor --out</code> writes one).</p>{{end}}
{{range .Unreadable}}<p class="bad">Unreadable report: {{.}}</p>{{end}}
</section>
{{else}}<p class="empty">No models registered yet.</p>{{end}}
<section id="backtest">
<h2>Backtest</h2>
{{with .Backtest}}
<p class="muted">From <code>{{.Path}}</code> (<code>mlpipe simulate</code>): the production model's {{if eq .Result.Metric "rmse"}}RMSE{{else}}ROC AUC{{end}} on each period's rows under each retraining policy; rings mark promotions.</p>
<figure>{{.Chart}}</figure>
<table id="policies"><thead><tr><th>policy</th><th class="num">retrains</th><th class="num">training time</th><th class="num">mean {{if eq .Result.Metric "rmse"}}RMSE{{else}}ROC AUC{{end}}</th>{{if ne .Result.Metric "rmse"}}<th class="num" title="mean |estimated − realized| ROC AUC over the periods">estimate MAE</th>{{end}}</tr></thead>
<tbody>{{range .Result.Policies}}<tr><td>{{.Name}}</td><td class="num">{{.Retrains}}</td><td class="num">{{secs .TrainSeconds}}</td><td class="num">{{auc .MeanScore}}</td>{{if ne $.D.Backtest.Result.Metric "rmse"}}<td class="num">{{with .EstimateMAE}}{{auc .}}{{else}}—{{end}}</td>{{end}}</tr>{{end}}</tbody></table>
{{else}}<p class="empty">No backtest yet: <code>mlpipe simulate</code> writes one.</p>{{end}}
</section>
{{end}}{{end}}`)
