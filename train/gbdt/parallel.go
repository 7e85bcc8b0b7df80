package gbdt

import "github.com/mlpipe/mlpipe/internal/parallel"

// forChunks is parallel.Chunks: the fixed pieces keep every parallel
// loop of the trainer deterministic.
func forChunks(workers, n, chunk int, fn func(c, lo, hi int)) {
	parallel.Chunks(workers, n, chunk, fn)
}

// forEach is parallel.Each.
func forEach(workers, n int, fn func(i int)) { parallel.Each(workers, n, fn) }
