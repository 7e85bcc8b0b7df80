package predlog

import (
	"context"
	"testing"
	"time"
)

// TestIdleDrainSleeps: with nothing logged for drainIdleAfter drains the
// writer's drain ticker stops (an idle server sleeps), and the next Log
// starts it again, so the record is taken from the queue within a few
// drain intervals, not at the next flush tick.
func TestIdleDrainSleeps(t *testing.T) {
	w, err := NewWriter(t.TempDir(), Options{FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(context.Background())
	c := w.c
	asleep := func() bool {
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if c.drainTick.Asleep() {
				return true
			}
			time.Sleep(10 * time.Millisecond)
		}
		return false
	}
	if !asleep() {
		t.Fatal("the drain ticker still runs after 10 s without a record")
	}
	w.Log(Record{ID: "a", Model: "m", Version: 1, Probability: 0.5})
	if c.drainTick.Asleep() {
		t.Error("Log did not wake the drain ticker")
	}
	deadline := time.Now().Add(5 * time.Second)
	for c.pending() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if c.pending() {
		t.Fatal("the record is still queued 5 s after Log")
	}
	if !asleep() {
		t.Fatal("the drain ticker did not go back to sleep")
	}
}
