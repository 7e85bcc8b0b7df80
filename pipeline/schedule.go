package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/mlpipe/mlpipe/config"
)

// Scheduler runs a job on a cron schedule (robfig/cron/v3): at most one
// job at a time, a panic recovered and logged, and a graceful stop.
//
// robfig/cron's own chain, WithChain(Recover(...), SkipIfStillRunning(...)),
// has a trap (robfig/cron issue #366): SkipIfStillRunning releases its
// guard only when the job returns, so a job that panics once holds the
// guard forever and every later tick is skipped. guard below recovers
// inside the guard and releases it in a defer, so a panic costs one tick.
type Scheduler struct {
	// Spec is a 5-field cron spec or a descriptor ("@daily", "@every 6h").
	Spec string
	// Location is the time zone of Spec (nil: UTC).
	Location *time.Location
	// Job is run at each tick with the tick's time. Its ctx is cancelled
	// when Run's ctx is: a running pipeline stops at its next safe point.
	Job func(ctx context.Context, tick time.Time) error
	// Grace bounds how long Run waits for a running job after its ctx is
	// cancelled (default 60 s).
	Grace time.Duration
	Log   *slog.Logger

	ran, skipped, panicked atomic.Int64
}

// ErrGrace means a running job did not stop within the grace period.
var ErrGrace = errors.New("the running job did not stop within the grace period")

// ErrSkipped is what a job returns (wrapped, with the reason) when it
// did not run after all: another process was training, say. The tick
// counts as skipped, not as run.
var ErrSkipped = errors.New("tick skipped")

// Run schedules the job and blocks until ctx is done; then it cancels the
// running job, if any, and waits up to Grace for it.
func (s *Scheduler) Run(ctx context.Context) error {
	sched, err := config.ParseCron(s.Spec)
	if err != nil {
		return fmt.Errorf("schedule: %q: %w", s.Spec, err)
	}
	loc := s.Location
	if loc == nil {
		loc = time.UTC
	}
	log := s.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	grace := s.Grace
	if grace <= 0 {
		grace = time.Minute
	}
	jobCtx, cancelJobs := context.WithCancel(context.Background())
	defer cancelJobs()
	c := cron.New(cron.WithLocation(loc), cron.WithChain(s.guard(log)))
	c.Schedule(sched, cron.FuncJob(func() {
		tick := time.Now().In(loc)
		log.Info("schedule: tick", "time", tick.Format(time.RFC3339))
		err := s.Job(jobCtx, tick)
		if errors.Is(err, ErrSkipped) {
			s.skipped.Add(1)
			log.Warn("schedule: tick skipped", "reason", err)
			return
		}
		s.ran.Add(1)
		if err != nil {
			log.Error("schedule: run failed", "err", err)
		}
	}))
	c.Start()
	log.Info("schedule: started", "spec", s.Spec, "timezone", loc.String(), "next", sched.Next(time.Now().In(loc)).Format(time.RFC3339))
	<-ctx.Done()
	log.Info("schedule: stopping; a running job stops at its next safe point", "grace", grace)
	cancelJobs()
	stopped := c.Stop()
	select {
	case <-stopped.Done():
		return nil
	case <-time.After(grace):
		return fmt.Errorf("schedule: %w (%s)", ErrGrace, grace)
	}
}

// Stats returns how many ticks ran the job (panicked ones included),
// were skipped (the previous job was still running, or the job returned
// ErrSkipped), and panicked.
func (s *Scheduler) Stats() (ran, skipped, panicked int64) {
	return s.ran.Load(), s.skipped.Load(), s.panicked.Load()
}

// guard is a cron.JobWrapper that skips a tick while the previous job
// still runs and recovers a panic, releasing the skip guard either way.
func (s *Scheduler) guard(log *slog.Logger) cron.JobWrapper {
	var running atomic.Bool
	return func(j cron.Job) cron.Job {
		return cron.FuncJob(func() {
			if !running.CompareAndSwap(false, true) {
				s.skipped.Add(1)
				log.Warn("schedule: tick skipped: the previous run is still running")
				return
			}
			defer running.Store(false) // runs after the recover below, panic or not
			defer func() {
				if r := recover(); r != nil {
					s.ran.Add(1)
					s.panicked.Add(1)
					log.Error("schedule: the job panicked; the next tick runs as usual", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				}
			}()
			j.Run()
		})
	}
}
