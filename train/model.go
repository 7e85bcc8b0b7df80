package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/mlpipe/mlpipe/features"
)

// Model is a fitted classifier. It is what every trainer returns, what
// evaluation scores and what serving calls.
//
// A binary model has one output per row: the probability of the positive
// class. A K-class model (K > 2) has K outputs per row that sum to 1.
//
// A Model is safe for concurrent use by multiple goroutines once fitted.
// Every concrete model is a plain struct that encoding/json can marshal
// and unmarshal: that is its saved form (see Save).
type Model interface {
	// Kind is the trainer name that produced the model ("gbdt", "logreg", ...).
	Kind() string
	// Outputs is 1 for a binary model and K for a K-class model.
	Outputs() int
	// PredictProba scores every row of x and returns x.Rows*Outputs()
	// probabilities, row-major.
	PredictProba(x *features.Matrix) []float64
	// PredictRow scores one row vector (as returned by
	// features.Pipeline.TransformRow) into out, which has length Outputs().
	// It gives the same numbers as PredictProba on the same row, bit for bit.
	PredictRow(row []float64, out []float64)
}

// Dataset is what a trainer learns from: a design matrix and a label per
// row.
type Dataset struct {
	X *features.Matrix
	// Y is the label of each row: 0 or 1 for a binary task, the class
	// index in [0, Classes) for a multiclass one.
	Y []float64
	// Classes is 2 for a binary task, K for a K-class one.
	Classes int
	// ClassNames names the classes, when known (len == Classes).
	ClassNames []string
}

// Validate checks that d is well formed: Y matches X, labels are in
// range, categorical codes are in range.
func (d *Dataset) Validate() error {
	if d == nil || d.X == nil {
		return errors.New("dataset: no data")
	}
	if len(d.Y) != d.X.Rows {
		return fmt.Errorf("dataset: %d labels for %d rows", len(d.Y), d.X.Rows)
	}
	if d.Classes < 2 {
		return fmt.Errorf("dataset: %w: %d classes", ErrOneClass, d.Classes)
	}
	for i, y := range d.Y {
		if y != float64(int(y)) || y < 0 || int(y) >= d.Classes {
			return fmt.Errorf("dataset: row %d: label %g is not a class in [0, %d)", i, y, d.Classes)
		}
	}
	return nil
}

// Trainer fits a model. Fit may use valid (which may be nil) for early
// stopping; it stops when ctx is cancelled and returns ctx's error.
type Trainer interface {
	Name() string
	Fit(ctx context.Context, train, valid *Dataset) (Model, error)
}

// Sentinel errors of training.
var (
	// ErrOneClass means the labels hold fewer than two classes.
	ErrOneClass = errors.New("fewer than two classes")
	// ErrUnknownModel means a saved model or a config names a model kind
	// that no trainer provides.
	ErrUnknownModel = errors.New("unknown model kind")
	// ErrFormat means a saved model is not in a format this code reads.
	ErrFormat = errors.New("unsupported model file")
)

// FormatVersion is the version of the saved-model envelope. Load refuses
// other versions.
const FormatVersion = 1

// envelope is the saved form of a model: its kind and version beside the
// model's own JSON.
type envelope struct {
	Format  string          `json:"format"`
	Version int             `json:"version"`
	Kind    string          `json:"kind"`
	Model   json.RawMessage `json:"model"`
}

const formatName = "mlpipe-model"

// Save writes m in the versioned saved-model format.
func Save(w io.Writer, m Model) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("save %s model: %w", m.Kind(), err)
	}
	enc := json.NewEncoder(w)
	if err := enc.Encode(envelope{Format: formatName, Version: FormatVersion, Kind: m.Kind(), Model: b}); err != nil {
		return fmt.Errorf("save %s model: %w", m.Kind(), err)
	}
	return nil
}

// Decoder turns the JSON of one model kind back into a Model.
type Decoder func(data []byte) (Model, error)

// Load reads a model saved by Save, using decoders to rebuild it by kind
// (the catalog of trainers provides them).
func Load(r io.Reader, decoders map[string]Decoder) (Model, error) {
	var env envelope
	dec := json.NewDecoder(r)
	if err := dec.Decode(&env); err != nil {
		return nil, fmt.Errorf("load model: %w: %v", ErrFormat, err)
	}
	if env.Format != formatName {
		return nil, fmt.Errorf("load model: %w: format %q, want %q", ErrFormat, env.Format, formatName)
	}
	if env.Version != FormatVersion {
		return nil, fmt.Errorf("load model: %w: version %d, this code reads version %d", ErrFormat, env.Version, FormatVersion)
	}
	decode, ok := decoders[env.Kind]
	if !ok {
		return nil, fmt.Errorf("load model: %w %q", ErrUnknownModel, env.Kind)
	}
	m, err := decode(env.Model)
	if err != nil {
		return nil, fmt.Errorf("load %s model: %w", env.Kind, err)
	}
	return m, nil
}
