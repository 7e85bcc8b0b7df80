package timeparse

import (
	"fmt"
	"time"
)

// ParseBytes is Parse for bytes. The common layouts do not allocate
// (serving parses a timestamp per instance).
func ParseBytes(b []byte) (time.Time, error) {
	if t, ok := Fast(b); ok {
		return t, nil
	}
	return Parse(string(b))
}

// Parse parses a naive local timestamp: "2001-06-15", "2001-06-15
// 08:30", "2001-06-15T08:30:00" or with a fraction of a second. The
// common layouts take a fast path without allocation. A time with a
// zone or offset is an error: the contract's timestamps are naive.
func Parse(s string) (time.Time, error) {
	if t, ok := Fast(s); ok {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	if _, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return time.Time{}, fmt.Errorf("%q has a time zone; the schema wants naive local time (2001-06-15T08:30:00)", s)
	}
	return time.Time{}, fmt.Errorf("%q is not a timestamp (2001-06-15T08:30:00)", clip(s))
}

// Fast parses the common layouts (YYYY-MM-DD, then optionally [T ]HH:MM,
// then optionally :SS) without allocating; ok is false for anything else.
func Fast[T string | []byte](s T) (time.Time, bool) {
	// YYYY-MM-DD, then optionally [T ]HH:MM, then optionally :SS.
	if len(s) != 10 && len(s) != 16 && len(s) != 19 {
		return time.Time{}, false
	}
	num := func(i, n int) (int, bool) {
		v := 0
		for k := i; k < i+n; k++ {
			d := s[k] - '0'
			if d > 9 {
				return 0, false
			}
			v = v*10 + int(d)
		}
		return v, true
	}
	y, ok1 := num(0, 4)
	mo, ok2 := num(5, 2)
	d, ok3 := num(8, 2)
	if !ok1 || !ok2 || !ok3 || s[4] != '-' || s[7] != '-' {
		return time.Time{}, false
	}
	var h, mi, sec int
	if len(s) >= 16 {
		var ok4, ok5 bool
		h, ok4 = num(11, 2)
		mi, ok5 = num(14, 2)
		if !ok4 || !ok5 || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' {
			return time.Time{}, false
		}
	}
	if len(s) == 19 {
		var ok6 bool
		sec, ok6 = num(17, 2)
		if !ok6 || s[16] != ':' {
			return time.Time{}, false
		}
	}
	if mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || sec > 59 {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, 0, time.UTC), true
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// clip shortens a long value for an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
