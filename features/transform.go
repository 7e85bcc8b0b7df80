package features

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/mlpipe/mlpipe/internal/timeparse"
)

// This file holds the two paths through a fitted pipeline: Transform for
// a whole Arrow table (column at a time, for training and batch scoring)
// and TransformRow for one request (serving). Both call the same
// functions for the maths (timeValue, Step.numeric, Pipeline.code,
// TargetEncoding.encode); they differ only in how they read raw values.

// Transform maps a table to its design matrix. The table must hold the
// pipeline's input columns (other columns are ignored).
func (p *Pipeline) Transform(tbl arrow.Table) (*Matrix, error) {
	p.prepare()
	n := int(tbl.NumRows())
	m := NewMatrix(n, p.Columns)
	col := 0
	for i := range p.Steps {
		st := &p.Steps[i]
		for _, name := range stepInputs(*st) {
			if j := tbl.Schema().FieldIndices(name); len(j) != 1 {
				return nil, fmt.Errorf("transform: %w: column %q is not in the table", ErrInput, name)
			}
		}
		out := m.Data[col : col+p.stepWidth(i)]
		switch st.Transform {
		case KindTime:
			eachMicros(column(tbl, st.Column), func(r int, us int64, ok bool) {
				for k, part := range st.Parts {
					out[k][r] = timeValue(part, us, ok)
				}
			})
		case KindNumeric:
			dst := out[0]
			eachFloat(column(tbl, st.Column), func(r int, v float64, ok bool) {
				dst[r] = st.numeric(v, ok)
			})
		case KindCategorical, KindCross:
			keys := categoryKeys(tbl, stepInputs(*st))
			for r, k := range keys {
				p.categorical(i, k, out, r)
			}
		}
		col += len(out)
	}
	return m, nil
}

// categorical writes the code and/or target encoding of key into row r
// of the step's output columns.
func (p *Pipeline) categorical(step int, key string, out [][]float64, r int) {
	st := &p.Steps[step]
	k := 0
	if st.Codes {
		out[0][r] = float64(p.index[step].levels[key]) // 0 when unseen, rare or missing
		k++
	}
	if st.TE != nil {
		out[k][r] = st.TE.encode(key)
	}
}

// Row is one raw input for TransformRow: column name → value. A value is
// nil (missing), a string, a bool, a number (float64, int64, int or
// json.Number) or, for a timestamp column, a time.Time or a string such
// as "2001-06-15T08:30:00".
type Row map[string]any

// TransformRow maps one raw row to its feature vector, bit for bit the
// same as the matching row of Transform. Every input column must be a
// key of row (nil means missing); other keys are ignored. dst is reused
// if it is large enough.
func (p *Pipeline) TransformRow(row Row, dst []float64) ([]float64, error) {
	p.prepare()
	if cap(dst) < len(p.Columns) {
		dst = make([]float64, len(p.Columns))
	}
	dst = dst[:len(p.Columns)]
	types := make(map[string]string, len(p.Inputs))
	for _, in := range p.Inputs {
		types[in.Name] = in.Type
		if _, ok := row[in.Name]; !ok {
			return nil, fmt.Errorf("transform row: %w: missing field %q", ErrInput, in.Name)
		}
	}
	col := 0
	one := make([][]float64, 2) // the step's output cells, as 1-row columns
	for i := range p.Steps {
		st := &p.Steps[i]
		w := p.stepWidth(i)
		switch st.Transform {
		case KindTime:
			us, ok, err := rowMicros(row[st.Column])
			if err != nil {
				return nil, fmt.Errorf("transform row: %w: field %q: %v", ErrInput, st.Column, err)
			}
			for k, part := range st.Parts {
				dst[col+k] = timeValue(part, us, ok)
			}
		case KindNumeric:
			v, ok, err := rowFloat(row[st.Column], types[st.Column])
			if err != nil {
				return nil, fmt.Errorf("transform row: %w: field %q: %v", ErrInput, st.Column, err)
			}
			dst[col] = st.numeric(v, ok)
		case KindCategorical, KindCross:
			var parts []string
			missing := false
			for _, c := range stepInputs(*st) {
				k, ok, err := rowKey(row[c], types[c])
				if err != nil {
					return nil, fmt.Errorf("transform row: %w: field %q: %v", ErrInput, c, err)
				}
				missing = missing || !ok
				parts = append(parts, k)
			}
			key := missingKey
			if !missing {
				key = formatKey(parts)
			}
			for k := 0; k < w; k++ {
				one[k] = dst[col+k : col+k+1]
			}
			p.categorical(i, key, one[:w], 0)
		}
		col += w
	}
	return dst, nil
}

// --- The maths shared by both paths ------------------------------------

const (
	usPerMinute = int64(time.Minute / time.Microsecond)
	usPerDay    = 24 * 60 * usPerMinute
)

// timeValue computes one time part from a naive timestamp in
// microseconds since 1970-01-01 (wall clock). Categorical parts are
// codes (value+1; 0 when the time is missing); numeric parts are NaN
// when it is missing.
func timeValue(part string, us int64, ok bool) float64 {
	if !ok {
		if timeParts[part] == Categorical {
			return 0
		}
		return math.NaN()
	}
	days := floorDiv(us, usPerDay)
	minute := (us - days*usPerDay) / usPerMinute
	switch part {
	case "hour":
		return float64(minute/60) + 1
	case "minute_of_day":
		return float64(minute)
	case "day_of_week":
		// 1970-01-01 was a Thursday; Monday is 0.
		return float64(((days+3)%7+7)%7) + 1
	case "is_weekend":
		if ((days+3)%7+7)%7 >= 5 { // Saturday 5, Sunday 6
			return 1
		}
		return 0
	}
	y, m, d := civil(days)
	switch part {
	case "day_of_month":
		return float64(d)
	case "month":
		return float64(m)
	case "day_of_year":
		return float64(time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC).YearDay())
	case "year":
		return float64(y)
	case "quarter":
		return float64((m-1)/3 + 1)
	}
	return math.NaN()
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// civil converts days since 1970-01-01 to a date (Howard Hinnant's
// days_from_civil inverse, exact for the proleptic Gregorian calendar).
func civil(days int64) (y, m, d int) {
	z := days + 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	yy := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	dd := doy - (153*mp+2)/5 + 1
	mm := mp + 3
	if mm > 12 {
		mm -= 12
	}
	if mm <= 2 {
		yy++
	}
	return int(yy), int(mm), int(dd)
}

// --- Reading raw values: the batch path --------------------------------

func column(tbl arrow.Table, name string) *arrow.Chunked {
	return tbl.Column(tbl.Schema().FieldIndices(name)[0]).Data()
}

// eachFloat calls fn with each value of a numeric column as float64.
func eachFloat(col *arrow.Chunked, fn func(r int, v float64, ok bool)) {
	r := 0
	for _, ch := range col.Chunks() {
		switch a := ch.(type) {
		case *array.Int64:
			for i, v := range a.Int64Values() {
				fn(r+i, float64(v), a.IsValid(i))
			}
		case *array.Float64:
			for i, v := range a.Float64Values() {
				fn(r+i, v, a.IsValid(i))
			}
		default:
			for i := 0; i < ch.Len(); i++ {
				fn(r+i, math.NaN(), false)
			}
		}
		r += ch.Len()
	}
}

// eachMicros calls fn with each value of a timestamp column in
// microseconds.
func eachMicros(col *arrow.Chunked, fn func(r int, us int64, ok bool)) {
	r := 0
	for _, ch := range col.Chunks() {
		a, isTS := ch.(*array.Timestamp)
		if !isTS {
			for i := 0; i < ch.Len(); i++ {
				fn(r+i, 0, false)
			}
			r += ch.Len()
			continue
		}
		unit := a.DataType().(*arrow.TimestampType).Unit
		for i, v := range a.TimestampValues() {
			fn(r+i, toMicros(int64(v), unit), a.IsValid(i))
		}
		r += ch.Len()
	}
}

func toMicros(v int64, unit arrow.TimeUnit) int64 {
	switch unit {
	case arrow.Second:
		return v * 1_000_000
	case arrow.Millisecond:
		return v * 1_000
	case arrow.Nanosecond:
		return floorDiv(v, 1_000)
	}
	return v
}

// categoryKeys returns each row's category key over cols (one column, or
// two for a cross); missingKey where any part is null.
func categoryKeys(tbl arrow.Table, cols []string) []string {
	n := int(tbl.NumRows())
	parts := make([][]string, len(cols))
	for c, name := range cols {
		parts[c] = make([]string, n)
		r := 0
		for _, ch := range column(tbl, name).Chunks() {
			for i := 0; i < ch.Len(); i++ {
				k := missingKey
				if ch.IsValid(i) {
					switch a := ch.(type) {
					case *array.String:
						k = a.Value(i)
					case *array.Boolean:
						k = strconv.FormatBool(a.Value(i))
					case *array.Int64:
						k = strconv.FormatInt(a.Value(i), 10)
					default:
						k = ch.ValueStr(i)
					}
				}
				parts[c][r+i] = k
			}
			r += ch.Len()
		}
	}
	if len(cols) == 1 {
		return parts[0]
	}
	keys := make([]string, n)
	for r := range keys {
		if parts[0][r] == missingKey || parts[1][r] == missingKey {
			keys[r] = missingKey
			continue
		}
		keys[r] = formatKey([]string{parts[0][r], parts[1][r]})
	}
	return keys
}

// --- Reading raw values: the single-row path ---------------------------

// rowFloat reads a number for a column of contract type typ.
func rowFloat(v any, typ string) (float64, bool, error) {
	switch x := v.(type) {
	case nil:
		return 0, false, nil
	case float64:
		if typ == "int64" && x != math.Trunc(x) {
			return 0, false, fmt.Errorf("%v is not an integer", x)
		}
		return x, true, nil
	case int64:
		return float64(x), true, nil
	case int:
		return float64(int64(x)), true, nil
	case json.Number:
		if typ == "int64" {
			i, err := strconv.ParseInt(string(x), 10, 64)
			if err != nil {
				f, ferr := strconv.ParseFloat(string(x), 64)
				if ferr != nil || f != math.Trunc(f) {
					return 0, false, fmt.Errorf("%s is not an integer", x)
				}
				return f, true, nil
			}
			return float64(i), true, nil
		}
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return 0, false, fmt.Errorf("%s is not a number", x)
		}
		return f, true, nil
	}
	return 0, false, fmt.Errorf("want a number, got %s", describe(v))
}

// rowKey reads a category for a column of contract type typ.
func rowKey(v any, typ string) (string, bool, error) {
	switch x := v.(type) {
	case nil:
		return "", false, nil
	case string:
		if typ != "string" {
			return "", false, fmt.Errorf("want %s, got a string", typ)
		}
		return x, true, nil
	case bool:
		return strconv.FormatBool(x), true, nil
	}
	if typ == "int64" {
		f, ok, err := rowFloat(v, typ)
		return strconv.FormatInt(int64(f), 10), ok, err
	}
	return "", false, fmt.Errorf("want a string, got %s", describe(v))
}

// rowMicros reads a naive timestamp as microseconds since 1970-01-01.
func rowMicros(v any) (int64, bool, error) {
	switch x := v.(type) {
	case nil:
		return 0, false, nil
	case string:
		t, err := timeparse.Parse(x)
		if err != nil {
			return 0, false, err
		}
		return t.UnixMicro(), true, nil
	case time.Time:
		y, m, d := x.Date()
		h, mi, s := x.Clock()
		return time.Date(y, m, d, h, mi, s, x.Nanosecond(), time.UTC).UnixMicro(), true, nil
	}
	return 0, false, fmt.Errorf("want a timestamp string such as \"2001-06-15T08:30:00\", got %s", describe(v))
}

func describe(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a bool"
	case float64, int, int64, json.Number:
		return "a number"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return fmt.Sprintf("%T", v)
}
