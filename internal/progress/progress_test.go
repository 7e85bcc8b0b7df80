package progress

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestLine drives a line by hand (no ticker) with a fake clock.
func TestLine(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newLine(&buf, func() time.Time { return now })
	l.Start("train")
	l.Set("gbdt round 12  valid loss 0.37985")
	now = now.Add(2500 * time.Millisecond)
	l.mu.Lock()
	l.draw()
	l.mu.Unlock()
	if got := buf.String(); !strings.HasSuffix(got, "\r\x1b[K⠹ train 2.5s  gbdt round 12  valid loss 0.37985") {
		t.Errorf("line = %q", got)
	}

	// A log record clears the line, is written on a line of its own, and
	// the status line is drawn again after it.
	buf.Reset()
	log := slog.New(l.Handler(slog.NewTextHandler(&buf, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}})))
	log.Info("fit done", "model", "gbdt")
	want := "\r\x1b[Klevel=INFO msg=\"fit done\" model=gbdt\n\r\x1b[K⠸ train 2.5s  gbdt round 12  valid loss 0.37985"
	if got := buf.String(); got != want {
		t.Errorf("around a log record:\n got %q\nwant %q", got, want)
	}

	buf.Reset()
	l.End()
	if got := buf.String(); got != "\r\x1b[K" {
		t.Errorf("End wrote %q, want the line cleared", got)
	}
	buf.Reset()
	l.mu.Lock()
	l.draw()
	l.mu.Unlock()
	if buf.Len() != 0 {
		t.Errorf("a line with no stage drew %q", buf.String())
	}
}

// TestNewClose starts the redraw loop and stops it (run with -race).
func TestNewClose(t *testing.T) {
	var buf bytes.Buffer // written only under the line's lock
	l := New(&buf)
	l.Start("features")
	l.Set("x")
	l.Close()
	l.Close() // idempotent
}

func TestRows(t *testing.T) {
	for _, tc := range []struct {
		done, total int64
		elapsed     time.Duration
		want        string
	}{
		{1_200_000, 3_000_000, 2 * time.Second, "1.20M of 3.00M rows, 0.60M rows/s"},
		{1_200_000, 0, 2 * time.Second, "1.20M rows, 0.60M rows/s"},
		{500, 1000, time.Millisecond, "500 of 1000 rows"},
	} {
		if got := Rows(tc.done, tc.total, tc.elapsed); got != tc.want {
			t.Errorf("Rows(%d, %d, %s) = %q, want %q", tc.done, tc.total, tc.elapsed, got, tc.want)
		}
	}
}
