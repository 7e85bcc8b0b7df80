package train

import (
	"io"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/model"
)

// A fitted model and everything that reads one (prediction, the saved
// envelope, explanations, importance) live in package model, which
// serving imports without any fitting code. Fitting code names them
// through train, as it did before they moved: these are the same types,
// constants and functions under a second name.

// The model types.
type (
	Task             = model.Task
	Model            = model.Model
	Decoder          = model.Decoder
	Explainable      = model.Explainable
	Explainer        = model.Explainer
	Importancer      = model.Importancer
	Importance       = model.Importance
	ColumnImportance = model.ColumnImportance
	Log1pModel       = model.Log1pModel
)

// The tasks, the saved envelope's version, the target transform and the
// kinds of importance.
const (
	Binary                = model.Binary
	Multiclass            = model.Multiclass
	Regression            = model.Regression
	FormatVersion         = model.FormatVersion
	TargetLog1p           = model.TargetLog1p
	ImportanceGain        = model.ImportanceGain
	ImportanceCoefficient = model.ImportanceCoefficient
)

// The sentinel errors of saved models and explanations.
var (
	ErrUnknownModel   = model.ErrUnknownModel
	ErrFormat         = model.ErrFormat
	ErrNotExplainable = model.ErrNotExplainable
)

// ClassTask is model.ClassTask.
func ClassTask(classes int) Task { return model.ClassTask(classes) }

// Save is model.Save.
func Save(w io.Writer, m Model) error { return model.Save(w, m) }

// Load is model.Load.
func Load(r io.Reader, decoders map[string]Decoder) (Model, error) { return model.Load(r, decoders) }

// Explain is model.Explain.
func Explain(m Model) (Explainer, error) { return model.Explain(m) }

// Importances is model.Importances.
func Importances(m Model, p *features.Pipeline) *Importance { return model.Importances(m, p) }
