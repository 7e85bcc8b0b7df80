package gbdt_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"testing"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/gbdt"
)

// prebin builds the bins of tr's matrix a range of chunk rows at a time,
// as the pipeline does, and returns tr with a shape-only matrix and the
// bins.
func prebin(t *testing.T, p gbdt.Params, tr *train.Dataset, chunk int) *train.Dataset {
	t.Helper()
	bb, err := gbdt.New(p).NewBinBuilder(tr.X.Cols, tr.X.Rows)
	if err != nil {
		t.Fatal(err)
	}
	rows := bb.SampleRows()
	idx := make([]int, len(rows))
	for i, r := range rows {
		idx[i] = int(r)
	}
	if err := bb.SetSample(tr.X.Take(idx)); err != nil {
		t.Fatal(err)
	}
	for lo := 0; lo < tr.X.Rows; lo += chunk {
		if err := bb.Add(tr.X.Slice(lo, min(lo+chunk, tr.X.Rows))); err != nil {
			t.Fatal(err)
		}
	}
	bs, err := bb.Bins()
	if err != nil {
		t.Fatal(err)
	}
	out := *tr
	out.X = &features.Matrix{Rows: tr.X.Rows, Cols: tr.X.Cols}
	out.Prebinned = bs
	return &out
}

// saved is m's saved form, parallelism left out.
func saved(t *testing.T, m train.Model) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := train.Save(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestPrebinned: a fit on bins built a range of rows at a time saves the
// same model, byte for byte, as a fit on the float matrix: on the flights
// sample (every row binned), and on more rows than the binning sample
// with missing values, values that are not codes and a categorical
// column of more than 255 codes (the wide path).
func TestPrebinned(t *testing.T) {
	sp := small(t)
	wide, _ := categoricalTask(230_000, 300, 3)
	for j := range wide.X.Data {
		for i := 0; i < wide.X.Rows; i += 97 {
			wide.X.Data[j][i] = math.NaN() // missing; not a code
		}
		for i := 5; i < wide.X.Rows; i += 1013 {
			wide.X.Data[j][i] = 1e6 // beyond every code
		}
	}
	narrow, _ := categoricalTask(20_000, 40, 4)
	for _, tc := range []struct {
		name      string
		tr, valid *train.Dataset
		chunk     int
	}{
		{"flights", sp.train, sp.valid, 1000},
		{"flights one chunk", sp.train, sp.valid, sp.train.X.Rows},
		{"wide codes", wide, nil, 65_536},
		{"narrow codes", narrow, nil, 777},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := gbdt.Params{Rounds: 8, Seed: 3, EarlyStoppingRounds: -1, Parallelism: 2}
			want := saved(t, fit(t, p, tc.tr, tc.valid))
			got := saved(t, fit(t, p, prebin(t, p, tc.tr, tc.chunk), tc.valid))
			if !bytes.Equal(got, want) {
				t.Errorf("the model fitted on prebinned rows differs from the one fitted on floats")
			}
		})
	}
}

// TestPrebinnedErrors: bins made for other binning parameters, or a
// shape-only matrix without bins, are errors, not a wrong model.
func TestPrebinnedErrors(t *testing.T) {
	sp := small(t)
	p := gbdt.Params{Rounds: 2, Seed: 3}
	bins := prebin(t, p, sp.train, 4096)
	other := p
	other.Seed = 4
	if _, err := gbdt.New(other).Fit(context.Background(), bins, sp.valid); err == nil {
		t.Error("bins of seed 3 fitted with seed 4: no error")
	}
	bare := *bins
	bare.Prebinned = nil
	if _, err := gbdt.New(p).Fit(context.Background(), &bare, sp.valid); !errors.Is(err, train.ErrPrebinned) {
		t.Errorf("a shape-only matrix without bins: %v, want ErrPrebinned", err)
	}
	bb, err := gbdt.New(p).NewBinBuilder(sp.train.X.Cols, sp.train.X.Rows)
	if err != nil {
		t.Fatal(err)
	}
	if err := bb.Add(sp.train.X); err == nil {
		t.Error("Add before SetSample: no error")
	}
	if _, err := bb.Bins(); err == nil {
		t.Error("Bins before every row was added: no error")
	}
}

// validBins returns valid with a shape-only matrix and its rows binned a
// range of chunk rows at a time with tr's training bins, as the pipeline
// does.
func validBins(t *testing.T, tr, valid *train.Dataset, chunk int) *train.Dataset {
	t.Helper()
	rb := tr.Prebinned.(*gbdt.Bins).RowBinner(valid.X.Rows)
	for lo := 0; lo < valid.X.Rows; lo += chunk {
		if err := rb.Add(valid.X.Slice(lo, min(lo+chunk, valid.X.Rows))); err != nil {
			t.Fatal(err)
		}
	}
	vb, err := rb.Bins()
	if err != nil {
		t.Fatal(err)
	}
	out := *valid
	out.X = &features.Matrix{Rows: valid.X.Rows, Cols: valid.X.Cols}
	out.Prebinned = vb
	return &out
}

// oddValues returns a copy of d whose matrix has, every few rows, what a
// validation split holds and training never saw: missing numbers and
// ±Inf, and in a categorical column a code no training row has (code 0:
// categoricalTask draws codes from 1 on), codes past the last, negative
// and fractional ones, and NaN.
func oddValues(d *train.Dataset) *train.Dataset {
	x := d.X.Slice(0, d.X.Rows)
	x.Data = make([][]float64, len(d.X.Data))
	for j, col := range d.X.Data {
		col = append([]float64(nil), col...)
		vals := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 1e300}
		if c := x.Cols[j]; c.Kind == features.Categorical {
			vals = []float64{0, float64(c.Card), 1e6, -1, 2.5, math.NaN()}
		}
		for i := j; i < len(col); i += 7 {
			col[i] = vals[(i/7)%len(vals)]
		}
		x.Data[j] = col
	}
	out := *d
	out.X = x
	return &out
}

// TestPrebinnedValidation: a fit whose validation rows were binned a
// range at a time with the training bins (RowBinner) stops early at the
// same round, with the same validation loss every round bit for bit,
// and saves the same model byte for byte as a fit given the float
// validation matrix: on the flights sample, and on validation rows with
// missing and infinite numbers, codes unseen in training, codes that
// are not codes, and a categorical column of more than 255 codes (some
// in the "other" bin).
func TestPrebinnedValidation(t *testing.T) {
	sp := small(t)
	narrow, _ := categoricalTask(20_000, 40, 4)
	narrowValid, _ := categoricalTask(5_000, 40, 5)
	wide, _ := categoricalTask(30_000, 300, 6)
	wideValid, _ := categoricalTask(6_000, 300, 7)
	three, threeValid := multiclassTask(3_000, 8), multiclassTask(1_000, 9)
	for _, tc := range []struct {
		name      string
		tr, valid *train.Dataset
		chunk     int
	}{
		{"flights", sp.train, sp.valid, 1000},
		{"flights odd values", sp.train, oddValues(sp.valid), 333},
		{"narrow codes", oddValues(narrow), oddValues(narrowValid), 777},
		{"wide codes", wide, oddValues(wideValid), 4096},
		{"multiclass", three, oddValues(threeValid), 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var losses [2][]float64
			params := func(k int) gbdt.Params {
				return gbdt.Params{Rounds: 300, EarlyStoppingRounds: 5, LearningRate: 0.3, Seed: 3, Parallelism: 2,
					Progress: func(_ int, _, valid float64) { losses[k] = append(losses[k], valid) }}
			}
			want := fit(t, params(0), tc.tr, tc.valid)
			tr := prebin(t, params(1), tc.tr, tc.chunk)
			got := fit(t, params(1), tr, validBins(t, tr, tc.valid, tc.chunk))
			if len(losses[0]) == 300 {
				t.Fatalf("no early stopping in 300 rounds: the case does not test it")
			}
			if i := sameBits(losses[1], losses[0]); i >= 0 {
				t.Fatalf("round %d: validation loss from prebinned rows differs (%d rounds against %d)", i, len(losses[1]), len(losses[0]))
			}
			if got.BestRound != want.BestRound || !bytes.Equal(saved(t, got), saved(t, want)) {
				t.Errorf("best round %d, want %d; or the saved model differs", got.BestRound, want.BestRound)
			}
		})
	}
}

// TestPrebinnedValidationErrors: validation bins not made with the
// training bins, or a shape-only validation matrix without bins, are
// errors, not a wrong model.
func TestPrebinnedValidationErrors(t *testing.T) {
	sp := small(t)
	p := gbdt.Params{Rounds: 2, Seed: 3}
	tr := prebin(t, p, sp.train, 4096)
	other := prebin(t, p, sp.train, 4096) // the same boundaries, but other bins
	for _, tc := range []struct {
		name      string
		tr, valid *train.Dataset
	}{
		{"bins of other training bins", tr, validBins(t, other, sp.valid, 1000)},
		{"validation bins for a float training matrix", sp.train, validBins(t, tr, sp.valid, 1000)},
		{"training bins as validation bins", tr, func() *train.Dataset {
			v := *tr
			v.Y = tr.Y
			return &v
		}()},
		{"shape-only validation matrix", tr, func() *train.Dataset {
			v := *sp.valid
			v.X = &features.Matrix{Rows: v.X.Rows, Cols: v.X.Cols}
			return &v
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := gbdt.New(p).Fit(context.Background(), tc.tr, tc.valid); err == nil {
				t.Error("no error")
			}
		})
	}
	rb := tr.Prebinned.(*gbdt.Bins).RowBinner(sp.valid.X.Rows)
	if _, err := rb.Bins(); err == nil {
		t.Error("Bins before every row was added: no error")
	}
	if err := rb.Add(sp.valid.X); err != nil {
		t.Fatal(err)
	}
	if err := rb.Add(sp.valid.X.Slice(0, 1)); err == nil {
		t.Error("a row past the end: no error")
	}
}

// TestPrebinnedValidationLog1p: the log1p target transform wraps the
// trainer and copies both datasets with new targets; the copies keep
// their bins, and the fit on them saves the model of the float matrices,
// byte for byte.
func TestPrebinnedValidationLog1p(t *testing.T) {
	positive := func(d *train.Dataset) *train.Dataset {
		d.Y = append([]float64(nil), d.Y...)
		for i, y := range d.Y {
			d.Y[i] = math.Abs(y) // log1p wants targets above -1
		}
		return oddValues(d)
	}
	tr, valid := positive(regressionTask(5_000, false, 1)), positive(regressionTask(1_500, false, 2))
	p := gbdt.Params{Rounds: 300, EarlyStoppingRounds: 5, Seed: 3, Parallelism: 2}
	fitLog := func(tr, valid *train.Dataset) []byte {
		m, err := train.Log1p(gbdt.New(p)).Fit(context.Background(), tr, valid)
		if err != nil {
			t.Fatal(err)
		}
		return saved(t, m)
	}
	want := fitLog(tr, valid)
	bins := prebin(t, p, tr, 999)
	if got := fitLog(bins, validBins(t, bins, valid, 500)); !bytes.Equal(got, want) {
		t.Error("the log1p model fitted on prebinned rows differs from the one fitted on floats")
	}
}
