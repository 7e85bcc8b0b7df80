package ui

import (
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/mlpipe/mlpipe/internal/svgtest"
	"github.com/mlpipe/mlpipe/monitor"
)

// TestCharts checks the monitoring page's charts with one window, small
// PSIs and the longest series names: no text past the edge in a wider
// font, the legend beside the plot rather than over the drift threshold,
// and the test split's reference line
// drawn (a dashed line of one point was invisible).
func TestCharts(t *testing.T) {
	ptr := func(x float64) *float64 { return &x }
	rep := &monitor.Report{To: time.Date(2001, 6, 8, 0, 0, 0, 0, time.UTC), Predictions: 1674,
		Features:    []monitor.Feature{{Name: "date:day_of_week", PSI: ptr(0.01)}, {Name: "destination", PSI: ptr(0.02)}},
		Score:       &monitor.Feature{Name: "probability", PSI: ptr(0.005)},
		Performance: &monitor.Performance{ROCAUC: ptr(0.7), Test: &monitor.TestMetrics{ROCAUC: ptr(0.72)}},
		Estimate:    &monitor.Estimate{Rows: 1674, ROCAUC: monitor.Interval{Value: 0.705, Low: 0.69, High: 0.72}}}
	ws := []window{{Label: "Jun 8 00:00", Report: rep}}
	drift, err := driftChart(ws, []string{"date:day_of_week", "destination", "probability"}, 0.2)
	if err != nil {
		t.Fatal(err)
	}
	perf, err := perfChart(ws)
	if err != nil {
		t.Fatal(err)
	}
	for name, svg := range map[string][]byte{"drift": drift, "performance": perf} {
		if out, err := svgtest.Overflows(svg); err != nil || len(out) > 0 {
			t.Errorf("%s chart: text past the edge in a wider font: %v %v", name, out, err)
		}
	}
	// The threshold: a dashed gray line across the plot (the first one
	// drawn; the second is its legend thumbnail).
	gray := regexp.MustCompile(`<path d="M([0-9.]+),([0-9.]+)L([0-9.]+),([0-9.]+)" style="fill:none;stroke:#999999;[^"]*dasharray`)
	m := gray.FindAllSubmatch(drift, -1)
	if len(m) < 2 {
		t.Fatalf("drift chart: %d dashed gray lines, want the threshold and its legend entry", len(m))
	}
	num := func(b []byte) float64 { f, _ := strconv.ParseFloat(string(b), 64); return f }
	plotRight := num(m[0][3])
	legend := regexp.MustCompile(`<text x="([0-9.]+)"[^>]*>drift threshold</text>`).FindSubmatch(drift)
	if legend == nil || num(legend[1]) <= plotRight {
		t.Errorf("drift chart: the legend is not right of the plot (ends at x %.1f): %q", plotRight, legend)
	}
	// The estimate beside the labelled AUC.
	for _, s := range []string{">labelled</text>", ">estimated</text>"} {
		if !regexp.MustCompile(regexp.QuoteMeta(s)).Match(perf) {
			t.Errorf("performance chart: no legend %q", s)
		}
	}
	// The test split's reference: a dashed gray segment of some length.
	m = gray.FindAllSubmatch(perf, -1)
	if len(m) < 2 || num(m[0][3])-num(m[0][1]) < 50 {
		t.Errorf("performance chart: the test split's line is missing or a dot: %q", m)
	}
}
