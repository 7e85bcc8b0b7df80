package backtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"image/color"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// WriteTable prints the comparison: the score (ROC AUC or RMSE) of each
// policy per period (* where it retrained, + where the candidate was
// promoted), then one line per policy with its retrains, training time
// and mean score.
func (r *Result) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "period\trows\t%s", r.labelHeading())
	for _, p := range r.Policies {
		fmt.Fprintf(tw, "\t%s", p.Name)
	}
	fmt.Fprintln(tw)
	for k, per := range r.Periods {
		fmt.Fprintf(tw, "%s\t%d\t%s", per.From.Format(time.DateOnly), per.Rows, per.LabelStat())
		for _, p := range r.Policies {
			mark := ""
			switch {
			case p.Promoted[k]:
				mark = "+"
			case p.Retrained[k]:
				mark = "*"
			}
			fmt.Fprintf(tw, "\t%s%s", fmtScore(p.Score[k]), mark)
		}
		fmt.Fprintln(tw)
	}
	estimated := r.HigherIsBetter && slices.ContainsFunc(r.Policies, func(p PolicyResult) bool { return p.EstimateMAE != nil })
	if estimated {
		// The production model's ROC AUC estimated without labels, beside
		// the realized one above.
		r.writeByPolicy(tw, "estimated", func(p *PolicyResult, k int) string { return fmtBand(p.Estimated, k) })
		// Whether the labels still follow the calibrated probabilities:
		// the share of positives they expect minus the share realized.
		r.writeByPolicy(tw, "expected - realized label rate", func(p *PolicyResult, k int) string {
			realized := r.Periods[k].PositiveRate
			if k >= len(p.ExpectedRate) || p.ExpectedRate[k] == nil || realized == nil {
				return "—"
			}
			return fmt.Sprintf("%+.1f%%", 100*(*p.ExpectedRate[k]-*realized))
		})
	}
	fmt.Fprintln(tw)
	fmt.Fprintf(tw, "policy\tretrains\ttraining\tmean %s", r.metricName())
	if estimated {
		fmt.Fprint(tw, "\testimate MAE\trecalibrated MAE\tlast-period MAE")
	}
	fmt.Fprintln(tw)
	for _, p := range r.Policies {
		fmt.Fprintf(tw, "%s\t%d\t%.1fs\t%s", p.Name, p.Retrains, p.TrainSeconds, fmtScore(p.MeanScore))
		if estimated {
			for _, v := range []*float64{p.EstimateMAE, p.RecalibratedMAE, p.LastPeriodMAE} {
				mae := math.NaN()
				if v != nil {
					mae = *v
				}
				fmt.Fprintf(tw, "\t%s", fmtScore(mae))
			}
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n* retrained (candidate kept out by the gate), + retrained and promoted. %d distinct fits, %.1fs of training", r.Fits, r.FitSeconds)
	if r.CalibrationSeconds > 0 {
		fmt.Fprintf(w, ", %.1fs calibrating the monitor", r.CalibrationSeconds)
	}
	fmt.Fprintf(w, ", %.1fs in all.\n", r.Seconds)
	st := r.Stages
	fmt.Fprintf(w, "time by stage: boosting %.1fs, features %.1fs, scoring %.1fs, monitor checks %.1fs, calibrating %.1fs, slicing %.1fs",
		st.Boosting, st.Features, st.Scoring, st.Monitor, st.Calibration, st.Slicing)
	if r.FitsAtOnce > 1 {
		fmt.Fprintf(w, " (%d fits at a time, ahead of the policies: their times add up)", r.FitsAtOnce)
	}
	fmt.Fprintln(w, ".")
	if estimated {
		fmt.Fprintln(w, "estimated: the production model's ROC AUC estimated without labels (CBPE); estimate MAE: its mean |estimated - realized| over the periods;\n"+
			"recalibrated MAE: the same with the calibration map refitted on the previous period's labels; last-period MAE: the previous period's realized AUC taken as the estimate.")
	}
	if fa := r.FalseAlarms; fa != nil {
		_, err := fmt.Fprintf(w, "false alarms on the training windows (%d calibrations): %s\n", len(r.Calibrations), fa)
		return err
	}
	return nil
}

// writeByPolicy prints, after a blank line, a block headed by title and
// the policies' names: a line per period, with cell(p, k) for each policy.
func (r *Result) writeByPolicy(tw io.Writer, title string, cell func(p *PolicyResult, k int) string) {
	fmt.Fprintln(tw)
	fmt.Fprintf(tw, "%s\t\t", title)
	for _, p := range r.Policies {
		fmt.Fprintf(tw, "\t%s", p.Name)
	}
	fmt.Fprintln(tw)
	for k, per := range r.Periods {
		fmt.Fprintf(tw, "%s\t\t", per.From.Format(time.DateOnly))
		for i := range r.Policies {
			fmt.Fprintf(tw, "\t%s", cell(&r.Policies[i], k))
		}
		fmt.Fprintln(tw)
	}
}

// fmtBand formats period k's estimate, "—" when there is none.
func fmtBand(est []*Band, k int) string {
	if k >= len(est) || est[k] == nil {
		return "—"
	}
	return fmt.Sprintf("%.4f", est[k].Value)
}

func fmtScore(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	return fmt.Sprintf("%.4f", v)
}

// metricName names Metric for people: "ROC AUC" or "RMSE".
func (r *Result) metricName() string {
	if r.Metric == "rmse" {
		return "RMSE"
	}
	return "ROC AUC"
}

// labelHeading heads the column of the periods' label statistic.
func (r *Result) labelHeading() string {
	if r.Metric == "rmse" {
		return "mean target"
	}
	return "label rate"
}

// LabelStat is the period's positive rate or mean target, formatted.
func (p Period) LabelStat() string {
	switch {
	case p.MeanTarget != nil:
		return fmt.Sprintf("%.4g", *p.MeanTarget)
	case p.PositiveRate != nil:
		return fmt.Sprintf("%.1f%%", 100**p.PositiveRate)
	}
	return "—"
}

// MarshalJSON writes NaN scores (an AUC of a period with one class) as
// null.
func (p PolicyResult) MarshalJSON() ([]byte, error) {
	type plain PolicyResult
	scores := make([]*float64, len(p.Score))
	for i, v := range p.Score {
		if !math.IsNaN(v) {
			scores[i] = &p.Score[i]
		}
	}
	var mean *float64
	if !math.IsNaN(p.MeanScore) {
		mean = &p.MeanScore
	}
	return json.Marshal(struct {
		plain
		Score     []*float64 `json:"score"`
		MeanScore *float64   `json:"mean_score"`
	}{plain(p), scores, mean})
}

// policyColors are the lines of the chart, by policy (Okabe–Ito
// colours, distinguishable with colour blindness).
var policyColors = map[string]color.RGBA{
	Never:       {0x00, 0x00, 0x00, 0xff}, // black
	Scheduled:   {0x00, 0x72, 0xb2, 0xff}, // blue
	Drift:       {0xd5, 0x5e, 0x00, 0xff}, // vermillion
	Estimated:   {0xcc, 0x79, 0xa7, 0xff}, // reddish purple
	Performance: {0x00, 0x9e, 0x73, 0xff}, // green
}

// Chart draws the score per period, one line per policy, with a ring at
// each promotion. format is "svg" or "png".
func (r *Result) Chart(format string) ([]byte, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Backtest: %s per %s period (%s)", r.metricName(), periodName(r), r.Model)
	p.X.Label.Text = "period start"
	p.Y.Label.Text = r.metricName() + " of the production model"
	for _, f := range []*font.Font{&p.Title.TextStyle.Font, &p.Legend.TextStyle.Font, &p.X.Label.TextStyle.Font,
		&p.Y.Label.TextStyle.Font, &p.X.Tick.Label.Font, &p.Y.Tick.Label.Font} {
		f.Variant = "Sans"
	}
	p.X.Tick.Marker = plot.TimeTicks{Format: "Jan 2"}
	p.Add(plotter.NewGrid())
	p.Legend.Top = false
	p.Legend.Left = true
	for i, pol := range r.Policies {
		var line, promoted plotter.XYs
		for k, per := range r.Periods {
			if math.IsNaN(pol.Score[k]) {
				continue
			}
			pt := plotter.XY{X: float64(per.From.Unix()), Y: pol.Score[k]}
			line = append(line, pt)
			if pol.Promoted[k] && k > 0 {
				promoted = append(promoted, pt)
			}
		}
		if len(line) == 0 {
			continue
		}
		c := policyColors[pol.Name]
		l, err := plotter.NewLine(line)
		if err != nil {
			return nil, err
		}
		// Policies that never retrain have the same line (never and
		// drift, when nothing drifts): each is drawn thinner than the
		// one before, so that the earlier shows around the later
		// instead of hiding under it.
		l.Color, l.Width = c, vg.Points(1.5+1.25*float64(len(r.Policies)-1-i))
		p.Add(l)
		p.Legend.Add(pol.Name, l)
		if len(promoted) > 0 {
			s, err := plotter.NewScatter(promoted)
			if err != nil {
				return nil, err
			}
			s.Color, s.Shape, s.Radius = c, draw.RingGlyph{}, vg.Points(4)
			p.Add(s)
		}
	}
	const w, h = 8 * vg.Inch, 4 * vg.Inch
	var c vg.CanvasWriterTo
	switch format {
	case "svg":
		c = vgsvg.New(w, h)
	case "png":
		c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(96))}
	default:
		return nil, fmt.Errorf("backtest chart: unknown format %q", format)
	}
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("backtest chart: %w", err)
	}
	return buf.Bytes(), nil
}

func periodName(r *Result) string {
	if len(r.Periods) > 0 && r.Periods[0].To.Sub(r.Periods[0].From) == 7*24*time.Hour {
		return "weekly"
	}
	return "simulated"
}

// HTML writes a small self-contained report: the chart inline as SVG,
// the policy summary and the per-period table. No scripts, fonts or
// network requests.
func (r *Result) HTML(w io.Writer) error {
	svg, err := r.Chart("svg")
	if err != nil {
		return err
	}
	// Drop the XML declaration: the SVG is inlined in HTML.
	if i := bytes.Index(svg, []byte("<svg")); i > 0 {
		svg = svg[i:]
	}
	var table strings.Builder
	if err := r.WriteTable(&table); err != nil {
		return err
	}
	return reportTmpl.Execute(w, map[string]any{
		"R": r, "Chart": template.HTML(svg), "Generated": time.Now().UTC().Format(time.RFC3339),
		"Metric": r.metricName(), "LabelHeading": r.labelHeading(),
	})
}

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"score": fmtScore,
	"date":  func(t time.Time) string { return t.Format(time.DateOnly) },
	"at":    func(xs []float64, k int) float64 { return xs[k] },
	"mark": func(p PolicyResult, k int) string {
		switch {
		case p.Promoted[k]:
			return "promoted"
		case p.Retrained[k]:
			return "retrained"
		}
		return ""
	},
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>mlpipe backtest: {{.R.Model}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:60em;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{padding:.25em .6em;border-bottom:1px solid #ddd;text-align:right}
th:first-child,td:first-child{text-align:left}.promoted{font-weight:bold}.retrained{color:#888}
.note{color:#555;font-size:.9em}
</style></head><body>
<h1>Backtest of retraining policies</h1>
<p>Model <code>{{.R.Model}}</code>, {{len .R.Periods}} periods from {{date (index .R.Periods 0).From}}.
Each period's rows are scored by the policy's production model and judged with their true labels.
{{.R.Fits}} distinct fits, {{printf "%.1f" .R.FitSeconds}} s of training, {{printf "%.1f" .R.Seconds}} s in all.</p>
{{.Chart}}
<h2>Policies</h2>
<table><tr><th>policy</th><th>retrains</th><th>training</th><th>mean {{.Metric}}</th></tr>
{{range .R.Policies}}<tr><td>{{.Name}}</td><td>{{.Retrains}}</td><td>{{printf "%.1f" .TrainSeconds}} s</td><td>{{score .MeanScore}}</td></tr>
{{end}}</table>
<h2>{{.Metric}} per period</h2>
<table><tr><th>period</th><th>rows</th><th>{{.LabelHeading}}</th>{{range .R.Policies}}<th>{{.Name}}</th>{{end}}</tr>
{{range $k, $p := .R.Periods}}<tr><td>{{date $p.From}}</td><td>{{$p.Rows}}</td><td>{{$p.LabelStat}}</td>{{range $.R.Policies}}<td class="{{mark . $k}}" title="{{index .Why $k}}">{{score (at .Score $k)}}</td>{{end}}</tr>
{{end}}</table>
<p class="note">Bold: retrained and promoted at the start of the period; grey: retrained, kept out by the gate. Hover a cell for the reason. Generated {{.Generated}} by <code>mlpipe simulate</code>.</p>
</body></html>
`))
