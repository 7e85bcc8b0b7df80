package serve

import (
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/mlpipe/mlpipe/features"
)

// This file writes response bodies by appending to a reused buffer: the
// shapes are fixed, so there is no need for encoding/json's reflection
// on the hot path. Numbers are written as encoding/json writes them.

// appendFloat appends f as encoding/json formats a float64: the shortest
// text that reads back as f, in exponent form only for very small or
// large magnitudes. f must be finite.
func appendFloat(b []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// Turn e-09 into e-9, as encoding/json does.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. s is valid UTF-8 (the request
// reader checks that; our own strings are); invalid bytes become U+FFFD.
func appendString[S ~string | ~[]byte](b []byte, s S) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, "\ufffd"...)
			i++
			start = i
			continue
		}
		// U+2028 and U+2029 are valid JSON but break JavaScript parsers.
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendNative writes the native predict response: one prediction's
// fields at the top level, or a batch's under "predictions".
func (m *Model) appendNative(b []byte, sc *scratch, requestID string, batch bool) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, requestID)
	b = append(b, ',')
	b = append(b, m.headJSON...)
	if !batch {
		b = append(b, ',')
		b = m.appendPrediction(b, sc, 0)
		return append(b, '}', '\n')
	}
	b = append(b, `,"predictions":[`...)
	for i := range sc.n {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		b = m.appendPrediction(b, sc, i)
		b = append(b, '}')
	}
	return append(b, ']', '}', '\n')
}

// appendPrediction writes one prediction's members: "probability" (a
// binary model: the positive class's) or "probabilities" (by class),
// "label", and "unknown" when an input fell into the unknown bucket.
func (m *Model) appendPrediction(b []byte, sc *scratch, i int) []byte {
	out := sc.outputs(m, i)
	if m.outputs == 1 {
		b = append(b, `"probability":`...)
		b = appendFloat(b, out[0])
	} else {
		b = append(b, `"probabilities":{`...)
		for k, p := range out {
			if k > 0 {
				b = append(b, ',')
			}
			b = append(b, m.classJSON[k]...)
			b = append(b, ':')
			b = appendFloat(b, p)
		}
		b = append(b, '}')
	}
	b = append(b, `,"label":`...)
	b = append(b, m.classJSON[m.Label(out)]...)
	if sc.anyUnseen(i) {
		b = append(b, `,"unknown":[`...)
		first := true
		for j, u := range sc.unseen[i*sc.nIn : (i+1)*sc.nIn] {
			if u {
				if !first {
					b = append(b, ',')
				}
				first = false
				b = appendString(b, m.inputs[j].name)
			}
		}
		b = append(b, ']')
	}
	return b
}

// appendInstance writes row i's raw values as a JSON object, for the
// prediction log of OIP requests (native requests log the client's own
// text). Numbers and timestamps keep the text the client sent.
func (m *Model) appendInstance(b []byte, sc *scratch, i int) []byte {
	b = append(b, '{')
	for j, v := range sc.row(i) {
		if j > 0 {
			b = append(b, ',')
		}
		b = appendString(b, m.inputs[j].name)
		b = append(b, ':')
		switch {
		case v.Missing:
			b = append(b, "null"...)
		case m.inputs[j].kind == features.InputNumber:
			b = append(b, v.Text...)
		case m.inputs[j].kind == features.InputBool:
			b = strconv.AppendBool(b, v.Bool)
		default:
			b = appendString(b, v.Text)
		}
	}
	return append(b, '}')
}
