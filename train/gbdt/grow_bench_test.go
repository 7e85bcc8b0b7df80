package gbdt

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"

	"github.com/mlpipe/mlpipe/features"
)

// BenchmarkGrow grows one tree on 1,000,000 synthetic rows of 8 numeric
// columns (255 bins each; the target depends on 4 of them), with the
// squared error's gradients at the mean: the shape of the flights
// regression (BenchmarkFitFlightsRegression), without loading it, so that
// a change to tree growth is measured in seconds. The leaf counts are the
// regression config's and the per-round goal's. Besides the wall time it
// reports the process's CPU seconds per tree (cpu-s/op), which on a
// shared machine varies much less with the load than the wall time.
func BenchmarkGrow(b *testing.B) {
	const n, cols = 1_000_000, 8
	rng := rand.New(rand.NewPCG(1, 2))
	x := &features.Matrix{Rows: n}
	for j := range cols {
		x.Cols = append(x.Cols, features.ColumnInfo{Name: fmt.Sprint("x", j), Kind: features.Numeric})
		col := make([]float64, n)
		for i := range col {
			col[i] = rng.NormFloat64()
		}
		x.Data = append(x.Data, col)
	}
	grad := make([]gradPair, n)
	for i := range grad {
		y := x.Data[0][i]*x.Data[1][i] + x.Data[2][i] + 0.5*x.Data[3][i]*x.Data[3][i] + rng.NormFloat64()
		grad[i] = gradPair{float32(-y), 1} // squared error at a margin of 0
	}
	all := make([]int32, n)
	for i := range all {
		all[i] = int32(i)
	}
	allCols := make([]int, cols)
	for j := range allCols {
		allCols[j] = j
	}
	for _, leaves := range []int{255, 4095} {
		b.Run(fmt.Sprintf("leaves=%d", leaves), func(b *testing.B) {
			p, err := Params{MaxLeaves: leaves, Rounds: 1}.resolve()
			if err != nil {
				b.Fatal(err)
			}
			g := testGrower(x, p)
			var ru0, ru1 syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
			for b.Loop() {
				g.grow(grad, all, allCols)
			}
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
			cpu := func(ru *syscall.Rusage) float64 {
				return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
			}
			b.ReportMetric((cpu(&ru1)-cpu(&ru0))/float64(b.N), "cpu-s/op")
		})
	}
}

// testGrower bins x as Fit does and returns a grower of its bins.
func testGrower(x *features.Matrix, p Params) *grower {
	maps := newBinMappers(x, p.MaxBins, 0, p.Parallelism)
	bx := binMatrix(x, maps, p.Parallelism)
	bx.addColumns(p.Parallelism)
	return newGrower(&bx, maps, p)
}
