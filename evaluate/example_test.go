package evaluate_test

import (
	"fmt"

	"github.com/mlpipe/mlpipe/evaluate"
)

func ExampleROCAUC() {
	// Three flights were delayed (label 1), three were not. The model
	// ranks the delayed ones above the others, except that one delayed
	// flight ties one on-time flight at 0.4.
	labels := []float64{0, 0, 0, 1, 1, 1}
	scores := []float64{0.1, 0.3, 0.4, 0.4, 0.7, 0.9}

	// Of the 9 (delayed, on-time) pairs, 8 are ranked correctly and one
	// is tied, which counts half: (8 + 0.5) / 9 = 0.9444 (sklearn 1.2.1
	// roc_auc_score gives 0.9444444444444444).
	auc, err := evaluate.ROCAUC(labels, scores)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("ROC AUC = %.4f\n", auc)

	// With one class only, the AUC is undefined: an error, not a NaN.
	_, err = evaluate.ROCAUC([]float64{1, 1}, []float64{0.2, 0.8})
	fmt.Println(err)
	// Output:
	// ROC AUC = 0.9444
	// roc auc: labels hold one class only: all 2 labels are 1
}

func ExampleEvaluateBinary() {
	valLabels := []float64{0, 0, 1, 1, 0, 1}
	valProbs := []float64{0.2, 0.4, 0.45, 0.8, 0.3, 0.6}
	testLabels := []float64{0, 1, 0, 1, 0, 1, 1, 0}
	testProbs := []float64{0.1, 0.7, 0.5, 0.4, 0.2, 0.9, 0.5, 0.3}

	// Choose the max-F1 threshold on validation, report on test.
	r, err := evaluate.EvaluateBinary(testLabels, testProbs, evaluate.Options{
		ValidLabels: valLabels,
		ValidProbs:  valProbs,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("threshold %.2f (%s on %s)\n", r.Threshold.Value, r.Threshold.Method, r.Threshold.ChosenOn)
	fmt.Printf("ROC AUC %.4f, PR AUC %.4f, F1 %.4f\n", r.ROCAUC, r.PRAUC, r.F1)
	fmt.Printf("confusion %+v\n", r.Confusion)
	// sklearn 1.2.1 gives roc_auc_score 0.90625, average_precision_score
	// 0.8875 and f1_score 0.75 at p >= 0.45 on the test rows.
	// Output:
	// threshold 0.45 (max_f1 on validation)
	// ROC AUC 0.9062, PR AUC 0.8875, F1 0.7500
	// confusion {TN:3 FP:1 FN:1 TP:3}
}
