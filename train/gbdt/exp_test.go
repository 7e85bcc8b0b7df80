package gbdt_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/mlpipe/mlpipe/train/gbdt"
)

// TEMPORARY experiment harness.
func TestExp(t *testing.T) {
	path := os.Getenv("EXP_DATA")
	if path == "" {
		t.Skip()
	}
	t0 := time.Now()
	sp := loadFlights(t, path)
	t.Logf("load %v rows %d %d %d", time.Since(t0), sp.train.X.Rows, sp.valid.X.Rows, sp.test.X.Rows)
	p := gbdt.Params{}
	last := time.Now()
	p.Progress = func(r int, tl, vl float64) {
		if r%20 == 0 {
			t.Logf("round %d train %.5f valid %.5f  %.2fs", r, tl, vl, time.Since(last).Seconds())
			last = time.Now()
		}
	}
	t0 = time.Now()
	m, err := gbdt.New(p).Fit(context.Background(), sp.train, sp.valid)
	if err != nil {
		t.Fatal(err)
	}
	ft := time.Since(t0)
	gm := m.(*gbdt.Model)
	t0 = time.Now()
	pr := m.PredictProba(sp.test.X)
	pt := time.Since(t0)
	t.Logf("fit %v best %d AUC test %.5f valid %.5f predict %v imp %v", ft, gm.BestRound, rocAUC(pr, sp.test.Y), rocAUC(m.PredictProba(sp.valid.X), sp.valid.Y), pt, gm.Importance())
}
