// Command pauses measures how often this machine takes the CPU away from
// a running thread, and for how long: the floor under any latency
// figure measured here.
//
//	go run ./scripts/bench/pauses -duration 10s -out pauses.json
//
// It runs one thread per CPU (each locked to an OS thread, as busy as a
// thread can be: it only reads the clock) and records every gap between
// two consecutive clock reads longer than -min. A gap is time the
// thread did not run: another thread or a kernel worker had its CPU, or
// the hypervisor had the virtual CPU. On an idle machine the gaps are
// the machine's own pauses; a server measured here loses at least as
// much. The result, per thread and in total, goes to -out as JSON (times
// in ms) and a one-line summary to stderr.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime"
	"sync"
	"time"
)

// limits are the gap lengths counted (longer than each).
var limits = []time.Duration{500 * time.Microsecond, time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond}

// thread is what one probe thread saw.
type thread struct {
	Over  map[string]int `json:"gaps_over"` // gaps longer than each limit ("0.5ms", ...)
	Lost  float64        `json:"lost_ms"`   // the sum of gaps longer than -min
	Worst float64        `json:"worst_ms"`
}

type result struct {
	DurationS float64        `json:"duration_s"`
	MinUS     float64        `json:"min_us"`
	Threads   []thread       `json:"threads"`
	Over      map[string]int `json:"gaps_over"` // over all threads
	PerSecond float64        `json:"over_2ms_per_thread_second"`
}

func name(d time.Duration) string {
	return fmt.Sprintf("%gms", float64(d)/float64(time.Millisecond))
}

// probe spins for d and records the gaps longer than min.
func probe(d, min time.Duration) thread {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t := thread{Over: map[string]int{}}
	start := time.Now()
	prev := start
	for prev.Sub(start) < d {
		now := time.Now()
		if gap := now.Sub(prev); gap > min {
			t.Lost += float64(gap) / float64(time.Millisecond)
			t.Worst = math.Max(t.Worst, float64(gap)/float64(time.Millisecond))
			for _, l := range limits {
				if gap > l {
					t.Over[name(l)]++
				}
			}
		}
		prev = now
	}
	t.Lost = math.Round(t.Lost*1000) / 1000
	t.Worst = math.Round(t.Worst*1000) / 1000
	return t
}

func measure(d, min time.Duration, threads int) result {
	res := result{DurationS: d.Seconds(), MinUS: float64(min) / float64(time.Microsecond),
		Threads: make([]thread, threads), Over: map[string]int{}}
	var wg sync.WaitGroup
	for i := range res.Threads {
		wg.Go(func() { res.Threads[i] = probe(d, min) })
	}
	wg.Wait()
	for _, t := range res.Threads {
		for k, v := range t.Over {
			res.Over[k] += v
		}
	}
	res.PerSecond = math.Round(float64(res.Over[name(2*time.Millisecond)])/float64(threads)/d.Seconds()*100) / 100
	return res
}

func main() {
	var (
		duration = flag.Duration("duration", 10*time.Second, "how long to probe")
		min      = flag.Duration("min", 100*time.Microsecond, "shortest gap counted as a pause")
		threads  = flag.Int("threads", runtime.NumCPU(), "probe threads (one per CPU by default)")
		out      = flag.String("out", "", "write the result here as JSON (default: stdout)")
	)
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "Usage: pauses [flags]\n\nMeasure how often this machine pauses a running thread (see the package documentation).\n\nFlags:\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *duration <= 0 || *min <= 0 || *threads <= 0 {
		fmt.Fprintln(os.Stderr, "pauses: -duration, -min and -threads must be positive")
		os.Exit(2)
	}
	runtime.GOMAXPROCS(max(runtime.GOMAXPROCS(0), *threads))
	res := measure(*duration, *min, *threads)
	js, err := json.MarshalIndent(res, "", "  ")
	if err == nil {
		if *out == "" {
			_, err = os.Stdout.Write(append(js, '\n'))
		} else {
			err = os.WriteFile(*out, append(js, '\n'), 0o644)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pauses:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "pauses: %d threads, %v: gaps over 1 ms %d, over 2 ms %d (%.2f per thread-second), over 5 ms %d; worst %.3f ms\n",
		*threads, *duration, res.Over["1ms"], res.Over["2ms"], res.PerSecond, res.Over["5ms"], worst(res))
}

func worst(r result) float64 {
	w := 0.0
	for _, t := range r.Threads {
		w = math.Max(w, t.Worst)
	}
	return w
}
