package evaluate

import (
	"fmt"
	"math"
)

// DefaultBins is the number of calibration bins when none is given.
const DefaultBins = 10

// CalibrationBin is one bin of a reliability diagram: the rows whose
// predicted probability p falls in [Lower, Upper) (the last bin also
// holds p = 1).
type CalibrationBin struct {
	Lower float64 `json:"lower"`
	Upper float64 `json:"upper"`
	// MeanPredicted is the mean predicted probability of the bin's rows.
	MeanPredicted float64 `json:"mean_predicted"`
	// ObservedRate is the share of the bin's rows whose label is 1.
	ObservedRate float64 `json:"observed_rate"`
	// Count is the number of rows in the bin.
	Count int `json:"count"`
}

// Calibration sorts the rows into bins equal-width bins over [0, 1] by
// predicted probability (row i goes to bin ⌊pᵢ × bins⌋, p = 1 to the
// last) and returns the non-empty ones in order. For a calibrated model
// each bin's observed rate is close to its mean predicted probability.
//
// The bin means equal scikit-learn's calibration_curve(strategy=
// "uniform"), except for a probability exactly on an inner edge, which
// goes to the bin above here and to the bin below there.
//
// Labels and probabilities are as for LogLoss; bins must be positive
// (else a panic: it is the caller's constant, not data).
func Calibration(labels, probs []float64, bins int) ([]CalibrationBin, error) {
	if bins < 1 {
		panic(fmt.Sprintf("evaluate: calibration with %d bins", bins))
	}
	if _, err := checkBinary("calibration", labels, probs, true); err != nil {
		return nil, err
	}
	return calibration(labels, probs, bins), nil
}

func calibration(labels, probs []float64, bins int) []CalibrationBin {
	count := make([]int, bins)
	sumP := make([]float64, bins)
	sumY := make([]float64, bins)
	for i, p := range probs {
		b := min(int(math.Floor(p*float64(bins))), bins-1)
		count[b]++
		sumP[b] += p
		sumY[b] += labels[i]
	}
	var out []CalibrationBin
	for b, n := range count {
		if n == 0 {
			continue
		}
		out = append(out, CalibrationBin{
			Lower:         float64(b) / float64(bins),
			Upper:         float64(b+1) / float64(bins),
			MeanPredicted: sumP[b] / float64(n),
			ObservedRate:  sumY[b] / float64(n),
			Count:         n,
		})
	}
	return out
}

// ECE returns the expected calibration error of a set of bins: the mean,
// weighted by count, of |ObservedRate − MeanPredicted|. It is 0 for a
// perfectly calibrated model and at most 1; it is 0 for no bins.
func ECE(bins []CalibrationBin) float64 {
	sum, n := 0.0, 0
	for _, b := range bins {
		sum += float64(b.Count) * math.Abs(b.ObservedRate-b.MeanPredicted)
		n += b.Count
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}
