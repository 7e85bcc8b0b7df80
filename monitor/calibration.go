package monitor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
)

// This file calibrates the drift thresholds on the training data's own
// variability. Each statistic is measured between consecutive windows of
// the training period — the earlier window in the role of the
// reference, the later in the role of the traffic — which gives its
// distribution when nothing has changed but the week (the null). A
// series' threshold is a high quantile of that null. docs/monitoring.md
// explains the method and the false-alarm rate it promises.

// ThresholdsFile is the bundle file that holds a Calibration.
const ThresholdsFile = "thresholds.json"

// Calibration defaults.
const (
	// DefaultFalseAlarmRate is the share of undrifted windows on which a
	// series may be called drifted: 5%, split between its statistics.
	DefaultFalseAlarmRate = 0.05
	// DefaultDomainPairs is the most window pairs the domain classifier
	// is calibrated on (each costs a cross-validated fit): 19 is the
	// fewest whose largest value is the 95% quantile (1/(19+1) = 5%).
	DefaultDomainPairs = 19
)

// Calibration is the null distribution of every drift statistic, from
// consecutive windows of the training period, and what the thresholds
// drawn from it promise.
type Calibration struct {
	// Column is the time column the windows are cut on; Window their
	// length and Step the stride between pairs, in seconds.
	Column        string  `json:"column"`
	WindowSeconds float64 `json:"window_seconds"`
	StepSeconds   float64 `json:"step_seconds"`
	// From and To bound the training period.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Pairs is the number of consecutive window pairs measured;
	// WindowRows the median rows of a window.
	Pairs      int `json:"pairs"`
	WindowRows int `json:"window_rows"`
	// Series is each series' null.
	Series []SeriesNull `json:"series"`
	// Domain is the domain classifier's null, if it was calibrated.
	Domain *DomainNull `json:"domain,omitempty"`
	// FalseAlarms counts, on the training period's own windows, how
	// often the thresholds drawn at Alpha would have fired.
	FalseAlarms *FalseAlarms `json:"false_alarms,omitempty"`
	Notes       []string     `json:"notes,omitempty"`
}

// SeriesNull is one series' null: each statistic's value on every pair.
type SeriesNull struct {
	Name string `json:"name"`
	// BaseRows is the rows of the earlier window the statistics count
	// (a sample of ReferenceRows for a series whose baseline is the
	// reference sample, every row for a categorical one).
	BaseRows int `json:"base_rows"`
	// The statistics by name (psi, ks, wasserstein, js), one value per
	// pair, in pair order.
	Values map[string][]float64 `json:"values"`
}

// DomainNull is the domain classifier's AUC on Pairs of the window pairs.
type DomainNull struct {
	Values []float64 `json:"values"`
	// Pair is the index of each value's pair among all the pairs.
	Pair []int `json:"pair"`
	Rows int   `json:"rows"`
}

// FalseAlarms is how often calibrated thresholds fire on the training
// period itself, counted two ways. The monitor's way: each whole window
// of the training period (Weeks of them, none overlapping) against the
// baseline of the whole period, as `mlpipe monitor` would have judged
// it (WeekSeriesAlarms, WeekRetrains, WeekDomainAlarms). And out of
// sample: each pair of the null, with thresholds drawn from the pairs
// that share no day with it (leave out), as on a week the calibration
// never saw (the other counts).
type FalseAlarms struct {
	// Alpha is the false-alarm rate asked of each series; Series the
	// number of series.
	Alpha  float64 `json:"alpha"`
	Series int     `json:"series"`
	// Weeks is the number of whole windows of the training period
	// judged against its baseline; WeekSeriesAlarms the (series, window)
	// pairs called drifted, WeekRetrains the windows the drift rule
	// would have retrained on, WeekDomainAlarms the domain classifier's
	// alarms (of WeekDomain windows).
	Weeks            int `json:"weeks"`
	WeekSeriesAlarms int `json:"week_series_alarms"`
	WeekRetrains     int `json:"week_retrains"`
	WeekDomain       int `json:"week_domain,omitempty"`
	WeekDomainAlarms int `json:"week_domain_alarms,omitempty"`
	// Windows is the number of pairs judged.
	Windows int `json:"windows"`
	// SeriesAlarms counts (series, window) pairs called drifted, out of
	// SeriesWindows; SeriesRate is their ratio and SeriesPromised the
	// mean rate the thresholds promise a series (see Promised).
	SeriesAlarms   int     `json:"series_alarms"`
	SeriesWindows  int     `json:"series_windows"`
	SeriesRate     float64 `json:"series_rate"`
	SeriesPromised float64 `json:"series_promised"`
	// Retrains counts the windows on which the drift rule (DriftShare)
	// would have recommended retraining; RetrainRate is Retrains/Windows
	// and RetrainPromised its bound (see Promised).
	Retrains        int     `json:"retrains"`
	RetrainRate     float64 `json:"retrain_rate"`
	RetrainPromised float64 `json:"retrain_promised"`
	// DomainAlarms counts the domain classifier's, of DomainWindows.
	DomainAlarms   int     `json:"domain_alarms"`
	DomainWindows  int     `json:"domain_windows"`
	DomainPromised float64 `json:"domain_promised,omitempty"`
}

// CalibrateOptions tune Calibrate. A zero field takes its default.
type CalibrateOptions struct {
	// Column is the time column (required).
	Column string
	// Window is the length of a window (default 7 days: the monitor's
	// default window); Step the stride between pairs (default one day,
	// or Window if shorter).
	Window, Step time.Duration
	// ReferenceRows is the sample the earlier window of a pair is
	// reduced to for a series whose live baseline is the reference
	// sample (default: the baseline's reference rows, else
	// DefaultReferenceRows), so that the statistic carries the same
	// sampling noise as the live comparison.
	ReferenceRows int
	// Domain, if not nil, calibrates the domain classifier it fits too
	// (domaingbdt.Fit), on up to DomainPairs pairs (default
	// DefaultDomainPairs) spread evenly over the period, with DomainRows
	// rows a side (default DefaultDomainRows).
	Domain      DomainFit
	DomainPairs int
	DomainRows  int
	// Alpha and DriftShare are the false-alarm rate and drift share the
	// FalseAlarms count is made at (defaults DefaultFalseAlarmRate and
	// DefaultDriftShare).
	Alpha      float64
	DriftShare float64
	Seed       uint64
}

// ErrNoWindows means the training period is too short for two windows.
var ErrNoWindows = errors.New("training period shorter than two windows")

// lastJSONTime is the latest time encoding/json writes. The training
// period of rows dated 9999-12-31 (a common "no end" date) ends the
// next day, in year 10000, which it cannot write: To says the period's
// last instant instead.
var lastJSONTime = time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC)

// Calibrate measures the null of every series of b on consecutive
// windows of train, the training rows b was made from (its time column
// o.Column), and counts the false alarms. The training period must hold
// at least two windows (else an error wrapping ErrNoWindows).
//
// Calibrate is NewObserver, Add(train), then Calibrate: a caller that
// must release the training rows before the calibration runs observes
// them first.
func Calibrate(ctx context.Context, b *Baseline, train arrow.Table, o CalibrateOptions) (*Calibration, error) {
	ob, err := NewObserver(b, train.Schema(), o)
	if err != nil {
		return nil, err
	}
	ob.Add(train)
	return ob.Calibrate(ctx)
}

// Observer holds what Calibrate reads of the training rows: each row's
// time (9 bytes) and, for each judged series, its bucket (4 bytes) and
// a numeric series' value (8). It is gathered from the rows, in order,
// a table (or a range of rows) at a time, and then calibrates without
// them (docs/architecture.md, "Memory and scale").
type Observer struct {
	b       *Baseline
	o       CalibrateOptions
	ps      []*plan
	us      []int64
	ok      []bool
	cols    []column
	missing []bool // the judged series whose input is not a column
}

// NewObserver returns the Observer of b's series on training rows of
// the given schema, whose time column is o.Column.
func NewObserver(b *Baseline, schema *arrow.Schema, o CalibrateOptions) (*Observer, error) {
	const op = "calibrate thresholds"
	o = o.withDefaults(b)
	j := schema.FieldIndices(o.Column)
	if len(j) != 1 {
		return nil, fmt.Errorf("%s: time column %q is not in the training data", op, o.Column)
	}
	if _, ok := schema.Field(j[0]).Type.(*arrow.TimestampType); !ok {
		return nil, fmt.Errorf("%s: column %q is %s, not a timestamp", op, o.Column, schema.Field(j[0]).Type)
	}
	ps := judged(b)
	ob := &Observer{b: b, o: o, ps: ps, cols: make([]column, len(ps)), missing: make([]bool, len(ps))}
	for k, p := range ps {
		ob.missing[k] = len(schema.FieldIndices(p.input)) != 1
	}
	return ob, nil
}

// Add observes the rows of part, the training rows after those already
// added, in the schema NewObserver was given.
func (ob *Observer) Add(part arrow.Table) {
	us, ok := timesOf(part.Column(part.Schema().FieldIndices(ob.o.Column)[0]).Data())
	ob.us, ob.ok = append(ob.us, us...), append(ob.ok, ok...)
	parallel(len(ob.ps), func(k int) {
		if ob.missing[k] {
			return
		}
		c := ob.ps[k].observeColumn(part.Column(part.Schema().FieldIndices(ob.ps[k].input)[0]).Data())
		if ob.cols[k].bucket == nil {
			ob.cols[k] = c // the whole training table at once: no copy
			return
		}
		ob.cols[k].bucket = append(ob.cols[k].bucket, c.bucket...)
		ob.cols[k].value = append(ob.cols[k].value, c.value...)
	})
}

// Calibrate calibrates b's thresholds on the rows observed, as the
// package's Calibrate does on them.
func (ob *Observer) Calibrate(ctx context.Context) (*Calibration, error) {
	const op = "calibrate thresholds"
	b, o, us, ok := ob.b, ob.o, ob.us, ob.ok
	// Rows in time order (rows without a time are left out).
	order := make([]int32, 0, len(us))
	for i := range us {
		if ok[i] {
			order = append(order, int32(i))
		}
	}
	if len(order) == 0 {
		return nil, fmt.Errorf("%s: %w: no times in column %q", op, ErrNoWindows, o.Column)
	}
	slices.SortStableFunc(order, func(a, b int32) int { return cmp.Compare(us[a], us[b]) })
	sorted := make([]int64, len(order))
	for k, i := range order {
		sorted[k] = us[i]
	}
	day := microsOf(24 * time.Hour)
	start := floorDiv(sorted[0], day) * day
	end := (floorDiv(sorted[len(sorted)-1], day) + 1) * day
	w, s := microsOf(o.Window), microsOf(o.Step)
	c := &Calibration{Column: o.Column, WindowSeconds: o.Window.Seconds(), StepSeconds: o.Step.Seconds(),
		From: time.UnixMicro(start).UTC(), To: time.UnixMicro(end).UTC()}
	if c.To.After(lastJSONTime) {
		c.To = lastJSONTime
	}
	// rangeOf is the positions in sorted of [from, from+w).
	rangeOf := func(from int64) (int, int) {
		lo := sort.Search(len(sorted), func(k int) bool { return sorted[k] >= from })
		hi := sort.Search(len(sorted), func(k int) bool { return sorted[k] >= from+w })
		return lo, hi
	}
	type pair struct{ a0, a1, b0, b1 int }
	var pairs []pair
	for t := start; t+2*w <= end; t += s {
		a0, a1 := rangeOf(t)
		b0, b1 := rangeOf(t + w)
		if a1 > a0 && b1 > b0 {
			pairs = append(pairs, pair{a0, a1, b0, b1})
		}
	}
	if len(pairs) < 2 {
		return nil, fmt.Errorf("%s: %w: %s to %s holds %d pairs of %s windows", op, ErrNoWindows,
			c.From.Format(time.DateOnly), c.To.Format(time.DateOnly), len(pairs), o.Window)
	}
	c.Pairs = len(pairs)
	rows := make([]int, len(pairs))
	for k, p := range pairs {
		rows[k] = p.b1 - p.b0
	}
	slices.Sort(rows)
	c.WindowRows = rows[len(rows)/2]

	ps, cols := ob.ps, ob.cols
	for k, p := range ps {
		if ob.missing[k] {
			return nil, fmt.Errorf("%s: input %q is not a column of the training data", op, p.input)
		}
	}
	c.Series = make([]SeriesNull, len(ps))
	for k, p := range ps {
		c.Series[k] = SeriesNull{Name: p.name, Values: map[string][]float64{}}
		for _, st := range p.statistics() {
			c.Series[k].Values[st] = make([]float64, len(pairs))
		}
	}
	// Every pair: the earlier window (sampled where the live baseline is
	// a sample) against the later one.
	parallel(len(pairs), func(q int) {
		pr := pairs[q]
		rng := rand.New(rand.NewPCG(o.Seed+uint64(q), 0x63616c6962)) // "calib"
		sample := positions(order, pr.a0, pr.a1, o.ReferenceRows, rng)
		full := order[pr.a0:pr.a1]
		later := order[pr.b0:pr.b1]
		for k, p := range ps {
			base := full
			if p.sampled() {
				base = sample
			}
			for st, v := range pairStats(p, &cols[k], base, later) {
				c.Series[k].Values[st][q] = v
			}
		}
	})
	for k, p := range ps {
		c.Series[k].BaseRows = medianRows(pairs, func(i int) int {
			if p.sampled() {
				return min(o.ReferenceRows, pairs[i].a1-pairs[i].a0)
			}
			return pairs[i].a1 - pairs[i].a0
		})
	}
	if o.Domain != nil {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		n := min(o.DomainPairs, len(pairs))
		c.Domain = &DomainNull{Values: make([]float64, 0, n)}
		for i := range n {
			q := i * len(pairs) / n // evenly spread
			pr := pairs[q]
			if min(pr.a1-pr.a0, pr.b1-pr.b0) < 2*DefaultDomainFolds {
				// Too few rows to fit the classifier: a window at a gap
				// or at the edge of the period (a stray date years away
				// shifts the windows). Left out, rather than failing
				// the run that registers the model.
				continue
			}
			auc, k, err := domainAUC(ctx, o.Domain, ps, cols, cols, order[pr.a0:pr.a1], order[pr.b0:pr.b1], o.DomainRows, DefaultDomainFolds, o.Seed+uint64(q))
			if err != nil {
				return nil, fmt.Errorf("%s: pair %d: %w", op, q, err)
			}
			c.Domain.Values = append(c.Domain.Values, auc)
			c.Domain.Pair = append(c.Domain.Pair, q)
			c.Domain.Rows = k
		}
		if len(c.Domain.Values) == 0 {
			c.Domain = nil // no null: the monitor's fixed rule judges the domain
		}
	}
	c.FalseAlarms = c.countFalseAlarms(o.Alpha, o.DriftShare)
	if err := c.countWeeks(ctx, b, ps, cols, order, sorted, start, end, o); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return c, nil
}

// countWeeks judges every whole window of the training period against
// b, the baseline of the whole period, with the thresholds drawn from c
// at o.Alpha, as the monitor would have, and counts the alarms into
// c.FalseAlarms.
func (c *Calibration) countWeeks(ctx context.Context, b *Baseline, ps []*plan, cols []column, order []int32, sorted []int64, start, end int64, o CalibrateOptions) error {
	t := Thresholds{FalseAlarmRate: o.Alpha, DriftShare: o.DriftShare}.WithDefaults()
	saved := b.Calibration
	b.Calibration = c
	ths := seriesThresholds(b, t)
	b.Calibration = saved
	w := microsOf(o.Window)
	var ref []column
	var domainTh float64
	if c.Domain != nil && len(c.Domain.Values) > 0 && b.Reference != nil {
		domainTh, _ = conformal(c.Domain.Values, o.Alpha)
		ref = make([]column, len(ps))
		for k, p := range ps {
			vals := b.Reference.Inputs[p.input]
			ref[k] = p.observeValues(slicesValues(vals), len(vals))
		}
	}
	fa := c.FalseAlarms
	for from := start; from+w <= end; from += w {
		lo := sort.Search(len(sorted), func(k int) bool { return sorted[k] >= from })
		hi := sort.Search(len(sorted), func(k int) bool { return sorted[k] >= from+w })
		rows := order[lo:hi]
		if len(rows) < t.MinSamples {
			continue
		}
		fa.Weeks++
		r := &Report{Features: make([]Feature, len(ps))}
		for k, p := range ps {
			a := &accumulator{counts: make([]float64, len(p.labels))}
			col := &cols[k]
			for _, i := range rows {
				bk := col.bucket[i]
				a.counts[bk]++
				switch {
				case int(bk) == p.missing():
					a.missing++
				case col.value != nil:
					a.values = append(a.values, col.value[i])
				}
			}
			r.Features[k] = p.measure(a, t, ths[p.name])
		}
		decide(r, t)
		fa.WeekSeriesAlarms += r.Drifted
		if r.Retrain {
			fa.WeekRetrains++
		}
		if ref != nil {
			auc, k, err := domainAUC(ctx, o.Domain, ps, ref, cols, nil, rows, o.DomainRows, DefaultDomainFolds, o.Seed+uint64(fa.Weeks))
			if err != nil {
				return err
			}
			fa.WeekDomain++
			if auc > max(domainTh, domainFloor(k, o.Alpha)) {
				fa.WeekDomainAlarms++
			}
		}
	}
	return nil
}

func (o CalibrateOptions) withDefaults(b *Baseline) CalibrateOptions {
	if o.Window <= 0 {
		o.Window = 7 * 24 * time.Hour
	}
	if o.Step <= 0 {
		o.Step = min(24*time.Hour, o.Window)
	}
	if o.ReferenceRows <= 0 {
		o.ReferenceRows = DefaultReferenceRows
		if b.Reference != nil && b.Reference.Rows > 0 {
			o.ReferenceRows = b.Reference.Rows
		}
	}
	if o.DomainPairs <= 0 {
		o.DomainPairs = DefaultDomainPairs
	}
	if o.DomainRows <= 0 {
		o.DomainRows = DefaultDomainRows
	}
	if o.Alpha <= 0 {
		o.Alpha = DefaultFalseAlarmRate
	}
	if o.DriftShare <= 0 {
		o.DriftShare = DefaultDriftShare
	}
	return o
}

// judged are the series of b that can be judged: the inputs' series
// with a baseline (the predicted probability is not an input).
func judged(b *Baseline) []*plan {
	all, _ := plans(b)
	var out []*plan
	for _, p := range all {
		if p.noBaseline == "" {
			out = append(out, p)
		}
	}
	return out
}

// sampled reports whether the series' baseline is the reference sample
// (numeric series with a sample, a timestamp's parts), not the
// training profile's exact counts.
func (p *plan) sampled() bool { return p.ref != nil || p.part != "" }

// statistics are the statistics that judge the series.
func (p *plan) statistics() []string {
	switch {
	case p.kind == KindNumeric && p.ref != nil:
		return []string{statPSI, statKS, statWasserstein}
	case p.kind == KindNumeric:
		return []string{statPSI}
	}
	return []string{statPSI, statJS}
}

// The statistics' names, as Feature.DriftedBy gives them.
const (
	statPSI         = "psi"
	statKS          = "ks"
	statWasserstein = "wasserstein"
	statJS          = "js"
)

// pairStats measures the series between two sets of rows of c: base in
// the role of the baseline, cur in the role of the window.
func pairStats(p *plan, c *column, base, cur []int32) map[string]float64 {
	ec, ac := make([]float64, len(p.labels)), make([]float64, len(p.labels))
	var ev, av []float64
	for _, r := range base {
		ec[c.bucket[r]]++
		if c.value != nil && !math.IsNaN(c.value[r]) {
			ev = append(ev, c.value[r])
		}
	}
	for _, r := range cur {
		ac[c.bucket[r]]++
		if c.value != nil && !math.IsNaN(c.value[r]) {
			av = append(av, c.value[r])
		}
	}
	out := map[string]float64{statPSI: PSI(ec, ac)}
	switch {
	case p.kind == KindNumeric && p.ref != nil:
		slices.Sort(ev)
		slices.Sort(av)
		_, wd := ecdfDistances2(ev, av)
		out[statKS] = KSTest(ev, av).D
		out[statWasserstein] = wd / p.scale
	case p.kind == KindCategorical:
		out[statJS] = JSDistance(ec, ac)
	}
	return out
}

// ecdfDistances2 is ecdfDistances with empty samples allowed (0, 0).
func ecdfDistances2(x, y []float64) (d, w float64) {
	if len(x) == 0 || len(y) == 0 {
		return 0, 0
	}
	return ecdfDistances(x, y)
}

// positions draws up to n of the rows order[lo:hi] without replacement
// (all of them if there are fewer), in time order.
func positions(order []int32, lo, hi, n int, rng *rand.Rand) []int32 {
	idx := sampleIndices(int64(hi-lo), n, rng)
	out := make([]int32, len(idx))
	for k, i := range idx {
		out[k] = order[lo+int(i)]
	}
	return out
}

func medianRows[T any](xs []T, rows func(i int) int) int {
	r := make([]int, len(xs))
	for i := range xs {
		r[i] = rows(i)
	}
	slices.Sort(r)
	return r[len(r)/2]
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// countFalseAlarms judges every pair with thresholds drawn at alpha from
// the pairs that share no day with it (leave out: pairs of overlapping
// windows carry much the same values), and counts the series called
// drifted, the windows the drift rule (share) would have retrained on,
// and the domain classifier's alarms.
func (c *Calibration) countFalseAlarms(alpha, share float64) *FalseAlarms {
	fa := &FalseAlarms{Alpha: alpha, Series: len(c.Series), Windows: c.Pairs}
	// Pairs q and q' share a day when |q − q'|·step < 2·window.
	near := int(math.Ceil(2*c.WindowSeconds/c.StepSeconds)) - 1
	others := func(xs []float64, q int, at func(i int) int) []float64 {
		out := make([]float64, 0, len(xs))
		for i, x := range xs {
			if d := at(i) - at(q); d > near || d < -near {
				out = append(out, x)
			}
		}
		return out
	}
	self := func(i int) int { return i }
	var promised float64
	for _, sn := range c.Series {
		promised += sn.thresholds(alpha, c.Pairs, c.WindowRows).Alpha
	}
	if len(c.Series) > 0 {
		fa.SeriesPromised = promised / float64(len(c.Series))
	}
	need := max(1, int(math.Ceil(share*float64(len(c.Series))-1e-9)))
	fa.RetrainPromised = min(1, promised/float64(need)) // Markov: P(#drifted ≥ need) ≤ E[#drifted]/need
	for q := range c.Pairs {
		drifted := 0
		for _, sn := range c.Series {
			loo := SeriesNull{Name: sn.Name, BaseRows: sn.BaseRows, Values: map[string][]float64{}}
			for st, xs := range sn.Values {
				loo.Values[st] = others(xs, q, self)
			}
			th := loo.thresholds(alpha, c.Pairs, c.WindowRows)
			for st, xs := range sn.Values {
				if xs[q] > th.get(st) {
					drifted++
					break
				}
			}
		}
		fa.SeriesAlarms += drifted
		fa.SeriesWindows += len(c.Series)
		if len(c.Series) > 0 && drifted >= need {
			fa.Retrains++
		}
	}
	if fa.SeriesWindows > 0 {
		fa.SeriesRate = float64(fa.SeriesAlarms) / float64(fa.SeriesWindows)
	}
	fa.RetrainRate = float64(fa.Retrains) / float64(max(1, fa.Windows))
	if d := c.Domain; d != nil && len(d.Values) > 1 {
		_, fa.DomainPromised = conformal(d.Values, alpha)
		at := func(i int) int { return d.Pair[i] }
		for q, x := range d.Values {
			rest := others(d.Values, q, at)
			if len(rest) == 0 {
				continue
			}
			fa.DomainWindows++
			if th, _ := conformal(rest, alpha); x > th {
				fa.DomainAlarms++
			}
		}
	}
	return fa
}
