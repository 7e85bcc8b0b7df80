package plots

import (
	"cmp"
	"fmt"
	"image/color"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/mlpipe/mlpipe/evaluate"
)

// PlotContributions draws one panel of the summary plot of explanations:
// each explained row's contribution of the input (y) against its value
// (x): the value itself for a number, the hour of the day for a time,
// and for a category its rank among the input's categories ordered by
// their mean contribution (so that the panel reads as the effect of the
// category, left to right from the most negative).
func PlotContributions(p evaluate.InputPoints, margin string, f Format) ([]byte, error) {
	x := p.Values
	xlabel := p.Input
	switch p.Kind {
	case "time":
		xlabel = p.Input + " (hour of the day)"
	case "category":
		x = categoryRanks(p.Categories, p.Contributions)
		xlabel = p.Input + " (categories by mean contribution)"
	}
	if len(x) != len(p.Contributions) {
		return nil, fmt.Errorf("plot contributions of %s: %w: %d values for %d contributions", p.Input, evaluate.ErrInvalid, len(x), len(p.Contributions))
	}
	pl := styledPlot(p.Input, xlabel, "contribution", "top right")
	switch p.Kind {
	case "category":
		pl.X.Tick.Marker = plot.ConstantTicks{} // the ranks mean nothing on their own
	case "time":
		pl.X.Min, pl.X.Max = 0, 24
		pl.X.Tick.Marker = plot.ConstantTicks{{Value: 0, Label: "0"}, {Value: 6, Label: "6"}, {Value: 12, Label: "12"}, {Value: 18, Label: "18"}, {Value: 24, Label: "24"}}
	}
	zero, err := plotter.NewLine(plotter.XYs{{X: lowest(x), Y: 0}, {X: highest(x), Y: 0}})
	if err != nil {
		return nil, fmt.Errorf("plot contributions of %s: %w", p.Input, err)
	}
	zero.Color, zero.Dashes = referenceGray, dashes
	pl.Add(zero)
	s, err := plotter.NewScatter(xys(x, p.Contributions))
	if err != nil {
		return nil, fmt.Errorf("plot contributions of %s: %w", p.Input, err)
	}
	s.Shape = draw.CircleGlyph{}
	s.Radius = vg.Points(1.5)
	s.Color = color.NRGBA{R: curveColor.R, G: curveColor.G, B: curveColor.B, A: 0x90} // see-through, so piles show
	pl.Add(s)
	return renderSize(pl, f, plotSize, plotSize*5/8)
}

// categoryRanks gives each row the rank of its category among the
// categories ordered by their mean contribution.
func categoryRanks(cats []string, contrib []float64) []float64 {
	type acc struct{ sum, n float64 }
	means := map[string]*acc{}
	for i, c := range cats {
		a := means[c]
		if a == nil {
			a = &acc{}
			means[c] = a
		}
		a.sum += contrib[i]
		a.n++
	}
	keys := make([]string, 0, len(means))
	for k := range means {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if c := cmp.Compare(means[a].sum/means[a].n, means[b].sum/means[b].n); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	rank := make(map[string]float64, len(keys))
	for r, k := range keys {
		rank[k] = float64(r)
	}
	out := make([]float64, len(cats))
	for i, c := range cats {
		out[i] = rank[c]
	}
	return out
}

func lowest(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	return slices.Min(x)
}

func highest(x []float64) float64 {
	if len(x) == 0 {
		return 1
	}
	return slices.Max(x)
}
