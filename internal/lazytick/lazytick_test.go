package lazytick

import (
	"sync"
	"testing"
	"time"
)

// TestSleepAndWake: the ticker stops after idleAfter empty ticks, ticks
// again after Wake, and a wake that raced with going to sleep is not
// lost.
func TestSleepAndWake(t *testing.T) {
	tk := New(time.Millisecond, 3)
	defer tk.Stop()
	for range 3 {
		<-tk.C
		tk.Ticked(false, func() bool { return false })
	}
	if !tk.Asleep() {
		t.Fatal("not asleep after 3 empty ticks")
	}
	select {
	case <-tk.C:
		t.Fatal("a tick while asleep")
	case <-time.After(20 * time.Millisecond):
	}
	tk.Wake()
	if tk.Asleep() {
		t.Fatal("asleep after Wake")
	}
	select {
	case <-tk.C:
	case <-time.After(time.Second):
		t.Fatal("no tick after Wake")
	}
	// Work that arrived while it went to sleep wakes it at once.
	for range 3 {
		<-tk.C
		tk.Ticked(false, func() bool { return true })
	}
	if tk.Asleep() {
		t.Fatal("asleep with work pending")
	}
	// Work resets the count of empty ticks.
	for i := range 5 {
		<-tk.C
		tk.Ticked(i%2 == 0, func() bool { return false })
	}
	if tk.Asleep() {
		t.Fatal("asleep although every other tick had work")
	}
}

// TestConcurrentWake: producers waking the ticker while its owner puts
// it to sleep (run with -race).
func TestConcurrentWake(t *testing.T) {
	tk := New(100*time.Microsecond, 1)
	defer tk.Stop()
	var queued sync.WaitGroup
	var mu sync.Mutex
	n := 0
	for range 4 {
		queued.Go(func() {
			for range 200 {
				mu.Lock()
				n++
				mu.Unlock()
				tk.Wake()
				time.Sleep(50 * time.Microsecond)
			}
		})
	}
	done := make(chan struct{})
	go func() { queued.Wait(); close(done) }()
	got := 0
	for got < 800 {
		select {
		case <-tk.C:
		case <-time.After(2 * time.Second):
			t.Fatalf("stalled with %d of 800 taken (asleep %v)", got, tk.Asleep())
		}
		mu.Lock()
		k := n
		n = 0
		mu.Unlock()
		got += k
		tk.Ticked(k > 0, func() bool { mu.Lock(); defer mu.Unlock(); return n > 0 })
	}
	<-done
}
