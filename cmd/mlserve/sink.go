package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/mlpipe/mlpipe/predlog"
	"github.com/mlpipe/mlpipe/serve"
)

// logSink writes serve's predictions and labels to a prediction log
// directory (package predlog), which `mlpipe monitor` reads. Logging
// never blocks a request: the writers queue and drop when behind.
type logSink struct {
	preds  *predlog.Writer
	labels *predlog.LabelWriter
}

// openLogSink opens the prediction log at dir (a directory or an s3://
// URL), as the stream replica (none: dir itself; on s3://, the host
// name), rotating files once rotate old (0: predlog's default).
func openLogSink(dir, replica string, rotate time.Duration, log *slog.Logger) (*logSink, error) {
	if replica != "" {
		if err := predlog.CheckReplica(replica); err != nil {
			return nil, &usageError{msg: "--replica: " + err.Error()}
		}
	}
	opts := predlog.Options{Log: log, Replica: replica, MaxFileAge: rotate}
	preds, err := predlog.NewWriter(dir, opts)
	if err != nil {
		return nil, fmt.Errorf("prediction log: %w", err)
	}
	labels, err := predlog.NewLabelWriter(dir, opts)
	if err != nil {
		_ = preds.Close(context.Background())
		return nil, fmt.Errorf("prediction log: %w", err)
	}
	return &logSink{preds: preds, labels: labels}, nil
}

// Prediction logs one prediction with the request's own JSON as inputs.
// The event points into the request (serve.Sink): predlog's Log encodes
// the record into its line before it returns, so nothing is copied here.
func (l *logSink) Prediction(ev serve.PredictionEvent) {
	r := predlog.Record{ID: ev.ID, Time: ev.Time, Model: ev.Model, Version: ev.Version,
		RawInputs: ev.Input, Predicted: ev.Label, Prediction: ev.Prediction}
	switch {
	case ev.Prediction != nil: // a regression: the value alone
	case len(ev.Probabilities) == 1:
		r.Probability = ev.Probabilities[0]
	default:
		r.Probabilities = ev.Probabilities
	}
	l.preds.Log(r)
}

// Label logs one delayed label (a JSON bool, number or string).
func (l *logSink) Label(ev serve.LabelEvent) {
	var v any
	if err := json.Unmarshal(ev.Label, &v); err != nil {
		v = string(ev.Label)
	}
	l.labels.Log(predlog.Label{ID: ev.ID, Time: ev.Time, Label: v})
}

// stats is serve.Options.SinkStats: records written, and records lost
// (dropped when the writer fell behind, or failed to encode or write).
func (l *logSink) stats() (written, dropped uint64) {
	return l.preds.Written(), l.preds.Dropped() + l.preds.Failed()
}

// close flushes and closes both logs, waiting at most timeout.
func (l *logSink) close(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return errors.Join(l.preds.Close(ctx), l.labels.Close(ctx))
}

// teeSink sends predictions to the prediction log (if any) and to the
// live drift gauges.
type teeSink struct {
	log   *logSink // nil: no prediction log
	drift *serve.LiveDrift
}

func (t teeSink) Prediction(ev serve.PredictionEvent) {
	if t.log != nil {
		t.log.Prediction(ev)
	}
	t.drift.Offer(ev)
}

func (t teeSink) Label(ev serve.LabelEvent) {
	if t.log != nil {
		t.log.Label(ev)
	}
}
