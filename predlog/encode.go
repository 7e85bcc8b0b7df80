package predlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mlpipe/mlpipe/internal/jsonread"
	"github.com/mlpipe/mlpipe/internal/jsonw"
)

// maxDepth bounds the nesting of inputs, so that a map that contains
// itself is an error rather than a stack overflow.
const maxDepth = 32

var errTooDeep = errors.New("inputs nested too deeply")

var errRawInputs = errors.New("predlog: raw inputs are not a JSON object")

// encoder holds the scratch space of one Log call, so that encoding a
// record allocates nothing in the common case.
type encoder struct {
	max    int             // Options.MaxFieldBytes: longer strings are cut
	line   []byte          // the line being encoded
	keys   [][]string      // sorted map keys, one slice per nesting depth
	capped []byte          // RawInputs with its long strings cut
	raw    bytes.Buffer    // RawInputs, compacted
	rd     jsonread.Reader // checks RawInputs
}

// encoders lend encoders to Log: one for each call encoding at a time.
var encoders = sync.Pool{New: func() any { return new(encoder) }}

// maxPooledBytes bounds the scratch space an encoder goes back to the
// pool with: one that a request of thousands of fields grew past it is
// left to the garbage collector.
const maxPooledBytes = 64 << 10

func getEncoder(maxField int) *encoder {
	e := encoders.Get().(*encoder)
	e.max = maxField
	return e
}

// putEncoder returns e to the pool, with line, the last line it
// encoded, as its buffer for the next.
func putEncoder(e *encoder, line []byte) {
	e.line = line[:0]
	if cap(e.line)+cap(e.capped)+e.raw.Cap() > maxPooledBytes {
		return
	}
	encoders.Put(e)
}

// appendRecord appends r as one JSON line, "\n" included.
func (e *encoder) appendRecord(b []byte, r *Record) ([]byte, error) {
	b = append(b, `{"id":`...)
	b = jsonw.AppendString(b, r.ID)
	b = append(b, `,"time":`...)
	b, err := appendTime(b, r.Time)
	if err != nil {
		return b, err
	}
	b = append(b, `,"model":`...)
	b = jsonw.AppendString(b, r.Model)
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, int64(r.Version), 10)
	b = append(b, `,"inputs":`...)
	if r.RawInputs != nil {
		if b, err = e.appendRaw(b, r.RawInputs); err != nil {
			return b, err
		}
	} else if b, err = e.appendMap(b, r.Inputs, 0); err != nil {
		return b, err
	}
	if r.Prediction != nil {
		b = append(b, `,"prediction":`...)
		b = appendFloat(b, *r.Prediction, 64)
		return append(b, "}\n"...), nil
	}
	if r.Probabilities != nil {
		b = append(b, `,"probabilities":[`...)
		for i, p := range r.Probabilities {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendFloat(b, p, 64)
		}
		b = append(b, ']')
	} else {
		b = append(b, `,"probability":`...)
		b = appendFloat(b, r.Probability, 64)
	}
	b = append(b, `,"predicted":`...)
	b = jsonw.AppendString(b, r.Predicted)
	return append(b, "}\n"...), nil
}

// appendRaw appends raw, which must be one JSON object, compacted and
// with its strings longer than e.max cut (jsonw.AppendCapped): a
// client's pretty-printed object has newlines, and a record is one line.
// Most clients send their objects compact already, and checking one
// (jsonread) costs a third of what json.Compact, which checks it too,
// costs; so an object without white space is checked and copied, and
// only one with some goes through json.Compact (a space inside a string
// sends it there too, to no harm).
func (e *encoder) appendRaw(b, raw []byte) ([]byte, error) {
	if len(raw) > e.max {
		e.capped, _ = jsonw.AppendCapped(e.capped[:0], raw, e.max)
		raw = e.capped
	}
	if !slices.ContainsFunc(raw, func(c byte) bool { return c <= ' ' }) {
		e.rd.Reset(raw)
		if e.rd.Peek() != jsonread.Object || e.rd.Skip() != nil || e.rd.Finish() != nil {
			return b, errRawInputs
		}
		return append(b, raw...), nil
	}
	e.raw.Reset()
	if err := json.Compact(&e.raw, raw); err != nil || e.raw.Len() == 0 || e.raw.Bytes()[0] != '{' {
		return b, errRawInputs
	}
	return append(b, e.raw.Bytes()...), nil
}

// appendLabel appends l as one JSON line, "\n" included.
func (e *encoder) appendLabel(b []byte, l *Label) ([]byte, error) {
	b = append(b, `{"id":`...)
	b = jsonw.AppendString(b, l.ID)
	b = append(b, `,"time":`...)
	b, err := appendTime(b, l.Time)
	if err != nil {
		return b, err
	}
	b = append(b, `,"label":`...)
	switch l.Label.(type) {
	case bool, string, float64, float32, int, int8, int16, int32, int64,
		uint, uint8, uint16, uint32, uint64, json.Number:
	default:
		return b, fmt.Errorf("label of %q is %T, not a bool, number or string", l.ID, l.Label)
	}
	if b, err = e.appendValue(b, l.Label, 0); err != nil {
		return b, err
	}
	return append(b, "}\n"...), nil
}

func appendTime(b []byte, t time.Time) ([]byte, error) {
	t = t.UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		return b, fmt.Errorf("time %v is outside years 0-9999 (RFC 3339)", t)
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), nil
}

// appendMap writes m with its keys sorted, like encoding/json; a nil map
// is written as {}.
func (e *encoder) appendMap(b []byte, m map[string]any, depth int) ([]byte, error) {
	if depth >= maxDepth {
		return b, errTooDeep
	}
	for len(e.keys) <= depth {
		e.keys = append(e.keys, nil)
	}
	keys := e.keys[depth][:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	e.keys[depth] = keys
	b = append(b, '{')
	var err error
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonw.AppendString(b, k)
		b = append(b, ':')
		if b, err = e.appendValue(b, m[k], depth+1); err != nil {
			return b, err
		}
	}
	clear(keys) // drop references to the caller's strings
	return append(b, '}'), nil
}

// appendValue writes one value of the inputs. The types encoding/json
// decodes into (and Go's numeric types) are written directly; anything
// else goes through json.Marshal.
func (e *encoder) appendValue(b []byte, v any, depth int) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		if len(x) > e.max {
			x = capString(x, e.max)
		}
		return jsonw.AppendString(b, x), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case float64:
		return appendFloat(b, x, 64), nil
	case float32:
		return appendFloat(b, float64(x), 32), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int8:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int16:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int32:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case uint:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint8:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint16:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint32:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint64:
		return strconv.AppendUint(b, x, 10), nil
	case map[string]any:
		return e.appendMap(b, x, depth)
	case []any:
		if depth >= maxDepth {
			return b, errTooDeep
		}
		b = append(b, '[')
		var err error
		for i, y := range x {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = e.appendValue(b, y, depth+1); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	default:
		// json.Marshal validates json.Number, compacts RawMessage and
		// MarshalJSON output (so no raw newline gets in) and fails on
		// channels, functions and NaN.
		j, err := json.Marshal(x)
		if err != nil {
			return b, err
		}
		return append(b, j...), nil
	}
}

// capString cuts s to at most max bytes, before a UTF-8 sequence it would
// split, and marks it as jsonw.AppendCapped does.
func capString(s string, max int) string {
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…(" + strconv.Itoa(len(s)) + " bytes)"
}

// appendFloat writes f as encoding/json would, except that NaN and ±Inf,
// which JSON cannot hold, become null.
func appendFloat(b []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	return jsonw.AppendFloat(b, f, bits)
}
