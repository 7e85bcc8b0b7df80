package pipeline

import (
	"sync"
	"time"

	"github.com/mlpipe/mlpipe/internal/progress"
)

// rowCounter reports a long stage's progress through rows, with its rate
// (rows per second): on the live view at every update, or, off a
// terminal, in a log line at most every progressEvery. It is safe for
// concurrent use (the load stage's readers call it from their
// goroutines).
type rowCounter struct {
	s     *State
	what  string // what the rows are going through: "read", "transform validation"
	total int64  // 0: unknown

	mu      sync.Mutex
	done    int64
	start   time.Time
	lastLog time.Time
}

func newRowCounter(s *State, what string, total int64) *rowCounter {
	now := time.Now()
	return &rowCounter{s: s, what: what, total: total, start: now, lastLog: now}
}

// add counts n more rows done and reports.
func (c *rowCounter) add(n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done += n
	elapsed := time.Since(c.start)
	msg := c.what + ": " + progress.Rows(c.done, c.total, elapsed)
	if c.s.progress != nil {
		c.s.progress.Set(msg)
		return
	}
	if time.Since(c.lastLog) < progressEvery {
		return
	}
	c.lastLog = time.Now()
	c.s.log.Info("progress", "stage", c.what, "rows", c.done, "total", c.total,
		"rows_per_second", int64(float64(c.done)/elapsed.Seconds()))
}
