package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
)

// TestGuard: a tick while the job runs is skipped; a panicking job is
// recovered and the next tick runs (robfig/cron issue #366).
func TestGuard(t *testing.T) {
	s := &Scheduler{}
	g := s.guard(slog.New(slog.DiscardHandler))
	started, release := make(chan struct{}), make(chan struct{})
	blocking := g(cron.FuncJob(func() { close(started); <-release }))
	done := make(chan struct{})
	go func() { blocking.Run(); close(done) }()
	<-started
	blocking.Run() // returns at once: skipped
	close(release)
	<-done
	if _, skipped, _ := s.Stats(); skipped != 1 {
		t.Fatalf("skipped %d; want 1", skipped)
	}

	calls := 0
	panicOnce := g(cron.FuncJob(func() {
		calls++
		if calls == 1 {
			panic("boom")
		}
	}))
	panicOnce.Run()
	panicOnce.Run()
	if _, _, panicked := s.Stats(); calls != 2 || panicked != 1 {
		t.Errorf("after a panic: %d calls (want 2), %d panics (want 1)", calls, panicked)
	}
}

// TestRobfigChainSkipsAfterPanic documents the upstream trap that guard
// avoids: with robfig's own Recover and SkipIfStillRunning, a job that
// panicked once never runs again. If this test fails, upstream fixed
// issue #366 and guard could be replaced by the library's wrappers.
func TestRobfigChainSkipsAfterPanic(t *testing.T) {
	calls := 0
	j := cron.NewChain(cron.Recover(cron.DiscardLogger), cron.SkipIfStillRunning(cron.DiscardLogger)).Then(cron.FuncJob(func() {
		calls++
		if calls == 1 {
			panic("boom")
		}
	}))
	j.Run()
	j.Run()
	if calls != 1 {
		t.Errorf("robfig's chain ran the job %d times after a panic; issue #366 is fixed upstream", calls)
	}
}

// TestSchedulerRun runs a real schedule (@every 1s): the first job runs
// until the scheduler is stopped, the ticks meanwhile are skipped, and
// stopping cancels the job and waits for it.
func TestSchedulerRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var jobStopped atomic.Bool
	s := &Scheduler{Spec: "@every 1s", Job: func(jctx context.Context, tick time.Time) error {
		<-jctx.Done() // a long run, stopped only by cancellation
		jobStopped.Store(true)
		return jctx.Err()
	}}
	errc := make(chan error, 1)
	go func() { errc <- s.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, skipped, _ := s.Stats(); skipped >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no tick was skipped within 10 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !jobStopped.Load() {
		t.Error("Run returned before the running job stopped")
	}
	if ran, _, _ := s.Stats(); ran != 1 {
		t.Errorf("%d jobs ran, want 1", ran)
	}
}

// TestSchedulerSkippedJob: a job that returns ErrSkipped (another process
// was training) counts as skipped, not as run: a scheduler that lost
// every tick to another reports ran=0.
func TestSchedulerSkippedJob(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int64
	s := &Scheduler{Spec: "@every 1s", Job: func(context.Context, time.Time) error {
		calls.Add(1)
		return fmt.Errorf("%w: another process is training", ErrSkipped)
	}}
	errc := make(chan error, 1)
	go func() { errc <- s.Run(ctx) }()
	for deadline := time.Now().Add(10 * time.Second); calls.Load() < 2; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("fewer than 2 ticks within 10 s")
		}
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if ran, skipped, _ := s.Stats(); ran != 0 || skipped < 2 {
		t.Errorf("ran %d, skipped %d; want 0 and at least 2", ran, skipped)
	}
}

// TestSchedulerGrace: a job that ignores cancellation makes Run give up
// after the grace period.
func TestSchedulerGrace(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	stuck := make(chan struct{})
	defer close(stuck)
	s := &Scheduler{Spec: "@every 1s", Grace: 100 * time.Millisecond, Job: func(context.Context, time.Time) error {
		close(started)
		<-stuck
		return nil
	}}
	errc := make(chan error, 1)
	go func() { errc <- s.Run(ctx) }()
	<-started
	cancel()
	if err := <-errc; !errors.Is(err, ErrGrace) {
		t.Errorf("Run = %v, want ErrGrace", err)
	}
}

func TestSchedulerBadSpec(t *testing.T) {
	for _, spec := range []string{"TZ=UTC", "61 * * * *", "", "@every"} {
		s := &Scheduler{Spec: spec, Job: func(context.Context, time.Time) error { return nil }}
		if err := s.Run(context.Background()); err == nil {
			t.Errorf("spec %q: no error", spec)
		}
	}
}
