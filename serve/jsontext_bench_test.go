package serve

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/ingest"
)

// internal/jsonread against jsontext (github.com/go-json-experiment/json,
// the basis of encoding/json/v2), on the decode of a native batch of
// 1,000 rows: the same rows, the same checks, into the same scratch.
// jsontext reads from a bytes.Buffer, so its values point into the body
// as jsonread's do (no copy). docs/serving.md has the figures:
//
//	go test -run '^$' -bench DecodeBatch -count 6 ./serve/

// decodeBatchJSONText is decodeNative's batch path written on jsontext.
func (m *Model) decodeBatchJSONText(sc *scratch, dec *jsontext.Decoder, bb *bytes.Buffer, body []byte) error {
	sc.reset(m)
	*bb = *bytes.NewBuffer(body)
	dec.Reset(bb)
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return badf("want an object: %v", err)
	}
	key, err := readKey(dec)
	if err != nil || string(key) != "instances" {
		return badf("want \"instances\": %v", err)
	}
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '[' {
		return badf("\"instances\": want an array: %v", err)
	}
	for dec.PeekKind() != ']' {
		if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
			return badf("instances[%d]: want an object: %v", sc.n, err)
		}
		row := sc.addRow()
		vals := sc.row(row)
		got := sc.got[:len(m.inputs)]
		clear(got)
		for k := 0; dec.PeekKind() != '}'; k++ {
			key, err := readKey(dec)
			if err != nil {
				return err
			}
			j, ok := k, k < len(m.inputs) && string(key) == m.inputs[k].name
			if !ok {
				j, ok = m.byName[string(key)]
			}
			if !ok {
				return badf("instances[%d]: unknown field %q", row, key)
			}
			if got[j] {
				return badf("instances[%d]: duplicate field %q", row, key)
			}
			got[j] = true
			if err := m.readValueJSONText(dec, j, &vals[j]); err != nil {
				return badf("instances[%d]: field %q: %v", row, m.inputs[j].name, err)
			}
		}
		if _, err := dec.ReadToken(); err != nil { // '}'
			return err
		}
		for j, ok := range got {
			if !ok {
				return badf("instances[%d]: missing field %q", row, m.inputs[j].name)
			}
		}
	}
	if _, err := dec.ReadToken(); err != nil { // ']'
		return err
	}
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '}' {
		return badf("a batch request has only \"instances\": %v", err)
	}
	return nil
}

// readKey reads an object member's name, as a slice of the body when it
// has no escape.
func readKey(dec *jsontext.Decoder) ([]byte, error) {
	v, err := dec.ReadValue()
	if err != nil {
		return nil, err
	}
	return unquote(v)
}

// unquote returns a string value's contents.
func unquote(v jsontext.Value) ([]byte, error) {
	if bytes.IndexByte(v, '\\') < 0 {
		return v[1 : len(v)-1], nil
	}
	return jsontext.AppendUnquote(nil, v)
}

// readValueJSONText is readValue on jsontext: the same rules.
func (m *Model) readValueJSONText(dec *jsontext.Decoder, j int, v *features.Value) error {
	in := &m.inputs[j]
	k := dec.PeekKind()
	val, err := dec.ReadValue()
	if err != nil {
		return err
	}
	if k == 'n' {
		if !in.nullable {
			return errors.New("null is not allowed")
		}
		v.Missing = true
		return nil
	}
	switch in.kind {
	case features.InputNumber:
		if k != '0' {
			return fmt.Errorf("want a number, got %v", k)
		}
		f, err := in.number(val)
		if err != nil {
			return err
		}
		v.Num, v.Text = f, val
	case features.InputString:
		if k != '"' {
			return fmt.Errorf("want a string, got %v", k)
		}
		if v.Text, err = unquote(val); err != nil {
			return err
		}
	case features.InputBool:
		if k != 't' && k != 'f' {
			return fmt.Errorf("want true or false, got %v", k)
		}
		v.Bool = k == 't'
	case features.InputTime:
		if k != '"' {
			return fmt.Errorf("want a timestamp string, got %v", k)
		}
		s, err := unquote(val)
		if err != nil {
			return err
		}
		t, err := ingest.ParseTimeBytes(s)
		if err != nil {
			return err
		}
		v.Micros, v.Text = t.UnixMicro(), s
	}
	return nil
}

// TestDecodeBatchJSONText: the jsontext decoder of the benchmark reads
// the batch into the same rows as decodeNative, so the comparison is of
// like with like.
func TestDecodeBatchJSONText(t *testing.T) {
	m := benchModel(t)
	native, _ := bodies(t, m, 1000)
	var a, b scratch
	if _, err := m.decodeNative(&a, native, 1000, false); err != nil {
		t.Fatal(err)
	}
	var dec jsontext.Decoder
	var bb bytes.Buffer
	if err := m.decodeBatchJSONText(&b, &dec, &bb, native); err != nil {
		t.Fatal(err)
	}
	if a.n != 1000 || !reflect.DeepEqual(a.vals, b.vals) {
		t.Fatalf("jsontext rows differ from jsonread's (%d rows)", a.n)
	}
}

func BenchmarkDecodeBatch(b *testing.B) {
	m := benchModel(b)
	native, _ := bodies(b, m, 1000)
	b.Run("jsonread", func(b *testing.B) {
		var sc scratch
		b.ReportAllocs()
		b.SetBytes(int64(len(native)))
		for b.Loop() {
			if _, err := m.decodeNative(&sc, native, 1000, false); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("jsontext", func(b *testing.B) {
		var sc scratch
		var dec jsontext.Decoder
		var bb bytes.Buffer
		b.ReportAllocs()
		b.SetBytes(int64(len(native)))
		for b.Loop() {
			if err := m.decodeBatchJSONText(&sc, &dec, &bb, native); err != nil {
				b.Fatal(err)
			}
		}
	})
}
