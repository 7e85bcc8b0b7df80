package features

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
)

// This file holds a third path through a fitted pipeline, for serving:
// Encoder.Encode reads one raw row already parsed into typed Values held
// by input position, so a server can decode a request straight into a
// reused slice without a map or an interface value per field. It calls
// the same maths as Transform and TransformRow (timeValue, Step.numeric,
// Pipeline.categorical) and builds the same category keys, so its vector
// is bit for bit the one TransformRow gives for the same row; the tests
// check that on the fixture rows, unseen and missing values included.
//
// It also tells which categorical inputs fell into the unknown bucket
// (code 0), the thing a server reports back to its client. Unseen does
// the same for a Row.

// Value is one raw input value for Encoder.Encode, already parsed by its
// input's contract type. Which field is read depends on that type:
//
//	int64, float64   Num (for int64, an integer-valued float64)
//	string           Text (the category, as bytes: no copy is needed)
//	bool             Bool
//	timestamp[...]   Micros: naive wall-clock time in microseconds since
//	                 1970-01-01T00:00:00, as TransformRow computes it
//
// Missing is TransformRow's nil: the value is missing whatever the type.
// Text is read only for string inputs; a caller may keep the raw text of
// other inputs there (serve does, for its prediction log).
type Value struct {
	Missing bool
	Num     float64
	Text    []byte
	Bool    bool
	Micros  int64
}

// InputKind is how Encode reads an input's Value.
type InputKind uint8

// The input kinds, one per family of contract types.
const (
	InputNumber InputKind = iota + 1 // int64 or float64: Value.Num
	InputString                      // string: Value.Text
	InputBool                        // bool: Value.Bool
	InputTime                        // timestamp[...]: Value.Micros
)

// KindOf returns the kind of a contract type name, or 0 and false for a
// type Encode does not read.
func KindOf(typ string) (InputKind, bool) {
	switch {
	case typ == "int64", typ == "float64":
		return InputNumber, true
	case typ == "string":
		return InputString, true
	case typ == "bool":
		return InputBool, true
	case strings.HasPrefix(typ, "timestamp["):
		return InputTime, true
	}
	return 0, false
}

// Encoder is the compiled single-row path of a fitted pipeline. It is
// safe for concurrent use.
type Encoder struct {
	p      *Pipeline
	kinds  []InputKind
	types  []string
	steps  []encStep
	width  int
	single []bool // per input: read by a one-column categorical step
}

// encStep is one step with its inputs resolved to positions.
type encStep struct {
	col  int    // first output column
	w    int    // output columns
	in   [2]int // input positions (in[1] only for a cross)
	nIn  int
	cat  bool // categorical or cross
	time bool
}

// NewEncoder compiles p's single-row path. It fails if an input has a
// contract type Encode does not read.
func NewEncoder(p *Pipeline) (*Encoder, error) {
	p.prepare()
	e := &Encoder{p: p, width: len(p.Columns), single: make([]bool, len(p.Inputs))}
	pos := make(map[string]int, len(p.Inputs))
	for i, in := range p.Inputs {
		k, ok := KindOf(in.Type)
		if !ok {
			return nil, fmt.Errorf("encoder: %w: input %q has type %q, which the single-row path does not read", ErrInput, in.Name, in.Type)
		}
		pos[in.Name] = i
		e.kinds = append(e.kinds, k)
		e.types = append(e.types, in.Type)
	}
	col := 0
	for i := range p.Steps {
		st := &p.Steps[i]
		es := encStep{col: col, w: p.stepWidth(i), in: [2]int{-1, -1}}
		for k, name := range stepInputs(*st) {
			j, ok := pos[name]
			if !ok || k > 1 {
				return nil, fmt.Errorf("encoder: step %s reads %q, which is not an input", stepName(*st), name)
			}
			es.in[k] = j
			es.nIn++
		}
		switch st.Transform {
		case KindTime:
			if e.kinds[es.in[0]] != InputTime {
				return nil, fmt.Errorf("encoder: time step reads %q of type %s", st.Column, e.types[es.in[0]])
			}
			es.time = true
		case KindNumeric:
			if e.kinds[es.in[0]] != InputNumber {
				return nil, fmt.Errorf("encoder: numeric step reads %q of type %s", st.Column, e.types[es.in[0]])
			}
		case KindCategorical, KindCross:
			for k := 0; k < es.nIn; k++ {
				if kind := e.kinds[es.in[k]]; kind == InputTime || e.types[es.in[k]] == "float64" {
					return nil, fmt.Errorf("encoder: categorical step %s reads %q of type %s", stepName(*st), p.Inputs[es.in[k]].Name, e.types[es.in[k]])
				}
			}
			es.cat = true
			if es.nIn == 1 {
				e.single[es.in[0]] = true
			}
		default:
			return nil, fmt.Errorf("encoder: unknown transform %q", st.Transform)
		}
		e.steps = append(e.steps, es)
		col += es.w
	}
	return e, nil
}

// Inputs are the raw inputs, in the order Encode reads Values.
func (e *Encoder) Inputs() []Input { return e.p.Inputs }

// Kind is how Encode reads input i.
func (e *Encoder) Kind(i int) InputKind { return e.kinds[i] }

// Width is the length of an encoded vector.
func (e *Encoder) Width() int { return e.width }

// Categorical reports whether input i is read by a one-column
// categorical transform: the inputs whose unseen values Encode reports.
func (e *Encoder) Categorical(i int) bool { return e.single[i] }

// Encode maps one row (vals[i] is the value of Inputs()[i]) to its
// feature vector, bit for bit TransformRow's for the same row, and
// returns it; dst is reused if it is large enough. If unseen is not nil
// (len(Inputs())), unseen[i] is set to whether input i is categorical
// and its value, present, fell into the unknown bucket: a category not
// seen in training (or too rare to get its own code). Crosses of two
// known categories are not reported. Encode panics if len(vals) differs
// from len(Inputs()): that is a programming error, not bad data.
func (e *Encoder) Encode(vals []Value, dst []float64, unseen []bool) []float64 {
	if len(vals) != len(e.kinds) {
		panic(fmt.Sprintf("features: Encode: %d values for %d inputs", len(vals), len(e.kinds)))
	}
	if cap(dst) < e.width {
		dst = make([]float64, e.width)
	}
	dst = dst[:e.width]
	for i := range unseen {
		unseen[i] = false
	}
	var keyBuf [64]byte
	p := e.p
	for i := range e.steps {
		es := &e.steps[i]
		st := &p.Steps[i]
		switch {
		case es.time:
			v := &vals[es.in[0]]
			for k, part := range st.Parts {
				dst[es.col+k] = timeValue(part, v.Micros, !v.Missing)
			}
		case !es.cat:
			v := &vals[es.in[0]]
			dst[es.col] = st.numeric(v.Num, !v.Missing)
		default:
			key := keyBuf[:0]
			missing := false
			for k := 0; k < es.nIn; k++ {
				j := es.in[k]
				v := &vals[j]
				if v.Missing {
					missing = true
					break
				}
				if k > 0 {
					key = append(key, '\x1f') // formatKey's separator
				}
				key = e.appendKey(key, j, v)
			}
			var one [2][]float64
			for k := 0; k < es.w; k++ {
				one[k] = dst[es.col+k : es.col+k+1]
			}
			if missing {
				p.categorical(i, missingKey, one[:es.w], 0)
				continue
			}
			p.categorical(i, string(key), one[:es.w], 0)
			if unseen != nil && es.nIn == 1 {
				// A step with codes wrote the code: 0 is the unknown
				// bucket. Without codes, look the key up.
				if st.Codes && dst[es.col] == 0 || !st.Codes && !e.seen(i, key) {
					unseen[es.in[0]] = true
				}
			}
		}
	}
	return dst
}

// appendKey appends the category key of value v of input j, as rowKey
// and categoryKeys write it.
func (e *Encoder) appendKey(key []byte, j int, v *Value) []byte {
	switch e.kinds[j] {
	case InputString:
		return append(key, v.Text...)
	case InputBool:
		return strconv.AppendBool(key, v.Bool)
	}
	return strconv.AppendInt(key, int64(v.Num), 10)
}

// seen reports whether key has its own code in step i (or, for a step
// with only a target encoding, a fitted encoding).
func (e *Encoder) seen(i int, key []byte) bool {
	st := &e.p.Steps[i]
	if st.Codes {
		return e.p.index[i].levels[string(key)] != 0
	}
	if st.TE != nil {
		_, ok := st.TE.Values[string(key)]
		return ok
	}
	return true
}

// Unseen returns the categorical inputs of row (read by a one-column
// categorical transform) whose value is present but falls into the
// unknown bucket, in input order; nil if there are none. It reads values
// as TransformRow does and fails where it would.
func (p *Pipeline) Unseen(row Row) ([]string, error) {
	p.prepare()
	types := make(map[string]string, len(p.Inputs))
	for _, in := range p.Inputs {
		types[in.Name] = in.Type
	}
	bad := map[string]bool{}
	for i := range p.Steps {
		st := &p.Steps[i]
		if (st.Transform != KindCategorical && st.Transform != KindCross) || len(stepInputs(*st)) != 1 {
			continue
		}
		v, present := row[st.Column]
		if !present {
			return nil, fmt.Errorf("unseen: %w: missing field %q", ErrInput, st.Column)
		}
		k, ok, err := rowKey(v, types[st.Column])
		if err != nil {
			return nil, fmt.Errorf("unseen: %w: field %q: %v", ErrInput, st.Column, err)
		}
		if !ok {
			continue
		}
		switch {
		case st.Codes:
			bad[st.Column] = bad[st.Column] || p.index[i].levels[k] == 0
		case st.TE != nil:
			_, fitted := st.TE.Values[k]
			bad[st.Column] = bad[st.Column] || !fitted
		}
	}
	var out []string
	for _, in := range p.Inputs {
		if bad[in.Name] {
			out = append(out, in.Name)
		}
	}
	return out, nil
}

// UnseenTable is Unseen for every row of a table, as Encode reports it
// row by row: flag r·len(Inputs)+i is set when input i is read by a
// one-column categorical transform and row r's value is present but
// falls into the unknown bucket. m is Transform(tbl).
func (p *Pipeline) UnseenTable(tbl arrow.Table, m *Matrix) ([]bool, error) {
	p.prepare()
	n, nIn := int(tbl.NumRows()), len(p.Inputs)
	if m.Rows != n || len(m.Data) != len(p.Columns) {
		return nil, fmt.Errorf("unseen: %w: a matrix of %d rows and %d columns for %d rows and %d columns", ErrInput, m.Rows, len(m.Data), n, len(p.Columns))
	}
	pos := make(map[string]int, nIn)
	for i, in := range p.Inputs {
		pos[in.Name] = i
	}
	out := make([]bool, n*nIn)
	col := 0
	for s := range p.Steps {
		st := &p.Steps[s]
		w := p.stepWidth(s)
		if (st.Transform == KindCategorical || st.Transform == KindCross) && st.Column != "" {
			if j := tbl.Schema().FieldIndices(st.Column); len(j) != 1 {
				return nil, fmt.Errorf("unseen: %w: column %q is not in the table", ErrInput, st.Column)
			}
			in := pos[st.Column]
			var keys []string
			if !st.Codes && st.TE != nil {
				keys = categoryKeys(tbl, []string{st.Column})
			}
			r := 0
			for _, ch := range column(tbl, st.Column).Chunks() {
				for i := range ch.Len() {
					if ch.IsNull(i) {
						continue
					}
					unseen := false
					switch {
					case st.Codes:
						unseen = m.Data[col][r+i] == 0
					case st.TE != nil:
						_, fitted := st.TE.Values[keys[r+i]]
						unseen = !fitted
					}
					if unseen {
						out[(r+i)*nIn+in] = true
					}
				}
				r += ch.Len()
			}
		}
		col += w
	}
	return out, nil
}
