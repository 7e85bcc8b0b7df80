package pipeline

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/internal/fsx"
	"github.com/mlpipe/mlpipe/internal/version"
	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/catalog"
	"github.com/mlpipe/mlpipe/train/selection"
)

// The files of a trained-model directory (`mlpipe train --out DIR`).
const (
	FeaturesFile    = "features.json"    // the fitted features.Pipeline
	ModelFile       = "model.json"       // the model, in train.Save's envelope
	LeaderboardFile = "leaderboard.json" // every candidate's validation score
	TrainingFile    = "training.json"    // Trained: threshold, classes, lineage
)

// Trained describes a fitted model: what serving and evaluation need
// beside the feature pipeline and the model themselves.
type Trained struct {
	Name      string   `json:"name"`
	Kind      string   `json:"kind"`
	Classes   []string `json:"classes"`
	Threshold float64  `json:"threshold"`
	// Metric and Valid are the selection metric and the model's score on
	// the validation split.
	Metric string  `json:"metric"`
	Valid  float64 `json:"valid"`
	// Lineage.
	ConfigHash  string    `json:"config_hash"`
	Fingerprint string    `json:"data_fingerprint"`
	CodeVersion string    `json:"code_version"`
	CreatedAt   time.Time `json:"created_at"`

	Features *features.Pipeline `json:"-"`
	Model    train.Model        `json:"-"`
}

// SaveTrained writes the features, the model, the leaderboard and the
// training record of s into dir, each file atomically.
func SaveTrained(dir string, s *State) (*Trained, error) {
	if s.Model == nil || s.Features == nil {
		return nil, errors.New("save trained model: nothing was trained")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("save trained model: %w", err)
	}
	var best selection.Entry
	for _, e := range s.Leaderboard {
		if e.Best {
			best = e
		}
	}
	t := &Trained{
		Name: s.Config.Name, Kind: s.Model.Kind(), Classes: s.TrainSet.ClassNames, Threshold: s.Threshold,
		Metric: best.Metric, Valid: best.Valid,
		ConfigHash: s.Config.Hash, Fingerprint: s.Fingerprint, CodeVersion: version.Get(), CreatedAt: time.Now().UTC(),
		Features: s.Features, Model: s.Model,
	}
	var buf bytes.Buffer
	if err := train.Save(&buf, s.Model); err != nil {
		return nil, err
	}
	if err := fsx.WriteFile(filepath.Join(dir, ModelFile), buf.Bytes(), 0o644); err != nil {
		return nil, err
	}
	files := map[string]any{FeaturesFile: s.Features, LeaderboardFile: leaderboardJSON(s.Leaderboard), TrainingFile: t}
	if s.Splits != nil && s.Splits.Test != nil {
		sig, err := signature(s.Features, s.Model, s.Splits.Test)
		if err != nil {
			return nil, err
		}
		files[SignatureFile] = sig
	}
	for name, v := range files {
		if err := fsx.WriteJSON(filepath.Join(dir, name), v); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// leaderboardJSON makes NaN scores (failed candidates) JSON-safe.
func leaderboardJSON(entries []selection.Entry) []map[string]any {
	out := make([]map[string]any, len(entries))
	for i, e := range entries {
		m := map[string]any{"model": e.Model, "params": e.Params, "metric": e.Metric,
			"fit_seconds": e.FitSeconds, "peak_heap_mb": e.PeakHeapMB, "best": e.Best}
		if e.Error == "" {
			m["valid"] = e.Valid
		} else {
			m["error"] = e.Error
		}
		if e.Note != "" {
			m["note"] = e.Note
		}
		out[i] = m
	}
	return out
}

// LoadTrained reads a directory written by SaveTrained.
func LoadTrained(dir string) (*Trained, error) {
	var t Trained
	if err := fsx.ReadJSON(filepath.Join(dir, TrainingFile), &t); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("load trained model: %s is not a trained-model directory (no %s): %w", dir, TrainingFile, err)
		}
		return nil, fmt.Errorf("load trained model: %w", err)
	}
	t.Features = &features.Pipeline{}
	if err := fsx.ReadJSON(filepath.Join(dir, FeaturesFile), t.Features); err != nil {
		return nil, fmt.Errorf("load trained model: %w", err)
	}
	f, err := os.Open(filepath.Join(dir, ModelFile))
	if err != nil {
		return nil, fmt.Errorf("load trained model: %w", err)
	}
	defer f.Close()
	if t.Model, err = train.Load(f, catalog.Decoders()); err != nil {
		return nil, err
	}
	if w := t.Features.Width(); w == 0 {
		return nil, fmt.Errorf("load trained model: %s: the feature pipeline has no columns", dir)
	}
	return &t, nil
}

// SignatureFile holds the model's input signature and an example request.
const SignatureFile = "signature.json"

// Signature is what a client sends and what it gets back: the raw input
// columns with their types, one example row taken from the test split,
// and the probabilities the model gives for it. Serving scores the
// example when it loads a model, and refuses one that answers otherwise.
type Signature struct {
	Inputs  []features.Input `json:"inputs"`
	Example features.Row     `json:"example"`
	// ExampleOutput is the model's output for Example (one probability
	// for a binary model, one per class otherwise).
	ExampleOutput []float64 `json:"example_output"`
}

// signature builds the signature from the first row of tbl, through the
// single-row path that serving uses.
func signature(p *features.Pipeline, m train.Model, tbl arrow.Table) (*Signature, error) {
	sig := &Signature{Inputs: p.Inputs, Example: features.Row{}}
	for _, in := range p.Inputs {
		j := tbl.Schema().FieldIndices(in.Name)
		if len(j) != 1 || tbl.NumRows() == 0 {
			return nil, fmt.Errorf("signature: no example value for %q", in.Name)
		}
		sig.Example[in.Name] = firstValue(tbl.Column(j[0]).Data())
	}
	row, err := p.TransformRow(sig.Example, nil)
	if err != nil {
		return nil, fmt.Errorf("signature: %w", err)
	}
	sig.ExampleOutput = make([]float64, m.Outputs())
	m.PredictRow(row, sig.ExampleOutput)
	return sig, nil
}

// firstValue returns a column's first value as a JSON request carries it.
func firstValue(col *arrow.Chunked) any {
	for _, ch := range col.Chunks() {
		if ch.Len() == 0 {
			continue
		}
		if ch.IsNull(0) {
			return nil
		}
		switch a := ch.(type) {
		case *array.Int64:
			return a.Value(0)
		case *array.Float64:
			return a.Value(0)
		case *array.Boolean:
			return a.Value(0)
		case *array.String:
			return a.Value(0)
		case *array.Timestamp:
			unit := a.DataType().(*arrow.TimestampType).Unit
			return a.Value(0).ToTime(unit).UTC().Format("2006-01-02T15:04:05")
		}
		return ch.ValueStr(0)
	}
	return nil
}
