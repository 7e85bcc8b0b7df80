package evaluate

import (
	"fmt"
)

// Task is the kind of task a report evaluates.
type Task string

// The tasks.
const (
	BinaryTask     Task = "binary"
	MulticlassTask Task = "multiclass"
	RegressionTask Task = "regression"
)

// DefaultCurvePoints is the most points a curve keeps in a report when
// Options does not say.
const DefaultCurvePoints = 200

// Options tunes EvaluateBinary and EvaluateMulticlass. The zero value
// is sensible: the max-F1 threshold chosen on the evaluated rows, 10
// calibration bins, curves of at most 200 points, no slices.
type Options struct {
	// ThresholdMethod says how EvaluateBinary chooses its decision
	// threshold: MaxF1 (the default when empty), MinCost or Fixed.
	ThresholdMethod ThresholdMethod
	// Threshold is the threshold for Fixed.
	Threshold float64
	// CostRatio is the cost of a false positive over the cost of a false
	// negative, for MinCost. Default 1.
	CostRatio float64
	// ValidLabels and ValidProbs are the validation rows that MaxF1 and
	// MinCost choose the threshold on. When both are nil the threshold is
	// chosen on the evaluated rows themselves, and the report's
	// threshold says so (chosen_on "evaluation").
	ValidLabels, ValidProbs []float64

	// Bins is the number of equal-width calibration bins. Default
	// DefaultBins.
	Bins int
	// CurvePoints is the most points the report keeps of each curve
	// (see ROCCurve.Downsample); values below 2 mean DefaultCurvePoints.
	CurvePoints int

	// SliceKeys, when not nil, holds one key per evaluated row (the
	// origin airport, say), and adds the metrics of slices chosen by
	// Slices to a binary report (EvaluateSlices).
	SliceKeys []string
	Slices    SliceOptions

	// ClassNames names the K classes of a multiclass report, if known.
	ClassNames []string

	// TrainTargets are a regression's training targets, for the mean
	// and median baselines of EvaluateRegression (none when nil).
	TrainTargets []float64
}

// Report is the evaluation of one model on one data set. It is plain
// data and marshals to JSON with the keys shown on each field; exactly
// one of BinaryMetrics, MulticlassMetrics and RegressionMetrics is set
// (ClassificationMetrics with either of the first two), and their fields
// sit at the top level of the JSON object, beside task and rows.
type Report struct {
	Task Task `json:"task"`
	Rows int  `json:"rows"`

	*ClassificationMetrics
	*BinaryMetrics
	*MulticlassMetrics
	*RegressionMetrics

	// Explanations is set by the pipeline for a model that explains
	// itself (explanations.go).
	Explanations *Explanations `json:"explanations,omitempty"`
}

// ClassificationMetrics is the part of a Report common to binary and
// multiclass tasks.
type ClassificationMetrics struct {
	// Accuracy is the share of rows predicted correctly: at the
	// threshold for a binary task, by the most probable class for a
	// multiclass one.
	Accuracy float64 `json:"accuracy"`
	// LogLoss is LogLoss or MulticlassLogLoss.
	LogLoss float64 `json:"log_loss"`
}

// BinaryMetrics is the part of a Report particular to a binary task.
type BinaryMetrics struct {
	Positives    int     `json:"positives"`
	PositiveRate float64 `json:"positive_rate"`
	// Threshold is the decision threshold of Precision, Recall, F1,
	// Confusion, Report.Accuracy and the slices' thresholded metrics.
	Threshold Threshold `json:"threshold"`

	ROCAUC float64 `json:"roc_auc"` // ROCAUC
	PRAUC  float64 `json:"pr_auc"`  // AveragePrecision
	Brier  float64 `json:"brier"`   // Brier

	Precision float64   `json:"precision"`
	Recall    float64   `json:"recall"`
	F1        float64   `json:"f1"`
	Confusion Confusion `json:"confusion"`

	ECE         float64          `json:"ece"`         // ECE of Calibration
	Calibration []CalibrationBin `json:"calibration"` // non-empty bins

	// ROC and PR are the curves, downsampled to Options.CurvePoints.
	ROC ROCCurve `json:"roc_curve"`
	PR  PRCurve  `json:"pr_curve"`

	// Slices is set when Options.SliceKeys is.
	Slices *SliceReport `json:"slices,omitempty"`
}

// MulticlassMetrics is the part of a Report particular to a K-class task.
type MulticlassMetrics struct {
	Classes         int             `json:"classes"`
	MacroF1         float64         `json:"macro_f1"`
	WeightedF1      float64         `json:"weighted_f1"`
	PerClass        []ClassMetrics  `json:"per_class"`
	ConfusionMatrix ConfusionMatrix `json:"confusion_matrix"`
}

// EvaluateBinary evaluates the predicted probabilities of a binary
// classifier against the labels: every metric of this package, the
// threshold chosen as opts says, calibration, curves and, if asked for,
// slices.
//
// Each label must be 0 or 1, with both present, and each probability in
// [0, 1]; the same holds for validation rows. It returns an error
// wrapping ErrEmpty, ErrOneClass or ErrInvalid otherwise, or for an
// unknown threshold method or a bad cost ratio. It panics if labels and
// probs (or the validation pair, or SliceKeys) differ in length.
func EvaluateBinary(labels, probs []float64, opts Options) (*Report, error) {
	const op = "evaluate binary"
	positives, err := checkBinary(op, labels, probs, true)
	if err != nil {
		return nil, err
	}
	r := rank(labels, probs, positives)
	if err := needBothClasses(op, r); err != nil {
		return nil, err
	}
	t, err := chooseThreshold(r, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	bins := opts.Bins
	if bins <= 0 {
		bins = DefaultBins
	}
	points := opts.CurvePoints
	if points < 2 {
		points = DefaultCurvePoints
	}

	c := confusionAt(labels, probs, t.Value)
	cal := calibration(labels, probs, bins)
	b := &BinaryMetrics{
		Positives:    positives,
		PositiveRate: ratio(positives, len(labels)),
		Threshold:    t,
		ROCAUC:       rocAUC(r),
		PRAUC:        averagePrecision(r),
		Brier:        brier(labels, probs),
		Precision:    c.Precision(),
		Recall:       c.Recall(),
		F1:           c.F1(),
		Confusion:    c,
		ECE:          ECE(cal),
		Calibration:  cal,
		ROC:          rocCurve(r).Downsample(points),
		PR:           prCurve(r).Downsample(points),
	}
	if opts.SliceKeys != nil {
		b.Slices, err = EvaluateSlices(opts.SliceKeys, labels, probs, t.Value, opts.Slices)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
	}
	return &Report{
		Task:                  BinaryTask,
		Rows:                  len(labels),
		ClassificationMetrics: &ClassificationMetrics{Accuracy: c.Accuracy(), LogLoss: logLoss(labels, probs)},
		BinaryMetrics:         b,
	}, nil
}

// chooseThreshold picks the decision threshold as opts says: on the
// validation rows if given, else on the evaluated rows, already ranked
// in r.
func chooseThreshold(r ranked, opts Options) (Threshold, error) {
	method := opts.ThresholdMethod
	if method == "" {
		method = MaxF1
	}
	costRatio := opts.CostRatio
	if costRatio == 0 {
		costRatio = 1
	}
	switch method {
	case Fixed:
		if err := checkScore(opts.Threshold, false); err != nil {
			return Threshold{}, fmt.Errorf("fixed threshold: %w: %v", ErrInvalid, err)
		}
		return Threshold{Value: opts.Threshold, Method: Fixed}, nil
	case MinCost:
		if err := checkCostRatio(costRatio); err != nil {
			return Threshold{}, err
		}
	case MaxF1:
	default:
		return Threshold{}, fmt.Errorf("%w: unknown threshold method %q", ErrInvalid, method)
	}

	on := "evaluation"
	if opts.ValidLabels != nil || opts.ValidProbs != nil {
		positives, err := checkBinary("validation", opts.ValidLabels, opts.ValidProbs, true)
		if err != nil {
			return Threshold{}, err
		}
		r, on = rank(opts.ValidLabels, opts.ValidProbs, positives), "validation"
	}
	t := Threshold{Method: method, ChosenOn: on}
	if method == MinCost {
		t.Value, _ = minCost(r, costRatio)
		t.CostRatio = costRatio
		return t, nil
	}
	if len(r.pos) == 0 {
		return Threshold{}, fmt.Errorf("max-F1 threshold on %s rows: %w: no positive labels", on, ErrOneClass)
	}
	t.Value, _ = maxF1(r)
	return t, nil
}

// EvaluateMulticlass evaluates the predicted class probabilities of a
// k-class classifier against the labels: accuracy, log loss, macro and
// weighted F1, the per-class table and the confusion matrix. Of opts it
// reads only ClassNames.
//
// labels holds a class index in [0, k) per row, with at least two
// classes present; probs holds len(labels)×k probabilities, row-major,
// each row summing to 1. It returns an error wrapping ErrEmpty,
// ErrOneClass or ErrInvalid otherwise. It panics if k < 2, if
// len(probs) != len(labels)×k, or if ClassNames is set and does not have
// k names.
func EvaluateMulticlass(labels, probs []float64, k int, opts Options) (*Report, error) {
	const op = "evaluate multiclass"
	if opts.ClassNames != nil && len(opts.ClassNames) != k {
		panic(fmt.Sprintf("evaluate: %s: %d class names for %d classes", op, len(opts.ClassNames), k))
	}
	if err := checkMulticlass(op, labels, probs, k); err != nil {
		return nil, err
	}
	if err := needClasses(op, labels, k); err != nil {
		return nil, err
	}
	m := multiclassConfusion(labels, probs, k)
	perClass := m.PerClass()
	for i := range perClass {
		if opts.ClassNames != nil {
			perClass[i].Name = opts.ClassNames[i]
		}
	}
	return &Report{
		Task:                  MulticlassTask,
		Rows:                  len(labels),
		ClassificationMetrics: &ClassificationMetrics{Accuracy: m.Accuracy(), LogLoss: multiclassLogLoss(labels, probs, k)},
		MulticlassMetrics: &MulticlassMetrics{
			Classes:         k,
			MacroF1:         m.MacroF1(),
			WeightedF1:      m.WeightedF1(),
			PerClass:        perClass,
			ConfusionMatrix: m,
		},
	}, nil
}
