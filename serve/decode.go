package serve

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/internal/jsonread"
	"github.com/mlpipe/mlpipe/internal/timeparse"
)

// This file reads request bodies into a scratch's rows of typed values,
// one features.Value per input, checking each value against its input's
// rules (see input in model.go). Native requests are read here; OIP
// requests in oip.go, with the same value rules (readValue).

// badf returns an ErrBadRequest error.
func badf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadRequest}, args...)...)
}

// syntaxErr turns a reader error into a bad request.
func syntaxErr(err error) error {
	var se *jsonread.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("%w: %w", ErrBadRequest, se)
	}
	return err
}

// where names a row in messages: "" for a single instance, else
// "instances[i]: " (native) or "row i: " (OIP).
func where(batch bool, i int) string {
	if !batch {
		return ""
	}
	return "instances[" + strconv.Itoa(i) + "]: "
}

// decodeNative reads a native predict body: one instance (the body is
// the instance's object of raw fields) or a batch ({"instances": [...]},
// at most maxBatch). It fills sc's rows and returns whether the body was
// a batch. With keepRaw, sc.raw[i] is the text of row i's object.
func (m *Model) decodeNative(sc *scratch, body []byte, maxBatch int, keepRaw bool) (batch bool, err error) {
	sc.reset(m)
	sc.doc = body
	rd := &sc.rd
	rd.Reset(body)
	switch rd.Peek() {
	case jsonread.Object:
	case jsonread.Invalid:
		if len(body) == 0 || rd.Offset() == len(body) {
			return false, badf("empty body: want one instance object, or {\"instances\": [...]}")
		}
		return false, syntaxErr(rd.Skip())
	default:
		return false, badf("the body is %s; want one instance object, or {\"instances\": [...]}", rd.Peek())
	}
	start := rd.Offset()
	if err := rd.BeginObject(); err != nil {
		return false, syntaxErr(err)
	}
	key, more, err := rd.Key()
	if err != nil {
		return false, syntaxErr(err)
	}
	if more && string(key) == "explain" && !m.isInput(key) {
		// The request asks for explanations before its instances.
		if key, more, err = m.decodeExplain(sc); err != nil {
			return false, err
		}
	}
	if more && string(key) == "instances" {
		if err := m.decodeInstances(sc, maxBatch, keepRaw); err != nil {
			return true, err
		}
		key, more, err := rd.Key()
		for err == nil && more && string(key) == "explain" {
			key, more, err = m.decodeExplain(sc)
		}
		if err != nil {
			return true, syntaxErr(err)
		}
		if more {
			return true, badf("unknown field %q: a batch request has only \"instances\" and \"explain\"", key)
		}
		if err := rd.Finish(); err != nil {
			return true, syntaxErr(err)
		}
		return true, nil
	}
	row := sc.addRow()
	if err := m.decodeFields(sc, row, false, key, more); err != nil {
		return false, err
	}
	if err := rd.Finish(); err != nil {
		return false, syntaxErr(err)
	}
	if keepRaw {
		sc.raw = append(sc.raw, trimSpace(body[start:]))
	}
	return false, nil
}

// decodeInstances reads the array of a batch.
func (m *Model) decodeInstances(sc *scratch, maxBatch int, keepRaw bool) error {
	rd := &sc.rd
	if k := rd.Peek(); k != jsonread.Array {
		if k == jsonread.Invalid {
			return syntaxErr(rd.Skip())
		}
		return badf("\"instances\" is %s; want an array of instance objects", k)
	}
	if err := rd.BeginArray(); err != nil {
		return syntaxErr(err)
	}
	for {
		more, err := rd.Next()
		if err != nil {
			return syntaxErr(err)
		}
		if !more {
			break
		}
		if sc.n >= maxBatch {
			return fmt.Errorf("%w: more than %d instances in one request (the batch limit)", ErrTooLarge, maxBatch)
		}
		i := sc.n
		switch k := rd.Peek(); k {
		case jsonread.Object:
		case jsonread.Invalid:
			return syntaxErr(rd.Skip())
		default:
			return badf("instances[%d] is %s; want an object of the model's inputs", i, k)
		}
		start := rd.Offset()
		if err := rd.BeginObject(); err != nil {
			return syntaxErr(err)
		}
		key, more, err := rd.Key()
		if err != nil {
			return syntaxErr(err)
		}
		row := sc.addRow()
		if err := m.decodeFields(sc, row, true, key, more); err != nil {
			return err
		}
		if keepRaw {
			sc.raw = append(sc.raw, sc.doc[start:rd.Offset()])
		}
	}
	if sc.n == 0 {
		return badf("\"instances\" is empty: want at least one instance")
	}
	return nil
}

// decodeFields reads the members of an instance object into row, the
// first member's name (key, if more) having been read already.
func (m *Model) decodeFields(sc *scratch, row int, batch bool, key []byte, more bool) error {
	rd := &sc.rd
	vals := sc.row(row)
	got := sc.got[:len(m.inputs)]
	clear(got)
	for k := 0; more; k++ {
		// Clients usually send the fields in the signature's order: try
		// the k-th input before the map.
		j, ok := k, k < len(m.inputs) && string(key) == m.inputs[k].name
		if !ok {
			j, ok = m.byName[string(key)]
		}
		if !ok && !batch && string(key) == "explain" {
			var err error
			if key, more, err = m.decodeExplain(sc); err != nil {
				return err
			}
			continue
		}
		if !ok {
			if !batch && string(key) == "instances" {
				return badf("\"instances\" cannot be mixed with an instance's fields: send one instance, or {\"instances\": [...]}")
			}
			if string(key) == "explain" {
				return badf("%s\"explain\" goes beside \"instances\", not in an instance", where(batch, row))
			}
			return badf("%sunknown field %q (the model's inputs are %s)", where(batch, row), key, m.inputList())
		}
		if got[j] {
			return badf("%sduplicate field %q", where(batch, row), key)
		}
		got[j] = true
		if err := m.readValue(rd, j, &vals[j]); err != nil {
			return fieldErr(batch, row, m.inputs[j].name, err)
		}
		var err error
		key, more, err = rd.Key()
		if err != nil {
			return syntaxErr(err)
		}
	}
	for j, ok := range got {
		if !ok {
			return badf("%smissing field %q", where(batch, row), m.inputs[j].name)
		}
	}
	return nil
}

// decodeExplain reads the value of an "explain" member, whose name has
// been read, and then the next member's name.
func (m *Model) decodeExplain(sc *scratch) (next []byte, more bool, err error) {
	if sc.explainSet {
		return nil, false, badf("duplicate field \"explain\"")
	}
	sc.explainSet = true
	if sc.explain, err = readExplain(&sc.rd); err != nil {
		return nil, false, err
	}
	next, more, err = sc.rd.Key()
	if err != nil {
		return nil, false, syntaxErr(err)
	}
	return next, more, nil
}

// fieldErr places a value error at its row and field.
func fieldErr(batch bool, row int, field string, err error) error {
	var se *jsonread.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("%w: %w", ErrBadRequest, se)
	}
	return badf("%sfield %q: %v", where(batch, row), field, err)
}

func (m *Model) inputList() string {
	s := ""
	for i, in := range m.inputs {
		if i > 0 {
			s += ", "
		}
		s += in.name
	}
	return s
}

// readValue reads the value of input j into v, by the input's type and
// rules. Its errors say what is wrong with the value; the caller names
// the field.
func (m *Model) readValue(rd *jsonread.Reader, j int, v *features.Value) error {
	in := &m.inputs[j]
	k := rd.Peek()
	switch k {
	case jsonread.Invalid:
		return rd.Skip() // the syntax error
	case jsonread.Null:
		if err := rd.Null(); err != nil {
			return err
		}
		if !in.nullable {
			return errors.New("null is not allowed: the model needs a value (the training data had none missing)")
		}
		v.Missing = true
		return nil
	}
	switch in.kind {
	case features.InputNumber:
		if k != jsonread.Number {
			if k == jsonread.String {
				return fmt.Errorf("want a number, got a string (a number is a JSON number: NaN and Infinity are not numbers)")
			}
			return fmt.Errorf("want a number, got %s", k)
		}
		txt, err := rd.Number()
		if err != nil {
			return err
		}
		f, err := in.number(txt)
		if err != nil {
			return err
		}
		v.Num, v.Text = f, txt
	case features.InputString:
		if k != jsonread.String {
			return fmt.Errorf("want a string, got %s", k)
		}
		s, err := rd.Str()
		if err != nil {
			return err
		}
		v.Text = s
	case features.InputBool:
		if k != jsonread.Bool {
			return fmt.Errorf("want true or false, got %s", k)
		}
		b, err := rd.Bool()
		if err != nil {
			return err
		}
		v.Bool = b
	case features.InputTime:
		if k != jsonread.String {
			return fmt.Errorf("want a timestamp string such as \"2001-06-15T08:30:00\", got %s", k)
		}
		s, err := rd.Str()
		if err != nil {
			return err
		}
		t, err := timeparse.ParseBytes(s)
		if err != nil {
			return err
		}
		// As features.TransformRow reads a timestamp string.
		v.Micros, v.Text = t.UnixMicro(), s
	}
	return nil
}

// number parses and checks a JSON number for this input: finite, whole
// for an int64 input, non-negative if training had no negative value,
// and within boundFactor times the training range.
func (in *input) number(txt []byte) (float64, error) {
	f, err := strconv.ParseFloat(string(txt), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("%.40s is out of the range of a float64", txt)
	}
	return f, in.check(f, txt)
}

// check applies the input's rules to a finite number, shown in messages
// as txt (as f itself when txt is nil).
func (in *input) check(f float64, txt []byte) error {
	show := func() []byte {
		if txt == nil {
			return strconv.AppendFloat(nil, f, 'g', -1, 64)
		}
		return txt
	}
	if in.integer {
		if f != math.Trunc(f) {
			return fmt.Errorf("%.40s is not a whole number (the input is an int64)", show())
		}
		if math.Abs(f) > maxExactInt {
			return fmt.Errorf("%.40s is too large: an int64 input is read exactly up to 2^53", show())
		}
	}
	if in.nonNegative && f < 0 {
		return fmt.Errorf("%.40s is negative; the training data has no negative value", show())
	}
	if in.maxAbs > 0 && math.Abs(f) > in.maxAbs {
		return fmt.Errorf("%.40s is out of range: more than %d times the largest magnitude in the training data (limit %g)", show(), boundFactor, in.maxAbs)
	}
	return nil
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\n' || b[len(b)-1] == '\r' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}
