// Package jsonread reads a JSON document from a byte slice one value at
// a time, for request decoders that know the shape they expect.
//
// In: the bytes of one JSON document (RFC 8259). Out: its tokens, pulled
// by the caller (BeginObject, Key, BeginArray, Next, Str, Number, Bool,
// Null, Skip, Finish), each checked against the grammar. Strings come
// back as slices of the input when they hold no escape, so reading a
// request allocates nothing per value; numbers come back as their text.
//
// It exists because encoding/json decodes into a map or a struct by
// reflection, which costs an allocation per field; a server that reads
// columns named by a model's signature needs neither. Errors are
// *SyntaxError with the byte offset. Nesting is limited to MaxDepth.
package jsonread

import (
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth is the deepest nesting of arrays and objects Reader accepts.
const MaxDepth = 64

// Kind is the kind of the next value.
type Kind uint8

// The kinds of value.
const (
	Invalid Kind = iota // not the start of a value (or the end of input)
	Null
	Bool
	Number
	String
	Array
	Object
)

func (k Kind) String() string {
	switch k {
	case Null:
		return "null"
	case Bool:
		return "a bool"
	case Number:
		return "a number"
	case String:
		return "a string"
	case Array:
		return "an array"
	case Object:
		return "an object"
	}
	return "not a JSON value"
}

// SyntaxError is a JSON syntax error at a byte offset.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at byte %d: %s", e.Offset, e.Msg)
}

// Reader reads one document. The zero value reads an empty input; use
// Reset to read b.
type Reader struct {
	buf   []byte
	pos   int
	depth int
	first uint64 // bit d: the container at depth d has not had a member yet
	tmp   []byte // unescaped strings, append-only until Reset
}

// Reset starts reading b. Slices returned before are still valid (they
// point into the previous input or a previous buffer).
func (r *Reader) Reset(b []byte) {
	r.buf, r.pos, r.depth, r.first = b, 0, 0, 0
	r.tmp = r.tmp[:0:0]
}

// Offset is the byte offset of the next unread input.
func (r *Reader) Offset() int { return r.pos }

func (r *Reader) errorf(format string, args ...any) error {
	return &SyntaxError{Offset: r.pos, Msg: fmt.Sprintf(format, args...)}
}

func (r *Reader) ws() {
	for r.pos < len(r.buf) {
		switch r.buf[r.pos] {
		case ' ', '\t', '\n', '\r':
			r.pos++
		default:
			return
		}
	}
}

// Peek returns the kind of the next value without reading it.
func (r *Reader) Peek() Kind {
	r.ws()
	if r.pos >= len(r.buf) {
		return Invalid
	}
	switch c := r.buf[r.pos]; {
	case c == 'n':
		return Null
	case c == 't', c == 'f':
		return Bool
	case c == '"':
		return String
	case c == '[':
		return Array
	case c == '{':
		return Object
	case c == '-', c >= '0' && c <= '9':
		return Number
	}
	return Invalid
}

func (r *Reader) unexpected(want string) error {
	if r.pos >= len(r.buf) {
		return r.errorf("unexpected end of input, want %s", want)
	}
	c := r.buf[r.pos]
	if c >= 0x20 && c < 0x7f {
		return r.errorf("unexpected %q, want %s", c, want)
	}
	return r.errorf("unexpected byte 0x%02x, want %s", c, want)
}

func (r *Reader) push() error {
	if r.depth+1 >= MaxDepth {
		return r.errorf("nesting deeper than %d", MaxDepth)
	}
	r.pos++
	r.depth++
	r.first |= 1 << r.depth
	return nil
}

func (r *Reader) pop() {
	r.pos++
	r.first &^= 1 << r.depth
	r.depth--
}

// BeginObject reads the '{' of an object. Read its members with Key.
func (r *Reader) BeginObject() error {
	r.ws()
	if r.pos >= len(r.buf) || r.buf[r.pos] != '{' {
		return r.unexpected("an object")
	}
	return r.push()
}

// Key reads the next member name of the current object, and the colon
// after it; the caller then reads the member's value. At the '}' it
// reads it and returns false. The name is valid until Reset.
func (r *Reader) Key() ([]byte, bool, error) {
	r.ws()
	if r.pos >= len(r.buf) {
		return nil, false, r.unexpected("a member or '}'")
	}
	if r.buf[r.pos] == '}' {
		r.pop()
		return nil, false, nil
	}
	if r.first&(1<<r.depth) != 0 {
		r.first &^= 1 << r.depth
	} else {
		if r.buf[r.pos] != ',' {
			return nil, false, r.unexpected("',' or '}'")
		}
		r.pos++
		r.ws()
	}
	if r.pos >= len(r.buf) || r.buf[r.pos] != '"' {
		return nil, false, r.unexpected("a member name")
	}
	key, err := r.Str()
	if err != nil {
		return nil, false, err
	}
	r.ws()
	if r.pos >= len(r.buf) || r.buf[r.pos] != ':' {
		return nil, false, r.unexpected("':'")
	}
	r.pos++
	return key, true, nil
}

// BeginArray reads the '[' of an array. Read its elements with Next.
func (r *Reader) BeginArray() error {
	r.ws()
	if r.pos >= len(r.buf) || r.buf[r.pos] != '[' {
		return r.unexpected("an array")
	}
	return r.push()
}

// Next reports whether the current array has another element, reading
// the comma before it; the caller then reads the element. At the ']' it
// reads it and returns false.
func (r *Reader) Next() (bool, error) {
	r.ws()
	if r.pos >= len(r.buf) {
		return false, r.unexpected("a value or ']'")
	}
	if r.buf[r.pos] == ']' {
		r.pop()
		return false, nil
	}
	if r.first&(1<<r.depth) != 0 {
		r.first &^= 1 << r.depth
		return true, nil
	}
	if r.buf[r.pos] != ',' {
		return false, r.unexpected("',' or ']'")
	}
	r.pos++
	return true, nil
}

// Str reads a string and returns its value: a slice of the input if it
// holds no escape, else of an internal buffer. Either stays valid until
// Reset. Invalid UTF-8 and raw control characters are errors.
func (r *Reader) Str() ([]byte, error) {
	r.ws()
	if r.pos >= len(r.buf) || r.buf[r.pos] != '"' {
		return nil, r.unexpected("a string")
	}
	start := r.pos + 1
	i := start
	ascii := true
	for i < len(r.buf) {
		c := r.buf[i]
		switch {
		case c == '"':
			s := r.buf[start:i]
			if !ascii && !utf8.Valid(s) {
				return nil, r.errorf("invalid UTF-8 in string")
			}
			r.pos = i + 1
			return s, nil
		case c == '\\':
			return r.unescape(start, i)
		case c < 0x20:
			r.pos = i
			return nil, r.errorf("control character 0x%02x in string", c)
		case c >= 0x80:
			ascii = false
		}
		i++
	}
	r.pos = i
	return nil, r.errorf("unterminated string")
}

// unescape decodes the string that starts at start and has its first
// escape at i into r.tmp.
func (r *Reader) unescape(start, i int) ([]byte, error) {
	if !utf8.Valid(r.buf[start:i]) {
		return nil, r.errorf("invalid UTF-8 in string")
	}
	out := len(r.tmp)
	r.tmp = append(r.tmp, r.buf[start:i]...)
	for i < len(r.buf) {
		c := r.buf[i]
		switch {
		case c == '"':
			r.pos = i + 1
			return r.tmp[out:len(r.tmp):len(r.tmp)], nil
		case c < 0x20:
			r.pos = i
			return nil, r.errorf("control character 0x%02x in string", c)
		case c == '\\':
			if i+1 >= len(r.buf) {
				r.pos = i
				return nil, r.errorf("unterminated string")
			}
			switch e := r.buf[i+1]; e {
			case '"', '\\', '/':
				r.tmp = append(r.tmp, e)
			case 'b':
				r.tmp = append(r.tmp, '\b')
			case 'f':
				r.tmp = append(r.tmp, '\f')
			case 'n':
				r.tmp = append(r.tmp, '\n')
			case 'r':
				r.tmp = append(r.tmp, '\r')
			case 't':
				r.tmp = append(r.tmp, '\t')
			case 'u':
				c1, ok := hex4(r.buf, i+2)
				if !ok {
					r.pos = i
					return nil, r.errorf("invalid \\u escape")
				}
				i += 6
				rn := rune(c1)
				if utf16.IsSurrogate(rn) {
					// A pair is two escapes; a lone surrogate becomes
					// U+FFFD, as encoding/json does.
					if c2, ok := hex4(r.buf, i+2); ok && i+1 < len(r.buf) && r.buf[i] == '\\' && r.buf[i+1] == 'u' {
						if d := utf16.DecodeRune(rn, rune(c2)); d != utf8.RuneError {
							rn = d
							i += 6
						} else {
							rn = utf8.RuneError
						}
					} else {
						rn = utf8.RuneError
					}
				}
				r.tmp = utf8.AppendRune(r.tmp, rn)
				continue
			default:
				r.pos = i
				return nil, r.errorf("invalid escape \\%c", e)
			}
			i += 2
			continue
		default:
			// Copy a run of plain bytes.
			j := i
			for j < len(r.buf) && r.buf[j] != '"' && r.buf[j] != '\\' && r.buf[j] >= 0x20 {
				j++
			}
			if !utf8.Valid(r.buf[i:j]) {
				r.pos = i
				return nil, r.errorf("invalid UTF-8 in string")
			}
			r.tmp = append(r.tmp, r.buf[i:j]...)
			i = j
			continue
		}
	}
	r.pos = i
	return nil, r.errorf("unterminated string")
}

func hex4(b []byte, i int) (uint16, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var v uint16
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		v = v<<4 | uint16(c)
	}
	return v, true
}

// Number reads a number and returns its text, checked against JSON's
// grammar (so strconv.ParseFloat accepts it; it may still overflow).
func (r *Reader) Number() ([]byte, error) {
	r.ws()
	start := r.pos
	i := r.pos
	b := r.buf
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		r.pos = i
		return nil, r.unexpected("a number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			r.pos = i
			return nil, r.unexpected("a digit after '.'")
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			r.pos = i
			return nil, r.unexpected("a digit in the exponent")
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	r.pos = i
	return b[start:i], nil
}

// literal reads the literal lit.
func (r *Reader) literal(lit string) bool {
	if len(r.buf)-r.pos >= len(lit) && string(r.buf[r.pos:r.pos+len(lit)]) == lit {
		r.pos += len(lit)
		return true
	}
	return false
}

// Bool reads true or false.
func (r *Reader) Bool() (bool, error) {
	r.ws()
	switch {
	case r.literal("true"):
		return true, nil
	case r.literal("false"):
		return false, nil
	}
	return false, r.unexpected("true or false")
}

// Null reads null.
func (r *Reader) Null() error {
	r.ws()
	if !r.literal("null") {
		return r.unexpected("null")
	}
	return nil
}

// Object reads an object, calling member with each member's name, the
// reader at the member's value, which member must read. It stops at the
// first error member returns. The name is valid until Reset.
func (r *Reader) Object(member func(name []byte) error) error {
	if err := r.BeginObject(); err != nil {
		return err
	}
	for {
		name, more, err := r.Key()
		if err != nil || !more {
			return err
		}
		if err := member(name); err != nil {
			return err
		}
	}
}

// Skip reads any value and discards it.
func (r *Reader) Skip() error {
	switch r.Peek() {
	case Null:
		return r.Null()
	case Bool:
		_, err := r.Bool()
		return err
	case Number:
		_, err := r.Number()
		return err
	case String:
		_, err := r.Str()
		return err
	case Array:
		if err := r.BeginArray(); err != nil {
			return err
		}
		for {
			more, err := r.Next()
			if err != nil || !more {
				return err
			}
			if err := r.Skip(); err != nil {
				return err
			}
		}
	case Object:
		return r.Object(func([]byte) error { return r.Skip() })
	}
	return r.unexpected("a value")
}

// Raw reads any value and returns its bytes (a slice of the input).
func (r *Reader) Raw() ([]byte, error) {
	r.ws()
	start := r.pos
	if err := r.Skip(); err != nil {
		return nil, err
	}
	return r.buf[start:r.pos], nil
}

// Finish checks that nothing but white space follows the document.
func (r *Reader) Finish() error {
	r.ws()
	if r.pos != len(r.buf) {
		return r.errorf("data after the end of the JSON value")
	}
	return nil
}
