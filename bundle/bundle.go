package bundle

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
	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/catalog"
)

// The files of a bundle.
const (
	InfoFile        = "training.json"
	FeaturesFile    = "features.json"
	ModelFile       = "model.json"
	SignatureFile   = "signature.json"
	LeaderboardFile = "leaderboard.json"
	ProfileFile     = "profile.json"
	EvaluationFile  = "evaluation.json"
	GateFile        = "gate.json"
)

// ErrNotBundle means a directory has no training.json.
var ErrNotBundle = errors.New("not a model bundle")

// Info describes a fitted model: what serving and evaluation need beside
// the feature pipeline and the model themselves.
type Info struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Task is the model's task (binary, multiclass or regression); empty
	// in bundles written before regression, which are classifiers.
	Task train.Task `json:"task,omitempty"`
	// Target names what a regression predicts: the label column.
	Target    string   `json:"target,omitempty"`
	Classes   []string `json:"classes"`
	Threshold float64  `json:"threshold"`
	// Metric and Valid are the selection metric and the model's score on
	// the validation split.
	Metric string  `json:"metric"`
	Valid  float64 `json:"valid"`
	// Lineage.
	RunID       string    `json:"run_id,omitempty"`
	ConfigHash  string    `json:"config_hash"`
	Fingerprint string    `json:"data_fingerprint"`
	CodeVersion string    `json:"code_version"`
	CreatedAt   time.Time `json:"created_at"`
	// InputsKey is the step-cache key of the training that fitted the
	// model: bundles with the same key were fitted from the same data,
	// config and code ("" when the run had no cache).
	InputsKey string `json:"inputs_key,omitempty"`
}

// Bundle is a loaded bundle.
type Bundle struct {
	Info
	Features  *features.Pipeline
	Model     train.Model
	Signature *Signature // nil for a bundle written without test data
}

// Write saves b's info, features, model and signature into dir (created
// if needed), and the extra values as JSON files named by their keys.
// Each file is written atomically; the directory as a whole is not (the
// registry makes a version appear atomically by renaming a directory).
func Write(dir string, b *Bundle, extra map[string]any) error {
	if b.Model == nil || b.Features == nil {
		return errors.New("write bundle: no model or feature pipeline")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	var buf bytes.Buffer
	if err := train.Save(&buf, b.Model); err != nil {
		return err
	}
	if err := fsx.WriteFile(filepath.Join(dir, ModelFile), buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	files := map[string]any{InfoFile: &b.Info, FeaturesFile: b.Features}
	if b.Signature != nil {
		files[SignatureFile] = b.Signature
	}
	for name, v := range extra {
		files[name] = v
	}
	for name, v := range files {
		if err := fsx.WriteJSON(filepath.Join(dir, name), v); err != nil {
			return fmt.Errorf("write bundle: %w", err)
		}
	}
	return nil
}

// ReadInfo reads only a bundle's training.json.
func ReadInfo(dir string) (*Info, error) {
	var info Info
	if err := fsx.ReadJSON(filepath.Join(dir, InfoFile), &info); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("load bundle: %s: %w (no %s)", dir, ErrNotBundle, InfoFile)
		}
		return nil, fmt.Errorf("load bundle: %w", err)
	}
	return &info, nil
}

// Load reads a bundle directory. signature.json is optional.
func Load(dir string) (*Bundle, error) {
	info, err := ReadInfo(dir)
	if err != nil {
		return nil, err
	}
	b := Bundle{Info: *info}
	b.Features = &features.Pipeline{}
	if err := fsx.ReadJSON(filepath.Join(dir, FeaturesFile), b.Features); err != nil {
		return nil, fmt.Errorf("load bundle: %w", err)
	}
	if w := b.Features.Width(); w == 0 {
		return nil, fmt.Errorf("load bundle: %s: the feature pipeline has no columns", dir)
	}
	f, err := os.Open(filepath.Join(dir, ModelFile))
	if err != nil {
		return nil, fmt.Errorf("load bundle: %w", err)
	}
	defer f.Close()
	if b.Model, err = train.Load(f, catalog.Decoders()); err != nil {
		return nil, fmt.Errorf("load bundle: %s: %w", dir, err)
	}
	var sig Signature
	switch err := fsx.ReadJSON(filepath.Join(dir, SignatureFile), &sig); {
	case err == nil:
		b.Signature = &sig
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("load bundle: %w", err)
	}
	return &b, nil
}

// Signature is what a client sends and what it gets back: the raw input
// columns with their types, one example row, and the probabilities the
// model gives for it. Serving scores the example when it loads a model,
// and refuses one that answers otherwise.
type Signature struct {
	Inputs  []features.Input `json:"inputs"`
	Example features.Row     `json:"example"`
	// ExampleOutput is the model's output for Example (one probability
	// for a binary model, one per class for a multiclass one, the
	// predicted value for a regression).
	ExampleOutput []float64 `json:"example_output"`
}

// NewSignature builds the signature from the first row of tbl, through
// the single-row path that serving uses.
func NewSignature(p *features.Pipeline, m train.Model, tbl arrow.Table) (*Signature, error) {
	sig := &Signature{Inputs: p.Inputs, Example: features.Row{}}
	for _, in := range p.Inputs {
		j := tbl.Schema().FieldIndices(in.Name)
		if len(j) != 1 || tbl.NumRows() == 0 {
			return nil, fmt.Errorf("signature: no example value for %q", in.Name)
		}
		sig.Example[in.Name] = firstValue(tbl.Column(j[0]).Data())
	}
	out, err := sig.Score(p, m)
	if err != nil {
		return nil, err
	}
	sig.ExampleOutput = out
	return sig, nil
}

// Score runs the example through the single-row path and returns the
// model's output for it.
func (sig *Signature) Score(p *features.Pipeline, m train.Model) ([]float64, error) {
	row, err := p.TransformRow(sig.Example, nil)
	if err != nil {
		return nil, fmt.Errorf("signature: %w", err)
	}
	out := make([]float64, m.Outputs())
	m.PredictRow(row, out)
	return out, nil
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
