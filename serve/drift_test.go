package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"reflect"
	"runtime"
	"testing"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mlpipe/mlpipe/calibrate"
	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/internal/jsonread"
	"github.com/mlpipe/mlpipe/monitor"
)

var driftInputs = []features.Input{
	{Name: "date", Type: "timestamp[us]"},
	{Name: "distance", Type: "int64"},
	{Name: "origin", Type: "string"},
	{Name: "destination", Type: "string"},
	{Name: "cancelled", Type: "bool"},
}

var driftAirports = []string{"ATL", "LAX", "ORD", "DFW", "DEN", "JFK", "SFO", "SEA", "LAS", "MCO"}

// newDriftLive returns a monitor.Live shaped like the flights model's
// gauges, with a hand-made profile and reference sample, and the
// calibration map calib (nil: none, no estimate).
func newDriftLive(window int, calib *calibrate.Map) *monitor.Live {
	var qs []ingest.Quantile
	for _, p := range ingest.QuantileProbs {
		qs = append(qs, ingest.Quantile{P: p, Value: 100 + 2400*p})
	}
	var top []ingest.Frequency
	for i, a := range driftAirports[:8] { // two airports fall in "(other)"
		top = append(top, ingest.Frequency{Value: a, Count: int64(1000 - 100*i)})
	}
	cat := func(name string) ingest.ColumnProfile {
		return ingest.ColumnProfile{Name: name, Type: "string", Count: 5000, Nulls: 10,
			Categorical: &ingest.CategoricalProfile{Distinct: 10, Top: top, OtherCount: 1400}}
	}
	prof := &ingest.Profile{Rows: 5010, Columns: []ingest.ColumnProfile{
		{Name: "distance", Type: "int64", Count: 5000, Nulls: 10,
			Numeric: &ingest.NumericProfile{Min: 100, Max: 2500, Mean: 1300, Std: 700, Quantiles: qs}},
		cat("origin"), cat("destination"),
		{Name: "cancelled", Type: "bool", Count: 5000, Categorical: &ingest.CategoricalProfile{Distinct: 2,
			Top: []ingest.Frequency{{Value: "false", Count: 4900}, {Value: "true", Count: 100}}}},
	}}
	rng := rand.New(rand.NewPCG(1, 2))
	ref := &monitor.Reference{Inputs: map[string][]any{}, Types: map[string]string{}}
	start := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	for range 2000 {
		ref.Inputs["date"] = append(ref.Inputs["date"], start.Add(time.Duration(rng.IntN(120*24*60))*time.Minute))
		ref.Inputs["distance"] = append(ref.Inputs["distance"], int64(100+rng.IntN(2400)))
		ref.Scores = append(ref.Scores, rng.Float64())
	}
	ref.Rows = 2000
	return monitor.NewLiveFromBaseline(&monitor.Baseline{Profile: prof, Reference: ref, Inputs: driftInputs, Calibrator: calib}, window)
}

// driftEvents returns n prediction events as serve emits them.
func driftEvents(n int, seed uint64) []PredictionEvent {
	rng := rand.New(rand.NewPCG(seed, 7))
	start := time.Date(2001, 6, 1, 0, 0, 0, 0, time.UTC)
	out := make([]PredictionEvent, n)
	for i := range out {
		date := start.Add(time.Duration(rng.IntN(30*24*60)) * time.Minute).Format("2006-01-02T15:04:05")
		in := fmt.Sprintf(`{"date":%q,"distance":%d,"origin":%q,"destination":%q,"cancelled":%t}`,
			date, 100+rng.IntN(2600), driftAirports[rng.IntN(len(driftAirports))],
			driftAirports[rng.IntN(len(driftAirports))], rng.IntN(50) == 0)
		out[i] = PredictionEvent{Version: 1, Input: []byte(in), Probabilities: []float64{rng.Float64()}}
	}
	return out
}

// unmarshalRow is what observe read before rowReader: json.Unmarshal
// into a map[string]any. It returns the keys of driftInputs only, with
// an array or object as a nestedValue, as rowReader reads them.
func unmarshalRow(b []byte) (map[string]any, error) {
	var row map[string]any
	if err := json.Unmarshal(b, &row); err != nil {
		return nil, err
	}
	out := map[string]any{}
	for _, in := range driftInputs {
		v, ok := row[in.Name]
		if !ok {
			continue
		}
		switch v.(type) {
		case []any, map[string]any:
			v = nestedValue{}
		}
		out[in.Name] = v
	}
	return out, nil
}

var rowReaderInputs = []string{
	// Rows as serve passes them on.
	`{"date":"2001-06-15T08:30:00","distance":1250,"origin":"ATL","destination":"LAX","cancelled":false}`,
	`{"destination":"LAX","origin":"ATL","distance":1250.5,"date":"2001-06-15 08:30"}`,
	` { "date" : "2001-06-15" , "distance" : 1250 } ` + "\n",
	`{"date":null,"distance":null,"origin":null,"destination":null,"cancelled":null}`,
	`{}`,
	` {	}`,
	// Numbers.
	`{"distance":1.25e3}`,
	`{"distance":125E+1}`,
	`{"distance":1e-2}`,
	`{"distance":-0}`,
	`{"distance":-0.0}`,
	`{"distance":0}`,
	`{"distance":-1250}`,
	`{"distance":0.1}`,
	`{"distance":123456789012345678901234567890}`,
	`{"distance":1e308}`,
	`{"distance":1e-400}`,
	`{"distance":4.9406564584124654e-324}`,
	`{"distance":1e400}`,  // out of range: json.Unmarshal fails
	`{"distance":-1e400}`, // likewise
	`{"other":1e400}`,     // likewise, for a key the gauges do not read
	// Strings.
	`{"origin":"A\u0054L"}`,
	`{"origin":"\"\\\/\b\f\n\r\t"}`,
	`{"origin":"Zürich","destination":"\u00fcber"}`,
	`{"origin":"\ud83d\ude00"}`,
	`{"origin":"\ud800"}`,
	`{"origin":"\ud800\u0041"}`,
	`{"origin":"\udc00\ud800x"}`,
	`{"origin":""}`,
	`{"orig\u0069n":"ATL"}`,
	`{"date":"2001-06-15T08:30:00\u0000"}`,
	// Bools, and values of the wrong type.
	`{"cancelled":true,"origin":false}`,
	`{"cancelled":"true","distance":"1250","date":1250,"origin":12}`,
	// Keys the gauges do not read, duplicate keys, nested values.
	`{"origin":"ATL","extra":1,"more":"x","none":null,"yes":true}`,
	`{"origin":"ATL","origin":"LAX"}`,
	`{"distance":[1250],"origin":{"code":"ATL"},"destination":[],"date":{}}`,
	`{"x":{"y":[1,2,{"z":null,"w":"\u0041"}]},"origin":"ATL"}`,
	`{"origin":["ATL"],"origin":"LAX"}`,
	`{"x":[1e400]}`,             // out of range too
	`{"origin":{"x":[-1e999]}}`, // likewise
	`{"x":[1e-999,{"y":2e308}]}`,
	// null is a row without values; other documents that are not an
	// object, and invalid JSON, are not rows.
	`null`,
	` null `,
	``,
	` `,
	`[]`,
	`[{"origin":"ATL"}]`,
	`1`,
	`"ATL"`,
	`true`,
	`{`,
	`{"origin"}`,
	`{"origin":}`,
	`{"origin":"ATL",}`,
	`{"origin":"ATL"`,
	`{"origin":"ATL"}}`,
	`{"origin":"ATL"} x`,
	`{}{}`,
	`{origin:"ATL"}`,
	`{'origin':'ATL'}`,
	`{"origin":"ATL\x"}`,
	`{"origin":"\u00G0"}`,
	"{\"origin\":\"A\x01L\"}",
	`{"distance":01}`,
	`{"distance":1.}`,
	`{"distance":.5}`,
	`{"distance":+1}`,
	`{"distance":1e}`,
	`{"distance":NaN}`,
	`{"distance":Infinity}`,
	`{"cancelled":tru}`,
	`{"cancelled":nul}`,
	`{"x":[1,}`,
	`{"x":{"y"}}`,
}

// TestRowReader checks that rowReader reads what json.Unmarshal does,
// for the keys the gauges read.
func TestRowReader(t *testing.T) {
	var r rowReader
	r.reset(driftInputs)
	for _, in := range rowReaderInputs {
		want, err := unmarshalRow([]byte(in))
		wantOK := err == nil
		// Twice: the second read reuses the map and the interned strings.
		for range 2 {
			got, ok := r.read([]byte(in))
			if ok != wantOK || (ok && !reflect.DeepEqual(got, want)) {
				t.Errorf("%s: read %#v, %v; json.Unmarshal %#v, %v", in, got, ok, want, wantOK)
				break
			}
		}
	}
}

// FuzzRowReader compares rowReader with json.Unmarshal on any input but
// those serve never passes on (see rowReader).
func FuzzRowReader(f *testing.F) {
	for _, in := range rowReaderInputs {
		f.Add([]byte(in))
	}
	var r rowReader
	r.reset(driftInputs)
	f.Fuzz(func(t *testing.T, b []byte) {
		if !utf8.Valid(b) || bytes.Count(b, []byte("["))+bytes.Count(b, []byte("{")) >= jsonread.MaxDepth {
			t.Skip()
		}
		want, err := unmarshalRow(b)
		wantOK := err == nil
		got, ok := r.read(b)
		if ok != wantOK || (ok && !reflect.DeepEqual(got, want)) {
			t.Errorf("%q: read %#v, %v; json.Unmarshal %#v, %v", b, got, ok, want, wantOK)
		}
	})
}

// TestRowReaderInterns checks that a category is one string however
// many rows carry it, and that the table stops at maxInterned.
func TestRowReaderInterns(t *testing.T) {
	var r rowReader
	r.reset(driftInputs)
	row, _ := r.read([]byte(`{"origin":"ATL","destination":"A\u0054L"}`))
	o, d := row["origin"].(string), row["destination"].(string)
	if o != "ATL" || d != "ATL" || unsafe.StringData(o) != unsafe.StringData(d) {
		t.Errorf("origin %q and destination %q are not the same string", o, d)
	}
	for i := range maxInterned + 10 {
		r.read(fmt.Appendf(nil, `{"origin":"X%d"}`, i))
	}
	if len(r.strs) != maxInterned {
		t.Errorf("%d interned strings, want the limit %d", len(r.strs), maxInterned)
	}
	if row, ok := r.read([]byte(`{"origin":"new"}`)); !ok || row["origin"] != "new" {
		t.Errorf("past the limit: %v, %v", row, ok)
	}
}

// TestRowReaderAllocs checks that a flights row allocates only its
// distance's float64 in an any, and its date's string and the any of
// it.
func TestRowReaderAllocs(t *testing.T) {
	var r rowReader
	r.reset(driftInputs)
	in := []byte(`{"date":"2001-06-15T08:30:00","distance":1250,"origin":"ATL","destination":"LAX","cancelled":false}`)
	r.read(in)
	if n := testing.AllocsPerRun(100, func() { r.read(in) }); n > 3 {
		t.Errorf("%v allocations a row, want at most 3", n)
	}
}

// TestLiveDriftPSI feeds the same predictions to the gauges and to a
// monitor.Live fed as observe was before rowReader: the PSIs must be
// the same, to the bit.
func TestLiveDriftPSI(t *testing.T) {
	const window = 1000
	d := NewLiveDrift(func() *Model { return nil }, window, slog.New(slog.NewTextHandler(io.Discard, nil)))
	d.live, d.version = newDriftLive(window, nil), 1
	d.rows.reset(driftInputs)
	old := newDriftLive(window, nil)
	evs := driftEvents(2500, 3)
	for i, in := range rowReaderInputs {
		evs[i*30].Input = []byte(in) // odd rows among the others
	}
	for _, ev := range evs {
		d.observe(rowOf(ev))
		var row map[string]any
		if json.Unmarshal(ev.Input, &row) == nil {
			old.Observe(row, ev.Probabilities[0])
		}
	}
	d.live.Refresh()
	old.Refresh()
	got, want := d.live.PSI(), old.PSI()
	if len(want) != 7 {
		t.Fatalf("PSI of %d series, want 7: %v", len(want), want)
	}
	if !maps.Equal(got, want) {
		t.Errorf("PSI %v, want %v", got, want)
	}
}

// TestLiveDriftEstimate: with a calibration map, /metrics carries the
// ROC AUC and log loss estimated on the window, each with its band, as
// monitor.Live estimates them; without one, neither gauge.
func TestLiveDriftEstimate(t *testing.T) {
	const window = 1000
	for _, calib := range []*calibrate.Map{nil, {Method: calibrate.Platt, A: -3, B: 1.5}} {
		d := NewLiveDrift(func() *Model { return nil }, window, slog.New(slog.DiscardHandler))
		d.live, d.version = newDriftLive(window, calib), 1
		d.rows.reset(driftInputs)
		for _, ev := range driftEvents(1500, 4) {
			d.observe(rowOf(ev))
		}
		d.live.Refresh()
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(d)
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "bound" {
						got[mf.GetName()+"/"+l.GetValue()] = m.GetGauge().GetValue()
					}
				}
			}
		}
		e := d.live.Estimate()
		if calib == nil {
			if e != nil || len(got) != 0 {
				t.Errorf("no calibration map: estimate %+v, gauges %v", e, got)
			}
			continue
		}
		if e == nil {
			t.Fatal("no estimate")
		}
		want := map[string]float64{
			"mlserve_estimated_roc_auc/estimate": e.ROCAUC.Value, "mlserve_estimated_roc_auc/low": e.ROCAUC.Low, "mlserve_estimated_roc_auc/high": e.ROCAUC.High,
			"mlserve_estimated_log_loss/estimate": e.LogLoss.Value, "mlserve_estimated_log_loss/low": e.LogLoss.Low, "mlserve_estimated_log_loss/high": e.LogLoss.High,
		}
		if !maps.Equal(got, want) || !(e.ROCAUC.Low < e.ROCAUC.Value && e.ROCAUC.Value < e.ROCAUC.High) {
			t.Errorf("gauges %v, want %v", got, want)
		}
	}
}

// TestLiveDriftSleepsWhenIdle: with no predictions for a second the
// gauges' drain ticker stops (an idle mlserve sleeps), an Offer starts
// it again and the prediction is observed, and the PSIs are refreshed
// only when something new was observed.
func TestLiveDriftSleepsWhenIdle(t *testing.T) {
	d := NewLiveDrift(func() *Model { return nil }, 1000, slog.New(slog.DiscardHandler))
	d.live, d.version = newDriftLive(1000, nil), 1
	d.rows.reset(driftInputs)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go d.Run(ctx, 20*time.Millisecond)
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("after 10 s: %s", what)
			}
		}
	}
	waitFor("the drain ticker still runs without predictions", d.drain.Asleep)
	for _, ev := range driftEvents(10, 5) {
		d.Offer(ev)
	}
	if d.drain.Asleep() {
		t.Error("Offer did not wake the drain ticker")
	}
	waitFor("the predictions are still queued", func() bool { return len(d.events) == 0 })
	waitFor("the 10 predictions did not reach the refreshed window", func() bool { return d.live.Rows() == 10 })
	waitFor("the drain ticker did not go back to sleep", d.drain.Asleep)
}

// BenchmarkLiveDriftObserve is the gauges' cost per prediction: reading
// its input and binning it.
func BenchmarkLiveDriftObserve(b *testing.B) {
	d := NewLiveDrift(func() *Model { return nil }, 10_000, slog.New(slog.NewTextHandler(io.Discard, nil)))
	d.live, d.version = newDriftLive(10_000, nil), 1
	d.rows.reset(driftInputs)
	evs := driftEvents(4096, 1)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		d.observe(rowOf(evs[i%len(evs)]))
		i++
	}
}

// TestLiveDriftQueueBounded: the gauges' queue holds its own copies of
// the inputs, at most driftQueueBytes of them: events cut from the
// arrays of 41 large batches (100 each, as a drain frees them) keep none
// of those arrays alive, and inputs past the byte cap are dropped and
// counted (issue 19, item 4: memory bounded under any load).
func TestLiveDriftQueueBounded(t *testing.T) {
	d := NewLiveDrift(func() *Model { return nil }, 1000, slog.New(slog.DiscardHandler))
	defer d.drain.Stop()
	heap := func() int64 { // signed: the heap can end smaller than it began
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		return int64(m.HeapAlloc)
	}
	before := heap()
	const batches, batchBytes, row = 41, 1 << 20, 100
	for range batches {
		text := make([]byte, batchBytes) // a batch's rows, as emitPredictions cuts them
		for i := range 100 {
			d.Offer(PredictionEvent{Version: 1, Input: text[i*row : (i+1)*row : (i+1)*row]})
		}
	}
	if got := heap() - before; got > batches*batchBytes/8 {
		t.Errorf("4,100 queued events of %d bytes keep %d MB alive: the batches' arrays", row, got>>20)
	}
	if q := d.queued.Load(); q != int64(len(d.events)*row) || len(d.events) != 4096 {
		t.Errorf("queued %d bytes in %d events", q, len(d.events))
	}
	for len(d.events) > 0 {
		d.take()
	}
	if q := d.queued.Load(); q != 0 {
		t.Fatalf("%d bytes still counted with the queue empty", q)
	}
	big := make([]byte, 1<<20)
	for range 20 {
		d.Offer(PredictionEvent{Version: 1, Input: big})
	}
	if len(d.events) != driftQueueBytes>>20 || d.queued.Load() > driftQueueBytes {
		t.Errorf("%d events of 1 MiB queued (%d bytes), want %d", len(d.events), d.queued.Load(), driftQueueBytes>>20)
	}
}

// TestLiveDriftOfferCopies: an event is valid only during the Sink call
// (the server reuses its arrays for the next request), so Offer queues
// its own copy of the input and the score: what is observed later is
// what was offered, whatever the server writes over the event's arrays.
func TestLiveDriftOfferCopies(t *testing.T) {
	d := NewLiveDrift(func() *Model { return nil }, 1000, slog.New(slog.DiscardHandler))
	defer d.drain.Stop()
	for _, regression := range []bool{false, true} {
		input := []byte(`{"origin":"ATL","distance":1250}`)
		out := []float64{0.73}
		ev := PredictionEvent{Version: 1, Input: input}
		if regression {
			ev.Prediction = &out[0]
		} else {
			ev.Probabilities = out
		}
		d.Offer(ev)
		copy(input, `{"origin":"XXX","distance":9999}`) // the next request
		out[0] = 0.01
		got := d.take()
		if string(got.input) != `{"origin":"ATL","distance":1250}` || got.score != 0.73 || got.version != 1 {
			t.Errorf("regression %v: queued %s with score %v (version %d), want the offered input and 0.73", regression, got.input, got.score, got.version)
		}
	}
}
