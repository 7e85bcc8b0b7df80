package monitor_test

import (
	"fmt"

	"github.com/mlpipe/mlpipe/monitor"
)

func ExamplePSI() {
	// Training counts and window counts over the same three bins: half
	// the window's rows are in the first bin, which held a quarter.
	expected := []float64{250, 250, 500}
	actual := []float64{50, 25, 25}
	fmt.Printf("PSI %.4f (= ln 2 / 2)\n", monitor.PSI(expected, actual))
	// A bin the training data never filled counts as a share of 1e-4:
	// 0.25·ln 2 + (0.25 − 1e-4)·ln(0.25/1e-4) ≈ 2.1285.
	fmt.Printf("PSI %.4f\n", monitor.PSI([]float64{1, 1, 0}, []float64{2, 1, 1}))
	// Output:
	// PSI 0.3466 (= ln 2 / 2)
	// PSI 2.1285
}

func ExampleKSTest() {
	// Two sorted samples: every value of y is above every value of x, so
	// D = 1 and p = Q_KS(sqrt(4·4/8)·1) = 2(e⁻⁴ − e⁻¹⁶ + …) ≈ 0.037;
	// W: every unit of mass moves by 4.
	x := []float64{1, 2, 3, 4}
	y := []float64{5, 6, 7, 8}
	ks := monitor.KSTest(x, y)
	fmt.Printf("D %.2f, p %.3f, W %.1f\n", ks.D, ks.PValue, monitor.Wasserstein(x, y))
	// Output: D 1.00, p 0.037, W 4.0
}
