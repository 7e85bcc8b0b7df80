// Package selection picks the best model among candidates.
//
// In: candidate trainers (from the config's `models:` list and grids), a
// training and a validation Dataset, and a metric. Out: a leaderboard —
// each candidate's validation score, fit time and peak heap — and the
// best fitted model. Each candidate is fitted on the training split only
// (with the validation split for early stopping) and scored on the
// validation split; the test split is never looked at here.
package selection

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/mlpipe/mlpipe/train"
)

// Candidate is one model to try.
type Candidate struct {
	Name    string         `json:"model"`
	Params  map[string]any `json:"params"`
	Trainer train.Trainer  `json:"-"`
	// Note is shown in the leaderboard (a known limit of the model).
	Note string `json:"note,omitempty"`
}

// Metric scores predictions: binary probabilities (one per row) or
// multiclass ones (row-major, Classes per row) against labels.
type Metric struct {
	Name string
	// HigherIsBetter is true for AUC and accuracy, false for log loss.
	HigherIsBetter bool
	Score          func(y []float64, proba []float64, classes int) (float64, error)
}

// Entry is one row of the leaderboard.
type Entry struct {
	Model  string         `json:"model"`
	Params map[string]any `json:"params"`
	Metric string         `json:"metric"`
	// Valid is the candidate's score on the validation split; NaN (and
	// Error set) if it failed.
	Valid      float64 `json:"valid"`
	FitSeconds float64 `json:"fit_seconds"`
	// PeakHeapMB is the largest Go heap seen while the candidate fitted
	// (sampled every 20 ms), in MB.
	PeakHeapMB float64 `json:"peak_heap_mb"`
	Best       bool    `json:"best,omitempty"`
	Note       string  `json:"note,omitempty"`
	Error      string  `json:"error,omitempty"`
}

// Result is the outcome of a selection.
type Result struct {
	Leaderboard []Entry
	// Best indexes the leaderboard entry of Model.
	Best  int
	Model train.Model
}

// ErrNoModel means every candidate failed.
var ErrNoModel = errors.New("no candidate model could be fitted")

// Select fits every candidate in order and keeps the best by metric. A
// candidate that fails is recorded in the leaderboard with its error and
// does not stop the others; cancellation does. log may be nil.
func Select(ctx context.Context, cands []Candidate, trainDS, validDS *train.Dataset, metric Metric, log *slog.Logger) (*Result, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	res := &Result{Best: -1}
	for _, c := range cands {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("select: %w", err)
		}
		log.Info("fit start", "model", c.Name, "params", c.Params)
		e := Entry{Model: c.Name, Params: c.Params, Metric: metric.Name, Valid: math.NaN(), Note: c.Note}
		start := time.Now()
		stop := watchHeap()
		m, err := c.Trainer.Fit(ctx, trainDS, validDS)
		e.PeakHeapMB = float64(stop()) / 1e6
		e.FitSeconds = time.Since(start).Seconds()
		if err == nil {
			if n, ok := m.(interface{ Note() string }); ok {
				e.Note = n.Note() // the fitted model knows its limits best
			}
			proba := m.Predict(validDS.X)
			e.Valid, err = metric.Score(validDS.Y, proba, validDS.Classes)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("select: %s: %w", c.Name, ctx.Err())
			}
			e.Error = err.Error()
			log.Warn("fit failed", "model", c.Name, "err", err)
			res.Leaderboard = append(res.Leaderboard, e)
			continue
		}
		log.Info("fit done", "model", c.Name, metric.Name, e.Valid, "seconds", fmt.Sprintf("%.1f", e.FitSeconds))
		res.Leaderboard = append(res.Leaderboard, e)
		if res.Best < 0 || better(e.Valid, res.Leaderboard[res.Best].Valid, metric.HigherIsBetter) {
			res.Best, res.Model = len(res.Leaderboard)-1, m
		}
	}
	if res.Best < 0 {
		return res, fmt.Errorf("select: %w", ErrNoModel)
	}
	res.Leaderboard[res.Best].Best = true
	return res, nil
}

func better(a, b float64, higher bool) bool {
	if higher {
		return a > b
	}
	return a < b
}

// watchHeap samples the Go heap until the returned function is called,
// which returns the largest HeapAlloc seen, in bytes.
func watchHeap() func() uint64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if ms.HeapAlloc > peak.Load() {
			peak.Store(ms.HeapAlloc)
		}
	}
	go func() {
		defer close(finished)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				sample()
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-finished
		sample()
		return peak.Load()
	}
}
