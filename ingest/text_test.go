package ingest_test

import (
	"testing"
	"time"

	"github.com/mlpipe/mlpipe/ingest"
)

// TestParseTime: ParseTime and ParseTimeBytes agree on every layout the
// readers accept and on what they refuse, and the common layouts parse
// from bytes without allocating.
func TestParseTime(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Time // zero: an error
	}{
		{"2001-06-15", time.Date(2001, 6, 15, 0, 0, 0, 0, time.UTC)},
		{"2001-06-15 08:30", time.Date(2001, 6, 15, 8, 30, 0, 0, time.UTC)},
		{"2001-06-15T08:30:05", time.Date(2001, 6, 15, 8, 30, 5, 0, time.UTC)},
		{"2001-06-15T08:30:05.25", time.Date(2001, 6, 15, 8, 30, 5, 250e6, time.UTC)}, // the slow path
		{"2000-02-29T00:00:00", time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"2001-02-29T00:00:00", time.Time{}}, // not a leap year
		{"2001-06-15T24:00:00", time.Time{}},
		{"2001-06-15T08:30:00Z", time.Time{}}, // a zone
		{"2001-06-15T08:30:00+02:00", time.Time{}},
		{"15/06/2001", time.Time{}},
		{"", time.Time{}},
	} {
		got, err := ingest.ParseTime(c.in)
		gotB, errB := ingest.ParseTimeBytes([]byte(c.in))
		if (err == nil) != (errB == nil) || !got.Equal(gotB) || (err != nil && err.Error() != errB.Error()) {
			t.Errorf("%q: ParseTime %v, %v; ParseTimeBytes %v, %v", c.in, got, err, gotB, errB)
		}
		if c.want.IsZero() {
			if err == nil {
				t.Errorf("%q: want an error, got %v", c.in, got)
			}
			continue
		}
		if err != nil || !got.Equal(c.want) {
			t.Errorf("%q: got %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	b := []byte("2001-06-15T08:30:05")
	if n := testing.AllocsPerRun(100, func() { _, _ = ingest.ParseTimeBytes(b) }); n != 0 {
		t.Errorf("ParseTimeBytes allocates %v times per call, want 0", n)
	}
}
