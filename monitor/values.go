package monitor

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/mlpipe/mlpipe/internal/timeparse"
)

// This file reads one raw input value, as a request carries it (and as
// the reference sample is read back), into what the statistics count.
// The prediction log holds the request's fields as JSON decodes them:
// numbers are float64, timestamps strings such as "2001-06-15T08:30:00".
// The reference sample gives int64, float64, string, bool and time.Time.

// state says whether a value was there and readable.
type state uint8

const (
	present state = iota
	missing       // absent, null, or a number that is NaN or ±Inf
	invalid       // of the wrong type for its input: counted, and binned as missing
)

// numberOf reads a number.
func numberOf(v any) (float64, state) {
	var x float64
	switch n := v.(type) {
	case nil:
		return 0, missing
	case float64:
		x = n
	case float32:
		x = float64(n)
	case int:
		x = float64(n)
	case int32:
		x = float64(n)
	case int64:
		x = float64(n)
	case uint:
		x = float64(n)
	case uint32:
		x = float64(n)
	case uint64:
		x = float64(n)
	case json.Number:
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil {
			return 0, invalid
		}
		x = f
	default:
		return 0, invalid
	}
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, missing
	}
	return x, present
}

// categoryOf reads a category of a string or bool input.
func categoryOf(v any, typ string) (string, state) {
	switch c := v.(type) {
	case nil:
		return "", missing
	case string:
		if typ == "bool" && c != "true" && c != "false" {
			return "", invalid
		}
		return c, present
	case bool:
		if typ != "bool" {
			return "", invalid
		}
		return strconv.FormatBool(c), present
	}
	return "", invalid
}

// timeOf reads a naive timestamp: its wall clock, whatever the zone.
func timeOf(v any) (time.Time, state) {
	switch t := v.(type) {
	case nil:
		return time.Time{}, missing
	case string:
		p, err := timeparse.Parse(t)
		if err != nil {
			return time.Time{}, invalid
		}
		return p, present
	case time.Time:
		return t, present
	}
	return time.Time{}, invalid
}

// The time parts a timestamp input is monitored by, and their
// categories: its absolute value always drifts (time moves on), but the
// hour of the day and the day of the week should not.
const (
	partHour      = "hour"
	partDayOfWeek = "day_of_week"
)

var (
	hourLabels = func() []string {
		out := make([]string, 24)
		for h := range out {
			out[h] = twoDigits(h)
		}
		return out
	}()
	dayLabels = []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}
)

func twoDigits(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// partIndex is the category index of a time part: the hour 0–23, or the
// day of the week with Monday 0.
func partIndex(t time.Time, part string) int {
	if part == partHour {
		return t.Hour()
	}
	return (int(t.Weekday()) + 6) % 7
}

// partLabels are a time part's categories.
func partLabels(part string) []string {
	if part == partHour {
		return hourLabels
	}
	return dayLabels
}

func isTimestamp(typ string) bool { return strings.HasPrefix(typ, "timestamp") }

func isNumber(typ string) bool { return typ == "int64" || typ == "float64" }

func isCategory(typ string) bool { return typ == "string" || typ == "bool" }
