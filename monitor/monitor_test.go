package monitor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mlpipe/mlpipe/bundle"
	"github.com/mlpipe/mlpipe/monitor"
	"github.com/mlpipe/mlpipe/predlog"
)

// june is the served window's traffic: the same distribution as
// training, a later period.
var june = gen{start: time.Date(2001, 6, 1, 0, 0, 0, 0, time.UTC), days: 30}

// writeLog writes preds and labels into a new prediction log directory
// with predlog's writers, as mlserve does, on a clock stopped at
// logTime (which names the files).
func writeLog(t *testing.T, preds []predlog.Record, labels []predlog.Label) string {
	t.Helper()
	dir := t.TempDir()
	opts := predlog.Options{Now: func() time.Time { return logTime }}
	w, err := predlog.NewWriter(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	lw, err := predlog.NewLabelWriter(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range preds {
		w.Log(r)
	}
	for _, l := range labels {
		lw.Log(l)
	}
	ctx := context.Background()
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := lw.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if w.Dropped()+lw.Dropped() > 0 {
		t.Fatalf("the writers dropped %d records", w.Dropped()+lw.Dropped())
	}
	return dir
}

// TestRunOneShiftedFeature: a window in which only the distance has
// moved (×1.5) flags the distance and nothing else, and does not
// recommend a retrain (one feature of six is below drift_share).
func TestRunOneShiftedFeature(t *testing.T) {
	b, err := monitor.LoadBaseline(makeBundle(t, false))
	if err != nil {
		t.Fatal(err)
	}
	g := june
	g.distScale = 1.5
	rows := draw(rand.New(rand.NewPCG(10, 10)), 5000, g)
	dir := writeLog(t, records(rows), labelsOf(rows))
	r, err := monitor.Run(context.Background(), b, dir, logTime, logTime.Add(24*time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	assertFinite(t, r)
	if r.Predictions != 5000 || r.Log == nil || r.Log.Labels != 5000 {
		t.Fatalf("read %d predictions, log %+v; want 5,000 of each", r.Predictions, r.Log)
	}
	want := map[string]string{
		"date:hour": monitor.StatusOK, "date:day_of_week": monitor.StatusOK, "distance": monitor.StatusDrift,
		"origin": monitor.StatusOK, "flag": monitor.StatusOK, "constant": monitor.StatusOK, "probability": monitor.StatusOK,
	}
	for name, status := range want {
		if f := feature(t, r, name); f.Status != status {
			t.Errorf("%s: status %s (%s), want %s", name, f.Status, f.Reason, status)
		}
	}
	d := feature(t, r, "distance")
	// ×1.5 on a log-normal of σ = 0.6 moves ln(distance) by ln 1.5 = 0.41
	// σ_log = 0.68 of its sd: every statistic sees it.
	if !slices.Equal(d.DriftedBy, []string{"psi", "ks", "wasserstein"}) {
		t.Errorf("distance drifted by %v, want psi, ks and wasserstein", d.DriftedBy)
	}
	if r.Drifted != 1 || r.Evaluated != 6 || r.Retrain || r.Status != monitor.StatusOK {
		t.Errorf("decision: %d of %d drift, retrain %v, status %s; want 1 of 6, no retrain", r.Drifted, r.Evaluated, r.Retrain, r.Status)
	}
	p := r.Performance
	if p == nil || p.Status != monitor.StatusOK || p.Labelled != 5000 || p.ROCAUC == nil || p.AUCDrop == nil || p.LogLoss == nil || p.ECE == nil {
		t.Fatalf("performance %+v", p)
	}
	// The scores are calibrated by construction (labels are drawn with
	// the score's probability): ECE stays small, and the AUC is the test
	// draw's within sampling error (about 0.01 at 5,000 rows).
	if *p.ECE > 0.03 || *p.AUCDrop > 0.03 || *p.AUCDrop < -0.03 {
		t.Errorf("ECE %v, AUC drop %v", *p.ECE, *p.AUCDrop)
	}
	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"decision   ok: 1 of 6 features drift (17% < drift_share 50%): distance", "distance", "drift (psi,ks,wasserstein)", "performance  5,000 labelled"} {
		if !strings.Contains(text.String(), s) {
			t.Errorf("text lacks %q:\n%s", s, text.String())
		}
	}
}

// TestComputeDecision: the dataset-level rule over whole windows.
func TestComputeDecision(t *testing.T) {
	b, err := monitor.LoadBaseline(makeBundle(t, false))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		g       gen
		flip    bool // labels inverted: the model got worse
		status  string
		drifted []string
	}{
		{"Undrifted", june, false, monitor.StatusOK, nil},
		// Three of six features move: 50% ≥ drift_share 0.5.
		{"ThreeShifted", gen{start: june.start, days: 30, distScale: 2, newOrigin: 0.4, constant: 6}, false, monitor.StatusRetrain,
			[]string{"distance", "origin", "constant"}},
		// Nothing moves but the labels: the AUC falls below 0.5.
		{"AUCDrop", june, true, monitor.StatusRetrain, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows := draw(rand.New(rand.NewPCG(20, 20)), 4000, tt.g)
			if tt.flip {
				for i := range rows {
					rows[i].label = !rows[i].label
				}
			}
			r, err := monitor.Compute(b, records(rows), labelsOf(rows), monitor.Thresholds{})
			if err != nil {
				t.Fatal(err)
			}
			assertFinite(t, r)
			var drifted []string
			for _, f := range r.Features {
				if f.Status == monitor.StatusDrift {
					drifted = append(drifted, f.Name)
				}
			}
			if r.Status != tt.status || !slices.Equal(drifted, tt.drifted) {
				t.Errorf("status %s, drifted %v; want %s, %v\nreasons: %v", r.Status, drifted, tt.status, tt.drifted, r.Reasons)
			}
			if r.Retrain != (tt.status == monitor.StatusRetrain) {
				t.Errorf("retrain %v with status %s", r.Retrain, r.Status)
			}
		})
	}
}

// TestEdgeCases: the cases popular tools get wrong, each with a defined
// answer and no NaN or Inf anywhere in the report.
func TestEdgeCases(t *testing.T) {
	b, err := monitor.LoadBaseline(makeBundle(t, false))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(30, 30))
	tests := []struct {
		name    string
		rows    []row
		edit    func([]predlog.Record)
		check   string // the feature to check
		status  string
		checkFn func(t *testing.T, f monitor.Feature)
	}{
		{name: "UnseenCategory", rows: draw(rng, 3000, gen{start: june.start, days: 30, newOrigin: 0.3}),
			check: "origin", status: monitor.StatusDrift,
			checkFn: func(t *testing.T, f monitor.Feature) {
				if len(f.Unseen) != 1 || f.Unseen[0].Value != "NEW" || f.Bins[0].Bin != "(other)" {
					t.Errorf("unseen %v, first bin %+v; want NEW in (other)", f.Unseen, f.Bins[0])
				}
			}},
		{name: "VanishedCategory", rows: draw(rng, 3000, gen{start: june.start, days: 30, dropTop: true}),
			check: "origin", status: monitor.StatusDrift,
			checkFn: func(t *testing.T, f monitor.Feature) {
				if f.Bins[0].Bin != "A00" || f.Bins[0].Actual != 0 {
					t.Errorf("largest PSI term %+v, want the vanished A00 with share 0", f.Bins[0])
				}
			}},
		{name: "ConstantUnchanged", rows: draw(rng, 3000, june), check: "constant", status: monitor.StatusOK,
			checkFn: func(t *testing.T, f monitor.Feature) {
				if *f.PSI != 0 || f.KS.D != 0 || f.Wasserstein.Distance != 0 || f.Wasserstein.Scale != 1 || len(f.Notes) != 1 {
					t.Errorf("psi %v, ks %+v, wasserstein %+v, notes %v", *f.PSI, *f.KS, *f.Wasserstein, f.Notes)
				}
			}},
		{name: "ConstantChanged", rows: draw(rng, 3000, gen{start: june.start, days: 30, constant: 6}), check: "constant", status: monitor.StatusDrift,
			checkFn: func(t *testing.T, f monitor.Feature) {
				// Every value moves from 5 to 6: D = 1, and W = 1 in the
				// column's unit, not normalised (the training sd is 0).
				if f.KS.D != 1 || f.Wasserstein.Distance != 1 || f.Wasserstein.Normalised != 1 {
					t.Errorf("ks %+v, wasserstein %+v", *f.KS, *f.Wasserstein)
				}
			}},
		{name: "AllMissing", rows: draw(rng, 3000, gen{start: june.start, days: 30, missingDist: 1}), check: "distance", status: monitor.StatusDrift,
			checkFn: func(t *testing.T, f monitor.Feature) {
				if f.Missing != 3000 || f.KS.D != 0 || f.KS.PValue != 1 {
					t.Errorf("missing %d, ks %+v", f.Missing, *f.KS)
				}
			}},
		{name: "WrongType", rows: draw(rng, 3000, june), check: "distance", status: monitor.StatusDrift,
			edit: func(rs []predlog.Record) {
				for i := range rs {
					rs[i].Inputs["distance"] = "far"
				}
			},
			checkFn: func(t *testing.T, f monitor.Feature) {
				if f.Invalid != 3000 {
					t.Errorf("invalid %d, want 3000", f.Invalid)
				}
			}},
		{name: "EmptyWindow", rows: nil, check: "distance", status: monitor.StatusNotEnoughData,
			checkFn: func(t *testing.T, f monitor.Feature) {
				if f.PSI != nil || f.KS != nil || f.Rows != 0 {
					t.Errorf("an empty window has statistics: %+v", f)
				}
			}},
		{name: "TinyWindow", rows: draw(rng, 10, gen{start: june.start, days: 30, distScale: 3}), check: "distance", status: monitor.StatusNotEnoughData,
			checkFn: func(t *testing.T, f monitor.Feature) {
				// Computed and shown, but not judged.
				if f.PSI == nil || f.KS == nil || len(f.DriftedBy) != 0 || !strings.Contains(f.Reason, "min_samples") {
					t.Errorf("tiny window: %+v", f)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs := records(tt.rows)
			if tt.edit != nil {
				tt.edit(recs)
			}
			r, err := monitor.Compute(b, recs, nil, monitor.Thresholds{})
			if err != nil {
				t.Fatal(err)
			}
			assertFinite(t, r)
			f := feature(t, r, tt.check)
			if f.Status != tt.status {
				t.Errorf("%s: status %s (%s), want %s", tt.check, f.Status, f.Reason, tt.status)
			}
			if tt.checkFn != nil {
				tt.checkFn(t, f)
			}
			if len(tt.rows) == 0 && (r.Status != monitor.StatusNotEnoughData || r.Retrain) {
				t.Errorf("empty window: status %s, retrain %v", r.Status, r.Retrain)
			}
		})
	}
}

// TestNoiseFloor: a categorical series with many bins needs more rows
// than min_samples before its PSI means anything.
func TestNoiseFloor(t *testing.T) {
	b, err := monitor.LoadBaseline(makeBundle(t, false))
	if err != nil {
		t.Fatal(err)
	}
	rows := draw(rand.New(rand.NewPCG(40, 40)), 300, june)
	// min_samples 100: 300 rows pass it. The hour of the day has 17
	// busy hours (6:00 to 22:00, see draw): (17−1)·(1/300 + 1/20,000) =
	// 0.054 > 0.2/4, and the rows it needs are 16 / (0.05 − 16/20,000) =
	// 325.2, so 326.
	r, err := monitor.Compute(b, records(rows), nil, monitor.Thresholds{MinSamples: 100})
	if err != nil {
		t.Fatal(err)
	}
	assertFinite(t, r)
	h := feature(t, r, "date:hour")
	if h.Status != monitor.StatusNotEnoughData || !strings.Contains(h.Reason, "17 bins need about 326 rows") {
		t.Errorf("date:hour: %s (%s), noise %v", h.Status, h.Reason, h.PSINoise)
	}
	// The flag has two bins: 300 rows are plenty.
	if f := feature(t, r, "flag"); f.Status != monitor.StatusOK {
		t.Errorf("flag: %s (%s)", f.Status, f.Reason)
	}
}

// TestProfileOnly: a bundle without reference files gets PSI from the
// profile, no KS or Wasserstein, no time parts or probability, and says
// so.
func TestProfileOnly(t *testing.T) {
	dir := makeBundle(t, true)
	b, err := monitor.LoadBaseline(dir)
	if err != nil {
		t.Fatal(err)
	}
	if b.Reference != nil || len(b.Notes) == 0 || !strings.Contains(b.Notes[0], monitor.ReferenceFile) {
		t.Fatalf("reference %v, notes %v", b.Reference, b.Notes)
	}
	g := june
	g.distScale = 1.5
	r, err := monitor.Compute(b, records(draw(rand.New(rand.NewPCG(50, 50)), 3000, g)), nil, monitor.Thresholds{})
	if err != nil {
		t.Fatal(err)
	}
	assertFinite(t, r)
	if r.Baseline != monitor.BaselineProfile || r.Score != nil {
		t.Errorf("baseline %s, score %v", r.Baseline, r.Score)
	}
	for _, name := range []string{"date:hour", "date:day_of_week"} {
		if f := feature(t, r, name); f.Status != monitor.StatusNoBaseline {
			t.Errorf("%s: %s, want no_baseline", name, f.Status)
		}
	}
	d := feature(t, r, "distance")
	if d.Status != monitor.StatusDrift || d.KS != nil || d.Wasserstein != nil {
		t.Errorf("distance: %s, ks %v, wasserstein %v", d.Status, d.KS, d.Wasserstein)
	}
	// The profile's quantile shares stand in for the sample's: an
	// undrifted window's PSI stays within its noise, the mean of
	// χ²(K−1)·(1/n + 1/m) plus four of its standard deviations,
	// sqrt(2(K−1)) times the same factor (distance has few ties, so
	// F(q_p) = p holds to 1/20,000).
	r, err = monitor.Compute(b, records(draw(rand.New(rand.NewPCG(51, 51)), 3000, june)), nil, monitor.Thresholds{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"distance", "origin", "flag", "constant"} {
		f := feature(t, r, name)
		bound := 0.0 // one bin (the constant column): PSI is 0
		if k := float64(f.Buckets - 1); k > 0 {
			bound = f.PSINoise * (1 + 4*math.Sqrt(2/k))
		}
		if f.Status != monitor.StatusOK || *f.PSI > bound {
			t.Errorf("%s: %s, PSI %v, noise %v", name, f.Status, *f.PSI, f.PSINoise)
		}
	}
}

func TestLoadBaselineErrors(t *testing.T) {
	t.Run("ErrNotBundle", func(t *testing.T) {
		_, err := monitor.LoadBaseline(t.TempDir())
		if !errors.Is(err, bundle.ErrNotBundle) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("ErrNoProfile", func(t *testing.T) {
		dir := makeBundle(t, true)
		if err := os.Remove(filepath.Join(dir, bundle.ProfileFile)); err != nil {
			t.Fatal(err)
		}
		_, err := monitor.LoadBaseline(dir)
		if !errors.Is(err, monitor.ErrNoProfile) || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), filepath.Join(dir, bundle.ProfileFile)) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("ErrCorruptReference", func(t *testing.T) {
		dir := makeBundle(t, true)
		path := filepath.Join(dir, monitor.ReferenceFile)
		if err := os.WriteFile(path, []byte("not arrow"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := monitor.LoadBaseline(dir)
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("err = %v, want one naming %s", err, path)
		}
	})
}

func TestRunErrors(t *testing.T) {
	b, err := monitor.LoadBaseline(makeBundle(t, true))
	if err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "nope")
	_, err = monitor.Run(context.Background(), b, missing, time.Time{}, time.Time{}, nil)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing log dir: %v", err)
	}
	// An empty directory is an empty window: a report, not an error.
	r, err := monitor.Run(context.Background(), b, t.TempDir(), time.Time{}, time.Time{}, nil)
	if err != nil || r.Status != monitor.StatusNotEnoughData || r.Predictions != 0 {
		t.Errorf("empty log: %v, %+v", err, r)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := monitor.Run(ctx, b, t.TempDir(), time.Time{}, time.Time{}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if _, err := monitor.Compute(b, nil, nil, monitor.Thresholds{DriftShare: 2}); !errors.Is(err, monitor.ErrInvalid) {
		t.Errorf("bad threshold: %v", err)
	}
}

// TestReportJSON: the report's JSON has the documented top-level keys.
func TestReportJSON(t *testing.T) {
	b, err := monitor.LoadBaseline(makeBundle(t, false))
	if err != nil {
		t.Fatal(err)
	}
	rows := draw(rand.New(rand.NewPCG(60, 60)), 2000, june)
	r, err := monitor.Compute(b, records(rows), labelsOf(rows), monitor.Thresholds{})
	if err != nil {
		t.Fatal(err)
	}
	j, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(j, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"model", "bundle", "baseline", "predictions", "status", "retrain", "reasons", "drifted", "evaluated",
		"drifted_share", "features", "score", "performance", "thresholds"} {
		if _, ok := m[k]; !ok {
			t.Errorf("report JSON has no %q", k)
		}
	}
	th := m["thresholds"].(map[string]any)
	// The defaults (monitor.Default*).
	if th["psi_threshold"] != 0.2 || th["min_samples"] != 1000.0 || th["drift_share"] != 0.5 {
		t.Errorf("thresholds %v", th)
	}
}
