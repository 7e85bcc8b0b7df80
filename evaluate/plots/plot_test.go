package plots_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/mlpipe/mlpipe/evaluate"
	"github.com/mlpipe/mlpipe/evaluate/plots"
	"github.com/mlpipe/mlpipe/internal/svgtest"
)

// maxPlotBytes is the size budget of one plot in a report.
const maxPlotBytes = 100 << 10

func TestPlots(t *testing.T) {
	// 2,000 rows with distinct scores, so each curve is downsampled to
	// the full 200 points: the largest plot a report draws.
	n := 2000
	labels := make([]float64, n)
	probs := make([]float64, n)
	for i := range labels {
		labels[i] = float64(i % 3 % 2)
		probs[i] = (float64(i) + 0.5*labels[i]*float64(n)) / (1.5 * float64(n))
	}
	r, err := evaluate.EvaluateBinary(labels, probs, evaluate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.ROC.Len() != evaluate.DefaultCurvePoints || r.PR.Len() != evaluate.DefaultCurvePoints {
		t.Fatalf("curves have %d and %d points, want %d", r.ROC.Len(), r.PR.Len(), evaluate.DefaultCurvePoints)
	}
	for _, f := range []plots.Format{plots.SVG, plots.PNG} {
		p, err := plots.Of(r, f)
		if err != nil {
			t.Fatal(err)
		}
		for name, img := range map[string][]byte{"roc": p.ROC, "pr": p.PR, "calibration": p.Calibration} {
			t.Logf("%s %s: %d bytes", name, f, len(img))
			if len(img) > maxPlotBytes {
				t.Errorf("%s %s: %d bytes, budget %d", name, f, len(img), maxPlotBytes)
			}
			switch f {
			case plots.SVG:
				if !bytes.Contains(img, []byte("<svg")) || bytes.Contains(img, []byte("@font-face")) {
					t.Errorf("%s: not an SVG without embedded fonts: %.200s", name, img)
				}
				// The last x tick, "1.0", was cut to "1.(" in a browser
				// whose sans-serif is wider than Liberation Sans.
				if out, err := svgtest.Overflows(img); err != nil || len(out) > 0 {
					t.Errorf("%s: text past the image's edge in a wider font: %v %v", name, out, err)
				}
			case plots.PNG:
				if !bytes.HasPrefix(img, []byte("\x89PNG\r\n\x1a\n")) {
					t.Errorf("%s: not a PNG", name)
				}
			}
		}
	}
	if _, err := plots.Of(r, "gif"); !errors.Is(err, evaluate.ErrInvalid) {
		t.Errorf("unknown format: error %v, want ErrInvalid", err)
	}
	m, err := evaluate.EvaluateMulticlass([]float64{0, 1}, []float64{1, 0, 0, 1}, 2, evaluate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plots.Of(m, plots.SVG); !errors.Is(err, evaluate.ErrInvalid) {
		t.Errorf("multiclass plots: error %v, want ErrInvalid", err)
	}
}

// TestRegressionPlots draws the three plots of a regression report of
// 500,000 rows (the size of the flights test split): the grid keeps the
// scatter plot's size fixed.
func TestRegressionPlots(t *testing.T) {
	const n = 500_000
	y, p := make([]float64, n), make([]float64, n)
	for i := range y {
		y[i] = float64(i%1000) / 10
		p[i] = y[i] + float64(i%13) - 6
	}
	r, err := evaluate.EvaluateRegression(y, p, evaluate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []plots.Format{plots.SVG, plots.PNG} {
		imgs, err := plots.Of(r, f)
		if err != nil {
			t.Fatal(err)
		}
		files := imgs.Files(f)
		if len(files) != 3 {
			t.Fatalf("%d files: %v", len(files), files)
		}
		for name, img := range files {
			t.Logf("%s: %d bytes", name, len(img))
			if len(img) > maxPlotBytes {
				t.Errorf("%s: %d bytes, budget %d", name, len(img), maxPlotBytes)
			}
			if f == plots.SVG && !bytes.Contains(img, []byte("<svg")) {
				t.Errorf("%s: not an SVG", name)
			}
			if f == plots.PNG && !bytes.HasPrefix(img, []byte("\x89PNG\r\n\x1a\n")) {
				t.Errorf("%s: not a PNG", name)
			}
		}
	}
}
