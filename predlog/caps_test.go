package predlog_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mlpipe/mlpipe/predlog"
)

// TestFieldCap: a client's 8 MB string is logged cut to MaxFieldBytes and
// marked with its length, as a raw input, a decoded input and a label;
// the other fields are as sent (issue 19, item 7).
func TestFieldCap(t *testing.T) {
	dir := t.TempDir()
	huge := strings.Repeat("A", 8<<20)
	w := newWriter(t, dir, predlog.Options{})
	raw := flight(0)
	raw.Inputs = nil
	raw.RawInputs = json.RawMessage(`{"origin":"` + huge + `","distance":1250}`)
	w.Log(raw)
	decoded := flight(1)
	decoded.Inputs = map[string]any{"origin": huge, "distance": 1250.0}
	w.Log(decoded)
	closeWriter(t, w)
	recs, _ := readAll(t, dir)
	if len(recs) != 2 {
		t.Fatalf("%d records, want 2", len(recs))
	}
	for _, r := range recs {
		origin, _ := r.Inputs["origin"].(string)
		if len(origin) > predlog.DefaultMaxFieldBytes+32 || !strings.HasSuffix(origin, "…(8388608 bytes)") {
			t.Errorf("%s: origin logged as %d bytes ending %q", r.ID, len(origin), origin[max(0, len(origin)-20):])
		}
		if r.Inputs["distance"] != 1250.0 {
			t.Errorf("%s: distance %v", r.ID, r.Inputs["distance"])
		}
	}
	if decoded.Inputs["origin"] != huge {
		t.Error("Log changed the caller's map")
	}

	lw, err := predlog.NewLabelWriter(dir, predlog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	lw.Log(predlog.Label{ID: "req-000000", Label: huge})
	if err := lw.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	labels, _, err := predlog.ReadLabels(context.Background(), dir, time.Time{}, time.Time{})
	if err != nil || len(labels) != 1 {
		t.Fatalf("labels %v, %v", labels, err)
	}
	if s, _ := labels[0].Label.(string); len(s) > predlog.DefaultMaxFieldBytes+32 {
		t.Errorf("label logged as %d bytes", len(s))
	}
}

// TestQueueBytes: past MaxQueueBytes of queued inputs, Log drops (and
// counts) rather than holding more.
func TestQueueBytes(t *testing.T) {
	w := newWriter(t, t.TempDir(), predlog.Options{MaxQueueBytes: 10 << 10, FlushInterval: time.Hour})
	r := flight(0)
	r.Inputs = nil
	r.RawInputs = json.RawMessage(`{"origin":"` + strings.Repeat("A", 1000) + `"}`)
	for range 1000 { // 1 MB offered within 5 ms, before the first drain
		w.Log(r)
	}
	if w.Dropped() == 0 {
		t.Error("1 MB queued past a 10 KiB cap: nothing dropped")
	}
	closeWriter(t, w)
	if w.Written()+w.Dropped() != 1000 {
		t.Errorf("written %d + dropped %d != 1000", w.Written(), w.Dropped())
	}
}
