package serve

import (
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
)

// metrics are the server's Prometheus metrics, on a registry of their
// own (never the global default, so two servers in one process, as in
// tests, do not collide). Routes are labelled by their pattern, never by
// the raw path, so a client cannot grow the label set.
type metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec   // route, code
	duration     *prometheus.HistogramVec // route
	inFlight     prometheus.Gauge
	rejected     prometheus.Counter
	refusedConns prometheus.Counter
	batch        *prometheus.HistogramVec // api
	predictions  *prometheus.CounterVec   // api
	explained    *prometheus.CounterVec   // api
	probability  prometheus.Histogram
	// prediction is a regression's histogram of predicted values, made
	// when the first regression model is served (its buckets come from
	// that model's training targets; see predictionBuckets).
	prediction atomic.Pointer[prometheus.Histogram]
	unseen     *prometheus.CounterVec // input
	labels     prometheus.Counter
	info       *prometheus.GaugeVec   // name, version, loaded_at
	reloads    *prometheus.CounterVec // result

	// routes caches each route's observers, so that a request does not
	// hash its labels. It is filled by newMetrics and only read after.
	routes map[string]*routeMetrics
	apis   map[string]apiMetrics
}

// routeMetrics are one route's observers.
type routeMetrics struct {
	duration prometheus.Observer
	codes    [600]atomic.Pointer[prometheus.Counter] // by status code, made on first use
}

// apiMetrics are one API's predict observers.
type apiMetrics struct {
	batch       prometheus.Observer
	predictions prometheus.Counter
	explained   prometheus.Counter
}

// Route labels of requests that match no route.
const (
	routeUnmatched = "unmatched" // 404 or 405
	routeInvalid   = "invalid"   // a path with dot segments or empty segments
	routeUnread    = "unread"    // a request the server could not read (malformed, over a limit, too slow)
)

// newMetrics makes the metrics of a server with the given route
// patterns. sinkStats, if not nil, reports the prediction log's counts;
// bytesInFlight the budget's use.
func newMetrics(patterns []string, sinkStats func() (written, dropped uint64), bytesInFlight func() int64) *metrics {
	reg := prometheus.NewRegistry()
	m := &metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mlserve_http_requests_total",
			Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "mlserve_http_request_duration_seconds",
			Help:    "Time from reading the request to writing the response, by route pattern.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "mlserve_http_requests_in_flight",
			Help: "Requests being served.",
		}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mlserve_http_requests_rejected_total",
			Help: "Requests refused with 503 because too many, or too many bytes, were in flight.",
		}),
		refusedConns: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mlserve_connections_refused_total",
			Help: "Connections refused with 503 because the server was at its connection cap (--max-conns).",
		}),
		batch: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "mlserve_batch_size",
			Help:    "Instances per predict or infer request, by API (native, oip).",
			Buckets: []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000},
		}, []string{"api"}),
		predictions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mlserve_predictions_total",
			Help: "Instances scored, by API (native, oip).",
		}, []string{"api"}),
		explained: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mlserve_explained_predictions_total",
			Help: "Instances scored and explained (requests with \"explain\"), by API (native, oip).",
		}, []string{"api"}),
		probability: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "mlserve_predicted_probability",
			Help:    "Predicted probability of each instance: the positive class's for a binary model, the predicted class's otherwise.",
			Buckets: prometheus.LinearBuckets(0.05, 0.05, 20),
		}),
		unseen: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mlserve_unknown_categories_total",
			Help: "Categorical values that fell into the unknown bucket (unseen in training), by input.",
		}, []string{"input"}),
		labels: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mlserve_labels_total",
			Help: "Delayed ground-truth labels received.",
		}),
		info: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mlserve_model_info",
			Help: "The model being served (value 1): name, registry version and load time (RFC 3339).",
		}, []string{"name", "version", "loaded_at"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mlserve_model_reloads_total",
			Help: "Model loads after start-up, by result: success (swapped in) or failure (refused; the old model keeps serving).",
		}, []string{"result"}),
		routes: map[string]*routeMetrics{},
		apis:   map[string]apiMetrics{},
	}
	for _, p := range append(patterns, routeUnmatched, routeInvalid, routeUnread) {
		m.routes[p] = &routeMetrics{duration: m.duration.WithLabelValues(p)}
	}
	for _, api := range []string{apiNative, apiOIP} {
		m.apis[api] = apiMetrics{batch: m.batch.WithLabelValues(api), predictions: m.predictions.WithLabelValues(api),
			explained: m.explained.WithLabelValues(api)}
	}
	reg.MustRegister(m.requests, m.duration, m.inFlight, m.rejected, m.refusedConns, m.batch, m.predictions, m.explained,
		m.probability, m.unseen, m.labels, m.info, m.reloads,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "mlserve_request_bytes_in_flight",
			Help: "Bytes of the budget (--max-bytes-in-flight) charged to the requests being read or served: bodies and the working memory of their rows.",
		}, func() float64 { return float64(bytesInFlight()) }),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.reloads.WithLabelValues("success")
	m.reloads.WithLabelValues("failure")
	if sinkStats != nil {
		reg.MustRegister(
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "mlserve_prediction_log_written_total",
				Help: "Prediction-log events written by the sink.",
			}, func() float64 { w, _ := sinkStats(); return float64(w) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "mlserve_prediction_log_dropped_total",
				Help: "Prediction-log events the sink dropped because it was behind.",
			}, func() float64 { _, d := sinkStats(); return float64(d) }),
		)
	}
	return m
}

// handler serves the metrics in the Prometheus text format: promhttp's
// handler, through fasthttp's net/http adaptor (a scrape is rare; the
// conversion's cost does not matter).
func (m *metrics) handler() fasthttp.RequestHandler {
	return fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg}))
}

// observe records one finished request.
func (m *metrics) observe(pattern string, code int, elapsed time.Duration) {
	rm := m.routes[pattern]
	if rm == nil { // a pattern not given to newMetrics: a bug, but not worth a crash
		rm = m.routes[routeUnmatched]
	}
	rm.duration.Observe(elapsed.Seconds())
	if code < 100 || code >= len(rm.codes) {
		m.requests.WithLabelValues(pattern, strconv.Itoa(code)).Inc()
		return
	}
	c := rm.codes[code].Load()
	if c == nil {
		made := m.requests.WithLabelValues(pattern, strconv.Itoa(code))
		rm.codes[code].CompareAndSwap(nil, &made)
		c = rm.codes[code].Load()
	}
	(*c).Inc()
}

// setModel points the info gauge at m, and registers the prediction
// histogram when the first regression model is served. A later model
// keeps the first one's buckets: a histogram's buckets cannot change
// while Prometheus scrapes it.
func (m *metrics) setModel(mod *Model) {
	m.info.Reset()
	m.info.WithLabelValues(mod.Name, strconv.Itoa(mod.Version), mod.LoadedAt.UTC().Format(time.RFC3339)).Set(1)
	if mod.regression && m.prediction.Load() == nil {
		h := prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "mlserve_predicted_value",
			Help:    "Predicted value of each instance of a regression model; the buckets are the training target's quantiles at every 5%.",
			Buckets: mod.buckets,
		})
		if m.reg.Register(h) == nil {
			m.prediction.Store(&h)
		}
	}
}

// scored records a predict request's rows.
func (m *metrics) scored(mod *Model, sc *scratch, api string) {
	a := m.apis[api]
	a.batch.Observe(float64(sc.n))
	a.predictions.Add(float64(sc.n))
	if sc.explain != 0 {
		a.explained.Add(float64(sc.n))
	}
	if mod.regression {
		if h := m.prediction.Load(); h != nil {
			for _, v := range sc.out[:sc.n] {
				(*h).Observe(v)
			}
		}
	} else {
		for i := range sc.n {
			m.probability.Observe(mod.headline(sc.outputs(mod, i)))
		}
	}
	for i, u := range sc.unseen[:sc.n*sc.nIn] {
		if u {
			m.unseen.WithLabelValues(mod.inputs[i%sc.nIn].name).Inc()
		}
	}
}
