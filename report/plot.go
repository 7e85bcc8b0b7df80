package report

import (
	"bytes"
	"fmt"
	"html/template"
	"image/color"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/internal/numfmt"
)

// topCategories is how many categories of a categorical column the
// profile shows.
const topCategories = 10

func profileColumns(p *ingest.Profile) ([]profileColumn, error) {
	if p == nil {
		return nil, nil
	}
	var out []profileColumn
	for _, c := range p.Columns {
		pc := profileColumn{ColumnProfile: c}
		if n := c.Numeric; n != nil {
			pc.Min, pc.Mean, pc.Max, pc.Std = number(n.Min), number(n.Mean), number(n.Max), number(n.Std)
			if n.MinTime != "" {
				pc.Min, pc.Max, pc.Mean, pc.Std = n.MinTime, n.MaxTime, "", ""
			}
			pc.Distinct = numfmt.Thousands(n.Distinct)
			svg, err := Histogram(c.Name, n.Histogram, strings.HasPrefix(c.Type, "timestamp"))
			if err != nil {
				return nil, err
			}
			pc.Histogram = InlineSVG(svg)
		}
		if cp := c.Categorical; cp != nil {
			pc.Distinct = numfmt.Thousands(cp.Distinct)
			pc.Top = cp.Top[:min(len(cp.Top), topCategories)]
			for _, f := range pc.Top {
				pc.TopMax = max(pc.TopMax, f.Share)
			}
		}
		out = append(out, pc)
	}
	return out, nil
}

var barColor = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff} // evaluate's curve blue

// Histogram draws a profile histogram as an SVG image (about 6 KB); with
// timestamps the bin edges are read as Unix seconds and labelled as
// dates.
func Histogram(title string, h ingest.Histogram, timestamps bool) ([]byte, error) {
	if len(h.Counts) == 0 || len(h.Edges) != len(h.Counts)+1 {
		return nil, nil
	}
	p := plot.New()
	p.Title.Text = title
	for _, f := range []*font.Font{&p.Title.TextStyle.Font, &p.X.Tick.Label.Font, &p.Y.Tick.Label.Font} {
		f.Variant = "Sans"
	}
	p.Title.TextStyle.Font.Size = vg.Points(10)
	p.X.Tick.Label.Font.Size, p.Y.Tick.Label.Font.Size = vg.Points(8), vg.Points(8)
	if timestamps {
		p.X.Tick.Marker = plot.TimeTicks{Format: "Jan 2", Time: func(t float64) time.Time { return time.Unix(int64(t), 0).UTC() }}
	}
	p.Y.Tick.Marker = countTicks{}
	// Values near ±1.8e308 of both signs span more than the largest
	// float64, and gonum's tick search never ends on an infinite range:
	// such a histogram is drawn at half scale, its ticks labelled with
	// the values they stand for.
	scale := 1.0
	if math.IsInf(h.Edges[len(h.Edges)-1]-h.Edges[0], 0) {
		scale = 0.5
		p.X.Tick.Marker = scaledTicks{scale}
	}
	bins := make([]plotter.HistogramBin, len(h.Counts))
	for i, c := range h.Counts {
		bins[i] = plotter.HistogramBin{Min: scale * h.Edges[i], Max: scale * h.Edges[i+1], Weight: float64(c)}
	}
	hist := &plotter.Histogram{Bins: bins, Width: bins[0].Max - bins[0].Min, FillColor: barColor}
	hist.LineStyle.Width = vg.Points(0.5)
	hist.LineStyle.Color = color.White
	p.Add(hist)
	c := vgsvg.New(4*vg.Inch, 1.8*vg.Inch)
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("histogram %s: %w", title, err)
	}
	return buf.Bytes(), nil
}

// scaledTicks labels an axis drawn at scale times its values with the
// values themselves.
type scaledTicks struct{ scale float64 }

func (s scaledTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = strconv.FormatFloat(ticks[i].Value/s.scale, 'g', 2, 64)
		}
	}
	return ticks
}

// countTicks labels a count axis with short numbers (12k, 1.5M).
type countTicks struct{}

func (countTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = shortCount(ticks[i].Value)
		}
	}
	return ticks
}

func shortCount(x float64) string {
	switch {
	case x >= 1e6:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", x/1e6), ".0") + "M"
	case x >= 1e3:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", x/1e3), ".0") + "k"
	}
	return fmt.Sprintf("%g", x)
}

var (
	svgProlog = regexp.MustCompile(`(?s)^.*?<svg`)
	svgXMLNS  = regexp.MustCompile(`\s+xmlns(:xlink)?="[^"]*"`)
)

// InlineSVG makes an SVG document (from gonum/plot) fit inside HTML: without the XML
// declaration and generator comment, and without namespace attributes
// (HTML parsers know <svg>), so the page names no other host.
func InlineSVG(svg []byte) template.HTML {
	if len(svg) == 0 {
		return ""
	}
	s := svgProlog.ReplaceAllString(string(svg), "<svg")
	if i := strings.Index(s, ">"); i > 0 {
		s = svgXMLNS.ReplaceAllString(s[:i], "") + s[i:]
	}
	// The SVG comes from gonum/plot, whose text is the titles and labels
	// given to it here and in package evaluate, escaped by its writer.
	return template.HTML(s)
}
