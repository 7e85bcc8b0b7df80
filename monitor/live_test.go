package monitor_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mlpipe/mlpipe/calibrate"
	"github.com/mlpipe/mlpipe/monitor"
)

func TestLive(t *testing.T) {
	b, err := monitor.LoadBaseline(makeBundle(t, false))
	if err != nil {
		t.Fatal(err)
	}
	const window = 5000
	tests := []struct {
		name string
		g    gen
		// drifted are the series whose PSI must pass psi_threshold 0.2;
		// the others must stay below 0.2/4, the noise floor's bound (an
		// undrifted window of 5,000 has PSI ≈ (K−1)/5,000 ≤ 0.004 for
		// the ≤ 21 buckets here).
		drifted []string
	}{
		{"Undrifted", june, nil},
		{"Shifted", gen{start: june.start, days: 30, distScale: 2, scoreShift: 1.5}, []string{"distance", "probability"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := monitor.NewLiveWithReference(b.Profile, b.Reference, b.Inputs, window)
			want := []string{"date:hour", "date:day_of_week", "distance", "origin", "flag", "constant", "probability"}
			if got := l.Series(); !slices.Equal(got, want) {
				t.Fatalf("series %v, want %v", got, want)
			}
			// 4 goroutines, 2,000 requests each: the ring wraps (8,000 >
			// 5,000), and Refresh runs while they write (run with -race).
			rows := draw(rand.New(rand.NewPCG(80, 80)), 8000, tt.g)
			reqs := make([]map[string]any, len(rows))
			for i, r := range rows {
				reqs[i] = request(r)
			}
			var wg sync.WaitGroup
			for w := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := w; i < len(rows); i += 4 {
						l.Observe(reqs[i], rows[i].score)
						if i%1000 == 0 {
							l.Refresh()
						}
					}
				}()
			}
			wg.Wait()
			l.Refresh()
			if l.Rows() != window {
				t.Errorf("rows %d, want the window %d", l.Rows(), window)
			}
			psi := l.PSI()
			for _, name := range want {
				v, ok := psi[name]
				switch {
				case !ok:
					t.Errorf("no PSI for %s", name)
				case slices.Contains(tt.drifted, name) && v <= 0.2:
					t.Errorf("%s: PSI %v, want > 0.2", name, v)
				case !slices.Contains(tt.drifted, name) && v >= 0.05:
					t.Errorf("%s: PSI %v, want < 0.05", name, v)
				}
			}
			// PSI returns a copy.
			psi["distance"] = -1
			if l.PSI()["distance"] == -1 {
				t.Error("PSI returned the Live's own map")
			}
		})
	}
}

// TestLiveAgreesWithCompute: on the same requests, a Live gauge is the
// report's PSI.
func TestLiveAgreesWithCompute(t *testing.T) {
	b, err := monitor.LoadBaseline(makeBundle(t, false))
	if err != nil {
		t.Fatal(err)
	}
	rows := draw(rand.New(rand.NewPCG(81, 81)), 3000, gen{start: june.start, days: 30, distScale: 1.3, newOrigin: 0.1})
	l := monitor.NewLiveWithReference(b.Profile, b.Reference, b.Inputs, 3000)
	for _, r := range rows {
		l.Observe(request(r), r.score)
	}
	l.Refresh()
	r, err := monitor.Compute(b, records(rows), nil, monitor.Thresholds{})
	if err != nil {
		t.Fatal(err)
	}
	psi := l.PSI()
	for _, f := range append(r.Features, *r.Score) {
		if got := psi[f.Name]; f.PSI == nil || !near(got, *f.PSI, 1e-12) {
			t.Errorf("%s: live PSI %v, report %v", f.Name, got, f.PSI)
		}
	}
}

// TestLiveEstimate: with a calibration map the gauges estimate the
// window's ROC AUC as the report does, from the requests in the window
// only (the ring wraps: the first requests, scored far worse, are out
// of it by the time it is refreshed).
func TestLiveEstimate(t *testing.T) {
	b, err := monitor.LoadBaseline(makeBundle(t, false))
	if err != nil {
		t.Fatal(err)
	}
	if l := monitor.NewLiveFromBaseline(b, 2000); l.Estimate() != nil {
		t.Fatal("an estimate without a calibration map")
	}
	b.Calibrator = &calibrate.Map{Method: calibrate.Platt, A: -2, B: 0.3}
	l := monitor.NewLiveFromBaseline(b, 2000)
	rows := draw(rand.New(rand.NewPCG(83, 83)), 3000, june)
	for i, r := range rows {
		score := r.score
		if i < 1000 {
			score = 0.5 // out of the window once 3,000 are in
		}
		l.Observe(request(r), score)
		if i == 500 {
			l.Refresh()
			if l.Estimate() != nil {
				t.Fatalf("%d requests: an estimate before the window holds %d", i, monitor.DefaultMinSamples)
			}
		}
	}
	l.Refresh()
	got := l.Estimate()
	r, err := monitor.Compute(b, records(rows[1000:]), nil, monitor.Thresholds{})
	if err != nil {
		t.Fatal(err)
	}
	want := r.Estimate
	if got == nil || want == nil || got.Rows != 2000 || !near(got.ROCAUC.Value, want.ROCAUC.Value, 1e-12) ||
		!near(got.ROCAUC.Low, want.ROCAUC.Low, 1e-12) || !near(got.LogLoss.Value, want.LogLoss.Value, 1e-12) {
		t.Errorf("live estimate %+v, report's %+v", got, want)
	}
}

func TestLiveProfileOnly(t *testing.T) {
	b, err := monitor.LoadBaseline(makeBundle(t, true))
	if err != nil {
		t.Fatal(err)
	}
	l := monitor.NewLive(b.Profile, b.Inputs, 0)
	// No reference: no time parts, no probability.
	if got, want := l.Series(), []string{"distance", "origin", "flag", "constant"}; !slices.Equal(got, want) {
		t.Fatalf("series %v, want %v", got, want)
	}
	// Before DefaultMinSamples requests, no gauge.
	rows := draw(rand.New(rand.NewPCG(82, 82)), monitor.DefaultMinSamples, june)
	for i, r := range rows {
		if i == len(rows)-1 {
			l.Refresh()
			if len(l.PSI()) != 0 {
				t.Fatalf("%d requests: gauges %v", i, l.PSI())
			}
		}
		l.Observe(request(r), r.score)
	}
	l.Refresh()
	if len(l.PSI()) != 4 {
		t.Errorf("%d requests: gauges %v", len(rows), l.PSI())
	}
	// Run refreshes in the background until its context ends.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- l.Run(ctx, time.Millisecond) }()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}
