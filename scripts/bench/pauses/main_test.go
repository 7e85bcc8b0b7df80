package main

import (
	"testing"
	"time"
)

// TestMeasure checks the bookkeeping on a real probe: every gap over a
// limit is also over the smaller ones, the longest gap is among the time
// lost, no more time is lost than the probe lasted, and the per-second figure is the 2 ms count spread over threads
// and seconds.
func TestMeasure(t *testing.T) {
	const d, threads = 200 * time.Millisecond, 2
	r := measure(d, 50*time.Microsecond, threads)
	if len(r.Threads) != threads {
		t.Fatalf("%d threads reported, want %d", len(r.Threads), threads)
	}
	total := map[string]int{}
	for i, th := range r.Threads {
		for k := 1; k < len(limits); k++ {
			if th.Over[name(limits[k])] > th.Over[name(limits[k-1])] {
				t.Errorf("thread %d: %d gaps over %v but %d over %v", i, th.Over[name(limits[k])], limits[k], th.Over[name(limits[k-1])], limits[k-1])
			}
		}
		// The probe stops at the first clock reading past d, so its last
		// gap may run past d: the time lost is at most d plus one gap.
		if th.Worst > th.Lost || th.Lost > float64(d)/float64(time.Millisecond)+th.Worst {
			t.Errorf("thread %d: worst gap %v ms, lost %v ms in a %v probe", i, th.Worst, th.Lost, d)
		}
		for k, v := range th.Over {
			total[k] += v
		}
	}
	for k, v := range total {
		if r.Over[k] != v {
			t.Errorf("gaps over %s: total %d, threads add up to %d", k, r.Over[k], v)
		}
	}
	want := float64(r.Over["2ms"]) / threads / d.Seconds()
	if diff := r.PerSecond - want; diff > 0.005 || diff < -0.005 {
		t.Errorf("over_2ms_per_thread_second = %v, want %v", r.PerSecond, want)
	}
}

func TestName(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{{500 * time.Microsecond, "0.5ms"}, {2 * time.Millisecond, "2ms"}, {10 * time.Millisecond, "10ms"}} {
		if got := name(tt.d); got != tt.want {
			t.Errorf("name(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
