package main

import (
	"math"
	"testing"
)

// TestFixed2: the profile's mean and standard deviation keep two
// decimals (the README's 731.62) until two decimals would print a huge
// number digit by digit.
func TestFixed2(t *testing.T) {
	for _, tc := range []struct {
		x    float64
		want string
	}{
		{731.6249, "731.62"},
		{-0.004, "-0.00"},
		{999_999_999_999_999, "999999999999999.00"},
		{1e15, "1e+15"},
		{-2e307, "-2e+307"},
		{1.7e308, "1.7e+308"},
		{math.Inf(1), "+Inf"},
		{math.NaN(), "NaN"},
	} {
		if got := fixed2(tc.x); got != tc.want {
			t.Errorf("fixed2(%g) = %q, want %q", tc.x, got, tc.want)
		}
	}
}
