package monitor

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/mlpipe/mlpipe/bundle"
	"github.com/mlpipe/mlpipe/calibrate"
	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/ingest/profile"
	"github.com/mlpipe/mlpipe/internal/fsx"
	"github.com/mlpipe/mlpipe/model"
)

// Baseline is what a window of traffic is compared with: one model
// bundle's training profile, its reference sample if it has one, its
// inputs and its test metrics.
type Baseline struct {
	// Dir is the bundle directory.
	Dir string
	// Info is the bundle's training.json: model name, kind, classes.
	Info bundle.Info
	// Version is the model's version in the registry, 0 when unknown (a
	// bundle read from a directory). When set, the predicted-probability
	// drift and the performance use only the predictions of this version.
	Version int
	// Inputs are the model's raw inputs (signature.json, else
	// features.json): the features the monitor watches.
	Inputs []features.Input
	// Profile is the training split's profile (profile.json).
	Profile *profile.Profile
	// Reference is the reference sample; nil when the bundle has none,
	// and the monitor then computes PSI from the profile alone.
	Reference *Reference
	// Test holds the test-split metrics of evaluation.json; nil without
	// that file.
	Test *TestMetrics
	// Calibration is the drift statistics' null on the training period
	// (ThresholdsFile), from which the series' thresholds are drawn; nil
	// without it (the fixed thresholds apply).
	Calibration *Calibration
	// Calibrator maps a binary model's probability to a calibrated one
	// (calibrate.File), for the performance estimate; nil without it.
	Calibrator *calibrate.Map
	// DomainFit fits the domain classifier (domaingbdt.Fit); nil: the
	// report has no domain classifier. LoadBaseline leaves it nil.
	DomainFit DomainFit
	// Notes say what the baseline lacks, for the report.
	Notes []string
}

// TestMetrics are the headline metrics of a bundle's evaluation.json,
// the model's scores on the test split when it was registered. A metric
// the file does not hold is nil.
type TestMetrics struct {
	Rows     int      `json:"rows"`
	ROCAUC   *float64 `json:"roc_auc,omitempty"`
	LogLoss  *float64 `json:"log_loss,omitempty"`
	ECE      *float64 `json:"ece,omitempty"`
	Accuracy *float64 `json:"accuracy,omitempty"`
	// A regression's.
	RMSE *float64 `json:"rmse,omitempty"`
	MAE  *float64 `json:"mae,omitempty"`
}

// LoadBaseline reads the baseline of the bundle directory dir. It needs
// training.json (else an error wrapping bundle.ErrNotBundle), the inputs
// (signature.json or features.json) and profile.json (else an error
// wrapping ErrNoProfile). The reference files and evaluation.json are
// optional: without them, the baseline's Notes say what is left out.
// Every error names the file.
func LoadBaseline(dir string) (*Baseline, error) {
	const op = "load baseline"
	info, err := bundle.ReadInfo(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	b := &Baseline{Dir: dir, Info: *info}
	var sig bundle.Signature
	switch err := fsx.ReadJSON(filepath.Join(dir, bundle.SignatureFile), &sig); {
	case err == nil && len(sig.Inputs) > 0:
		b.Inputs = sig.Inputs
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%s: %w", op, err)
	default:
		var fp struct {
			Inputs []features.Input `json:"inputs"`
		}
		if err := fsx.ReadJSON(filepath.Join(dir, bundle.FeaturesFile), &fp); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", op, filepath.Join(dir, bundle.FeaturesFile), err)
		}
		b.Inputs = fp.Inputs
	}
	if len(b.Inputs) == 0 {
		return nil, fmt.Errorf("%s: %s: the model has no inputs (neither %s nor %s lists them)", op, dir, bundle.SignatureFile, bundle.FeaturesFile)
	}
	path := filepath.Join(dir, bundle.ProfileFile)
	b.Profile = &profile.Profile{}
	if err := fsx.ReadJSON(path, b.Profile); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: %s: %w: %w (registered versions have one; `mlpipe train --out` writes none)", op, path, ErrNoProfile, err)
		}
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	switch ref, err := ReadReference(dir); {
	case err == nil:
		b.Reference = ref
		if b.regression() {
			ref.Output = "prediction"
		}
		if ref.Scores == nil {
			b.Notes = append(b.Notes, fmt.Sprintf("%s has no %s: the model's output is not compared", dir, ReferenceScoresFile))
		}
	case errors.Is(err, ErrNoReference):
		b.Notes = append(b.Notes, fmt.Sprintf("%s has no %s: PSI from the training profile only; no KS test, Wasserstein distance, time-of-day or probability drift", dir, ReferenceFile))
	default:
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	var cal Calibration
	switch err := fsx.ReadJSON(filepath.Join(dir, ThresholdsFile), &cal); {
	case err == nil:
		b.Calibration = &cal
	case errors.Is(err, fs.ErrNotExist):
		b.Notes = append(b.Notes, fmt.Sprintf("%s has no %s: the fixed thresholds judge every feature", dir, ThresholdsFile))
	default:
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if b.binary() {
		var m calibrate.Map
		switch err := fsx.ReadJSON(filepath.Join(dir, calibrate.File), &m); {
		case err == nil:
			if err := m.Validate(); err != nil {
				return nil, fmt.Errorf("%s: %s: %w", op, filepath.Join(dir, calibrate.File), err)
			}
			b.Calibrator = &m
		case errors.Is(err, fs.ErrNotExist):
			b.Notes = append(b.Notes, fmt.Sprintf("%s has no %s: no performance estimate without labels", dir, calibrate.File))
		default:
			return nil, fmt.Errorf("%s: %w", op, err)
		}
	}
	var test TestMetrics
	switch err := fsx.ReadJSON(filepath.Join(dir, bundle.EvaluationFile), &test); {
	case err == nil:
		b.Test = &test
	case errors.Is(err, fs.ErrNotExist):
		b.Notes = append(b.Notes, fmt.Sprintf("%s has no %s: the window's metrics are not compared with the test split's", dir, bundle.EvaluationFile))
	default:
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return b, nil
}

// binary reports whether the model is a binary classifier.
func (b *Baseline) binary() bool { return !b.regression() && len(b.Info.Classes) <= 2 }

// regression reports whether the model is a regression.
func (b *Baseline) regression() bool { return b.Info.Task == model.Regression }
