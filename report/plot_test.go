package report_test

import (
	"strings"
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

// TestHistogramSpanOverflow: values from -1.7e308 to 1.7e308 span more
// than the largest float64. Drawing their histogram hung in gonum's tick
// search (mlpipe run never ended); it must be drawn, without NaN
// coordinates, its ticks labelled with the values themselves.
func TestHistogramSpanOverflow(t *testing.T) {
	lo, hi := -1.7e308, 1.7e308
	h := ingest.Histogram{Counts: make([]int64, 20)}
	for i := range 21 {
		f := float64(i) / 20
		h.Edges = append(h.Edges, lo*(1-f)+hi*f) // as ingest/profile takes them
	}
	h.Counts[0], h.Counts[19] = 3, 2
	type result struct {
		svg []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		svg, err := report.Histogram("x", h, false)
		done <- result{svg, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(time.Minute): // it takes milliseconds
		t.Fatal("report.Histogram did not return in a minute")
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	svg := string(r.svg)
	if strings.Contains(svg, "NaN") || strings.Contains(svg, "Inf") {
		t.Errorf("the SVG has NaN or Inf coordinates")
	}
	if !strings.Contains(svg, ">1.7e+308<") || !strings.Contains(svg, ">-1.7e+308<") {
		t.Errorf("the ticks are not labelled with the values (±1.7e+308 expected)")
	}
}
