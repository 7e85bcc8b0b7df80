package predlog_test

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/mlpipe/mlpipe/predlog"
)

// jsonRoundTrip is v as encoding/json writes and reads it back: what a
// reader of the log must see.
func jsonRoundTrip(t testing.TB, v map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// FuzzEncodeString: whatever bytes a request carries, the line is valid
// JSON and the string reads back as encoding/json would have written it.
func FuzzEncodeString(f *testing.F) {
	for _, s := range []string{"", "ATL", "a\"b\\c", "\x00\x1f\x7f", "é日本\u2028", "a\xffb", "\xc3", "\n\r\t", "</script>"} {
		f.Add(s)
	}
	enc := predlog.RecordEncoder()
	f.Fuzz(func(t *testing.T, s string) {
		line, err := enc(nil, &predlog.Record{ID: s, Time: t0, Model: s, Inputs: map[string]any{s: s}, Predicted: s})
		if err != nil {
			t.Fatal(err)
		}
		if line[len(line)-1] != '\n' || !json.Valid(line) {
			t.Fatalf("line %q is not one JSON object and a newline", line)
		}
		for _, c := range line[:len(line)-1] {
			if c == '\n' {
				t.Fatalf("raw newline inside the line %q", line)
			}
		}
		var got predlog.Record
		if err := json.Unmarshal(line, &got); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(s)
		var want string
		_ = json.Unmarshal(b, &want)
		if got.ID != want || got.Predicted != want || got.Inputs[want] != want || !got.Time.Equal(t0) {
			t.Errorf("read back %+v, want every string %q", got, want)
		}
	})
}

// TestEncodeFloats: numbers are written as encoding/json writes them.
func TestEncodeFloats(t *testing.T) {
	enc := predlog.RecordEncoder()
	for _, f := range []float64{0, math.Copysign(0, -1), 1, 0.1, 1250, 1e-7, 123456789e13, 1e21, -3.5e-300, 0.30000000000000004} {
		line, err := enc(nil, &predlog.Record{ID: "f", Time: time.Unix(0, 0), Inputs: map[string]any{"x": f}, Probability: f})
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Inputs      struct{ X json.RawMessage }
			Probability json.RawMessage
		}
		if err := json.Unmarshal(line, &got); err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(f)
		// encoding/json trims e-07 to e-7; both are valid JSON and the
		// same number, which is what matters.
		var a, b float64
		_ = json.Unmarshal(got.Inputs.X, &a)
		_ = json.Unmarshal(want, &b)
		if a != b || string(got.Inputs.X) != string(got.Probability) {
			t.Errorf("%v written as %s and %s, encoding/json writes %s", f, got.Inputs.X, got.Probability, want)
		}
	}
}

// TestRawInputs: a request's own JSON object is logged as the inputs,
// compacted onto the record's line, and read back as a map; anything but
// an object is refused.
func TestRawInputs(t *testing.T) {
	enc := predlog.RecordEncoder()
	line, err := enc(nil, &predlog.Record{ID: "r", Time: time.Unix(0, 0), Probability: 0.25,
		RawInputs: json.RawMessage("{\n  \"origin\": \"ATL\",\n  \"distance\": 1250\n}")})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Count(line, []byte("\n")) != 1 || !bytes.Contains(line, []byte(`"inputs":{"origin":"ATL","distance":1250}`)) {
		t.Errorf("line = %q", line)
	}
	var back predlog.Record
	if err := json.Unmarshal(line, &back); err != nil || back.Inputs["origin"] != "ATL" {
		t.Errorf("read back: %v %v", back.Inputs, err)
	}
	for _, bad := range []string{`[1]`, `{"a":`, ``, `"x"`, `{"a":1}x`, `{"a":1}{}`, `{"a":tru}`, "{\"a\": 1}x"} {
		if _, err := enc(nil, &predlog.Record{ID: "r", Time: time.Unix(0, 0), RawInputs: json.RawMessage(bad)}); err == nil {
			t.Errorf("raw inputs %q accepted", bad)
		}
	}
}

// TestRegressionRecord: a regression's record has its prediction and
// neither a probability nor a predicted label, and reads back.
func TestRegressionRecord(t *testing.T) {
	v := 4321.5
	line, err := predlog.RecordEncoder()(nil, &predlog.Record{ID: "r", Time: time.Unix(0, 0), Model: "m", Version: 2, Inputs: map[string]any{"x": 1.0}, Prediction: &v})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"r","time":"1970-01-01T00:00:00Z","model":"m","version":2,"inputs":{"x":1},"prediction":4321.5}` + "\n"
	if string(line) != want {
		t.Errorf("got  %s\nwant %s", line, want)
	}
	var back predlog.Record
	if err := json.Unmarshal(line, &back); err != nil || back.Prediction == nil || *back.Prediction != v {
		t.Errorf("read back %+v, %v", back, err)
	}
}
