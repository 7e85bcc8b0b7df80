package ingest

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// This file reads the timestamps of text sources: a column's format
// (ISO 8601 by default, a strftime pattern, or epoch numbers) and its
// time zone (ColumnSpec.Format and Timezone).

// Epoch formats of ColumnSpec.Format.
const (
	EpochSeconds      = "epoch_s"
	EpochMilliseconds = "epoch_ms"
)

// strftime maps the strftime directives that ParseFormat accepts to Go
// layout elements. Day, month and hour numbers accept one or two digits
// (as strptime does), and runs of spaces match each other.
var strftime = map[byte]string{
	'Y': "2006", 'y': "06", 'm': "1", 'd': "2", 'e': "_2", 'j': "002",
	'b': "Jan", 'h': "Jan", 'B': "January", 'a': "Mon", 'A': "Monday",
	'H': "15", 'I': "3", 'M': "04", 'S': "05", 'p': "PM",
	'z': "-0700", 'Z': "MST",
	'F': "2006-01-02", 'T': "15:04:05", 'R': "15:04", 'D': "01/02/06",
	'%': "%",
}

// ParseFormat turns a strftime pattern into a Go time layout. It accepts
// %Y %y %m %d %e %j %b %h %B %a %A %H %I %M %S %p %z %Z %F %T %R %D %%,
// and %f (fractional seconds, after "%S." or "%S,"). Text between
// directives must not contain what Go would read as a layout element
// (a digit, or a word such as Jan, Mon, MST, PM).
func ParseFormat(pattern string) (string, error) {
	var b strings.Builder
	lit := func(s string) error {
		if strings.ContainsAny(s, "0123456789") {
			return fmt.Errorf("format %q: the literal text %q holds a digit, which a layout cannot say", pattern, s)
		}
		for _, w := range []string{"Jan", "Mon", "MST", "PM", "pm", "Z07"} {
			if strings.Contains(s, w) {
				return fmt.Errorf("format %q: the literal text %q holds %q, which a layout cannot say", pattern, s, w)
			}
		}
		b.WriteString(s)
		return nil
	}
	start := 0
	for i := 0; i < len(pattern); i++ {
		if pattern[i] != '%' {
			continue
		}
		if err := lit(pattern[start:i]); err != nil {
			return "", err
		}
		if i+1 == len(pattern) {
			return "", fmt.Errorf("format %q ends with a lone %%", pattern)
		}
		d := pattern[i+1]
		switch el, ok := strftime[d]; {
		case d == 'f':
			s := b.String()
			if !strings.HasSuffix(s, "05.") && !strings.HasSuffix(s, "05,") {
				return "", fmt.Errorf("format %q: %%f must follow %%S and a dot or comma", pattern)
			}
			b.WriteString("999999999")
		case ok:
			b.WriteString(el)
		default:
			return "", fmt.Errorf("format %q: unknown directive %%%c (known: %%Y %%y %%m %%d %%e %%j %%b %%B %%a %%A %%H %%I %%M %%S %%f %%p %%z %%Z %%F %%T %%R %%D %%%%)", pattern, d)
		}
		i++
		start = i + 1
	}
	if err := lit(pattern[start:]); err != nil {
		return "", err
	}
	if b.Len() == 0 {
		return "", fmt.Errorf("format %q is empty", pattern)
	}
	return b.String(), nil
}

// CheckTimeFormat reports whether a column's format and time zone are
// valid (the config loader calls it).
func CheckTimeFormat(format, timezone string) error {
	_, err := newTimeParser(format, timezone)
	return err
}

// timeParser reads the text values of one timestamp column as wall-clock
// times (time.Time in UTC, the way naive times are kept).
type timeParser struct {
	format string         // as configured, for messages
	layout string         // Go layout of a strftime format; "" for ISO
	epoch  time.Duration  // the unit of an epoch format; 0 otherwise
	loc    *time.Location // the column's zone; nil: naive
}

func newTimeParser(format, timezone string) (*timeParser, error) {
	p := &timeParser{format: format}
	switch format {
	case "":
	case EpochSeconds:
		p.epoch = time.Second
	case EpochMilliseconds:
		p.epoch = time.Millisecond
	default:
		layout, err := ParseFormat(format)
		if err != nil {
			return nil, err
		}
		p.layout = layout
	}
	if timezone != "" {
		loc, err := time.LoadLocation(timezone)
		if err != nil {
			return nil, fmt.Errorf("time zone %q: %v", timezone, err)
		}
		p.loc = loc
	}
	return p, nil
}

// wall returns the wall-clock reading of an instant in the column's zone
// (UTC if it has none), as a naive time.
func (p *timeParser) wall(t time.Time) time.Time {
	if p.loc != nil {
		t = t.In(p.loc)
	} else {
		t = t.UTC()
	}
	return naive(t)
}

// naive drops t's zone, keeping its wall-clock reading.
func naive(t time.Time) time.Time {
	y, m, d := t.Date()
	h, mi, s := t.Clock()
	return time.Date(y, m, d, h, mi, s, t.Nanosecond(), time.UTC)
}

// parse reads one value.
func (p *timeParser) parse(s string) (time.Time, error) {
	switch {
	case p.epoch != 0:
		return p.parseEpoch(s)
	case p.layout != "":
		t, err := time.Parse(p.layout, s)
		if err != nil {
			return time.Time{}, valueError(s, fmt.Sprintf("a timestamp in the format %q", p.format))
		}
		return p.zoned(t, strings.Contains(p.layout, "-0700") || strings.Contains(p.layout, "MST")), nil
	}
	if t, ok := parseTimeFast(s); ok {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return p.zoned(t, true), nil
		}
	}
	return time.Time{}, valueError(s, "an ISO 8601 timestamp (2001-06-15T08:30:00; set the column's format for others)")
}

// zoned applies the column's zone to a parsed time: an instant (hasZone)
// is converted to it, a naive time is kept; with no zone, the wall clock
// as written is kept.
func (p *timeParser) zoned(t time.Time, hasZone bool) time.Time {
	if hasZone && p.loc != nil {
		return p.wall(t)
	}
	return naive(t)
}

// parseEpoch reads seconds or milliseconds since 1970-01-01 UTC (an
// integer, or a decimal for fractions).
func (p *timeParser) parseEpoch(s string) (time.Time, error) {
	want := "seconds since 1970-01-01 (" + EpochSeconds + ")"
	if p.epoch == time.Millisecond {
		want = "milliseconds since 1970-01-01 (" + EpochMilliseconds + ")"
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n > math.MaxInt64/int64(p.epoch) || n < math.MinInt64/int64(p.epoch) {
			return time.Time{}, valueError(s, want+" within the years 1678-2262")
		}
		return p.wall(time.Unix(0, n*int64(p.epoch))), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return time.Time{}, valueError(s, want)
	}
	ns := f * float64(p.epoch)
	if ns > math.MaxInt64 || ns < math.MinInt64 {
		return time.Time{}, valueError(s, want+" within the years 1678-2262")
	}
	return p.wall(time.Unix(0, int64(math.Round(ns)))), nil
}
