package plots

import (
	"bytes"
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot/palette/brewer"
	"gonum.org/v1/plot/plotter"

	"github.com/mlpipe/mlpipe/evaluate"
)

// The plots of a regression report.

// PlotResiduals draws the residual histogram, target - prediction, with
// the rows outside its range counted in the title.
func PlotResiduals(h evaluate.Histogram, f Format) ([]byte, error) {
	title := "Residuals"
	if out := h.Below + h.Above; out > 0 {
		title += fmt.Sprintf(" (%d outside the range)", out)
	}
	p := styledPlot(title, "target − prediction", "rows", "top right")
	if len(h.Counts) == 0 {
		return render(p, f)
	}
	hist := &plotter.Histogram{Width: h.Edges[1] - h.Edges[0], FillColor: curveColor, LineStyle: plotter.DefaultLineStyle}
	hist.LineStyle.Color = color.White
	for k, c := range h.Counts {
		hist.Bins = append(hist.Bins, plotter.HistogramBin{Min: h.Edges[k], Max: h.Edges[k+1], Weight: float64(c)})
	}
	p.Add(hist)
	zero, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 0, Y: float64(maxOf(h.Counts))}})
	if err != nil {
		return nil, fmt.Errorf("plot residuals: %w", err)
	}
	zero.Color, zero.Dashes = referenceGray, dashes
	p.Add(zero)
	p.Y.Min, p.Y.Max = 0, 1.05*p.Y.Max // room above the highest bar
	return render(p, f)
}

// PlotPredictedVsActual draws the grid as a heat map (the shade of a
// cell is the log of its rows; empty cells are white), with the diagonal
// of perfect predictions.
func PlotPredictedVsActual(g evaluate.Grid, f Format) ([]byte, error) {
	p := styledPlot("Predicted against actual", "target", "prediction", "bottom right")
	if len(g.Counts) == 0 {
		return render(p, f)
	}
	pal, err := brewer.GetPalette(brewer.TypeSequential, "Blues", 9)
	if err != nil {
		return nil, fmt.Errorf("plot predicted vs actual: %w", err)
	}
	hm := plotter.NewHeatMap(logGrid{g}, pal)
	hm.NaN = color.Transparent
	hm.Min = 0
	hm.Rasterized = true // one image, not 900 rectangles: a tenth of the SVG
	p.Add(hm)
	lo, hi := g.Edges[0], g.Edges[len(g.Edges)-1]
	if err := addReference(p, plotter.XYs{{X: lo, Y: lo}, {X: hi, Y: hi}}, "prediction = target"); err != nil {
		return nil, fmt.Errorf("plot predicted vs actual: %w", err)
	}
	b, err := render(p, f)
	if err != nil || f != SVG {
		return b, err
	}
	// The cells are pixels of one embedded image: a browser would smooth
	// them into blurs when it scales the image up.
	return bytes.ReplaceAll(b, []byte("<image "), []byte(`<image style="image-rendering:pixelated" `)), nil
}

// logGrid is a Grid as plotter.GridXYZ: columns are target bins, rows
// prediction bins, Z the log of one plus the count (NaN when 0).
type logGrid struct{ g evaluate.Grid }

func (l logGrid) Dims() (c, r int) { return len(l.g.Counts), len(l.g.Counts) }
func (l logGrid) Z(c, r int) float64 {
	if n := l.g.Counts[c][r]; n > 0 {
		return math.Log1p(float64(n))
	}
	return math.NaN()
}
func (l logGrid) X(c int) float64 { return (l.g.Edges[c] + l.g.Edges[c+1]) / 2 }
func (l logGrid) Y(r int) float64 { return (l.g.Edges[r] + l.g.Edges[r+1]) / 2 }

// PlotDeciles draws each decile's mean target against its mean
// prediction, with the diagonal of a model whose predictions are right
// on average.
func PlotDeciles(d []evaluate.Decile, f Format) ([]byte, error) {
	p := styledPlot("Deciles of the prediction", "mean prediction", "mean target", "top left")
	pts := make(plotter.XYs, len(d))
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, b := range d {
		pts[i] = plotter.XY{X: b.MeanPrediction, Y: b.MeanTarget}
		lo, hi = min(lo, b.MeanPrediction, b.MeanTarget), max(hi, b.MeanPrediction, b.MeanTarget)
	}
	if len(d) > 0 {
		if err := addReference(p, plotter.XYs{{X: lo, Y: lo}, {X: hi, Y: hi}}, "target = prediction"); err != nil {
			return nil, fmt.Errorf("plot deciles: %w", err)
		}
	}
	if err := addCurve(p, pts, plotter.NoStep, true); err != nil {
		return nil, fmt.Errorf("plot deciles: %w", err)
	}
	return render(p, f)
}

// regressionPlots draws a regression report's three plots.
func regressionPlots(m *evaluate.RegressionMetrics, f Format) (*Plots, error) {
	var out Plots
	var err error
	if out.Residuals, err = PlotResiduals(m.Residuals, f); err != nil {
		return nil, err
	}
	if out.PredictedVsActual, err = PlotPredictedVsActual(m.PredictedVsActual, f); err != nil {
		return nil, err
	}
	if out.Deciles, err = PlotDeciles(m.Deciles, f); err != nil {
		return nil, err
	}
	return &out, nil
}

func maxOf(v []int) int {
	m := 0
	for _, x := range v {
		m = max(m, x)
	}
	return m
}
