package report_test

import (
	"testing"
	"time"

	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/internal/svgtest"
	"github.com/mlpipe/mlpipe/report"
)

// TestHistogramEdges: a histogram's tick labels stay inside the image
// in a viewer whose sans-serif is wider than Liberation Sans.
func TestHistogramEdges(t *testing.T) {
	edges := func(lo, hi float64) []float64 {
		var e []float64
		for i := range 21 {
			e = append(e, lo+(hi-lo)*float64(i)/20)
		}
		return e
	}
	counts := make([]int64, 20)
	for i := range counts {
		counts[i] = int64(1000 * (i + 1))
	}
	jan, jul := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2001, 7, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name       string
		lo, hi     float64
		timestamps bool
	}{
		{"distance", 21, 4962, false},
		{"delay", -1116, 1688, false},
		{"date", float64(jan.Unix()), float64(jul.Unix()), true},
	} {
		svg, err := report.Histogram(tt.name, ingest.Histogram{Edges: edges(tt.lo, tt.hi), Counts: counts}, tt.timestamps)
		if err != nil {
			t.Fatal(err)
		}
		if out, err := svgtest.Overflows(svg); err != nil || len(out) > 0 {
			t.Errorf("%s: text past the edge in a wider font: %v %v", tt.name, out, err)
		}
	}
}
