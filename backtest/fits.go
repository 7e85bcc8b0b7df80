package backtest

import (
	"context"
	"runtime"
	"sync"
)

// Fits run ahead.
//
// A fit depends only on the period it starts (its training and
// validation windows end there), never on a policy's decisions, so it
// can be made before any policy asks for it. When the scheduled policy
// runs, every period's fit will be asked for; the backtest queues them
// all at the start, in period order, and a few goroutines train them
// while the policies score the periods and run the monitor. A fit that
// a policy asks for before its turn is queued then, and waited for.
//
// Each of those goroutines trains with a share of the CPUs (the
// trainer's parallelism), not all of them: two fits on one CPU each
// keep both CPUs of a small machine busy all the time, where one fit on
// both leaves one idle whenever the trainer's work is serial, and they
// cost less CPU in all (on the shipped flights windows: 32.7 against
// 39.8 CPU seconds for three fits, on one CPU against two). A model does
// not depend on the trainer's parallelism (train/gbdt/doc.go), so the
// results are the same however the fits are scheduled.

// maxFitWorkers caps the fits trained at once: each holds its training
// window's raw rows, its bins (or, with a trainer other than gbdt, its
// feature matrix) and the trainer's buffers (a few hundred MB on the
// shipped data), so more would cost memory for little gain on the
// machines this runs on.
const maxFitWorkers = 4

// fitWorkers returns how many fits to train at once when they are known
// ahead, and the trainer parallelism of each: the CPUs shared out.
func fitWorkers() (workers, parallelism int) {
	cpus := runtime.GOMAXPROCS(0)
	workers = min(cpus, maxFitWorkers)
	return workers, max(1, cpus/workers)
}

// fitPool trains fits on a few goroutines, in the order they are
// queued, and keeps them.
type fitPool struct {
	fit    func(ctx context.Context, k int) (*fitted, error)
	ctx    context.Context
	cancel context.CancelFunc
	queue  chan int
	wg     sync.WaitGroup

	mu   sync.Mutex
	jobs map[int]*fitJob
}

// fitJob is one fit, queued, running or done (done is closed).
type fitJob struct {
	done chan struct{}
	f    *fitted
	err  error
}

// newFitPool starts workers goroutines that train, with fit, the periods
// queued; at most periods are ever queued.
func newFitPool(ctx context.Context, workers, periods int, fit func(ctx context.Context, k int) (*fitted, error)) *fitPool {
	p := &fitPool{fit: fit, queue: make(chan int, periods), jobs: map[int]*fitJob{}}
	p.ctx, p.cancel = context.WithCancel(ctx)
	for range workers {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for k := range p.queue {
				j := p.job(k)
				if err := p.ctx.Err(); err != nil {
					j.err = err
				} else {
					j.f, j.err = p.fit(p.ctx, k)
				}
				close(j.done)
			}
		}()
	}
	return p
}

// job returns the job of period k.
func (p *fitPool) job(k int) *fitJob {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.jobs[k]
}

// ahead queues the fit of period k unless it is queued already, and
// returns its job.
func (p *fitPool) ahead(k int) *fitJob {
	p.mu.Lock()
	defer p.mu.Unlock()
	if j, ok := p.jobs[k]; ok {
		return j
	}
	j := &fitJob{done: make(chan struct{})}
	p.jobs[k] = j
	p.queue <- k // never blocks: each period is queued at most once
	return j
}

// get returns the fit of period k, queueing it if need be, once it is
// trained.
func (p *fitPool) get(ctx context.Context, k int) (*fitted, error) {
	j := p.ahead(k)
	select {
	case <-j.done:
		return j.f, j.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// close stops the fits not yet started, waits for those running, and
// releases every fit's tables.
func (p *fitPool) close() {
	p.cancel()
	close(p.queue)
	p.wg.Wait()
	for _, j := range p.jobs {
		if j.f != nil {
			j.f.train.Release()
			j.f.valid.Release()
		}
	}
}
