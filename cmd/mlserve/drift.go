package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mlpipe/mlpipe/monitor"
	"github.com/mlpipe/mlpipe/serve"
)

// liveDrift keeps PSI gauges of the recent requests against the served
// model's training data (monitor.Live) and exports them on /metrics as
// mlserve_drift_psi{series}. Requests reach it through a bounded queue
// that drops when full; a background goroutine decodes them and
// observes them, and recomputes the PSIs every refresh. A new model
// version (a hot reload) gets a new baseline. Nothing here runs on the
// request path beyond a non-blocking channel send.
type liveDrift struct {
	model   func() *serve.Model
	window  int
	log     *slog.Logger
	events  chan serve.PredictionEvent
	dropped prometheus.Counter

	mu      sync.Mutex
	live    *monitor.Live
	version int
	dir     string
}

func newLiveDrift(model func() *serve.Model, window int, log *slog.Logger) *liveDrift {
	return &liveDrift{
		model: model, window: window, log: log,
		events: make(chan serve.PredictionEvent, 4096),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mlserve_drift_dropped_total",
			Help: "Predictions the live drift gauges skipped because their queue was full.",
		}),
	}
}

// offer queues a prediction for the gauges, or drops it.
func (d *liveDrift) offer(ev serve.PredictionEvent) {
	select {
	case d.events <- ev:
	default:
		d.dropped.Inc()
	}
}

// driftDrainInterval is how often run takes the queued predictions. It
// does not wait on the queue, so that offer, on the request path, never
// wakes a goroutine (see predlog's drainInterval).
const driftDrainInterval = 5 * time.Millisecond

// run observes queued predictions and refreshes the PSIs every refresh
// until ctx is done.
func (d *liveDrift) run(ctx context.Context, refresh time.Duration) {
	t := time.NewTicker(refresh)
	defer t.Stop()
	drain := time.NewTicker(driftDrainInterval)
	defer drain.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-drain.C:
			for n := len(d.events); n > 0; n-- {
				d.observe(<-d.events)
			}
		case <-t.C:
			d.mu.Lock()
			if d.live != nil {
				d.live.Refresh()
			}
			d.mu.Unlock()
		}
	}
}

func (d *liveDrift) observe(ev serve.PredictionEvent) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.live == nil || ev.Version != d.version {
		m := d.model()
		if m == nil || m.Version != ev.Version || m.Dir == d.dir {
			return // the event's model is no longer served; wait for the next
		}
		b, err := monitor.LoadBaseline(m.Dir)
		if err != nil {
			d.log.Warn("live drift: no baseline for the served model", "dir", m.Dir, "err", err)
			d.dir, d.version, d.live = m.Dir, m.Version, nil
			return
		}
		d.live = monitor.NewLiveWithReference(b.Profile, b.Reference, b.Inputs, d.window)
		d.version, d.dir = m.Version, m.Dir
	}
	if d.live == nil {
		return
	}
	var row map[string]any
	if err := json.Unmarshal(ev.Input, &row); err != nil {
		return
	}
	p := 0.0
	if len(ev.Probabilities) == 1 {
		p = ev.Probabilities[0]
	}
	d.live.Observe(row, p)
}

var psiDesc = prometheus.NewDesc("mlserve_drift_psi",
	"PSI of the recent requests (a sliding window) against the served model's training data, per input series; see docs/monitoring.md.",
	[]string{"series"}, nil)

// Describe and Collect make liveDrift a prometheus.Collector: the PSIs
// are read at scrape time.
func (d *liveDrift) Describe(ch chan<- *prometheus.Desc) {
	ch <- psiDesc
	d.dropped.Describe(ch)
}

func (d *liveDrift) Collect(ch chan<- prometheus.Metric) {
	d.mu.Lock()
	live := d.live
	d.mu.Unlock()
	if live != nil {
		for series, v := range live.PSI() {
			ch <- prometheus.MustNewConstMetric(psiDesc, prometheus.GaugeValue, v, series)
		}
	}
	d.dropped.Collect(ch)
}

// teeSink sends predictions to the prediction log (if any) and to the
// live drift gauges.
type teeSink struct {
	log   *logSink // nil: no prediction log
	drift *liveDrift
}

func (t teeSink) Prediction(ev serve.PredictionEvent) {
	if t.log != nil {
		t.log.Prediction(ev)
	}
	t.drift.offer(ev)
}

func (t teeSink) Label(ev serve.LabelEvent) {
	if t.log != nil {
		t.log.Label(ev)
	}
}
