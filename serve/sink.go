package serve

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/mlpipe/mlpipe/internal/jsonw"
)

// Sink receives every prediction and every delayed label, for a
// prediction log. The server calls it on the request's goroutine after
// the response is written, so a call must not block: a sink that falls
// behind drops events (and reports how many through Options.SinkStats).
// A Sink must be safe for concurrent use. An event is valid only during
// the call: its slices and pointers (Input, Probabilities, Prediction,
// Unknown) point into the request and the server's scratch space,
// which the next request reuses, so a sink that keeps any of them past
// the call copies it. The prediction log encodes each event before
// the call returns, and the drift gauges copy the input they queue.
type Sink interface {
	Prediction(p PredictionEvent)
	Label(l LabelEvent)
}

// PredictionEvent is one scored instance.
type PredictionEvent struct {
	// ID identifies the prediction; a delayed label names it. It is the
	// request id for a single native instance, and "REQUESTID#i" for
	// instance i (from 0) of a native batch or row i of an OIP request.
	ID string `json:"id"`
	// RequestID is the id of the HTTP request (X-Request-Id).
	RequestID string `json:"request_id"`
	// Time is when the server read the request (fasthttp reads the clock
	// for every request anyway; a second reading would cost each request
	// about 60-80 ns here).
	Time  time.Time `json:"time"`
	Model string    `json:"model"`
	// Version is the registry version that scored the instance (0 for a
	// bundle served from a directory).
	Version int `json:"version"`
	// API is "native" or "oip".
	API string `json:"api"`
	// Input is the raw instance: a JSON object of the raw fields. For the
	// native API it is the client's own text; for OIP it is built from
	// the row of the columns (numbers and timestamps keep their text).
	Input json.RawMessage `json:"input"`
	// Probabilities are a classifier's outputs: one (the positive
	// class's) for a binary model, one per class otherwise; nil for a
	// regression.
	Probabilities []float64 `json:"probabilities"`
	// Label is the predicted class ("" for a regression).
	Label string `json:"label"`
	// Prediction is a regression's predicted value; nil for a
	// classifier.
	Prediction *float64 `json:"prediction,omitempty"`
	// Unknown names the categorical inputs whose value fell into the
	// unknown bucket.
	Unknown []string `json:"unknown,omitempty"`
}

// LabelEvent is one delayed ground-truth label.
type LabelEvent struct {
	// ID is the prediction's id (PredictionEvent.ID).
	ID string `json:"id"`
	// RequestID is the id of the labels request.
	RequestID string    `json:"request_id"`
	Time      time.Time `json:"time"`
	Model     string    `json:"model"`
	// Label is the true label as the client sent it: a JSON bool, number
	// or string.
	Label json.RawMessage `json:"label"`
}

// digits is the number of decimal digits of i >= 0.
func digits(i int) int {
	n := 1
	for ; i >= 10; i /= 10 {
		n++
	}
	return n
}

// emitPredictions passes sc's rows to the sink, one event a row. An
// event points into sc and the request (see Sink), so a row costs no
// allocation. sc.raw, if set, gives each row's JSON text; otherwise the
// text is built from the values (OIP), into sc.event. A text longer than
// MaxEventField is passed with its long strings cut (jsonw.AppendCapped,
// into a new array: a client's long string is rare), so that what a
// sink queues stays small whatever a client sends. A batch's ids
// ("REQUESTID#0REQUESTID#1...") are cut from one string.
func (s *Server) emitPredictions(c call, m *Model, sc *scratch, api string, batch bool) {
	requestID, now := c.id, c.Time()
	k := m.outputs
	var ids string
	if batch {
		var b strings.Builder
		b.Grow(sc.n * (len(requestID) + 1 + digits(sc.n)))
		var num [20]byte
		for i := range sc.n {
			b.WriteString(requestID)
			b.WriteByte('#')
			b.Write(strconv.AppendInt(num[:0], int64(i), 10))
		}
		ids = b.String()
	}
	limit := s.opts.MaxEventField
	for i := range sc.n {
		var text []byte
		if i < len(sc.raw) {
			text = sc.raw[i]
		} else {
			sc.event = m.appendInstance(sc.event[:0], sc, i)
			text = sc.event
		}
		if len(text) > limit {
			text, _ = jsonw.AppendCapped(nil, text, limit)
		}
		ev := PredictionEvent{
			ID: requestID, RequestID: requestID, Time: now, Model: m.Name, Version: m.Version, API: api, Input: text,
		}
		if batch {
			n := len(requestID) + 1 + digits(i)
			ev.ID, ids = ids[:n], ids[n:]
		}
		out := sc.out[i*k : (i+1)*k : (i+1)*k]
		if m.regression {
			ev.Prediction = &out[0]
		} else {
			ev.Probabilities = out
			ev.Label = m.classes[m.Label(out)]
		}
		for j, u := range sc.unseen[i*sc.nIn : (i+1)*sc.nIn] {
			if u {
				ev.Unknown = append(ev.Unknown, m.inputs[j].name)
			}
		}
		s.sink.Prediction(ev)
	}
}
