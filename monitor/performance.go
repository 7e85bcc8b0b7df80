package monitor

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/mlpipe/mlpipe/evaluate"
	"github.com/mlpipe/mlpipe/internal/numfmt"
	"github.com/mlpipe/mlpipe/predlog"
)

// performance computes the evaluation metrics (package evaluate) over
// the joined predictions that have a label, and compares them with the
// bundle's test metrics. It returns nil when no prediction is labelled.
func performance(b *Baseline, joined []predlog.Joined, t Thresholds) *Performance {
	if b.regression() {
		return regressionPerformance(b, joined, t)
	}
	p := &Performance{Test: b.Test}
	k := len(b.Info.Classes)
	binary := b.binary()
	var labels, probs []float64
	for i := range joined {
		j := &joined[i]
		if !j.Labeled {
			continue
		}
		if b.Version > 0 && j.Version != b.Version {
			p.OtherVersions++
			continue
		}
		y, ok := classIndex(j.Label, b.Info.Classes)
		if !ok {
			p.BadLabels++
			continue
		}
		if binary {
			if j.Probabilities != nil || !(j.Probability >= 0 && j.Probability <= 1) {
				p.BadLabels++ // a prediction that is no probability: nothing to score
				continue
			}
			probs = append(probs, j.Probability)
		} else {
			if len(j.Probabilities) != k {
				p.BadLabels++
				continue
			}
			probs = append(probs, j.Probabilities...)
		}
		labels = append(labels, float64(y))
	}
	p.Labelled = len(labels)
	if p.Labelled == 0 && p.BadLabels == 0 && p.OtherVersions == 0 {
		return nil
	}
	if p.Labelled == 0 {
		p.Status, p.Reason = StatusNotEnoughData, "no usable labels"
		return p
	}
	var err error
	if binary {
		err = binaryMetrics(p, labels, probs)
	} else {
		err = multiclassMetrics(p, labels, probs, k)
	}
	switch {
	case err != nil:
		p.Status, p.Reason = StatusNotEnoughData, err.Error()
	case p.Labelled < t.MinSamples:
		p.Status = StatusNotEnoughData
		p.Reason = fmt.Sprintf("%s labelled predictions; min_samples is %s", numfmt.Thousands(p.Labelled), numfmt.Thousands(t.MinSamples))
	default:
		p.Status = StatusOK
	}
	if p.ROCAUC != nil && b.Test != nil && b.Test.ROCAUC != nil {
		drop := *b.Test.ROCAUC - *p.ROCAUC
		p.AUCDrop = &drop
	}
	return p
}

// regressionPerformance is performance for a regression: RMSE and MAE
// of the labelled predictions (each label the true value, a number),
// and the rise of RMSE over the test split's, as a share of it.
func regressionPerformance(b *Baseline, joined []predlog.Joined, t Thresholds) *Performance {
	p := &Performance{Test: b.Test}
	var y, pred []float64
	for i := range joined {
		j := &joined[i]
		if !j.Labeled {
			continue
		}
		if b.Version > 0 && j.Version != b.Version {
			p.OtherVersions++
			continue
		}
		v, ok := j.Label.(float64)
		if !ok || math.IsNaN(v) || math.Abs(v) > evaluate.MaxTarget || j.Prediction == nil {
			// Not a number, one whose squared error would overflow the
			// metrics (a report with an infinite RMSE cannot be written),
			// or a prediction that is no value: nothing to score.
			p.BadLabels++
			continue
		}
		y, pred = append(y, v), append(pred, *j.Prediction)
	}
	p.Labelled = len(y)
	if p.Labelled == 0 && p.BadLabels == 0 && p.OtherVersions == 0 {
		return nil
	}
	if p.Labelled == 0 {
		p.Status, p.Reason = StatusNotEnoughData, "no usable labels (a regression's label is a number)"
		return p
	}
	rmse, _ := evaluate.RMSE(y, pred) // both finite and non-empty: no error
	mae, _ := evaluate.MAE(y, pred)
	p.RMSE, p.MAE = &rmse, &mae
	if p.Labelled < t.MinSamples {
		p.Status = StatusNotEnoughData
		p.Reason = fmt.Sprintf("%s labelled predictions; min_samples is %s", numfmt.Thousands(p.Labelled), numfmt.Thousands(t.MinSamples))
	} else {
		p.Status = StatusOK
	}
	if b.Test != nil && b.Test.RMSE != nil && *b.Test.RMSE > 0 {
		rise := rmse / *b.Test.RMSE - 1
		p.RMSERise = &rise
	}
	return p
}

func binaryMetrics(p *Performance, labels, probs []float64) error {
	for _, y := range labels {
		if y == 1 {
			p.Positives++
		}
	}
	ll, err := evaluate.LogLoss(labels, probs)
	if err != nil {
		return err
	}
	p.LogLoss = &ll
	bins, err := evaluate.Calibration(labels, probs, evaluate.DefaultBins)
	if err != nil {
		return err
	}
	ece := evaluate.ECE(bins)
	p.ECE = &ece
	auc, err := evaluate.ROCAUC(labels, probs)
	if errors.Is(err, evaluate.ErrOneClass) {
		return fmt.Errorf("ROC AUC needs both classes: %w", err)
	}
	if err != nil {
		return err
	}
	p.ROCAUC = &auc
	return nil
}

func multiclassMetrics(p *Performance, labels, probs []float64, k int) error {
	ll, err := evaluate.MulticlassLogLoss(labels, probs, k)
	if err != nil {
		return err
	}
	p.LogLoss = &ll
	cm, err := evaluate.MulticlassConfusion(labels, probs, k)
	if err != nil {
		return err
	}
	acc := cm.Accuracy()
	p.Accuracy = &acc
	return nil
}

// classIndex reads a label as a class index. A binary model's classes
// are "0" and "1": true/false, 1/0, "1"/"0" and "true"/"false" all
// read. A multiclass label is a class name, or a number whose text is
// one.
func classIndex(v any, classes []string) (int, bool) {
	if len(classes) <= 2 {
		switch x := v.(type) {
		case bool:
			if x {
				return 1, true
			}
			return 0, true
		case float64:
			if x == 0 || x == 1 {
				return int(x), true
			}
			return 0, false
		case string:
			switch x {
			case "1", "true":
				return 1, true
			case "0", "false":
				return 0, true
			}
		}
	}
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case float64:
		if x != math.Trunc(x) {
			return 0, false
		}
		s = strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		s = strconv.FormatBool(x)
	default:
		return 0, false
	}
	for k, c := range classes {
		if c == s {
			return k, true
		}
	}
	return 0, false
}
