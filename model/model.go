package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/internal/jsonread"
)

// Task is what a model predicts: the kind of its label.
type Task string

// The tasks. A model's Task says what its outputs mean.
const (
	// Binary: one output per row, the probability of the positive class.
	Binary Task = "binary"
	// Multiclass: K outputs per row (K > 2), the probabilities of the K
	// classes, summing to 1.
	Multiclass Task = "multiclass"
	// Regression: one output per row, the predicted value of the target
	// on its original scale.
	Regression Task = "regression"
)

// ClassTask is the task of a classifier of the given number of classes:
// Binary for 2, Multiclass for more.
func ClassTask(classes int) Task {
	if classes == 2 {
		return Binary
	}
	return Multiclass
}

// Model is a fitted classifier or regressor. It is what every trainer
// returns, what evaluation scores and what serving calls.
//
// A binary model has one output per row: the probability of the positive
// class. A K-class model (K > 2) has K outputs per row that sum to 1. A
// regression model has one output per row: the predicted value.
//
// A Model is safe for concurrent use by multiple goroutines once fitted.
// Every concrete model is a plain struct that encoding/json can marshal
// and unmarshal: that is its saved form (see Save).
type Model interface {
	// Kind is the trainer name that produced the model ("gbdt", "logreg", ...).
	Kind() string
	// Task is what the model predicts, and so what its outputs mean.
	Task() Task
	// Outputs is 1 for a binary or regression model and K for a K-class
	// model.
	Outputs() int
	// Predict scores every row of x and returns x.Rows*Outputs() outputs,
	// row-major: probabilities for a classifier, values for a regressor.
	Predict(x *features.Matrix) []float64
	// PredictRow scores one row vector (as returned by
	// features.Pipeline.TransformRow) into out, which has length Outputs().
	// It gives the same numbers as Predict on the same row, bit for bit.
	PredictRow(row []float64, out []float64)
}

// Sentinel errors of saved models.
var (
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
	Format  string `json:"format"`
	Version int    `json:"version"`
	Kind    string `json:"kind"`
	// Target is the transform the model was fitted on the target with
	// (TargetLog1p), empty for none.
	Target string          `json:"target,omitempty"`
	Model  json.RawMessage `json:"model"`
}

const formatName = "mlpipe-model"

// Save writes m in the versioned saved-model format. A *Log1pModel is
// saved as its inner model with the envelope's target set.
func Save(w io.Writer, m Model) error {
	env := envelope{Format: formatName, Version: FormatVersion, Kind: m.Kind()}
	inner := m
	if lm, ok := m.(*Log1pModel); ok {
		inner, env.Target = lm.Inner, TargetLog1p
	}
	b, err := json.Marshal(inner)
	if err != nil {
		return fmt.Errorf("save %s model: %w", m.Kind(), err)
	}
	env.Model = b
	enc := json.NewEncoder(w)
	if err := enc.Encode(env); err != nil {
		return fmt.Errorf("save %s model: %w", m.Kind(), err)
	}
	return nil
}

// Decoder turns the JSON of one model kind back into a Model.
type Decoder func(data []byte) (Model, error)

// Load reads a model saved by Save, using decoders to rebuild it by kind
// (the catalog of trainers provides them). It is Unmarshal of all of r.
func Load(r io.Reader, decoders map[string]Decoder) (Model, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("load model: %w", err)
	}
	return Unmarshal(data, decoders)
}

// Unmarshal rebuilds a model from the bytes Save wrote, using decoders
// by kind. The envelope is read with jsonread, which checks its grammar
// and hands the model's own JSON, a slice of data, to its kind's decoder:
// the model (megabytes of trees) is scanned once here and decoded once
// by encoding/json, not copied and scanned again as a json.RawMessage.
func Unmarshal(data []byte, decoders map[string]Decoder) (Model, error) {
	env, err := readEnvelope(data)
	if err != nil {
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
	if env.Target != "" && env.Target != TargetLog1p {
		return nil, fmt.Errorf("load %s model: %w: unknown target transform %q", env.Kind, ErrFormat, env.Target)
	}
	if env.Model == nil {
		return nil, fmt.Errorf("load %s model: %w: no \"model\"", env.Kind, ErrFormat)
	}
	m, err := decode(env.Model)
	if err != nil {
		return nil, fmt.Errorf("load %s model: %w", env.Kind, err)
	}
	if env.Target == TargetLog1p {
		if m.Task() != Regression {
			return nil, fmt.Errorf("load %s model: %w: a log1p target on a %s model", env.Kind, ErrFormat, m.Task())
		}
		return &Log1pModel{Inner: m}, nil
	}
	return m, nil
}

// readEnvelope reads the members of the envelope that data holds;
// Model is a slice of data. Members it does not know are skipped, as
// encoding/json would.
func readEnvelope(data []byte) (envelope, error) {
	var env envelope
	var rd jsonread.Reader
	rd.Reset(data)
	err := rd.Object(func(name []byte) error {
		var err error
		switch string(name) {
		case "format":
			env.Format, err = readString(&rd)
		case "kind":
			env.Kind, err = readString(&rd)
		case "target":
			env.Target, err = readString(&rd)
		case "version":
			var txt []byte
			if txt, err = rd.Number(); err == nil {
				if env.Version, err = strconv.Atoi(string(txt)); err != nil {
					err = fmt.Errorf("version %s is not a whole number", txt)
				}
			}
		case "model":
			env.Model, err = rd.Raw()
		default:
			err = rd.Skip()
		}
		if err != nil {
			return fmt.Errorf("%q: %w", name, err)
		}
		return nil
	})
	if err == nil {
		err = rd.Finish()
	}
	return env, err
}

func readString(rd *jsonread.Reader) (string, error) {
	s, err := rd.Str()
	return string(s), err
}

// PredictByRow is Predict for a model with no batch path of its own: it
// scores each row of x with m.PredictRow, so both give the same numbers
// bit for bit. It panics, naming the model's kind, if x does not have
// cols columns.
func PredictByRow(m Model, cols int, x *features.Matrix) []float64 {
	if len(x.Data) != cols {
		panic(fmt.Sprintf("%s: predict: matrix has %d columns, the model %d", m.Kind(), len(x.Data), cols))
	}
	k := m.Outputs()
	out := make([]float64, x.Rows*k)
	row := make([]float64, cols)
	for i := range x.Rows {
		m.PredictRow(x.Row(i, row), out[i*k:(i+1)*k])
	}
	return out
}
