package model

import "math"

// Code maps a categorical value to a code in [0, card): itself if it is
// one, 0 (unknown) otherwise. A linear model's prediction reads
// categorical values with it, and its fit builds the one-hot design
// with it (train/internal/onehot).
func Code(v float64, card int) int {
	if v >= 0 && v < float64(card) && v == math.Trunc(v) {
		return int(v)
	}
	return 0
}
