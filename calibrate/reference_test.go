package calibrate_test

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"testing"

	"github.com/mlpipe/mlpipe/calibrate"
)

// reference is testdata/samples.json, written by testdata/reference.py
// with scikit-learn 1.2.1.
type reference struct {
	Grid    []float64 `json:"grid"`
	Samples map[string]struct {
		Scores         []float64 `json:"scores"`
		Labels         []float64 `json:"labels"`
		Isotonic       []float64 `json:"isotonic"`
		IsotonicPoints int       `json:"isotonic_points"`
		PlattA         float64   `json:"platt_a"`
		PlattB         float64   `json:"platt_b"`
	} `json:"samples"`
}

func readReference(t *testing.T) reference {
	t.Helper()
	b, err := os.ReadFile("testdata/samples.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref reference
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	return ref
}

// TestIsotonicReference: the map predicts what scikit-learn's
// IsotonicRegression(out_of_bounds="clip") predicts on a grid of scores
// (inside, at and beyond the ends), to 1e-12, and keeps the same points.
func TestIsotonicReference(t *testing.T) {
	ref := readReference(t)
	for name, s := range ref.Samples {
		t.Run(name, func(t *testing.T) {
			m, err := calibrate.FitIsotonic(s.Scores, s.Labels)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.X) != s.IsotonicPoints {
				t.Errorf("%d points, scikit-learn keeps %d", len(m.X), s.IsotonicPoints)
			}
			for i, x := range ref.Grid {
				if got, want := m.Apply(x), s.Isotonic[i]; math.Abs(got-want) > 1e-12 {
					t.Errorf("Apply(%g) = %.15g, scikit-learn %.15g", x, got, want)
				}
			}
			if err := m.Validate(); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestPlattReference: A and B agree with scikit-learn's
// _sigmoid_calibration (BFGS, which stops near the optimum) to 1e-4, and
// the probabilities on the grid to 1e-5.
func TestPlattReference(t *testing.T) {
	ref := readReference(t)
	for name, s := range ref.Samples {
		t.Run(name, func(t *testing.T) {
			m, err := calibrate.FitPlatt(s.Scores, s.Labels)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(m.A-s.PlattA) > 1e-4 || math.Abs(m.B-s.PlattB) > 1e-4 {
				t.Errorf("A, B = %.6f, %.6f; scikit-learn %.6f, %.6f", m.A, m.B, s.PlattA, s.PlattB)
			}
			sk := &calibrate.Map{Method: calibrate.Platt, A: s.PlattA, B: s.PlattB}
			for _, x := range ref.Grid {
				if got, want := m.Apply(x), sk.Apply(x); math.Abs(got-want) > 1e-5 {
					t.Errorf("Apply(%g) = %.8f, with scikit-learn's parameters %.8f", x, got, want)
				}
			}
		})
	}
}

// TestFitChooses: isotonic from MinIsotonicRows rows on, Platt below.
func TestFitChooses(t *testing.T) {
	ref := readReference(t)
	for name, want := range map[string]string{"continuous": calibrate.Isotonic, "ties": calibrate.Isotonic, "small": calibrate.Platt} {
		s := ref.Samples[name]
		m, err := calibrate.Fit(s.Scores, s.Labels)
		if err != nil {
			t.Fatal(err)
		}
		if m.Method != want || m.Rows != len(s.Scores) {
			t.Errorf("%s (%d rows): %s on %d rows, want %s", name, len(s.Scores), m.Method, m.Rows, want)
		}
	}
}

func TestFitErrors(t *testing.T) {
	for _, tc := range []struct {
		name           string
		scores, labels []float64
	}{
		{"empty", nil, nil},
		{"one class", []float64{0.1, 0.2}, []float64{1, 1}},
		{"bad label", []float64{0.1, 0.2}, []float64{0, 2}},
		{"nan score", []float64{math.NaN(), 0.2}, []float64{0, 1}},
		{"lengths", []float64{0.1}, []float64{0, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, fit := range []func([]float64, []float64) (*calibrate.Map, error){calibrate.FitIsotonic, calibrate.FitPlatt} {
				if _, err := fit(tc.scores, tc.labels); !errors.Is(err, calibrate.ErrInvalid) {
					t.Errorf("error %v, want ErrInvalid", err)
				}
			}
		})
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    calibrate.Map
		ok   bool
	}{
		{"isotonic", calibrate.Map{Method: calibrate.Isotonic, X: []float64{0.1, 0.5}, Y: []float64{0.2, 0.4}}, true},
		{"platt", calibrate.Map{Method: calibrate.Platt, A: -1, B: 0.1}, true},
		{"unknown", calibrate.Map{Method: "beta"}, false},
		{"no points", calibrate.Map{Method: calibrate.Isotonic}, false},
		{"decreasing", calibrate.Map{Method: calibrate.Isotonic, X: []float64{0.1, 0.5}, Y: []float64{0.4, 0.2}}, false},
		{"above 1", calibrate.Map{Method: calibrate.Isotonic, X: []float64{0.1, 0.5}, Y: []float64{0.4, 1.2}}, false},
		{"inf", calibrate.Map{Method: calibrate.Platt, A: math.Inf(1)}, false},
	} {
		if err := tc.m.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v", tc.name, err)
		}
	}
}
