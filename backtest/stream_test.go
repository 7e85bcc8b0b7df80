package backtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/mlpipe/mlpipe/backtest"
	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/gbdt"
)

// TestStreamed: with gbdt, no fit is given a float matrix of its
// training or validation window (only gbdt's bins, built a range of rows
// at a time), and no model scores more than a range of rows at once (the
// weeks, the validation windows and the gate's rows are transformed and
// scored by ranges); and the result is the one of whole matrices, bit for
// bit. A week or a window transformed whole fails it, and so does a
// range skipped (the scores, or the bins, would differ).
func TestStreamed(t *testing.T) {
	const rangeRows = 100 // the fixture's weeks have about 400 rows
	for _, tc := range []struct {
		name string
		opts func(cfg *backtest.Options)
	}{
		// Validation windows of 10 days: the gate scores the production
		// model on the candidate's (when they are one period, it reuses
		// the period's scores).
		{"Binary", func(o *backtest.Options) { o.ValidDays = 10 }},
		{"Regression", func(o *backtest.Options) {
			o.Config.Label = ingest.LabelSpec{Name: "delay_minutes", Column: "delay", Kind: ingest.KindRegression}
			o.Policies = []string{backtest.Never, backtest.Scheduled, backtest.Performance}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := func(rows int, wrap func(train.Trainer) train.Trainer) *backtest.Result {
				cfg, ds := fixture(t)
				o := backtest.Options{Config: cfg, Model: "gbdt", Steps: 4, TrainDays: 28, MaxAge: 14 * 24 * time.Hour}
				tc.opts(&o)
				defer backtest.SetStreamRows(rows)()
				defer backtest.WrapTrainers(wrap)()
				res, err := backtest.Run(context.Background(), ds.Table, o)
				if err != nil {
					t.Fatal(err)
				}
				return res
			}
			// Whole matrices: gbdt seen as a trainer that does not bin
			// (it bins the float matrices itself), every table one range.
			whole := run(1<<30, func(tr train.Trainer) train.Trainer { return floatOnly{tr} })
			var pr probe
			streamed := run(rangeRows, func(tr train.Trainer) train.Trainer {
				return probedTrainer{Trainer: tr.(*gbdt.Trainer), p: &pr}
			})
			if pr.fits == 0 || pr.rows == 0 {
				t.Fatalf("%d fits, %d rows scored: the probe saw nothing", pr.fits, pr.rows)
			}
			if pr.floats > 0 {
				t.Errorf("%d of %d fits were given a float matrix", pr.floats, pr.fits)
			}
			if pr.most > rangeRows {
				t.Errorf("a model scored %d rows at once, more than a range (%d)", pr.most, rangeRows)
			}
			if w, s := untimed(t, whole), untimed(t, streamed); !bytes.Equal(w, s) {
				t.Errorf("whole matrices:\n%s\nby ranges:\n%s", w, s)
			}
		})
	}
}

// floatOnly hides gbdt's BinBuilder: the backtest gives it float matrices.
type floatOnly struct{ train.Trainer }

// probe records what the fits were given and what their models scored.
type probe struct {
	mu           sync.Mutex
	fits, floats int
	rows, most   int
}

// probedTrainer is gbdt, probed.
type probedTrainer struct {
	*gbdt.Trainer
	p *probe
}

func (t probedTrainer) Fit(ctx context.Context, tr, valid *train.Dataset) (train.Model, error) {
	t.p.mu.Lock()
	t.p.fits++
	if tr.X.Data != nil || valid.X.Data != nil || tr.Prebinned == nil || valid.Prebinned == nil {
		t.p.floats++
	}
	t.p.mu.Unlock()
	m, err := t.Trainer.Fit(ctx, tr, valid)
	if err != nil {
		return nil, err
	}
	return probedModel{m, t.p}, nil
}

type probedModel struct {
	train.Model
	p *probe
}

func (m probedModel) Predict(x *features.Matrix) []float64 {
	m.p.mu.Lock()
	m.p.rows += x.Rows
	m.p.most = max(m.p.most, x.Rows)
	m.p.mu.Unlock()
	return m.Model.Predict(x)
}

// untimed is res in JSON, without its timings.
func untimed(t *testing.T, res *backtest.Result) []byte {
	t.Helper()
	r := *res
	r.FitSeconds, r.CalibrationSeconds, r.Seconds, r.Stages = 0, 0, 0, backtest.Stages{}
	r.Policies = append([]backtest.PolicyResult(nil), res.Policies...)
	for i := range r.Policies {
		r.Policies[i].TrainSeconds = 0
	}
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}
