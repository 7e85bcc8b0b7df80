package backtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/mlpipe/mlpipe/backtest"
	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/internal/svgtest"
	"github.com/mlpipe/mlpipe/train"
)

func fixture(t *testing.T) (*config.Config, *ingest.Dataset) {
	t.Helper()
	cfg, err := config.Load("../testdata/flights-10k.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ds, err := ingest.Load(context.Background(), cfg.Data, cfg.Schema, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ds.Release)
	return cfg, ds
}

// TestRun backtests three weekly periods of the fixture with every
// policy. Trainings are shared, the never policy keeps its first model,
// the scheduled one retrains every week, and the results are the same
// whichever order the policies run in.
func TestRun(t *testing.T) {
	cfg, ds := fixture(t)
	// A check that always says yes: this test is about the backtest's
	// bookkeeping, not about drift (the monitor's tests are).
	always := func(context.Context, string, *backtest.Production, arrow.Table, []float64) (bool, string, error) {
		return true, "always", nil
	}
	opts := backtest.Options{Config: cfg, Model: "logreg", Steps: 3, TrainDays: 28, Check: always}
	res, err := backtest.Run(context.Background(), ds.Table, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Periods) != 3 {
		t.Fatalf("%d periods, want 3", len(res.Periods))
	}
	// The data starts on 2001-01-01: first period after 28 + 7 days.
	if want := time.Date(2001, 2, 5, 0, 0, 0, 0, time.UTC); !res.Periods[0].From.Equal(want) {
		t.Errorf("first period starts %s, want %s", res.Periods[0].From, want)
	}
	// The trainings at weeks 0, 1 and 2 are shared by every policy.
	if res.Fits != 3 {
		t.Errorf("%d distinct fits, want 3", res.Fits)
	}
	byName := map[string]backtest.PolicyResult{}
	for _, p := range res.Policies {
		byName[p.Name] = p
		for k, auc := range p.Score {
			if math.IsNaN(auc) || auc < 0.5 || auc > 1 {
				t.Errorf("%s period %d: AUC %v", p.Name, k, auc)
			}
		}
	}
	if p := byName[backtest.Never]; p.Retrains != 0 || p.Version[2] != 1 {
		t.Errorf("never: %d retrains, version %d at the end; want 0 and 1", p.Retrains, p.Version[2])
	}
	if p := byName[backtest.Scheduled]; p.Retrains != 2 || !p.Retrained[1] || !p.Retrained[2] {
		t.Errorf("scheduled: %d retrains %v, want 2 after the first model", p.Retrains, p.Retrained)
	}
	// Same decisions, same scores: an always-firing monitor makes the
	// label-free policies the scheduled one.
	s := byName[backtest.Scheduled]
	for _, name := range []string{backtest.Drift, backtest.Estimated} {
		d := byName[name]
		for k := range s.Score {
			if s.Score[k] != d.Score[k] || s.Version[k] != d.Version[k] {
				t.Errorf("period %d: scheduled %v v%d, %s %v v%d", k, s.Score[k], s.Version[k], name, d.Score[k], d.Version[k])
			}
		}
	}
	// The first period is scored by the same first model under every policy.
	for _, p := range res.Policies {
		if p.Score[0] != s.Score[0] {
			t.Errorf("%s: first period AUC %v, scheduled %v", p.Name, p.Score[0], s.Score[0])
		}
	}
}

// TestRunErrors: options a backtest refuses, each with its message. A
// start two thousand years before the data (a stray 0001-01-01 date, as
// the default start follows the first date) is refused before any
// period is cut, unless the periods are counted (Steps).
func TestRunErrors(t *testing.T) {
	cfg, ds := fixture(t)
	for name, c := range map[string]struct {
		o    backtest.Options
		want string
	}{
		"UnknownModel":  {backtest.Options{Config: cfg, Model: "xgboost"}, "xgboost"},
		"UnknownPolicy": {backtest.Options{Config: cfg, Policies: []string{"sometimes"}}, `unknown policy "sometimes"`},
		"StartTooLate":  {backtest.Options{Config: cfg, Start: time.Date(2002, 1, 1, 0, 0, 0, 0, time.UTC)}, "no period starts between 2002-01-01"},
		"StrayStart": {backtest.Options{Config: cfg, Model: "logreg", Start: time.Date(1, 1, 2, 0, 0, 0, 0, time.UTC)},
			"backtest: 0001-01-02 to 2001-06-30 is 104380 periods of 7d, more than 10000: a stray date in date? set the start (--start) or the number of periods (--steps)"},
	} {
		_, err := backtest.Run(context.Background(), ds.Table, c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error with %q", name, err, c.want)
		}
	}
}

// TestReport renders the table, the JSON, the chart and the HTML of a
// small backtest.
func TestReport(t *testing.T) {
	cfg, ds := fixture(t)
	res, err := backtest.Run(context.Background(), ds.Table, backtest.Options{
		Config: cfg, Model: "logreg", Steps: 2, TrainDays: 28, Policies: []string{backtest.Never, backtest.Scheduled}})
	if err != nil {
		t.Fatal(err)
	}
	var table bytes.Buffer
	if err := res.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"period", "2001-02-05", "2001-02-12", "never", "scheduled", "mean ROC AUC"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil || len(back["policies"].([]any)) != 2 {
		t.Errorf("JSON round trip: %v\n%s", err, b)
	}
	// Lines that coincide stay visible: each policy's line is thinner
	// than the one drawn before it ("never" hid under "drift").
	svg, err := res.Chart("svg")
	if err != nil {
		t.Fatal(err)
	}
	var widths []float64
	for _, m := range regexp.MustCompile(`stroke:#(000000|0072B2);stroke-width:([0-9.]+)"`).FindAllStringSubmatch(string(svg), -1) {
		w, _ := strconv.ParseFloat(m[2], 64)
		if w > 1 && (len(widths) == 0 || w != widths[len(widths)-1]) { // not an axis (0.5)
			widths = append(widths, w)
		}
	}
	if len(widths) < 2 || widths[0] <= widths[1] {
		t.Errorf("line widths in drawing order %v: never's must be wider than scheduled's", widths)
	}
	if out, err := svgtest.Overflows(svg); err != nil || len(out) > 0 {
		t.Errorf("chart: text past the edge in a wider font: %v %v", out, err)
	}
	png, err := res.Chart("png")
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Errorf("chart png: %v", err)
	}
	var page bytes.Buffer
	if err := res.HTML(&page); err != nil {
		t.Fatal(err)
	}
	html := page.String()
	for _, want := range []string{"<svg", "Backtest of retraining policies", "<td>scheduled</td>"} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// Self-contained: no scripts, no external resources.
	for _, bad := range []string{"<script", "http://", "https://"} {
		if strings.Contains(strings.ReplaceAll(html, "http://www.w3.org", ""), bad) {
			t.Errorf("report contains %q", bad)
		}
	}
}

// TestPerformancePolicy checks the performance policy's decisions
// against its rule, replayed from the result: retrain at period k when
// the production model's AUC on period k-1 is more than the drop below
// its AUC on the first period it served.
func TestPerformancePolicy(t *testing.T) {
	cfg, ds := fixture(t)
	const drop = 0.01 // small, so that the fixture's noisy weekly AUCs trigger it
	res, err := backtest.Run(context.Background(), ds.Table, backtest.Options{
		Config: cfg, Model: "logreg", Steps: 6, TrainDays: 28, PerformanceDrop: drop,
		Policies: []string{backtest.Performance}})
	if err != nil {
		t.Fatal(err)
	}
	p := res.Policies[0]
	launch := p.Score[0]
	triggered := 0
	for k := 1; k < len(p.Score); k++ {
		want := launch-p.Score[k-1] > drop
		if p.Retrained[k] != want {
			t.Errorf("period %d: retrained %v, want %v (launch %.4f, last %.4f)", k, p.Retrained[k], want, launch, p.Score[k-1])
		}
		if want {
			triggered++
		}
		if p.Promoted[k] {
			launch = p.Score[k]
		}
	}
	if triggered == 0 {
		t.Error("the rule never triggered: the test checks nothing")
	}
}

// TestRegression backtests a regression of the fixture's delay in
// minutes: each period is judged by RMSE (lower is better), the gate
// promotes a candidate with a lower validation RMSE, the performance
// policy watches the RMSE rise, and the table speaks of the target, not
// of a label's rate.
func TestRegression(t *testing.T) {
	cfg, ds := fixture(t)
	cfg.Label = ingest.LabelSpec{Name: "delay_minutes", Column: "delay", Kind: ingest.KindRegression}
	cfg.Models = []train.ModelSpec{{Name: "ridge"}}
	res, err := backtest.Run(context.Background(), ds.Table, backtest.Options{
		Config: cfg, Steps: 3, TrainDays: 28, RMSERise: 0.05,
		Policies: []string{backtest.Never, backtest.Scheduled, backtest.Performance}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Metric != "rmse" || res.HigherIsBetter {
		t.Fatalf("metric %q, higher is better %v", res.Metric, res.HigherIsBetter)
	}
	for _, per := range res.Periods {
		if per.MeanTarget == nil || per.PositiveRate != nil {
			t.Errorf("period %s: mean target %v, positive rate %v", per.From, per.MeanTarget, per.PositiveRate)
		}
	}
	for _, p := range res.Policies {
		for k, s := range p.Score {
			// Delays have a standard deviation of about 30 minutes.
			if !(s > 5 && s < 200) {
				t.Errorf("%s period %d: RMSE %v", p.Name, k, s)
			}
		}
		if p.Name != backtest.Performance {
			continue
		}
		// The performance policy retrains when RMSE rose more than 5%
		// above the first period's.
		launch := p.Score[0]
		for k := 1; k < len(p.Score); k++ {
			if want := p.Score[k-1]/launch-1 > 0.05; p.Retrained[k] != want {
				t.Errorf("period %d: retrained %v, want %v (launch %.3f, last %.3f)", k, p.Retrained[k], want, launch, p.Score[k-1])
			}
			if p.Promoted[k] {
				launch = p.Score[k]
			}
		}
	}
	var table bytes.Buffer
	if err := res.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"mean target", "mean RMSE"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	for _, not := range []string{"flights", "delayed", "AUC"} {
		if strings.Contains(table.String(), not) {
			t.Errorf("table says %q:\n%s", not, table.String())
		}
	}
	var page bytes.Buffer
	if err := res.HTML(&page); err != nil || !strings.Contains(page.String(), "RMSE per period") {
		t.Errorf("HTML: %v", err)
	}
}

// TestMaxAge: with a monitor that never fires, the label-free policies
// retrain exactly when the production model has served MaxAge, as the
// scheduler's max_age does, and a rejected candidate leaves the old
// model, which retrains again the next period.
func TestMaxAge(t *testing.T) {
	cfg, ds := fixture(t)
	quiet := func(context.Context, string, *backtest.Production, arrow.Table, []float64) (bool, string, error) {
		return false, "", nil
	}
	opts := backtest.Options{Config: cfg, Model: "logreg", Steps: 5, TrainDays: 21, Check: quiet,
		MaxAge: 14 * 24 * time.Hour, Policies: []string{backtest.Drift, backtest.Estimated}}
	res, err := backtest.Run(context.Background(), ds.Table, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Policies {
		since := 0 // the period the production model was trained for
		retrains := 0
		for k := range res.Periods {
			want := k == 0 || k-since >= 2 // the first model, or max_age
			if p.Retrained[k] != want {
				t.Errorf("%s period %d: retrained %v, want %v (production from period %d)", p.Name, k, p.Retrained[k], want, since)
			}
			if want && k > 0 {
				retrains++
				if !strings.Contains(p.Why[k], "max_age") {
					t.Errorf("%s period %d: why %q, want max_age", p.Name, k, p.Why[k])
				}
			}
			if p.Promoted[k] {
				since = k
			}
		}
		if retrains == 0 || p.Retrains != retrains {
			t.Errorf("%s: %d retrains, want %d (> 0)", p.Name, p.Retrains, retrains)
		}
	}
}

// TestCalibrationCheck replays the per-period diagnostics from the
// result: the recalibrated estimate is the estimate on a model's first
// period (its map was fitted on the period before) and differs after;
// the last-period MAE is the mean |score − the same model's previous
// score| (its validation score on its first period, the gate's); the
// expected label rate is a share, and its gap to the realized rate is
// within the calibration error's reach.
func TestCalibrationCheck(t *testing.T) {
	cfg, ds := fixture(t)
	res, err := backtest.Run(context.Background(), ds.Table, backtest.Options{
		Config: cfg, Model: "logreg", Steps: 4, TrainDays: 28, Policies: []string{backtest.Never}})
	if err != nil {
		t.Fatal(err)
	}
	p := res.Policies[0]
	if len(p.ExpectedRate) != 4 || len(p.CalibrationError) != 4 || len(p.Recalibrated) != 4 {
		t.Fatalf("%d expected rates, %d calibration errors, %d recalibrated; want 4 each", len(p.ExpectedRate), len(p.CalibrationError), len(p.Recalibrated))
	}
	if *p.Recalibrated[0] != *p.Estimated[0] {
		t.Errorf("first period: recalibrated %+v, want the estimate %+v", *p.Recalibrated[0], *p.Estimated[0])
	}
	differs := false
	sum := 0.0
	for k := range res.Periods {
		if r := *p.ExpectedRate[k]; r <= 0 || r >= 1 {
			t.Errorf("period %d: expected rate %v", k, r)
		}
		if gap := math.Abs(*p.ExpectedRate[k] - *res.Periods[k].PositiveRate); gap > *p.CalibrationError[k]+1e-12 {
			// |mean(c) − mean(y)| is at most the sum of the bins' gaps
			// weighted by their rows: the ECE.
			t.Errorf("period %d: |expected − realized rate| %.4f above the ECE %.4f", k, gap, *p.CalibrationError[k])
		}
		if k > 0 {
			differs = differs || *p.Recalibrated[k] != *p.Estimated[k]
			sum += math.Abs(p.Score[k] - p.Score[k-1])
		}
	}
	if !differs {
		t.Error("the recalibrated estimate is the estimate on every period")
	}
	if p.LastPeriodMAE == nil || p.RecalibratedMAE == nil {
		t.Fatal("no last-period or recalibrated MAE")
	}
	// Period 0's previous score is the model's validation score, which
	// the result does not hold: the other three are replayed.
	if rest := *p.LastPeriodMAE*4 - sum; rest < 0 || rest > 1 {
		t.Errorf("last-period MAE %.4f: %.4f left for period 0 after the others' %.4f", *p.LastPeriodMAE, rest, sum)
	}
}

// TestFitsAhead compares a backtest whose fits are trained ahead, several
// at once on a share of the CPUs each (the scheduled policy among the
// policies), with each policy run alone, its fits trained when it asks
// for them on every CPU: every period's score, estimate, version and
// decision must be the same, bit for bit, as must the distinct fits.
func TestFitsAhead(t *testing.T) {
	cfg, ds := fixture(t)
	opts := backtest.Options{Config: cfg, Model: "gbdt", Steps: 4, TrainDays: 28, MaxAge: 14 * 24 * time.Hour}
	all, err := backtest.Run(context.Background(), ds.Table, opts)
	if err != nil {
		t.Fatal(err)
	}
	fits := 0
	for _, want := range all.Policies {
		o := opts
		o.Policies = []string{want.Name}
		alone, err := backtest.Run(context.Background(), ds.Table, o)
		if err != nil {
			t.Fatal(err)
		}
		fits = max(fits, alone.Fits)
		got := alone.Policies[0]
		got.TrainSeconds, want.TrainSeconds = 0, 0 // timings
		g, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		w, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(g, w) {
			t.Errorf("%s alone:\n%s\nwith the fits ahead:\n%s", want.Name, g, w)
		}
	}
	if all.Fits != 4 || fits != 4 {
		t.Errorf("%d distinct fits with every policy, at most %d with one; want 4 (one a week)", all.Fits, fits)
	}
}

// TestFitsAheadCancel cancels a backtest while fits are queued ahead: Run
// returns the context's error, and the goroutines training the fits are
// gone when it returns.
func TestFitsAheadCancel(t *testing.T) {
	cfg, ds := fixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The first label-free check, at the second period, cancels.
	stop := func(context.Context, string, *backtest.Production, arrow.Table, []float64) (bool, string, error) {
		cancel()
		return false, "", nil
	}
	opts := backtest.Options{Config: cfg, Model: "gbdt", Steps: 6, TrainDays: 28, Check: stop}
	if _, err := backtest.Run(ctx, ds.Table, opts); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v, want context.Canceled", err)
	}
	// The fit workers' own frames, not a count of goroutines: other
	// packages' short-lived goroutines (timers, arrow's) come and go under
	// load and made a count flaky. No fit may be running once Run returns.
	if stacks := goroutines(); strings.Contains(stacks, "backtest.(*Options).fit") {
		t.Fatalf("a fit is still running after Run returned:\n%s", stacks)
	}
	// A worker that has called its WaitGroup's Done may not have exited
	// yet (CI caught one at the closing brace of its function under
	// load); it must be gone soon after.
	deadline := time.Now().Add(5 * time.Second)
	for strings.Contains(goroutines(), "backtest.newFitPool") {
		if time.Now().After(deadline) {
			t.Fatalf("a fit worker is still there 5 s after Run returned:\n%s", goroutines())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// goroutines returns the stacks of every goroutine.
func goroutines() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}
