// Package rss measures the resident memory of this process: its peak over
// a stretch of work (a pipeline stage), so that a run's summary can say
// which stage needs how much memory.
//
// In: a Meter started before the work and stopped after it. Out: the
// peak resident set size (bytes) over that stretch, and the process's
// peak so far (Peak).
//
// How. Linux keeps one high-water mark per process, VmHWM in
// /proc/self/status, which is what getrusage's ru_maxrss and GNU time's
// "maximum resident set size" report. It can be reset (writing "5" to
// /proc/self/clear_refs), but that would also reset what GNU time and
// getrusage report for the whole process, so this package never resets
// it. Instead a Meter
//
//   - reads VmHWM when it starts and when it stops: if the mark rose,
//     the process reached a new peak during the stretch, and that peak,
//     exact to the page, is the stretch's peak;
//   - otherwise samples VmRSS every SampleEvery while it runs, and
//     reports the largest sample (and the readings at start and stop).
//
// So the stage that sets the process's peak is measured exactly, and a
// later, smaller stage is measured by sampling, which can miss a spike
// shorter than SampleEvery (a spike that large would have to be
// allocated, touched and freed within 20 ms). Off Linux (no /proc) a
// Meter reports 0: unknown.
package rss

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"sync"
	"time"
)

// SampleEvery is how often a Meter reads VmRSS. Reading
// /proc/self/status takes about 20 µs, so this costs 0.1% of a core.
const SampleEvery = 20 * time.Millisecond

// statusPath is read for VmRSS and VmHWM (a variable for tests).
var statusPath = "/proc/self/status"

// read returns VmRSS and VmHWM in bytes (0, 0 when they cannot be read).
func read() (cur, hwm int64) {
	b, err := os.ReadFile(statusPath)
	if err != nil {
		return 0, 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case bytes.HasPrefix(line, []byte("VmRSS:")):
			cur = kib(line[len("VmRSS:"):])
		case bytes.HasPrefix(line, []byte("VmHWM:")):
			hwm = kib(line[len("VmHWM:"):])
		}
	}
	return cur, hwm
}

// kib parses "   123456 kB" into bytes.
func kib(b []byte) int64 {
	f := bytes.Fields(b)
	if len(f) == 0 {
		return 0
	}
	n, err := strconv.ParseInt(string(f[0]), 10, 64)
	if err != nil {
		return 0
	}
	return n << 10
}

// Current is the process's resident set size now, in bytes (0: unknown).
func Current() int64 {
	cur, _ := read()
	return cur
}

// Peak is the process's peak resident set size so far (VmHWM), in bytes
// (0: unknown).
func Peak() int64 {
	_, hwm := read()
	return hwm
}

// Meter measures the peak resident set size over a stretch of work.
type Meter struct {
	hwm0 int64
	mu   sync.Mutex
	max  int64
	stop chan struct{}
	done chan struct{}
}

// Start starts a meter. Stop ends it.
func Start() *Meter {
	cur, hwm := read()
	m := &Meter{hwm0: hwm, max: cur, stop: make(chan struct{}), done: make(chan struct{})}
	if hwm == 0 {
		close(m.done) // nothing to sample
		return m
	}
	go m.sample()
	return m
}

func (m *Meter) sample() {
	defer close(m.done)
	t := time.NewTicker(SampleEvery)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			m.observe(Current())
		}
	}
}

func (m *Meter) observe(cur int64) {
	m.mu.Lock()
	m.max = max(m.max, cur)
	m.mu.Unlock()
}

// Stop ends the meter and returns the peak resident set size since
// Start, in bytes (0: unknown). It must be called once.
func (m *Meter) Stop() int64 {
	close(m.stop)
	<-m.done
	cur, hwm := read()
	if hwm > m.hwm0 {
		return hwm // a new peak of the process: exact
	}
	m.observe(cur)
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.max
}
