package evaluate_test

import (
	"math"
	"testing"

	"github.com/mlpipe/mlpipe/evaluate"
)

// The reference values in this file come from scikit-learn 1.2.1 (numpy
// 1.24.2), computed by testdata/reference.py; each comment names the
// call. Run it with /usr/bin/python3 after apt-get install python3-sklearn
// to see them again. The tests do not need Python.

// tol is the tolerance of a comparison with a reference value: the two
// implementations sum in different orders, so the last bits may differ.
const tol = 1e-12

// near reports whether got is within tol of want, relative to want's
// size when it exceeds 1.
func near(got, want float64) bool {
	return math.Abs(got-want) <= tol*max(1, math.Abs(want))
}

func nearAll(got, want []float64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if !near(got[i], want[i]) {
			return false
		}
	}
	return true
}

// binaryCase is a binary input with scikit-learn's metrics for it.
type binaryCase struct {
	name   string
	labels []float64
	probs  []float64

	rocAUC, ap, logLoss, brier float64
	// At threshold 0.5 (p >= 0.5 predicted positive).
	accuracy, precision, recall, f1 float64
	confusion                       evaluate.Confusion
	// Brute-force threshold selection (testdata/reference.py).
	maxF1Threshold, maxF1 float64
	minCost               map[float64][2]float64 // cost ratio → {threshold, cost}
}

// binaryCases are the binary reference inputs. For each:
//
//	roc_auc_score(y, p), average_precision_score(y, p),
//	log_loss(y, p, eps=1e-15, labels=[0, 1]), brier_score_loss(y, p),
//	at pred = p >= 0.5: accuracy_score, precision_score(zero_division=0),
//	recall_score, f1_score(zero_division=0), confusion_matrix(labels=[0, 1]);
//
// the thresholds are a brute-force search in testdata/reference.py over
// every distinct score (and max(p)+1 for the minimum cost), using
// f1_score for F1.
var binaryCases = []binaryCase{
	{
		// Ties across classes: 0.4 and 0.35 are each held by both classes.
		name:   "ties",
		labels: []float64{0, 0, 1, 1, 0, 1, 0, 1, 1, 0},
		probs:  []float64{0.1, 0.4, 0.35, 0.8, 0.4, 0.4, 0.2, 0.9, 0.35, 0.6},
		rocAUC: 0.68, ap: 0.75, logLoss: 0.5610885094221719, brier: 0.19850000000000004,
		accuracy: 0.6, precision: 0.6666666666666666, recall: 0.4, f1: 0.5,
		confusion:      evaluate.Confusion{TN: 4, FP: 1, FN: 3, TP: 2},
		maxF1Threshold: 0.35, maxF1: 0.7692307692307693,
		minCost: map[float64][2]float64{1: {0.8, 0.3}, 0.25: {0.35, 0.075}, 4: {0.8, 0.3}},
	},
	{
		name:   "all equal",
		labels: []float64{0, 1, 0, 1, 1},
		probs:  []float64{0.5, 0.5, 0.5, 0.5, 0.5},
		rocAUC: 0.5, ap: 0.6, logLoss: 0.6931471805599453, brier: 0.25,
		accuracy: 0.6, precision: 0.6, recall: 1, f1: 0.7499999999999999,
		confusion:      evaluate.Confusion{TN: 0, FP: 2, FN: 0, TP: 3},
		maxF1Threshold: 0.5, maxF1: 0.7499999999999999,
		minCost: map[float64][2]float64{1: {0.5, 0.4}, 0.25: {0.5, 0.1}, 4: {1.5, 0.6}},
	},
	{
		name:   "perfect",
		labels: []float64{0, 0, 1, 1},
		probs:  []float64{0.1, 0.2, 0.8, 0.9},
		rocAUC: 1, ap: 1, logLoss: 0.16425203348601802, brier: 0.024999999999999998,
		accuracy: 1, precision: 1, recall: 1, f1: 1,
		confusion:      evaluate.Confusion{TN: 2, FP: 0, FN: 0, TP: 2},
		maxF1Threshold: 0.8, maxF1: 1,
		minCost: map[float64][2]float64{1: {0.8, 0}, 0.25: {0.8, 0}, 4: {0.8, 0}},
	},
	{
		name:   "inverted",
		labels: []float64{1, 1, 0, 0},
		probs:  []float64{0.1, 0.2, 0.8, 0.9},
		rocAUC: 0, ap: 0.41666666666666663, logLoss: 1.956011502714073, brier: 0.7250000000000001,
		accuracy: 0, precision: 0, recall: 0, f1: 0,
		confusion:      evaluate.Confusion{TN: 0, FP: 2, FN: 2, TP: 0},
		maxF1Threshold: 0.1, maxF1: 0.6666666666666666,
		minCost: map[float64][2]float64{1: {1.9, 0.5}, 0.25: {0.1, 0.125}, 4: {1.9, 0.5}},
	},
	{
		// Probabilities of exactly 0 and 1, right and wrong: log loss clips.
		name:   "extremes",
		labels: []float64{1, 0, 1, 0, 1},
		probs:  []float64{0, 1, 1, 0, 0.7},
		rocAUC: 0.49999999999999994, ap: 0.5888888888888889, logLoss: 13.887005466238056, brier: 0.418,
		accuracy: 0.6, precision: 0.6666666666666666, recall: 0.6666666666666666, f1: 0.6666666666666666,
		confusion:      evaluate.Confusion{TN: 1, FP: 1, FN: 1, TP: 2},
		maxF1Threshold: 0, maxF1: 0.7499999999999999,
		minCost: map[float64][2]float64{1: {0.7, 0.4}, 0.25: {0, 0.1}, 4: {2, 0.6}},
	},
	{
		// 40 rows from numpy's default_rng(7), rounded to 2 decimals so
		// some scores tie (testdata/reference.py).
		name:   "random40",
		labels: random40Labels,
		probs:  random40Probs,
		rocAUC: 0.9053708439897699, ap: 0.9035303776683088, logLoss: 0.43346739996520894, brier: 0.13665,
		accuracy: 0.825, precision: 0.8571428571428571, recall: 0.7058823529411765, f1: 0.7741935483870968,
		confusion:      evaluate.Confusion{TN: 21, FP: 2, FN: 5, TP: 12},
		maxF1Threshold: 0.41, maxF1: 0.8108108108108107,
		minCost: map[float64][2]float64{1: {0.56, 0.15}, 0.25: {0.34, 0.075}, 4: {0.56, 0.15}},
	},
}

var (
	random40Labels = []float64{0, 0, 0, 1, 1, 0, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 1}
	random40Probs  = []float64{0.23, 0.27, 0.26, 0.41, 0.67, 0.52, 0.34, 0.42, 0.27, 0.12, 0.99, 0.81, 0.41, 0.26, 0.37, 0.21, 0.39, 0.24, 0.38, 0.54, 0.51, 0.69, 0.16, 0.68, 0.41, 0.13, 0.21, 0.43, 0.48, 0.01, 0.09, 0.78, 0.25, 0.56, 0.23, 0.91, 0.79, 0.58, 0.18, 0.61}
)

func TestBinaryReference(t *testing.T) {
	for _, tc := range binaryCases {
		t.Run(tc.name, func(t *testing.T) {
			check := func(metric string, got float64, err error, want float64) {
				t.Helper()
				if err != nil {
					t.Fatalf("%s: %v", metric, err)
				}
				if !near(got, want) {
					t.Errorf("%s = %.17g, want %.17g", metric, got, want)
				}
			}
			got, err := evaluate.ROCAUC(tc.labels, tc.probs)
			check("ROCAUC", got, err, tc.rocAUC)
			got, err = evaluate.AveragePrecision(tc.labels, tc.probs)
			check("AveragePrecision", got, err, tc.ap)
			got, err = evaluate.LogLoss(tc.labels, tc.probs)
			check("LogLoss", got, err, tc.logLoss)
			got, err = evaluate.Brier(tc.labels, tc.probs)
			check("Brier", got, err, tc.brier)

			c, err := evaluate.ConfusionAt(tc.labels, tc.probs, 0.5)
			if err != nil {
				t.Fatal(err)
			}
			if c != tc.confusion {
				t.Errorf("ConfusionAt = %+v, want %+v", c, tc.confusion)
			}
			check("Accuracy", c.Accuracy(), nil, tc.accuracy)
			check("Precision", c.Precision(), nil, tc.precision)
			check("Recall", c.Recall(), nil, tc.recall)
			check("F1", c.F1(), nil, tc.f1)

			th, f1, err := evaluate.MaxF1Threshold(tc.labels, tc.probs)
			check("MaxF1Threshold", th, err, tc.maxF1Threshold)
			check("max F1", f1, nil, tc.maxF1)
			for ratio, want := range tc.minCost {
				th, cost, err := evaluate.MinCostThreshold(tc.labels, tc.probs, ratio)
				check("MinCostThreshold", th, err, want[0])
				check("min cost", cost, nil, want[1])
			}
		})
	}
}

func TestCurvesReference(t *testing.T) {
	ties := binaryCases[0]
	roc, err := evaluate.ROC(ties.labels, ties.probs)
	if err != nil {
		t.Fatal(err)
	}
	// sklearn 1.2.1 roc_curve(y, p, drop_intermediate=False)
	want := evaluate.ROCCurve{
		FPR:        []float64{0.0, 0.0, 0.0, 0.2, 0.6, 0.6, 0.8, 1.0},
		TPR:        []float64{0.0, 0.2, 0.4, 0.4, 0.6, 1.0, 1.0, 1.0},
		Thresholds: []float64{1.9, 0.9, 0.8, 0.6, 0.4, 0.35, 0.2, 0.1},
	}
	if !nearAll(roc.FPR, want.FPR) || !nearAll(roc.TPR, want.TPR) || !nearAll(roc.Thresholds, want.Thresholds) {
		t.Errorf("ROC =\n%v\nwant\n%v", roc, want)
	}

	pr, err := evaluate.PrecisionRecall(ties.labels, ties.probs)
	if err != nil {
		t.Fatal(err)
	}
	// sklearn 1.2.1 precision_recall_curve(y, p), reversed; sklearn has
	// no threshold for the first point (recall 0), evaluate has max+1.
	wantPR := evaluate.PRCurve{
		Precision:  []float64{1.0, 1.0, 1.0, 0.6666666666666666, 0.5, 0.625, 0.5555555555555556, 0.5},
		Recall:     []float64{0.0, 0.2, 0.4, 0.4, 0.6, 1.0, 1.0, 1.0},
		Thresholds: []float64{1.9, 0.9, 0.8, 0.6, 0.4, 0.35, 0.2, 0.1},
	}
	if !nearAll(pr.Precision, wantPR.Precision) || !nearAll(pr.Recall, wantPR.Recall) || !nearAll(pr.Thresholds, wantPR.Thresholds) {
		t.Errorf("PrecisionRecall =\n%v\nwant\n%v", pr, wantPR)
	}
}

func TestCalibrationReference(t *testing.T) {
	bins, err := evaluate.Calibration(random40Labels, random40Probs, 10)
	if err != nil {
		t.Fatal(err)
	}
	// sklearn 1.2.1 calibration_curve(y, p, n_bins=10) returns
	// prob_true, prob_pred of the non-empty bins; the counts are
	// np.bincount of the bin indices (testdata/reference.py).
	wantObserved := []float64{0.0, 0.0, 0.1, 0.25, 0.5, 0.6, 1.0, 1.0, 1.0, 1.0}
	wantPredicted := []float64{0.049999999999999996, 0.14750000000000002, 0.24300000000000002, 0.37, 0.4266666666666667, 0.542, 0.6625, 0.785, 0.81, 0.95}
	wantCounts := []int{2, 4, 10, 4, 6, 5, 4, 2, 1, 2}
	if len(bins) != len(wantCounts) {
		t.Fatalf("%d bins, want %d: %+v", len(bins), len(wantCounts), bins)
	}
	for i, b := range bins {
		if !near(b.ObservedRate, wantObserved[i]) || !near(b.MeanPredicted, wantPredicted[i]) || b.Count != wantCounts[i] {
			t.Errorf("bin %d = %+v, want observed %g, predicted %g, count %d", i, b, wantObserved[i], wantPredicted[i], wantCounts[i])
		}
	}
	// sum(counts*|prob_true-prob_pred|)/n with the arrays above.
	if got, want := evaluate.ECE(bins), 0.13499999999999995; !near(got, want) {
		t.Errorf("ECE = %.17g, want %.17g", got, want)
	}
}

// multiclassCase is a K-class input with scikit-learn's metrics for it.
type multiclassCase struct {
	name   string
	labels []float64
	probs  []float64 // n×k, row-major
	k      int

	accuracy, macroF1, weightedF1, logLoss float64
	precision, recall, f1                  []float64
	support                                []int
	confusion                              evaluate.ConfusionMatrix
}

// multiclassCases are the multiclass reference inputs. For each, with
// pred = P.argmax(axis=1) and K = range(k):
//
//	accuracy_score(y, pred), f1_score(y, pred, average="macro") and
//	average="weighted" (zero_division=0),
//	log_loss(y, P, eps=1e-15, labels=K),
//	precision_recall_fscore_support(y, pred, labels=K, zero_division=0),
//	confusion_matrix(y, pred, labels=K).
var multiclassCases = []multiclassCase{
	{
		name:   "three classes",
		labels: []float64{0, 1, 2, 2, 1, 0, 2, 1},
		probs: []float64{
			0.7, 0.2, 0.1,
			0.1, 0.6, 0.3,
			0.2, 0.2, 0.6,
			0.3, 0.4, 0.3,
			0.5, 0.4, 0.1,
			0.4, 0.4, 0.2, // a tie between classes 0 and 1: argmax is 0
			0.0, 0.0, 1.0,
			0.1, 0.1, 0.8,
		},
		k:        3,
		accuracy: 0.625, macroF1: 0.6222222222222222, weightedF1: 0.6000000000000001, logLoss: 0.8396831940673759,
		precision: []float64{0.6666666666666666, 0.5, 0.6666666666666666},
		recall:    []float64{1.0, 0.3333333333333333, 0.6666666666666666},
		f1:        []float64{0.8, 0.4, 0.6666666666666666},
		support:   []int{2, 3, 3},
		confusion: evaluate.ConfusionMatrix{{2, 0, 0}, {1, 1, 1}, {0, 1, 2}},
	},
	{
		// Class 3 is neither true nor predicted, so macro F1 leaves it
		// out; a true class has probability 0, so log loss clips.
		name:   "four classes, one absent",
		labels: []float64{0, 1, 2, 0, 1, 2},
		probs: []float64{
			0.9, 0.05, 0.05, 0.0,
			0.2, 0.5, 0.2, 0.1,
			0.6, 0.1, 0.3, 0.0,
			0.25, 0.25, 0.25, 0.25,
			0.0, 0.0, 1.0, 0.0,
			0.1, 0.1, 0.7, 0.1,
		},
		k:        4,
		accuracy: 0.6666666666666666, macroF1: 0.6555555555555556, weightedF1: 0.6555555555555556, logLoss: 6.38070436675217,
		precision: []float64{0.6666666666666666, 1.0, 0.5, 0.0},
		recall:    []float64{1.0, 0.5, 0.5, 0.0},
		f1:        []float64{0.8, 0.6666666666666666, 0.5, 0.0},
		support:   []int{2, 2, 2, 0},
		confusion: evaluate.ConfusionMatrix{{2, 0, 0, 0}, {0, 1, 1, 0}, {1, 0, 1, 0}, {0, 0, 0, 0}},
	},
}

func TestMulticlassReference(t *testing.T) {
	for _, tc := range multiclassCases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := evaluate.MulticlassConfusion(tc.labels, tc.probs, tc.k)
			if err != nil {
				t.Fatal(err)
			}
			for i := range tc.confusion {
				for j := range tc.confusion[i] {
					if m[i][j] != tc.confusion[i][j] {
						t.Fatalf("confusion = %v, want %v", m, tc.confusion)
					}
				}
			}
			for _, c := range []struct {
				metric    string
				got, want float64
			}{
				{"Accuracy", m.Accuracy(), tc.accuracy},
				{"MacroF1", m.MacroF1(), tc.macroF1},
				{"WeightedF1", m.WeightedF1(), tc.weightedF1},
			} {
				if !near(c.got, c.want) {
					t.Errorf("%s = %.17g, want %.17g", c.metric, c.got, c.want)
				}
			}
			for i, c := range m.PerClass() {
				if c.Class != i || !near(c.Precision, tc.precision[i]) || !near(c.Recall, tc.recall[i]) ||
					!near(c.F1, tc.f1[i]) || c.Support != tc.support[i] {
					t.Errorf("class %d = %+v, want precision %g, recall %g, F1 %g, support %d",
						i, c, tc.precision[i], tc.recall[i], tc.f1[i], tc.support[i])
				}
			}
			got, err := evaluate.MulticlassLogLoss(tc.labels, tc.probs, tc.k)
			if err != nil {
				t.Fatal(err)
			}
			if !near(got, tc.logLoss) {
				t.Errorf("MulticlassLogLoss = %.17g, want %.17g", got, tc.logLoss)
			}
		})
	}
}

func TestSlicesReference(t *testing.T) {
	// The random40 rows cut into slices a, b, c by row index mod 3.
	keys := make([]string, len(random40Labels))
	for i := range keys {
		keys[i] = string("abc"[i%3])
	}
	rep, err := evaluate.EvaluateSlices(keys, random40Labels, random40Probs, 0.5,
		evaluate.SliceOptions{Largest: 3, Worst: 3, MinRows: 1})
	if err != nil {
		t.Fatal(err)
	}
	// sklearn 1.2.1 roc_auc_score(y[m], p[m]) and
	// average_precision_score(y[m], p[m]) for each slice mask m.
	want := map[string]struct {
		rows, positives int
		auc, ap         float64
	}{
		"a": {14, 8, 0.8958333333333334, 0.928125},
		"b": {13, 4, 1.0, 1.0},
		"c": {13, 5, 0.875, 0.8711111111111112},
	}
	if rep.Slices != 3 || len(rep.Largest) != 3 || len(rep.Worst) != 3 {
		t.Fatalf("got %d slices, %d largest, %d worst; want 3 of each", rep.Slices, len(rep.Largest), len(rep.Worst))
	}
	// Largest: a (14 rows), then b and c (13 rows) by key.
	// Worst by AUC: c (0.875), a (0.896), b (1).
	for i, key := range []string{"a", "b", "c"} {
		if rep.Largest[i].Key != key {
			t.Errorf("largest[%d] = %q, want %q", i, rep.Largest[i].Key, key)
		}
	}
	for i, key := range []string{"c", "a", "b"} {
		if rep.Worst[i].Key != key {
			t.Errorf("worst[%d] = %q, want %q", i, rep.Worst[i].Key, key)
		}
	}
	for _, s := range rep.Largest {
		w := want[s.Key]
		if s.Rows != w.rows || s.Positives != w.positives || s.ROCAUC == nil || !near(*s.ROCAUC, w.auc) ||
			s.PRAUC == nil || !near(*s.PRAUC, w.ap) {
			t.Errorf("slice %s = %+v, want %+v", s.Key, s, w)
		}
	}
}
