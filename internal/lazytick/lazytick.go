// Package lazytick is a ticker for a goroutine that drains a queue on a
// timer: it ticks while there is work and stops when there has been none
// for a while, so that an idle process sleeps instead of waking hundreds
// of times a second.
//
// In: the tick interval, how many empty ticks in a row put it to sleep,
// and a Wake from each producer after it queues. Out: the ticks, on C.
//
// Why a timer and not a wake-up per item: a send on a channel that a
// goroutine waits on wakes that goroutine, and on a busy server that is
// a wake-up per request (see predlog's drainInterval). Polling every few
// milliseconds costs nothing under load but a few percent of a core when
// idle; this keeps the polling and drops the idle cost. While the ticker
// runs, Wake is one atomic load on the producer's path.
package lazytick

import (
	"sync/atomic"
	"time"
)

// Ticker ticks every interval until it has seen idleAfter empty ticks in
// a row, then sleeps until Wake. Only the owner goroutine receives from
// C and calls Ticked; any goroutine may call Wake.
type Ticker struct {
	C <-chan time.Time

	t         *time.Ticker
	every     time.Duration
	idleAfter int
	empty     int // owner only
	asleep    atomic.Bool
}

// New starts a ticker.
func New(every time.Duration, idleAfter int) *Ticker {
	t := time.NewTicker(every)
	return &Ticker{C: t.C, t: t, every: every, idleAfter: max(1, idleAfter)}
}

// Ticked is called by the owner after each tick, with whether it found
// work. After idleAfter empty ticks in a row the ticker stops; pending
// then says whether work arrived meanwhile (a Wake may have come before
// the ticker was marked asleep), and if so it starts again.
func (t *Ticker) Ticked(worked bool, pending func() bool) {
	if worked {
		t.empty = 0
		return
	}
	if t.empty++; t.empty < t.idleAfter {
		return
	}
	t.empty = 0
	t.t.Stop() // before asleep is set: a Wake that sees it resets after this
	t.asleep.Store(true)
	if pending() {
		t.Wake()
	}
}

// Wake starts the ticker again if it sleeps. Producers call it after
// they queue work.
func (t *Ticker) Wake() {
	if t.asleep.Load() && t.asleep.CompareAndSwap(true, false) {
		t.t.Reset(t.every)
	}
}

// Asleep reports whether the ticker is stopped for want of work.
func (t *Ticker) Asleep() bool { return t.asleep.Load() }

// Stop stops the ticker for good.
func (t *Ticker) Stop() { t.t.Stop() }
