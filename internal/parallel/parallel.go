package parallel

import (
	"sync"
	"sync/atomic"
)

// Chunks cuts [0, n) into consecutive pieces of size chunk (the last
// may be shorter) and calls fn(c, lo, hi) for piece c = [lo, hi) on up to
// workers goroutines.
//
// Which goroutine runs which piece depends on scheduling, so fn must
// write only to memory that belongs to its piece; then the result is the
// same for any number of workers. That is how every parallel loop of the
// gbdt trainer and predictor stays deterministic: the pieces are fixed by n and chunk alone,
// and anything summed across pieces is summed afterwards, in piece order.
func Chunks(workers, n, chunk int, fn func(c, lo, hi int)) {
	if n <= 0 {
		return
	}
	pieces := (n + chunk - 1) / chunk
	if workers > pieces {
		workers = pieces
	}
	run := func(c int) {
		lo := c * chunk
		fn(c, lo, min(lo+chunk, n))
	}
	if workers <= 1 {
		for c := range pieces {
			run(c)
		}
		return
	}
	var next atomic.Int64
	work := func() {
		for {
			c := int(next.Add(1) - 1)
			if c >= pieces {
				return
			}
			run(c)
		}
	}
	var wg sync.WaitGroup
	for range workers - 1 {
		wg.Go(work)
	}
	work() // the calling goroutine works too
	wg.Wait()
}

// Each calls fn(i) for i in [0, n) on up to workers goroutines; fn(i)
// must write only what belongs to i.
func Each(workers, n int, fn func(i int)) {
	Chunks(workers, n, 1, func(i, _, _ int) { fn(i) })
}
