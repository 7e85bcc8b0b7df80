package monitor_test

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/mlpipe/mlpipe/internal/flightstest"
	"github.com/mlpipe/mlpipe/monitor"
)

// TestFlightsJuneAgainstTraining is the measurement that motivates
// deciding by effect sizes: the distance of June's flights against
// January–April's, in data/flights-3m.parquet. The issue that asked for
// the monitor measured KS D = 0.0087 with p ≈ 1e-26 and PSI = 0.0008 on
// the full splits: a p-value that "rejects" for a shift nobody should
// act on. The monitor, on its 20,000-row reference sample, calls no
// feature drifted.
func TestFlightsJuneAgainstTraining(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 3,000,000 rows")
	}
	s := flightstest.Load(t, "../data/flights-3m.parquet")
	floats := func(v []int64) []float64 {
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		slices.Sort(out)
		return out
	}
	ks := monitor.KSTest(floats(flightstest.Int64s(s.Train, "distance")), floats(flightstest.Int64s(s.Test, "distance")))
	// The figures, to the digits it gives.
	if math.Abs(ks.D-0.0087) > 0.00005 || ks.PValue < 1e-27 || ks.PValue > 1e-25 {
		t.Errorf("full splits: D %v, p %v; the issue measured D 0.0087, p ≈ 1e-26", ks.D, ks.PValue)
	}
	b, err := monitor.NewBaseline(context.Background(), s.Train, []string{"date", "distance", "origin", "destination"}, nil, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	r, err := monitor.CompareTable(context.Background(), b, s.Test, nil, monitor.Thresholds{})
	if err != nil {
		t.Fatal(err)
	}
	assertFinite(t, r)
	if r.Status != monitor.StatusOK || r.Drifted != 0 || r.Evaluated != 5 {
		t.Errorf("status %s, %d of %d drifted: %v", r.Status, r.Drifted, r.Evaluated, r.Reasons)
	}
	d := feature(t, r, "distance")
	if math.Abs(*d.PSI-0.0008) > 0.00005 {
		t.Errorf("distance PSI %v; the issue measured 0.0008", *d.PSI)
	}
	t.Logf("reference sample: distance D %.4f (p %.2g), PSI %.5f", d.KS.D, d.KS.PValue, *d.PSI)
}
