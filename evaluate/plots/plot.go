package plots

import (
	"bytes"
	"fmt"
	"image/color"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/mlpipe/mlpipe/evaluate"
)

// Format is the image format of a plot.
type Format string

// The plot formats.
const (
	// SVG is a vector image, about 10 KB for a 200-point curve. Fonts
	// are not embedded: text asks for Liberation Sans (the font the
	// layout was measured with), then Arial, which has the same metrics,
	// then any sans-serif font.
	SVG Format = "svg"
	// PNG is a 600×600 pixel raster image.
	PNG Format = "png"
)

const (
	plotSize = 4 * vg.Inch // width and height of every plot
	pngDPI   = 150
	// rightMargin keeps the last x tick label ("1.0"), which the layout
	// centres on the axis's end, inside the image in a viewer whose
	// sans-serif is wider than Liberation Sans: flush with the edge, it
	// was cut to "1.(".
	rightMargin = vg.Length(10) // points
)

var (
	curveColor    = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff} // blue
	referenceGray = color.Gray{Y: 0x99}
	dashes        = []vg.Length{vg.Points(4), vg.Points(3)} // of a reference line
)

// PlotROC draws an ROC curve, with the diagonal of a random scorer for
// reference, and the AUC in the title.
func PlotROC(c evaluate.ROCCurve, auc float64, f Format) ([]byte, error) {
	p := newPlot(fmt.Sprintf("ROC curve (AUC %.3f)", auc), "false positive rate", "true positive rate", "bottom right")
	if err := addReference(p, plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}}, "random"); err != nil {
		return nil, fmt.Errorf("plot roc: %w", err)
	}
	if err := addCurve(p, xys(c.FPR, c.TPR), plotter.NoStep, false); err != nil {
		return nil, fmt.Errorf("plot roc: %w", err)
	}
	return render(p, f)
}

// PlotPR draws a precision–recall curve, with the precision of a random
// scorer (the positive rate) for reference, and the average precision in
// the title.
func PlotPR(c evaluate.PRCurve, averagePrecision, positiveRate float64, f Format) ([]byte, error) {
	p := newPlot(fmt.Sprintf("Precision-recall (AP %.3f)", averagePrecision), "recall", "precision", "top right")
	if err := addReference(p, plotter.XYs{{X: 0, Y: positiveRate}, {X: 1, Y: positiveRate}}, "random"); err != nil {
		return nil, fmt.Errorf("plot pr: %w", err)
	}
	// Drawn as steps: from each point, up or down to the next precision,
	// then across to the next recall, the area that average precision
	// sums.
	if err := addCurve(p, xys(c.Recall, c.Precision), plotter.PreStep, false); err != nil {
		return nil, fmt.Errorf("plot pr: %w", err)
	}
	return render(p, f)
}

// PlotCalibration draws a reliability diagram: the observed rate of each
// bin against its mean predicted probability, with the diagonal of a
// perfectly calibrated model for reference, and the ECE in the title.
func PlotCalibration(bins []evaluate.CalibrationBin, ece float64, f Format) ([]byte, error) {
	p := newPlot(fmt.Sprintf("Calibration (ECE %.3f)", ece), "mean predicted probability", "observed rate", "bottom right")
	if err := addReference(p, plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}}, "calibrated"); err != nil {
		return nil, fmt.Errorf("plot calibration: %w", err)
	}
	pts := make(plotter.XYs, len(bins))
	for i, b := range bins {
		pts[i] = plotter.XY{X: b.MeanPredicted, Y: b.ObservedRate}
	}
	if err := addCurve(p, pts, plotter.NoStep, true); err != nil {
		return nil, fmt.Errorf("plot calibration: %w", err)
	}
	return render(p, f)
}

// Plots holds the images of a binary report (ROC, PR, Calibration) or
// of a regression's (Residuals, PredictedVsActual, Deciles).
type Plots struct {
	ROC, PR, Calibration                  []byte
	Residuals, PredictedVsActual, Deciles []byte
}

// Files names each image of p as a file: "roc.svg" and so on, for
// format f. Images that p does not hold are left out.
func (p *Plots) Files(f Format) map[string][]byte {
	out := map[string][]byte{}
	for name, b := range map[string][]byte{
		"roc": p.ROC, "pr": p.PR, "calibration": p.Calibration,
		"residuals": p.Residuals, "predicted-vs-actual": p.PredictedVsActual, "deciles": p.Deciles,
	} {
		if b != nil {
			out[name+"."+string(f)] = b
		}
	}
	return out
}

// Of draws the ROC, PR and calibration plots of a binary report, or
// the residual histogram, predicted-vs-actual grid and deciles of a
// regression's. It returns an error for a multiclass report or an
// unknown format.
func Of(r *evaluate.Report, f Format) (*Plots, error) {
	if m := r.RegressionMetrics; m != nil {
		return regressionPlots(m, f)
	}
	b := r.BinaryMetrics
	if b == nil {
		return nil, fmt.Errorf("plots: %w: a %s report has no plots", evaluate.ErrInvalid, r.Task)
	}
	var out Plots
	var err error
	if out.ROC, err = PlotROC(b.ROC, b.ROCAUC, f); err != nil {
		return nil, err
	}
	if out.PR, err = PlotPR(b.PR, b.PRAUC, b.PositiveRate, f); err != nil {
		return nil, err
	}
	if out.Calibration, err = PlotCalibration(b.Calibration, b.ECE, f); err != nil {
		return nil, err
	}
	return &out, nil
}

// newPlot returns an empty plot with both axes spanning [0, 1], ticks
// every 0.2, a grid, sans-serif text and the legend in the corner
// legendCorner names ("top right" or "bottom right").
func newPlot(title, x, y, legendCorner string) *plot.Plot {
	p := styledPlot(title, x, y, legendCorner)
	p.X.Min, p.X.Max = 0, 1
	p.Y.Min, p.Y.Max = 0, 1.02 // room above 1 for a curve along the top
	var ticks plot.ConstantTicks
	for i := 0; i <= 5; i++ {
		v := float64(i) / 5
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', 1, 64)})
	}
	p.X.Tick.Marker, p.Y.Tick.Marker = ticks, ticks
	return p
}

// styledPlot returns an empty plot with axes that fit the data added to
// it, a grid, sans-serif text and the legend in the corner legendCorner
// names ("top right", "bottom right" or "top left").
func styledPlot(title, x, y, legendCorner string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	for _, f := range []*font.Font{
		&p.Title.TextStyle.Font, &p.Legend.TextStyle.Font,
		&p.X.Label.TextStyle.Font, &p.Y.Label.TextStyle.Font,
		&p.X.Tick.Label.Font, &p.Y.Tick.Label.Font,
	} {
		f.Variant = "Sans" // of plot's default Liberation typeface
	}
	p.Add(plotter.NewGrid())
	p.Legend.Top = strings.HasPrefix(legendCorner, "top")
	p.Legend.Left = strings.HasSuffix(legendCorner, "left")
	p.Legend.XOffs = -vg.Points(8)
	if p.Legend.Left {
		p.Legend.XOffs = vg.Points(8)
	}
	if p.Legend.Top {
		p.Legend.YOffs = -vg.Points(8)
	} else {
		p.Legend.YOffs = vg.Points(8)
	}
	return p
}

// addReference adds a dashed gray line.
func addReference(p *plot.Plot, pts plotter.XYs, name string) error {
	l, err := plotter.NewLine(pts)
	if err != nil {
		return err
	}
	l.Color = referenceGray
	l.Dashes = dashes
	p.Add(l)
	p.Legend.Add(name, l)
	return nil
}

// addCurve adds the model's curve, joining the points as step says, with
// a dot at each point if dots.
func addCurve(p *plot.Plot, pts plotter.XYs, step plotter.StepKind, dots bool) error {
	if len(pts) == 0 {
		return nil
	}
	l, err := plotter.NewLine(pts)
	if err != nil {
		return err
	}
	l.Color = curveColor
	l.Width = vg.Points(1.5)
	l.StepStyle = step
	p.Add(l)
	p.Legend.Add("model", l)
	if dots {
		s, err := plotter.NewScatter(pts)
		if err != nil {
			return err
		}
		s.Color = curveColor
		s.Shape = draw.CircleGlyph{}
		p.Add(s)
	}
	return nil
}

// xys pairs x and y, which have the same length.
func xys(x, y []float64) plotter.XYs {
	if len(x) != len(y) {
		panic(fmt.Sprintf("evaluate: plot: %d x values for %d y values", len(x), len(y)))
	}
	pts := make(plotter.XYs, len(x))
	for i := range x {
		pts[i] = plotter.XY{X: x[i], Y: y[i]}
	}
	return pts
}

// render draws p in format f.
func render(p *plot.Plot, f Format) ([]byte, error) {
	return renderSize(p, f, plotSize, plotSize)
}

// renderSize draws p in format f at the given width and height.
func renderSize(p *plot.Plot, f Format, w, h vg.Length) ([]byte, error) {
	var c vg.CanvasWriterTo
	switch f {
	case SVG:
		c = vgsvg.New(w, h)
	case PNG:
		c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(pngDPI))}
	default:
		return nil, fmt.Errorf("plot: %w: unknown format %q", evaluate.ErrInvalid, f)
	}
	p.Draw(draw.Crop(draw.New(c), 0, -rightMargin, 0, 0))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("plot: %w", err)
	}
	if f == SVG {
		// vgsvg names one font family; give viewers without it fallbacks.
		return bytes.ReplaceAll(buf.Bytes(), []byte("font-family:Liberation Sans;"),
			[]byte("font-family:Liberation Sans,Arial,Helvetica,sans-serif;")), nil
	}
	return buf.Bytes(), nil
}
