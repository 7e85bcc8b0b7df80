package evaluate_test

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/mlpipe/mlpipe/evaluate"
)

func TestROCAUCHandChecked(t *testing.T) {
	tests := []struct {
		name           string
		labels, scores []float64
		want           float64
	}{
		// One pair, tied: the tie counts half.
		{"one tied pair", []float64{0, 1}, []float64{0.3, 0.3}, 0.5},
		// The positive beats the 0.1 negative and ties the 0.5 one:
		// (1 + 0.5) / 2 pairs.
		{"win and tie", []float64{0, 0, 1}, []float64{0.1, 0.5, 0.5}, 0.75},
		// Scores need not be probabilities: margins of any sign rank the
		// same. Positives 2 and -1 against negatives -3 and 0: the pairs
		// (2,-3) (2,0) (-1,-3) are won, (-1,0) lost: 3/4.
		{"margins", []float64{1, 0, 1, 0}, []float64{2, -3, -1, 0}, 0.75},
		// Order of rows does not matter.
		{"shuffled perfect", []float64{1, 0, 0, 1, 0}, []float64{0.9, 0.2, 0.4, 0.7, 0.1}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := evaluate.ROCAUC(tc.labels, tc.scores)
			if err != nil {
				t.Fatal(err)
			}
			if !near(got, tc.want) {
				t.Errorf("ROCAUC = %.17g, want %g", got, tc.want)
			}
		})
	}
}

// TestAgainstBruteForce checks ROCAUC against the Mann–Whitney count over
// every (positive, negative) pair, and AveragePrecision against its
// definition evaluated threshold by threshold, on random data with many
// ties.
func TestAgainstBruteForce(t *testing.T) {
	seed := uint64(20240611)
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	for trial := range 20 {
		n := 2 + rng.IntN(200)
		labels := make([]float64, n)
		scores := make([]float64, n)
		for i := range labels {
			labels[i] = float64(rng.IntN(2))
			// Few distinct values, so ties are common; shifted by the label
			// so the ranking carries signal.
			scores[i] = math.Round((rng.Float64()+0.3*labels[i])*20) / 20
		}
		var pos, neg []float64
		for i, y := range labels {
			if y == 1 {
				pos = append(pos, scores[i])
			} else {
				neg = append(neg, scores[i])
			}
		}
		if len(pos) == 0 || len(neg) == 0 {
			continue
		}

		wins := 0.0
		for _, p := range pos {
			for _, q := range neg {
				switch {
				case p > q:
					wins++
				case p == q:
					wins += 0.5
				}
			}
		}
		wantAUC := wins / float64(len(pos)*len(neg))
		if got, err := evaluate.ROCAUC(labels, scores); err != nil || !near(got, wantAUC) {
			t.Errorf("trial %d: ROCAUC = %.17g, %v; want %.17g", trial, got, err, wantAUC)
		}

		// AP = Σ over distinct thresholds, descending, of
		// (recall − previous recall) × precision.
		distinct := slices.Clone(scores)
		slices.Sort(distinct)
		distinct = slices.Compact(distinct)
		slices.Reverse(distinct)
		wantAP, prevRecall := 0.0, 0.0
		for _, th := range distinct {
			c, _ := evaluate.ConfusionAt(labels, scores, th)
			wantAP += (c.Recall() - prevRecall) * c.Precision()
			prevRecall = c.Recall()
		}
		if got, err := evaluate.AveragePrecision(labels, scores); err != nil || !near(got, wantAP) {
			t.Errorf("trial %d: AveragePrecision = %.17g, %v; want %.17g", trial, got, err, wantAP)
		}
	}
}

func TestErrors(t *testing.T) {
	nan := math.NaN()
	type call func(labels, scores []float64) error
	rocAUC := func(l, s []float64) error { _, err := evaluate.ROCAUC(l, s); return err }
	ap := func(l, s []float64) error { _, err := evaluate.AveragePrecision(l, s); return err }
	logLoss := func(l, s []float64) error { _, err := evaluate.LogLoss(l, s); return err }
	brier := func(l, s []float64) error { _, err := evaluate.Brier(l, s); return err }
	roc := func(l, s []float64) error { _, err := evaluate.ROC(l, s); return err }
	pr := func(l, s []float64) error { _, err := evaluate.PrecisionRecall(l, s); return err }
	cal := func(l, s []float64) error { _, err := evaluate.Calibration(l, s, 10); return err }
	conf := func(l, s []float64) error { _, err := evaluate.ConfusionAt(l, s, 0.5); return err }
	maxF1 := func(l, s []float64) error { _, _, err := evaluate.MaxF1Threshold(l, s); return err }
	minCost := func(l, s []float64) error { _, _, err := evaluate.MinCostThreshold(l, s, 1); return err }
	report := func(l, s []float64) error { _, err := evaluate.EvaluateBinary(l, s, evaluate.Options{}); return err }
	sliced := func(l, s []float64) error {
		_, err := evaluate.EvaluateSlices(make([]string, len(l)), l, s, 0.5, evaluate.SliceOptions{})
		return err
	}
	all := map[string]call{
		"ROCAUC": rocAUC, "AveragePrecision": ap, "LogLoss": logLoss, "Brier": brier, "ROC": roc,
		"PrecisionRecall": pr, "Calibration": cal, "ConfusionAt": conf, "MaxF1Threshold": maxF1,
		"MinCostThreshold": minCost, "EvaluateBinary": report, "EvaluateSlices": sliced,
	}
	probsOnly := []string{"LogLoss", "Brier", "Calibration", "EvaluateBinary", "EvaluateSlices"}
	bothClasses := []string{"ROCAUC", "ROC", "EvaluateBinary"}
	aPositive := []string{"AveragePrecision", "PrecisionRecall", "MaxF1Threshold"}

	tests := []struct {
		name           string
		labels, scores []float64
		want           error
		only           []string // the functions that reject the input; nil means all
	}{
		{"empty", nil, nil, evaluate.ErrEmpty, nil},
		{"empty non-nil", []float64{}, []float64{}, evaluate.ErrEmpty, nil},
		{"label 2", []float64{0, 2}, []float64{0.1, 0.2}, evaluate.ErrInvalid, nil},
		{"label -1", []float64{0, -1}, []float64{0.1, 0.2}, evaluate.ErrInvalid, nil},
		{"label NaN", []float64{nan, 1}, []float64{0.1, 0.2}, evaluate.ErrInvalid, nil},
		{"score NaN", []float64{0, 1}, []float64{nan, 0.2}, evaluate.ErrInvalid, nil},
		{"score +Inf", []float64{0, 1}, []float64{0.1, math.Inf(1)}, evaluate.ErrInvalid, nil},
		{"score -Inf", []float64{0, 1}, []float64{math.Inf(-1), 0.2}, evaluate.ErrInvalid, nil},
		{"probability above 1", []float64{0, 1}, []float64{0.1, 1.2}, evaluate.ErrInvalid, probsOnly},
		{"probability below 0", []float64{0, 1}, []float64{-0.1, 0.2}, evaluate.ErrInvalid, probsOnly},
		{"all negative", []float64{0, 0, 0}, []float64{0.1, 0.2, 0.3}, evaluate.ErrOneClass, append(bothClasses, aPositive...)},
		{"all positive", []float64{1, 1}, []float64{0.1, 0.2}, evaluate.ErrOneClass, bothClasses},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for name, f := range all {
				rejects := tc.only == nil || slices.Contains(tc.only, name)
				err := f(tc.labels, tc.scores)
				switch {
				case rejects && !errors.Is(err, tc.want):
					t.Errorf("%s: error %v, want %v", name, err, tc.want)
				case !rejects && err != nil:
					t.Errorf("%s: unexpected error %v", name, err)
				}
			}
		})
	}
}

func TestErrorNamesRow(t *testing.T) {
	_, err := evaluate.LogLoss([]float64{0, 1, 1}, []float64{0.2, 0.4, 1.5})
	if err == nil || !strings.Contains(err.Error(), "row 2") || !strings.Contains(err.Error(), "1.5") {
		t.Errorf("error %q should name row 2 and the value 1.5", err)
	}
}

func TestPanicsOnLengthMismatch(t *testing.T) {
	tests := map[string]func(){
		"ROCAUC":  func() { evaluate.ROCAUC([]float64{0, 1}, []float64{0.5}) },
		"LogLoss": func() { evaluate.LogLoss([]float64{0}, []float64{0.5, 0.5}) },
		"EvaluateSlices": func() {
			evaluate.EvaluateSlices([]string{"a"}, []float64{0, 1}, []float64{0.1, 0.9}, 0.5, evaluate.SliceOptions{})
		},
		"MulticlassConfusion": func() { evaluate.MulticlassConfusion([]float64{0, 1}, []float64{1, 0, 0}, 2) },
		"one class K":         func() { evaluate.MulticlassLogLoss([]float64{0}, []float64{1}, 1) },
		"validation": func() {
			evaluate.EvaluateBinary([]float64{0, 1}, []float64{0.1, 0.9}, evaluate.Options{ValidLabels: []float64{1}})
		},
	}
	for name, f := range tests {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		})
	}
}

func TestAveragePrecisionAllPositive(t *testing.T) {
	// Every row positive: precision is 1 at every threshold, so AP is 1.
	got, err := evaluate.AveragePrecision([]float64{1, 1, 1}, []float64{0.2, 0.5, 0.5})
	if err != nil || got != 1 {
		t.Errorf("AveragePrecision = %g, %v; want 1", got, err)
	}
}

func TestConfusionZeroDivision(t *testing.T) {
	// Nothing predicted positive and no positive: every 0/0 ratio is 0,
	// never NaN.
	c := evaluate.Confusion{TN: 3}
	for name, got := range map[string]float64{"precision": c.Precision(), "recall": c.Recall(), "f1": c.F1()} {
		if got != 0 {
			t.Errorf("%s = %g, want 0", name, got)
		}
	}
	if got := (evaluate.Confusion{}).Accuracy(); got != 0 {
		t.Errorf("accuracy of no rows = %g, want 0", got)
	}
}

func TestMinCostThresholdBadRatio(t *testing.T) {
	for _, ratio := range []float64{0, -1, math.NaN(), math.Inf(1)} {
		_, _, err := evaluate.MinCostThreshold([]float64{0, 1}, []float64{0.2, 0.8}, ratio)
		if !errors.Is(err, evaluate.ErrInvalid) {
			t.Errorf("ratio %g: error %v, want ErrInvalid", ratio, err)
		}
	}
}

func TestMinCostThresholdOneClass(t *testing.T) {
	// All negative: predicting nothing positive costs nothing, at the
	// threshold above every score (max + 1 = 1.3).
	th, cost, err := evaluate.MinCostThreshold([]float64{0, 0}, []float64{0.3, 0.1}, 1)
	if err != nil || th != 1.3 || cost != 0 {
		t.Errorf("MinCostThreshold = %g, %g, %v; want 1.3, 0, nil", th, cost, err)
	}
}

func TestCalibrationEdges(t *testing.T) {
	// Hand-checked: with 10 bins, 0 goes to [0, 0.1), 0.1 to [0.1, 0.2)
	// (bins are closed below), 0.95 and 1 to the last bin [0.9, 1].
	bins, err := evaluate.Calibration([]float64{0, 1, 1, 0}, []float64{0, 0.1, 1, 0.95}, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []evaluate.CalibrationBin{
		{Lower: 0, Upper: 0.1, MeanPredicted: 0, ObservedRate: 0, Count: 1},
		{Lower: 0.1, Upper: 0.2, MeanPredicted: 0.1, ObservedRate: 1, Count: 1},
		{Lower: 0.9, Upper: 1, MeanPredicted: 0.975, ObservedRate: 0.5, Count: 2},
	}
	if len(bins) != len(want) {
		t.Fatalf("bins = %+v, want %+v", bins, want)
	}
	for i := range want {
		b, w := bins[i], want[i]
		if !near(b.Lower, w.Lower) || !near(b.Upper, w.Upper) || !near(b.MeanPredicted, w.MeanPredicted) ||
			b.ObservedRate != w.ObservedRate || b.Count != w.Count {
			t.Errorf("bin %d = %+v, want %+v", i, b, w)
		}
	}
	// |0-0|×1 + |1-0.1|×1 + |0.5-0.975|×2, over 4 rows.
	if got, want := evaluate.ECE(bins), (0.9+2*0.475)/4; !near(got, want) {
		t.Errorf("ECE = %.17g, want %.17g", got, want)
	}
	if got := evaluate.ECE(nil); got != 0 {
		t.Errorf("ECE(nil) = %g, want 0", got)
	}
}

func TestDownsample(t *testing.T) {
	n := 1001
	labels := make([]float64, n)
	scores := make([]float64, n)
	for i := range labels {
		labels[i] = float64(i % 2)
		scores[i] = float64(i) / float64(n) // all distinct: n+1 points
	}
	roc, err := evaluate.ROC(labels, scores)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := evaluate.PrecisionRecall(labels, scores)
	if err != nil {
		t.Fatal(err)
	}
	if roc.Len() != n+1 || pr.Len() != n+1 {
		t.Fatalf("curves have %d and %d points, want %d", roc.Len(), pr.Len(), n+1)
	}
	small := roc.Downsample(200)
	if small.Len() != 200 || len(small.FPR) != 200 || len(small.TPR) != 200 {
		t.Fatalf("downsampled ROC has %d points, want 200", small.Len())
	}
	if small.FPR[0] != 0 || small.TPR[0] != 0 || small.FPR[199] != 1 || small.TPR[199] != 1 {
		t.Errorf("downsampled ROC lost an endpoint: (%g,%g) … (%g,%g)", small.FPR[0], small.TPR[0], small.FPR[199], small.TPR[199])
	}
	for i := 1; i < small.Len(); i++ {
		if small.Thresholds[i] >= small.Thresholds[i-1] {
			t.Fatalf("thresholds not decreasing at %d", i)
		}
	}
	smallPR := pr.Downsample(200)
	if smallPR.Len() != 200 || smallPR.Recall[0] != 0 || smallPR.Recall[199] != 1 ||
		smallPR.Thresholds[199] != pr.Thresholds[n] {
		t.Errorf("downsampled PR curve: %d points, recall %g … %g", smallPR.Len(), smallPR.Recall[0], smallPR.Recall[199])
	}
	// A curve that already fits is returned as is.
	if got := roc.Downsample(5000); got.Len() != roc.Len() {
		t.Errorf("Downsample(5000) of %d points gave %d", roc.Len(), got.Len())
	}
}

func TestEvaluateBinaryNeverNaN(t *testing.T) {
	// Inputs that stress every 0/0 and log(0): all scores equal, certain
	// predictions, one slice of one class. json.Marshal fails on NaN and
	// Inf, so a successful marshal proves there is none.
	labels := []float64{0, 1, 0, 1, 0, 0}
	for _, probs := range [][]float64{
		{0.5, 0.5, 0.5, 0.5, 0.5, 0.5},
		{0, 1, 1, 0, 0, 0},
		{1, 1, 1, 1, 1, 1},
	} {
		for _, method := range []evaluate.ThresholdMethod{evaluate.MaxF1, evaluate.MinCost} {
			r, err := evaluate.EvaluateBinary(labels, probs, evaluate.Options{
				ThresholdMethod: method,
				SliceKeys:       []string{"x", "x", "y", "y", "z", "z"}, // z: all negative
				Slices:          evaluate.SliceOptions{MinRows: 1},
			})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := json.Marshal(r); err != nil {
				t.Errorf("probs %v, %s: %v", probs, method, err)
			}
		}
	}
}

func TestThresholdChoice(t *testing.T) {
	labels := binaryCases[0].labels // ties
	probs := binaryCases[0].probs
	valid := binaryCases[5] // random40
	tests := []struct {
		name string
		opts evaluate.Options
		want evaluate.Threshold
	}{
		// Values: the max-F1 and min-cost thresholds of TestBinaryReference.
		{"default", evaluate.Options{},
			evaluate.Threshold{Value: 0.35, Method: evaluate.MaxF1, ChosenOn: "evaluation"}},
		{"max F1 on validation", evaluate.Options{ValidLabels: valid.labels, ValidProbs: valid.probs},
			evaluate.Threshold{Value: 0.41, Method: evaluate.MaxF1, ChosenOn: "validation"}},
		{"min cost", evaluate.Options{ThresholdMethod: evaluate.MinCost, CostRatio: 0.25},
			evaluate.Threshold{Value: 0.35, Method: evaluate.MinCost, CostRatio: 0.25, ChosenOn: "evaluation"}},
		{"min cost default ratio", evaluate.Options{ThresholdMethod: evaluate.MinCost, ValidLabels: valid.labels, ValidProbs: valid.probs},
			evaluate.Threshold{Value: 0.56, Method: evaluate.MinCost, CostRatio: 1, ChosenOn: "validation"}},
		{"fixed", evaluate.Options{ThresholdMethod: evaluate.Fixed, Threshold: 0.5},
			evaluate.Threshold{Value: 0.5, Method: evaluate.Fixed}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := evaluate.EvaluateBinary(labels, probs, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if r.Threshold != tc.want {
				t.Errorf("threshold = %+v, want %+v", r.Threshold, tc.want)
			}
			c, _ := evaluate.ConfusionAt(labels, probs, tc.want.Value)
			if r.Confusion != c || r.F1 != c.F1() || r.Accuracy != c.Accuracy() {
				t.Errorf("metrics not at the threshold: %+v, want %+v", r.Confusion, c)
			}
		})
	}

	_, err := evaluate.EvaluateBinary(labels, probs, evaluate.Options{ThresholdMethod: "median"})
	if !errors.Is(err, evaluate.ErrInvalid) {
		t.Errorf("unknown method: error %v, want ErrInvalid", err)
	}
	_, err = evaluate.EvaluateBinary(labels, probs, evaluate.Options{ValidLabels: []float64{0, 0}, ValidProbs: []float64{0.1, 0.2}})
	if !errors.Is(err, evaluate.ErrOneClass) {
		t.Errorf("validation of one class: error %v, want ErrOneClass", err)
	}
	_, err = evaluate.EvaluateBinary(labels, probs, evaluate.Options{ValidLabels: []float64{0, 1}, ValidProbs: []float64{0.1, 2}})
	if !errors.Is(err, evaluate.ErrInvalid) {
		t.Errorf("validation probability 2: error %v, want ErrInvalid", err)
	}
	_, err = evaluate.EvaluateBinary(labels, probs, evaluate.Options{ThresholdMethod: evaluate.MinCost, CostRatio: -1})
	if !errors.Is(err, evaluate.ErrInvalid) {
		t.Errorf("cost ratio -1: error %v, want ErrInvalid", err)
	}
	_, err = evaluate.EvaluateBinary(labels, probs, evaluate.Options{ThresholdMethod: evaluate.Fixed, Threshold: math.NaN()})
	if !errors.Is(err, evaluate.ErrInvalid) {
		t.Errorf("fixed threshold NaN: error %v, want ErrInvalid", err)
	}
}

func TestSlicesOneClassAndMinRows(t *testing.T) {
	// Slice "neg" is all negative, "pos" all positive, "mix" has both
	// classes, "tiny" has both but 2 rows.
	keys := []string{"neg", "neg", "neg", "pos", "pos", "pos", "mix", "mix", "mix", "mix", "tiny", "tiny"}
	labels := []float64{0, 0, 0, 1, 1, 1, 0, 1, 0, 1, 1, 0}
	probs := []float64{0.1, 0.2, 0.6, 0.7, 0.8, 0.4, 0.3, 0.6, 0.7, 0.9, 0.1, 0.9}
	rep, err := evaluate.EvaluateSlices(keys, labels, probs, 0.5, evaluate.SliceOptions{Largest: 2, MinRows: 3})
	if err != nil {
		t.Fatal(err)
	}
	// Largest: mix (4 rows), then neg (3, before pos by key).
	if len(rep.Largest) != 2 || rep.Largest[0].Key != "mix" || rep.Largest[1].Key != "neg" {
		t.Fatalf("largest = %+v", rep.Largest)
	}
	neg := rep.Largest[1]
	// neg: rows 0.1, 0.2, 0.6 all negative: one false positive at 0.5.
	if neg.ROCAUC != nil || neg.PRAUC != nil || !strings.Contains(neg.Note, "one class") ||
		neg.Confusion != (evaluate.Confusion{TN: 2, FP: 1}) || neg.Rows != 3 || neg.Positives != 0 {
		t.Errorf("one-class slice = %+v", neg)
	}
	// Worst: only mix qualifies (pos has one class, tiny has 2 < 3 rows).
	// mix: positives 0.6, 0.9 against negatives 0.3, 0.7: 3 of 4 pairs.
	if len(rep.Worst) != 1 || rep.Worst[0].Key != "mix" || *rep.Worst[0].ROCAUC != 0.75 {
		t.Errorf("worst = %+v", rep.Worst)
	}
	if rep.Slices != 4 || rep.MinRows != 3 {
		t.Errorf("slices = %d, min rows = %d; want 4, 3", rep.Slices, rep.MinRows)
	}
}
