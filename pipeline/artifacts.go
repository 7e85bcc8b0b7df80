package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
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
// atomically, plus the extra JSON files named by extra's keys, the
// bundle's record (the run id, the time and the gate decision, if any)
// and last its manifest, which also lists the files named by also (put in
// dir by the caller). The returned bundle's Digest is set.
func SaveTrained(dir string, s *State, extra map[string]any, also ...string) (*bundle.Bundle, error) {
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
		Features: s.Features, Model: s.Model, Files: also,
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
	if s.Gate != nil {
		g, err := json.Marshal(s.Gate)
		if err != nil {
			return nil, fmt.Errorf("save trained model: %w", err)
		}
		b.Gate = g
	}
	// The bundle's leaderboard has no timings: they differ from run to
	// run, and the bundle's files are a function of its inputs (the run
	// record keeps them).
	files := map[string]any{bundle.LeaderboardFile: leaderboardJSON(s.Leaderboard, false)}
	for k, v := range extra {
		files[k] = v
	}
	digest, err := bundle.Write(dir, b, files)
	if err != nil {
		return nil, err
	}
	b.Digest = digest
	return b, nil
}

// leaderboardJSON makes NaN scores (failed candidates, and with
// cross-validation every candidate but the best) JSON-safe: "valid" is
// left out where there is none. With timings, each entry has its fit
// time and peak heap.
func leaderboardJSON(entries []selection.Entry, timings bool) []map[string]any {
	out := make([]map[string]any, len(entries))
	for i, e := range entries {
		m := map[string]any{"model": e.Model, "params": e.Params, "metric": e.Metric, "best": e.Best}
		if timings {
			m["fit_seconds"], m["peak_heap_mb"] = e.FitSeconds, e.PeakHeapMB
		}
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
