// Package progress draws a live status line on a terminal: the running
// stage, its elapsed time and its latest progress ("gbdt round 12, valid
// loss 0.37985"), redrawn in place a few times a second.
//
// In: a terminal writer, and the stage starts, updates and ends that the
// pipeline's runner reports. Out: one line, rewritten with a carriage
// return; it is cleared when a stage ends and around every log record
// (Handler), so logs and the status line never garble each other. Off a
// terminal the pipeline logs periodic plain lines instead (IsTerminal
// decides).
package progress

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"
)

// IsTerminal reports whether f is a character device (a terminal),
// without a dependency on a terminal library.
func IsTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Line is a live status line.
type Line struct {
	mu     sync.Mutex
	w      io.Writer
	stage  string
	detail string
	start  time.Time
	shown  bool
	frame  int
	now    func() time.Time
	stop   chan struct{}
	closed sync.Once
	done   chan struct{}
}

// redrawEvery is how often the line is redrawn (the elapsed time and the
// spinner move even when no update arrives).
const redrawEvery = 150 * time.Millisecond

// New starts a status line on w. Close stops it.
func New(w io.Writer) *Line {
	l := newLine(w, time.Now)
	go l.loop()
	return l
}

func newLine(w io.Writer, now func() time.Time) *Line {
	return &Line{w: w, now: now, stop: make(chan struct{}), done: make(chan struct{})}
}

func (l *Line) loop() {
	defer close(l.done)
	t := time.NewTicker(redrawEvery)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			l.mu.Lock()
			l.draw()
			l.mu.Unlock()
		}
	}
}

// Start shows a stage that begins.
func (l *Line) Start(stage string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stage, l.detail, l.start = stage, "", l.now()
	l.draw()
}

// Set updates the running stage's progress text.
func (l *Line) Set(detail string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.detail = detail
}

// End clears the line: the stage is over.
func (l *Line) End() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.clear()
	l.stage = ""
}

// Close stops redrawing and clears the line.
func (l *Line) Close() {
	l.closed.Do(func() {
		close(l.stop)
		if l.done != nil {
			<-l.done
		}
		l.End()
	})
}

var spinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// draw rewrites the line; l.mu is held.
func (l *Line) draw() {
	if l.stage == "" {
		return
	}
	l.frame = (l.frame + 1) % len(spinner)
	text := fmt.Sprintf("%s %s %.1fs", spinner[l.frame], l.stage, l.now().Sub(l.start).Seconds())
	if l.detail != "" {
		text += "  " + l.detail
	}
	// \r returns to the start of the line, ESC[K erases to its end.
	fmt.Fprintf(l.w, "\r\x1b[K%s", text)
	l.shown = true
}

// clear erases the line; l.mu is held.
func (l *Line) clear() {
	if l.shown {
		fmt.Fprint(l.w, "\r\x1b[K")
		l.shown = false
	}
}

// Handler wraps h so that the status line is cleared before each log
// record is written and redrawn after it.
func (l *Line) Handler(h slog.Handler) slog.Handler { return &handler{h, l} }

type handler struct {
	slog.Handler
	l *Line
}

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	h.l.mu.Lock()
	defer h.l.mu.Unlock()
	h.l.clear()
	err := h.Handler.Handle(ctx, r)
	h.l.draw()
	return err
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	return &handler{h.Handler.WithAttrs(as), h.l}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{h.Handler.WithGroup(name), h.l}
}

// Rows describes progress through rows: "1.20M of 3.00M rows, 0.85M
// rows/s" (total 0: unknown, "1.20M rows, 0.85M rows/s"). The rate is
// left out until some time has passed.
func Rows(done, total int64, elapsed time.Duration) string {
	s := millions(done)
	if total > 0 {
		s += " of " + millions(total)
	}
	s += " rows"
	if elapsed >= 10*time.Millisecond {
		s += ", " + millions(int64(float64(done)/elapsed.Seconds())) + " rows/s"
	}
	return s
}

// millions formats a count in millions with two decimals (0.85M), or as
// is below ten thousand.
func millions(n int64) string {
	if n < 10_000 {
		return fmt.Sprint(n)
	}
	return fmt.Sprintf("%.2fM", float64(n)/1e6)
}
