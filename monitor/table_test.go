package monitor_test

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/mlpipe/mlpipe/monitor"
)

// TestCompareTable: the in-memory path (a baseline from a training
// table, a window as a table) gives the report that the bundle and the
// prediction log give on the same rows.
func TestCompareTable(t *testing.T) {
	train := table(t, draw(rand.New(rand.NewPCG(1, 1)), 20_000, gen{}))
	valid := draw(rand.New(rand.NewPCG(2, 2)), 5000, gen{})
	scores := make([]float64, len(valid))
	for i, r := range valid {
		scores[i] = r.score
	}
	names := []string{"date", "distance", "origin", "flag", "constant"}
	mem, err := monitor.NewBaseline(context.Background(), train, names, scores, 0, 7)
	if err != nil {
		t.Fatal(err)
	}
	g := june
	g.distScale = 1.5
	rows := draw(rand.New(rand.NewPCG(100, 100)), 4000, g)
	proba := make([]float64, len(rows))
	for i, r := range rows {
		proba[i] = r.score
	}
	got, err := monitor.CompareTable(context.Background(), mem, table(t, rows), proba, monitor.Thresholds{})
	if err != nil {
		t.Fatal(err)
	}
	assertFinite(t, got)
	// The same rows through a bundle (makeBundle draws the same training
	// rows and reference with the same seeds) and Compute.
	onDisk, err := monitor.LoadBaseline(makeBundle(t, false))
	if err != nil {
		t.Fatal(err)
	}
	want, err := monitor.Compute(onDisk, records(rows), nil, monitor.Thresholds{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Features) != len(want.Features) || got.Score == nil || want.Score == nil {
		t.Fatalf("%d features and score %v, want %d and %v", len(got.Features), got.Score, len(want.Features), want.Score)
	}
	for i, f := range append(got.Features, *got.Score) {
		w := append(want.Features, *want.Score)[i]
		if f.Name != w.Name || f.Status != w.Status || *f.PSI != *w.PSI {
			t.Errorf("%s: %s PSI %v; through the log %s: %s PSI %v", f.Name, f.Status, *f.PSI, w.Name, w.Status, *w.PSI)
		}
	}
	if d := feature(t, got, "distance"); d.Status != monitor.StatusDrift {
		t.Errorf("distance: %s", d.Status)
	}
	// Errors: probabilities that do not match the rows.
	if _, err := monitor.CompareTable(context.Background(), mem, table(t, rows), proba[:10], monitor.Thresholds{}); err == nil || !strings.Contains(err.Error(), "10 probabilities for 4000 rows") {
		t.Errorf("err = %v", err)
	}
}
