package pipeline

import (
	"errors"
	"math"
	"time"

	"github.com/mlpipe/mlpipe/bundle"
	"github.com/mlpipe/mlpipe/internal/version"
	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/selection"
)

// SaveTrained writes the model of s as a bundle into dir: the features,
// the model, the signature (when there is a test split to take the
// example from), the leaderboard and the training record, each file
// atomically, plus the extra JSON files named by extra's keys.
func SaveTrained(dir string, s *State, extra map[string]any) (*bundle.Bundle, error) {
	if s.Model == nil || s.Features == nil {
		return nil, errors.New("save trained model: nothing was trained")
	}
	var best selection.Entry
	for _, e := range s.Leaderboard {
		if e.Best {
			best = e
		}
	}
	b := &bundle.Bundle{
		Info: bundle.Info{
			Name: s.Config.Name, Kind: s.Model.Kind(), Task: s.Model.Task(), Classes: s.TrainSet.ClassNames, Threshold: s.Threshold,
			Metric: best.Metric, Valid: best.Valid,
			RunID: s.RunID, ConfigHash: s.Config.Hash, Fingerprint: s.Fingerprint, CodeVersion: version.Get(), CreatedAt: time.Now().UTC(),
			InputsKey: s.keys["train"],
		},
		Features: s.Features, Model: s.Model,
	}
	if b.Task == train.Regression {
		b.Target = s.Config.Label.Column
	}
	if s.Splits != nil && s.Splits.Test != nil {
		sig, err := bundle.NewSignature(s.Features, s.Model, s.Splits.Test)
		if err != nil {
			return nil, err
		}
		b.Signature = sig
	}
	files := map[string]any{bundle.LeaderboardFile: leaderboardJSON(s.Leaderboard)}
	for k, v := range extra {
		files[k] = v
	}
	if err := bundle.Write(dir, b, files); err != nil {
		return nil, err
	}
	return b, nil
}

// leaderboardJSON makes NaN scores (failed candidates, and with
// cross-validation every candidate but the best) JSON-safe: "valid" is
// left out where there is none.
func leaderboardJSON(entries []selection.Entry) []map[string]any {
	out := make([]map[string]any, len(entries))
	for i, e := range entries {
		m := map[string]any{"model": e.Model, "params": e.Params, "metric": e.Metric,
			"fit_seconds": e.FitSeconds, "peak_heap_mb": e.PeakHeapMB, "best": e.Best}
		if !math.IsNaN(e.Valid) {
			m["valid"] = e.Valid
		}
		if e.Error != "" {
			m["error"] = e.Error
		}
		if e.CV != nil {
			m["cv_mean"], m["cv_sd"], m["cv_scores"] = e.CV.Mean, e.CV.SD, e.CV.Scores
		}
		if e.Trial > 0 {
			m["trial"] = e.Trial
		}
		if e.Note != "" {
			m["note"] = e.Note
		}
		out[i] = m
	}
	return out
}
