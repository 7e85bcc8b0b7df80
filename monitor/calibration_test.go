package monitor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/mlpipe/mlpipe/monitor"
	"github.com/mlpipe/mlpipe/monitor/domaingbdt"
)

// calibrated is a baseline of 60 days of synthetic training rows (500 a
// day, the distance depending on the route) with its thresholds
// calibrated on 7-day windows, the domain classifier's too.
func calibrated(t *testing.T) (*monitor.Baseline, gen) {
	t.Helper()
	g := gen{days: 60, perDay: 500, routes: true}
	train := table(t, draw(rand.New(rand.NewPCG(11, 11)), 60*500, g))
	names := []string{"date", "distance", "origin", "flag", "constant"}
	b, err := monitor.NewBaseline(context.Background(), train, names, nil, 0, 7)
	if err != nil {
		t.Fatal(err)
	}
	c, err := monitor.Calibrate(context.Background(), b, train, monitor.CalibrateOptions{Column: "date", Domain: domaingbdt.Fit, DomainRows: 2000, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	// 60 days: windows [d, d+7) and [d+7, d+14) for d = 0 … 46.
	if c.Pairs != 47 || c.WindowRows != 3500 || len(c.Domain.Values) != monitor.DefaultDomainPairs {
		t.Fatalf("%d pairs of %d rows, %d domain pairs; want 47, 3500 and %d", c.Pairs, c.WindowRows, len(c.Domain.Values), monitor.DefaultDomainPairs)
	}
	b.Calibration, b.DomainFit = c, domaingbdt.Fit
	return b, g
}

// window draws a week of traffic after the training period.
func window(t *testing.T, g gen, seed uint64, edit func([]row)) []row {
	g.start, g.days = time.Date(2001, 3, 10, 0, 0, 0, 0, time.UTC), 7
	rows := draw(rand.New(rand.NewPCG(seed, seed)), 7*500, g)
	if edit != nil {
		edit(rows)
	}
	return rows
}

// TestCalibratedThresholds: an undrifted week fires nothing; a shift of
// one feature's distribution, too small for the fixed thresholds, fires
// that feature's calibrated thresholds and no other feature's; a shift
// of the joint distribution that leaves every marginal as it was (the
// distances dealt to other routes) fires the domain classifier and
// neither per-feature test.
func TestCalibratedThresholds(t *testing.T) {
	b, g := calibrated(t)
	estimated := monitor.Thresholds{Policy: monitor.PolicyEstimated}
	for _, tc := range []struct {
		name    string
		edit    func([]row)
		scale   float64
		drifted []string // the features that drift
		domain  bool     // the domain classifier fires
	}{
		{name: "undrifted"},
		// Distances 12% longer: a shift of 0.55 of the route-level sd of
		// log distance, 0.1 of the marginal's.
		{name: "one feature", scale: 1.12, drifted: []string{"distance"}, domain: true},
		{name: "joint", edit: func(rows []row) {
			// Deal the distances to other rows: the marginals are
			// exactly the training window's, the route–distance link is
			// gone.
			rng := rand.New(rand.NewPCG(9, 9))
			rng.Shuffle(len(rows), func(i, j int) { rows[i].distance, rows[j].distance = rows[j].distance, rows[i].distance })
		}, domain: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gw := g
			if tc.scale > 0 {
				gw.distScale = tc.scale
			}
			rows := window(t, gw, 31, tc.edit)
			r, err := monitor.CompareTable(context.Background(), b, table(t, rows), nil, estimated)
			if err != nil {
				t.Fatal(err)
			}
			assertFinite(t, r)
			var drifted []string
			for _, f := range r.Features {
				if f.Thresholds == nil || (f.Status != monitor.StatusNoBaseline && f.Thresholds.Source != monitor.SourceCalibrated) {
					t.Errorf("%s: thresholds %+v, want calibrated", f.Name, f.Thresholds)
				}
				if f.Status == monitor.StatusDrift {
					drifted = append(drifted, f.Name)
				}
			}
			if len(drifted) != len(tc.drifted) || (len(drifted) > 0 && drifted[0] != tc.drifted[0]) {
				t.Errorf("drifted %v, want %v", drifted, tc.drifted)
				for _, f := range r.Features {
					t.Logf("%s: %s %s", f.Name, f.Status, f.Reason)
				}
			}
			if d := r.Domain; d == nil || (d.Status == monitor.StatusDrift) != tc.domain || d.ThresholdSource != monitor.SourceCalibrated {
				t.Errorf("domain classifier %+v, want drift %v", d, tc.domain)
			}
			if r.Retrain != tc.domain {
				t.Errorf("the estimated policy says retrain %v: %v", r.Retrain, r.Reasons)
			}
			// The fixed thresholds see none of it.
			fixed, err := monitor.CompareTable(context.Background(), b, table(t, rows), nil, monitor.Thresholds{Fixed: true})
			if err != nil {
				t.Fatal(err)
			}
			if fixed.Drifted != 0 {
				t.Errorf("fixed thresholds: %d features drift: %v", fixed.Drifted, fixed.Reasons)
			}
		})
	}
}

// TestCalibrateFalseAlarms: on the training period itself the
// calibrated thresholds fire no more often than they promise, counted
// on its whole weeks as the monitor judges them.
func TestCalibrateFalseAlarms(t *testing.T) {
	b, _ := calibrated(t)
	fa := b.Calibration.FalseAlarms
	if fa.Weeks != 8 || fa.Series != 6 {
		t.Fatalf("%d weeks, %d series; want 8 and 6", fa.Weeks, fa.Series)
	}
	if rate := float64(fa.WeekSeriesAlarms) / float64(fa.Weeks*fa.Series); rate > fa.SeriesPromised {
		t.Errorf("training weeks: %d of %d series-weeks drifted (%.3f), promised %.3f", fa.WeekSeriesAlarms, fa.Weeks*fa.Series, rate, fa.SeriesPromised)
	}
	if fa.WeekRetrains != 0 || fa.WeekDomainAlarms > 1 {
		t.Errorf("training weeks: %d retrains, %d domain alarms of %d", fa.WeekRetrains, fa.WeekDomainAlarms, fa.WeekDomain)
	}
	t.Logf("%+v", *fa)
}

func TestCalibrateErrors(t *testing.T) {
	rows := draw(rand.New(rand.NewPCG(1, 1)), 2000, gen{days: 10})
	train := table(t, rows)
	b, err := monitor.NewBaseline(context.Background(), train, []string{"date", "distance"}, nil, 0, 7)
	if err != nil {
		t.Fatal(err)
	}
	for name, o := range map[string]monitor.CalibrateOptions{
		"no column":  {Column: "when"},
		"not a time": {Column: "distance"},
	} {
		if _, err := monitor.Calibrate(context.Background(), b, train, o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// Ten days hold no two whole weeks.
	if _, err := monitor.Calibrate(context.Background(), b, train, monitor.CalibrateOptions{Column: "date"}); !errors.Is(err, monitor.ErrNoWindows) {
		t.Errorf("ten days: %v, want ErrNoWindows", err)
	}
}

// TestObserverRanges: calibrating from an Observer that was given the
// training rows a range at a time (ranges of uneven sizes, one empty)
// gives Calibrate's result on the whole table, byte for byte once
// written: the pipeline observes the rows, releases them, then
// calibrates. Observing a range out of order changes the result (the
// test can fail).
func TestObserverRanges(t *testing.T) {
	g := gen{days: 30, perDay: 300, routes: true}
	train := table(t, draw(rand.New(rand.NewPCG(12, 12)), 30*300, g))
	names := []string{"date", "distance", "origin", "flag", "constant"}
	b, err := monitor.NewBaseline(context.Background(), train, names, nil, 0, 7)
	if err != nil {
		t.Fatal(err)
	}
	o := monitor.CalibrateOptions{Column: "date", Domain: domaingbdt.Fit, DomainRows: 500, Seed: 5}
	whole, err := monitor.Calibrate(context.Background(), b, train, o)
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.Marshal(whole)
	if err != nil {
		t.Fatal(err)
	}
	n := train.NumRows()
	bounds := []int64{0, 1, 1, 2500, 4097, n}
	for _, swap := range []bool{false, true} {
		ob, err := monitor.NewObserver(b, train.Schema(), o)
		if err != nil {
			t.Fatal(err)
		}
		parts := make([]arrow.Table, 0, len(bounds)-1)
		for k := 1; k < len(bounds); k++ {
			parts = append(parts, array.NewTableFromSlice(train.Schema(), sliceColumns(train, bounds[k-1], bounds[k])))
		}
		if swap {
			parts[2], parts[3] = parts[3], parts[2]
		}
		for _, p := range parts {
			ob.Add(p)
			p.Release()
		}
		c, err := ob.Calibrate(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		got, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if same := bytes.Equal(got, want); same == swap {
			t.Errorf("ranges swapped %v: the same calibration as the whole table's: %v", swap, same)
		}
	}
}

// sliceColumns returns the rows [lo, hi) of each column of tbl.
func sliceColumns(tbl arrow.Table, lo, hi int64) [][]arrow.Array {
	cols := make([][]arrow.Array, tbl.NumCols())
	for j := range cols {
		s := array.NewChunkedSlice(tbl.Column(j).Data(), lo, hi)
		cols[j] = s.Chunks()
	}
	return cols
}

// TestCalibrateStrayDates: rows dated years away from the rest (0001-01-01
// and 9999-12-31 among 120 days of 2001, a row a day) shift the windows
// so that some pairs hold a row or two. The domain classifier's null
// leaves out the pairs too small to fit it: calibrating failed ("1 rows
// a side") and with it the run that registers the model. And the period
// ends in year 10000, which encoding/json cannot write: To is the last
// instant of 9999 instead.
func TestCalibrateStrayDates(t *testing.T) {
	rows := draw(rand.New(rand.NewPCG(11, 11)), 120, gen{days: 120, perDay: 1}) // a row a day, as seattle-weather
	rows[0].date = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	rows[len(rows)-1].date = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
	train := table(t, rows)
	b, err := monitor.NewBaseline(context.Background(), train, []string{"date", "distance", "origin"}, nil, 0, 7)
	if err != nil {
		t.Fatal(err)
	}
	c, err := monitor.Calibrate(context.Background(), b, train, monitor.CalibrateOptions{Column: "date", Domain: domaingbdt.Fit, DomainRows: 500, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	if c.Domain != nil {
		for _, q := range c.Domain.Pair {
			if q < 0 || q >= c.Pairs {
				t.Errorf("domain pair %d of %d", q, c.Pairs)
			}
		}
	}
	if _, err := json.Marshal(c); err != nil {
		t.Errorf("the calibration cannot be written: %v", err)
	}
}
