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
