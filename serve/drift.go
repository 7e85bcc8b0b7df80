package serve

import (
	"bytes"
	"context"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/internal/jsonread"
	"github.com/mlpipe/mlpipe/internal/lazytick"
	"github.com/mlpipe/mlpipe/monitor"
)

// LiveDrift keeps PSI gauges of the recent requests against the served
// model's training data (monitor.Live) and exports them on /metrics as
// mlserve_drift_psi{series}, with a binary model's ROC AUC and log loss
// estimated without labels on the same requests
// (mlserve_estimated_roc_auc{bound}, mlserve_estimated_log_loss{bound})
// when its bundle has a calibration map: a prometheus.Collector for
// Options.Collectors, fed by a Sink that passes each prediction to Offer.
// Requests reach it through a bounded queue that drops when full; Run, a
// background goroutine, takes up to 5,000 a second from it
// (driftPerDrain), reads each one's input (a rowReader: no
// encoding/json) and observes it, and recomputes the PSIs every refresh
// when something new was observed. A new model version (a hot reload)
// gets a new baseline. Nothing here runs on the request path beyond a
// non-blocking channel send, and an idle server's gauges sleep (package
// lazytick).
type LiveDrift struct {
	model   func() *Model
	window  int
	log     *slog.Logger
	events  chan driftRow
	queued  atomic.Int64 // bytes of the queued events' inputs
	dropped prometheus.Counter
	drain   *lazytick.Ticker // every driftDrainInterval while predictions come

	mu      sync.Mutex
	live    *monitor.Live
	version int
	dir     string
	rows    rowReader // reads the inputs for live, under mu
	stale   bool      // observed since the last refresh, under mu
}

// NewLiveDrift returns gauges over the last window requests of the model
// that model returns (the one being served). Run them with Run.
func NewLiveDrift(model func() *Model, window int, log *slog.Logger) *LiveDrift {
	return &LiveDrift{
		model: model, window: window, log: log,
		events: make(chan driftRow, 4096),
		drain:  lazytick.New(driftDrainInterval, driftIdleAfter),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mlserve_drift_dropped_total",
			Help: "Predictions the live drift gauges skipped because their queue was full.",
		}),
	}
}

// driftQueueBytes caps the bytes of input text the queue holds (as
// predlog.Options.MaxQueueBytes caps the log's), besides its 4,096
// events: rows of long strings fill it first.
const driftQueueBytes = 16 << 20

// driftRow is what the gauges keep of a prediction: its model version,
// its input (a JSON object) and its score.
type driftRow struct {
	version int
	input   []byte
	score   float64 // a binary model's probability, a regression's value; else 0
}

// rowOf is ev's row, its input still ev's.
func rowOf(ev PredictionEvent) driftRow {
	r := driftRow{version: ev.Version, input: ev.Input}
	if len(ev.Probabilities) == 1 {
		r.score = ev.Probabilities[0]
	} else if ev.Prediction != nil {
		r.score = *ev.Prediction // a regression's value, compared with its reference predictions
	}
	return r
}

// Offer queues a prediction for the gauges, or drops it; it never
// blocks. The queue keeps its own copy of the input text (the event's is
// the server's: see Sink) and the score, nothing else of the event.
func (d *LiveDrift) Offer(ev PredictionEvent) {
	n := int64(len(ev.Input))
	// Past driftPerDrain a second, most events find the queue full: drop
	// them before copying their input.
	if len(d.events) == cap(d.events) {
		d.dropped.Inc()
		return
	}
	if d.queued.Add(n) > driftQueueBytes {
		d.queued.Add(-n)
		d.dropped.Inc()
		return
	}
	r := rowOf(ev)
	r.input = bytes.Clone(r.input)
	select {
	case d.events <- r:
		d.drain.Wake()
	default:
		d.queued.Add(-n)
		d.dropped.Inc()
	}
}

// take returns the next queued row, which Run knows is there.
func (d *LiveDrift) take() driftRow {
	r := <-d.events
	d.queued.Add(-int64(len(r.input)))
	return r
}

// driftDrainInterval is how often run takes the queued predictions. It
// does not wait on the queue, so that offer, on the request path, never
// wakes a goroutine (see predlog's drainInterval).
const driftDrainInterval = 5 * time.Millisecond

// driftIdleAfter: after this many drains in a row with nothing queued (a
// second) the drain ticker stops until the next Offer.
const driftIdleAfter = 200

// driftPerDrain caps the predictions observed at each drain: 25 every
// 5 ms, 5,000 a second. The gauges describe the distribution of the
// recent traffic, which a sample of it describes as well: at that rate
// the default window of 10,000 requests spans 2 s of a saturated server.
// Observing a prediction costs about 1.2-1.9 µs of CPU
// (BenchmarkLiveDriftObserve); at the 20,000 a second of the cap before
// (100 a drain) that was 0.6-0.9 µs for each single-row request of a
// server at 40,000 a second, 3-4% of its CPU. Without a cap at all, wrk
// sending batches of 1,000 rows on 2 CPUs got 463 batches a second (the
// mean of four runs), against 525 with the cap of 20,000 in alternating
// runs. Past the cap the queue fills and Offer drops what does not fit
// (mlserve_drift_dropped_total), so the rows observed are spread evenly
// over time.
const driftPerDrain = 25

// Run observes queued predictions and refreshes the PSIs every refresh
// (if anything was observed since the last) until ctx is done.
func (d *LiveDrift) Run(ctx context.Context, refresh time.Duration) {
	t := time.NewTicker(refresh)
	defer t.Stop()
	defer d.drain.Stop()
	pending := func() bool { return len(d.events) > 0 }
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.drain.C:
			n := min(len(d.events), driftPerDrain)
			for range n {
				d.observe(d.take())
			}
			d.drain.Ticked(n > 0, pending)
		case <-t.C:
			d.mu.Lock()
			if d.live != nil && d.stale {
				d.live.Refresh()
				d.stale = false
			}
			d.mu.Unlock()
			if pending() {
				d.drain.Wake() // in case a wake-up raced with the ticker stopping
			}
		}
	}
}

func (d *LiveDrift) observe(r driftRow) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.live == nil || r.version != d.version {
		m := d.model()
		if m == nil || m.Version != r.version || m.Dir == d.dir {
			return // the event's model is no longer served; wait for the next
		}
		b, err := monitor.LoadBaseline(m.Dir)
		if err != nil {
			d.log.Warn("live drift: no baseline for the served model", "dir", m.Dir, "err", err)
			d.dir, d.version, d.live = m.Dir, m.Version, nil
			return
		}
		d.live = monitor.NewLiveFromBaseline(b, d.window)
		d.rows.reset(b.Inputs)
		d.version, d.dir = m.Version, m.Dir
	}
	if d.live == nil {
		return
	}
	row, ok := d.rows.read(r.input)
	if !ok {
		return // not a JSON object (see read): ignored
	}
	d.live.Observe(row, r.score)
	d.stale = true
}

// rowReader reads a prediction's input, a JSON object, into the row
// monitor.Live.Observe takes, with the values json.Unmarshal into a
// map[string]any would give: a number is a float64 (strconv.ParseFloat,
// and a number out of its range makes the input invalid), a string a
// string, true and false a bool, null nil. encoding/json, with its
// reflection and an allocation per field, cost more CPU than the rest
// of the gauges; this reads the object with jsonread into one reused
// map, so that a row allocates only what it cannot share with other
// rows: a number's float64 and a timestamp's string, each boxed in its
// any.
//
// Only the model's inputs are kept (Observe reads no other key), under
// their names' strings. A category's values (a string or bool input's)
// repeat, so they are interned, the string already boxed in an any (a
// string put in an any allocates too), up to maxInterned distinct
// values: the table stops growing there, however many new categories
// the clients send. A timestamp's values rarely repeat, so they are
// not.
//
// A nested array or object, which json.Unmarshal would give as []any or
// map[string]any, is kept as a nestedValue: a value of a type Observe
// does not read, which it counts as wrongly typed just the same. It
// differs from json.Unmarshal only on inputs serve never passes on, as
// it reads requests with jsonread too: invalid UTF-8, which
// encoding/json replaces with U+FFFD, and nesting deeper than
// jsonread.MaxDepth.
type rowReader struct {
	rd     jsonread.Reader
	row    map[string]any
	inputs map[string]rowInput // the model's inputs, by name
	strs   map[string]any      // interned categories: a string in an any
}

type rowInput struct {
	name   string // the input's name: the row's key
	intern bool   // a string or bool input, whose values repeat
}

// maxInterned bounds rowReader's table of categories: far more than
// the ~230 airports of the flights model.
const maxInterned = 4096

// nestedValue stands for an array or object in a row.
type nestedValue struct{}

// reset prepares r for the inputs of a new model.
func (r *rowReader) reset(inputs []features.Input) {
	r.row = make(map[string]any, len(inputs))
	r.inputs = make(map[string]rowInput, len(inputs))
	for _, in := range inputs {
		k, _ := features.KindOf(in.Type)
		r.inputs[in.Name] = rowInput{name: in.Name, intern: k == features.InputString || k == features.InputBool}
	}
	r.strs = map[string]any{}
}

// read reads the input object b into the row, which stays valid until
// the next read, or returns false where json.Unmarshal fails: b is not
// JSON, not an object, or has a number out of a float64's range. Like
// json.Unmarshal, it reads null as a row without values.
func (r *rowReader) read(b []byte) (map[string]any, bool) {
	clear(r.row)
	rd := &r.rd
	rd.Reset(b)
	if rd.Peek() == jsonread.Null {
		return r.row, rd.Null() == nil && rd.Finish() == nil
	}
	err := rd.Object(func(key []byte) error {
		in, keep := r.inputs[string(key)] // no allocation: a map index by string(bytes)
		v, err := r.value(in, keep)
		if keep && err == nil {
			r.row[in.name] = v
		}
		return err
	})
	if err != nil || rd.Finish() != nil {
		return nil, false
	}
	return r.row, true
}

// value reads the next value: for a kept input, as json.Unmarshal gives
// it (an array or object as a nestedValue); else only checked as
// json.Unmarshal checks it, numbers too.
func (r *rowReader) value(in rowInput, keep bool) (any, error) {
	rd := &r.rd
	switch rd.Peek() {
	case jsonread.Null:
		return nil, rd.Null()
	case jsonread.Bool:
		return rd.Bool()
	case jsonread.Number:
		txt, err := rd.Number()
		if err != nil {
			return nil, err
		}
		x, err := strconv.ParseFloat(string(txt), 64)
		if err != nil || !keep {
			return nil, err
		}
		return x, nil
	case jsonread.String:
		s, err := rd.Str()
		switch {
		case err != nil || !keep:
			return nil, err
		case in.intern:
			return r.intern(s), nil
		}
		return string(s), nil
	case jsonread.Array:
		if err := rd.BeginArray(); err != nil {
			return nil, err
		}
		for {
			more, err := rd.Next()
			if err != nil {
				return nil, err
			}
			if !more {
				return nestedValue{}, nil
			}
			if _, err := r.value(in, false); err != nil {
				return nil, err
			}
		}
	case jsonread.Object:
		return nestedValue{}, rd.Object(func([]byte) error {
			_, err := r.value(in, false)
			return err
		})
	}
	return nil, rd.Skip() // the syntax error
}

// intern returns b as a string in an any, the same one for the same
// bytes while the table has room.
func (r *rowReader) intern(b []byte) any {
	if v, ok := r.strs[string(b)]; ok {
		return v
	}
	s := string(b)
	var v any = s
	if len(r.strs) < maxInterned {
		r.strs[s] = v
	}
	return v
}

var psiDesc = prometheus.NewDesc("mlserve_drift_psi",
	"PSI of the recent requests (a sliding window) against the served model's training data, per input series; see docs/monitoring.md.",
	[]string{"series"}, nil)

// The performance estimated without labels on the same window, for a
// binary model whose bundle has a calibration map (monitor.Live.Estimate).
var (
	estAUCDesc = prometheus.NewDesc("mlserve_estimated_roc_auc",
		"ROC AUC of the recent requests (the drift gauges' window) estimated without labels from the served model's calibrated probabilities (CBPE), with the bounds of its 95% band; see docs/monitoring.md.",
		[]string{"bound"}, nil)
	estLogLossDesc = prometheus.NewDesc("mlserve_estimated_log_loss",
		"Log loss of the recent requests estimated without labels (CBPE), with the bounds of its 95% band.",
		[]string{"bound"}, nil)
)

// Describe and Collect make LiveDrift a prometheus.Collector: the PSIs
// and the estimate are read at scrape time.
func (d *LiveDrift) Describe(ch chan<- *prometheus.Desc) {
	ch <- psiDesc
	ch <- estAUCDesc
	ch <- estLogLossDesc
	d.dropped.Describe(ch)
}

func (d *LiveDrift) Collect(ch chan<- prometheus.Metric) {
	d.mu.Lock()
	live := d.live
	d.mu.Unlock()
	if live != nil {
		for series, v := range live.PSI() {
			ch <- prometheus.MustNewConstMetric(psiDesc, prometheus.GaugeValue, v, series)
		}
		if e := live.Estimate(); e != nil {
			for _, g := range []struct {
				desc *prometheus.Desc
				v    monitor.Interval
			}{{estAUCDesc, e.ROCAUC}, {estLogLossDesc, e.LogLoss}} {
				ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, g.v.Value, "estimate")
				ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, g.v.Low, "low")
				ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, g.v.High, "high")
			}
		}
	}
	d.dropped.Collect(ch)
}
