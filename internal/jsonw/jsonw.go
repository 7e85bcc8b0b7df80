// Package jsonw appends JSON values to byte slices, without reflection:
// for the hot paths whose shapes are fixed, mlserve's responses
// (package serve) and the prediction log (package predlog). Numbers and
// strings come out as encoding/json writes them.
//
// In: Go strings, byte strings and finite floats. Out: their JSON text,
// appended.
package jsonw

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// AppendFloat appends f as encoding/json formats a float of that many
// bits (64 or 32): the shortest text that reads back as f, in exponent
// form only for very small or large magnitudes. f must be finite.
func AppendFloat(b []byte, f float64, bits int) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
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

// AppendString appends s as a JSON string. s is valid UTF-8 (the request
// reader checks that; our own strings are); invalid bytes become U+FFFD.
func AppendString[S ~string | ~[]byte](b []byte, s S) []byte {
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

// AppendCapped appends the JSON text doc (valid JSON, as a request
// reader has checked it) with every string longer than max bytes cut to
// at most max bytes and marked: "AAAA…(8388608 bytes)", every number
// longer than max bytes written in its shortest form (the float64 it
// parses to: "1250.000…0" of 8 MB is 1250), and the whitespace between
// tokens dropped: so what a client can make the text of one object cost
// is bounded by its members, whatever padding it sends. The cut falls
// before an escape sequence or a UTF-8 sequence it would split, so the
// output is valid JSON. A document no longer than max is appended as it
// is, without a scan. It returns the result and whether anything was
// cut or dropped.
func AppendCapped(b, doc []byte, max int) ([]byte, bool) {
	if len(doc) <= max+2 { // no string in it can be longer
		return append(b, doc...), false
	}
	cut := false
	for i := 0; i < len(doc); {
		switch c := doc[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			cut = true
			i++
			continue
		case c == '-' || c >= '0' && c <= '9':
			end := i + 1
			for end < len(doc) && strings.IndexByte("0123456789.eE+-", doc[end]) >= 0 {
				end++
			}
			f, err := 0.0, error(nil)
			if end-i > max {
				f, err = strconv.ParseFloat(string(doc[i:end]), 64)
			}
			if end-i > max && err == nil {
				cut = true
				b = AppendFloat(b, f, 64)
			} else {
				b = append(b, doc[i:end]...)
			}
			i = end
			continue
		case c != '"':
			b = append(b, c)
			i++
			continue
		}
		// A string: find its end, and the last safe cut at or before
		// max bytes of content.
		start := i + 1
		end, safe := start, start
		for end < len(doc) && doc[end] != '"' {
			step := 1
			if doc[end] == '\\' {
				step = 2
				if end+1 < len(doc) && doc[end+1] == 'u' {
					step = 6
				}
			} else if c := doc[end]; c >= utf8.RuneSelf {
				_, step = utf8.DecodeRune(doc[end:])
			}
			if end+step-start <= max {
				safe = end + step
			}
			end += step
		}
		end = min(end, len(doc))
		if end-start <= max {
			b = append(b, doc[i:min(end+1, len(doc))]...)
		} else {
			cut = true
			b = append(b, '"')
			b = append(b, doc[start:safe]...)
			b = append(b, "…("...)
			b = strconv.AppendInt(b, int64(end-start), 10)
			b = append(b, " bytes)\""...)
		}
		i = end + 1
	}
	return b, cut
}
