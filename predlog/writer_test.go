package predlog_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlpipe/mlpipe/predlog"
)

// t0 is an arbitrary fixed start for the fake clocks.
var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// clock is a fake clock that tests move by hand.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock { c := &clock{}; c.set(t); return c }
func (c *clock) now() time.Time   { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) set(t time.Time)  { c.ns.Store(t.UnixNano()) }

// flight returns a prediction shaped like mlserve's for the flights
// model (the request fields of the brief's example).
func flight(i int) predlog.Record {
	return predlog.Record{
		ID:      fmt.Sprintf("req-%06d", i),
		Model:   "flights-delay",
		Version: 3,
		Inputs: map[string]any{
			"date":        "2001-06-15T08:30:00",
			"distance":    1250.0,
			"origin":      "ATL",
			"destination": "LAX",
		},
		Probability: 0.73,
		Predicted:   "delayed",
	}
}

func newWriter(t *testing.T, dir string, opts predlog.Options) *predlog.Writer {
	t.Helper()
	w, err := predlog.NewWriter(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func closeWriter(t *testing.T, w *predlog.Writer) {
	t.Helper()
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func readAll(t *testing.T, dir string) ([]predlog.Record, predlog.Stats) {
	t.Helper()
	recs, st, err := predlog.ReadPredictions(context.Background(), dir, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return recs, st
}

func logFiles(t *testing.T, dir, pattern string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil {
		t.Fatal(err)
	}
	for i := range names {
		names[i] = filepath.Base(names[i])
	}
	sort.Strings(names)
	return names
}

// TestRoundTrip writes records of every shape and reads them back as
// encoding/json decodes them.
func TestRoundTrip(t *testing.T) {
	at := t0.Add(1500 * time.Millisecond)
	tests := []struct {
		name string
		in   predlog.Record
		want predlog.Record // zero: in, as encoding/json decodes it
	}{
		{name: "Flights", in: flight(1)},
		{name: "Multiclass", in: predlog.Record{ID: "m", Time: at, Model: "iris", Version: 1,
			Inputs: map[string]any{"petal_length": 1.4}, Probabilities: []float64{0.9, 0.07, 0.03}, Predicted: "setosa"}},
		{name: "NilInputs", in: predlog.Record{ID: "n", Time: at, Model: "m", Version: 2, Probability: 0.5, Predicted: "x"},
			want: predlog.Record{ID: "n", Time: at, Model: "m", Version: 2, Inputs: map[string]any{}, Probability: 0.5, Predicted: "x"}},
		{name: "NestedAndOddTypes", in: predlog.Record{ID: "o", Time: at, Model: "m", Version: 1, Predicted: "y",
			Inputs: map[string]any{"n": nil, "b": true, "i": 42, "u8": uint8(7), "f32": float32(0.1), "tiny": 1e-9, "big": 1e22,
				"list": []any{"a", 1.5, map[string]any{"k": "v"}}, "obj": map[string]any{"z": 1.0, "a": "b"},
				"when": time.Date(2001, 6, 15, 8, 30, 0, 0, time.UTC), "strs": []string{"x", "y"}}},
			want: predlog.Record{ID: "o", Time: at, Model: "m", Version: 1, Predicted: "y",
				Inputs: map[string]any{"n": nil, "b": true, "i": 42.0, "u8": 7.0, "f32": 0.1, "tiny": 1e-9, "big": 1e22,
					"list": []any{"a", 1.5, map[string]any{"k": "v"}}, "obj": map[string]any{"z": 1.0, "a": "b"},
					"when": "2001-06-15T08:30:00Z", "strs": []any{"x", "y"}}}},
		{name: "HostileStrings", in: predlog.Record{ID: "id \"quoted\"\n\\", Time: at, Model: "m\t\x00\x1f", Version: 1,
			Inputs: map[string]any{"origin\n": "<A&B>\u2028é日本", "bad utf8": "a\xffb\xc3"}, Predicted: "\r"},
			want: predlog.Record{ID: "id \"quoted\"\n\\", Time: at, Model: "m\t\x00\x1f", Version: 1,
				Inputs: map[string]any{"origin\n": "<A&B>\u2028é日本", "bad utf8": "a\ufffdb\ufffd"}, Predicted: "\r"}},
		{name: "NonFiniteIsNull", in: predlog.Record{ID: "nan", Time: at, Model: "m", Version: 1, Probability: math.NaN(),
			Inputs: map[string]any{"x": math.Inf(1)}, Predicted: "?"},
			want: predlog.Record{ID: "nan", Time: at, Model: "m", Version: 1, Inputs: map[string]any{"x": nil}, Predicted: "?"}},
		{name: "LocalTimeBecomesUTC", in: predlog.Record{ID: "tz", Time: time.Date(2026, 11, 25, 12, 0, 0, 5, time.FixedZone("EET", 7200)),
			Model: "m", Version: 1, Inputs: map[string]any{}, Predicted: "p"},
			want: predlog.Record{ID: "tz", Time: time.Date(2026, 11, 25, 10, 0, 0, 5, time.UTC), Model: "m", Version: 1,
				Inputs: map[string]any{}, Predicted: "p"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			clk := newClock(t0)
			w := newWriter(t, dir, predlog.Options{Now: clk.now})
			w.Log(tt.in)
			closeWriter(t, w)
			got, st := readAll(t, dir)
			if len(got) != 1 || st.Skipped != 0 {
				t.Fatalf("read %d records, stats %+v; want 1, nothing skipped", len(got), st)
			}
			want := tt.want
			if want.ID == "" {
				want = tt.in
				want.Inputs = jsonRoundTrip(t, tt.in.Inputs)
			}
			if want.Time.IsZero() {
				want.Time = t0 // Log stamped it with the clock
			}
			if !got[0].Time.Equal(want.Time) || got[0].Time.Location() != time.UTC {
				t.Errorf("time = %v, want %v in UTC", got[0].Time, want.Time)
			}
			got[0].Time, want.Time = time.Time{}, time.Time{}
			if !reflect.DeepEqual(got[0], want) {
				t.Errorf("read back\n%#v\nwant\n%#v", got[0], want)
			}
			if w.Written() != 1 || w.Dropped() != 0 || w.Failed() != 0 {
				t.Errorf("written %d dropped %d failed %d, want 1 0 0", w.Written(), w.Dropped(), w.Failed())
			}
		})
	}
}

// TestLogKeepsNothing: Log is done with a record when it returns (it
// encodes the record then), so the caller may reuse its maps and
// slices at once: what is written is what was logged.
func TestLogKeepsNothing(t *testing.T) {
	dir := t.TempDir()
	w := newWriter(t, dir, predlog.Options{FlushInterval: time.Hour})
	inputs := map[string]any{"origin": "ATL"}
	raw := []byte(`{"origin":"ATL"}`)
	probs := []float64{0.5, 0.3, 0.2}
	w.Log(predlog.Record{ID: "map", Model: "m", Inputs: inputs, Probabilities: probs, Predicted: "a"})
	w.Log(predlog.Record{ID: "raw", Model: "m", RawInputs: raw, Probability: 0.5, Predicted: "a"})
	inputs["origin"] = "XXX" // the caller's next request, before the writer's next drain
	copy(raw, `{"origin":"XXX"}`)
	probs[0] = 0.1
	closeWriter(t, w)
	got, _ := readAll(t, dir)
	if len(got) != 2 {
		t.Fatalf("read %d records, want 2", len(got))
	}
	for _, r := range got {
		if r.Inputs["origin"] != "ATL" || r.ID == "map" && r.Probabilities[0] != 0.5 {
			t.Errorf("%s: logged %v %v, want the record as it was at Log", r.ID, r.Inputs, r.Probabilities)
		}
	}
}

// TestUnencodable: inputs JSON cannot hold fail that record only.
func TestUnencodable(t *testing.T) {
	dir := t.TempDir()
	w := newWriter(t, dir, predlog.Options{})
	loop := map[string]any{}
	loop["self"] = loop
	w.Log(flight(1))
	w.Log(predlog.Record{ID: "chan", Inputs: map[string]any{"c": make(chan int)}})
	w.Log(predlog.Record{ID: "loop", Inputs: loop})
	w.Log(predlog.Record{ID: "year", Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})
	w.Log(flight(2))
	closeWriter(t, w)
	if got, _ := readAll(t, dir); len(got) != 2 || w.Written() != 2 || w.Failed() != 3 {
		t.Errorf("read %d, written %d, failed %d; want 2, 2, 3", len(got), w.Written(), w.Failed())
	}
}

func TestLabelsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	clk := newClock(t0)
	w, err := predlog.NewLabelWriter(dir, predlog.Options{Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []predlog.Label{
		{ID: "b", Label: true},
		{ID: "f", Label: 1.5},
		{ID: "i", Label: 3},
		{ID: "s", Label: "delayed"},
		{ID: "map", Label: map[string]any{"x": 1}}, // not a scalar: Failed
		{ID: "nil"},                                // no label: Failed
	} {
		w.Log(l)
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, st, err := predlog.ReadLabels(context.Background(), dir, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	want := []predlog.Label{
		{ID: "b", Time: t0, Label: true},
		{ID: "f", Time: t0, Label: 1.5},
		{ID: "i", Time: t0, Label: 3.0},
		{ID: "s", Time: t0, Label: "delayed"},
	}
	if !reflect.DeepEqual(got, want) || st.Skipped != 0 {
		t.Errorf("labels = %v (stats %+v), want %v", got, st, want)
	}
	if w.Written() != 4 || w.Failed() != 2 {
		t.Errorf("written %d failed %d, want 4 2", w.Written(), w.Failed())
	}
	// Predictions and labels are separate: no prediction files were made.
	if names := logFiles(t, dir, "predictions-*"); len(names) != 0 {
		t.Errorf("prediction files %v", names)
	}
}

// TestRotateBySize: no file grows past MaxFileBytes, except one holding
// a single line longer than the limit.
func TestRotateBySize(t *testing.T) {
	line, err := predlog.RecordEncoder()(nil, &predlog.Record{ID: "req-000000", Time: t0, Model: "flights-delay", Version: 3,
		Inputs: flight(0).Inputs, Probability: 0.73, Predicted: "delayed"})
	if err != nil {
		t.Fatal(err)
	}
	const maxBytes = 1000 // a few flights records per file
	perFile := maxBytes / len(line)
	dir := t.TempDir()
	clk := newClock(t0) // frozen: files are told apart by sequence number
	w := newWriter(t, dir, predlog.Options{MaxFileBytes: maxBytes, Now: clk.now})
	const n = 20
	for i := range n {
		r := flight(i)
		r.Time = t0
		w.Log(r)
	}
	big := flight(n)
	big.Inputs = map[string]any{"blob": string(make([]byte, 2*maxBytes))}
	w.Log(big)
	w.Log(flight(n + 1))
	closeWriter(t, w)

	names := logFiles(t, dir, "predictions-*.jsonl")
	// n records in full files, then the big one alone, then the last.
	wantFiles := (n+perFile-1)/perFile + 2
	if len(names) != wantFiles {
		t.Fatalf("%d files, want %d (%d lines of %d bytes per file): %v", len(names), wantFiles, perFile, len(line), names)
	}
	for i, name := range names {
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if i != len(names)-2 && info.Size() > maxBytes {
			t.Errorf("%s is %d bytes, over %d", name, info.Size(), maxBytes)
		}
	}
	if want := fmt.Sprintf("predictions-20261125T100000.000Z-%06d.jsonl", wantFiles); names[len(names)-1] != want {
		t.Errorf("last file %s, want %s", names[len(names)-1], want)
	}
	if got, st := readAll(t, dir); len(got) != n+2 || st.Files != wantFiles {
		t.Errorf("read %d records from %d files, want %d from %d", len(got), st.Files, n+2, wantFiles)
	}
}

// TestWindow rotates by age on a fake clock, then reads windows that
// cut across the rotations.
func TestWindow(t *testing.T) {
	dir := t.TempDir()
	clk := newClock(t0)
	w := newWriter(t, dir, predlog.Options{MaxFileAge: 30 * time.Minute, Now: clk.now})
	ctx := context.Background()
	// One prediction every 10 minutes for 2 hours, stamped by the clock.
	for k := range 12 {
		clk.set(t0.Add(time.Duration(k) * 10 * time.Minute))
		if k == 9 {
			// A record whose time was taken 30s before the file it lands
			// in was opened (it waited in the queue across a rotation).
			w.Log(predlog.Record{ID: "late", Time: t0.Add(89*time.Minute + 30*time.Second)})
		}
		w.Log(predlog.Record{ID: fmt.Sprintf("k%02d", k)})
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	closeWriter(t, w)

	wantNames := []string{
		"predictions-20261125T100000.000Z-000001.jsonl",
		"predictions-20261125T103000.000Z-000002.jsonl",
		"predictions-20261125T110000.000Z-000003.jsonl",
		"predictions-20261125T113000.000Z-000004.jsonl",
	}
	if names := logFiles(t, dir, "*.jsonl"); !reflect.DeepEqual(names, wantNames) {
		t.Fatalf("files %v, want %v", names, wantNames)
	}

	minute := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	tests := []struct {
		name     string
		from, to time.Time
		ids      []string
		files    int
	}{
		{"All", time.Time{}, time.Time{}, []string{"k00", "k01", "k02", "k03", "k04", "k05", "k06", "k07", "k08", "late", "k09", "k10", "k11"}, 4},
		{"AcrossTwoRotations", minute(25), minute(65), []string{"k03", "k04", "k05", "k06"}, 3},
		{"InsideOneFile", minute(70), minute(80), []string{"k07"}, 1},
		{"EndIsExclusive", minute(70), minute(70), nil, 1},
		{"StartIsInclusive", minute(70), minute(71), []string{"k07"}, 1},
		{"LateRecordInNextFile", minute(85), minute(89).Add(45 * time.Second), []string{"late"}, 2},
		{"OpenStart", time.Time{}, minute(15), []string{"k00", "k01"}, 1},
		{"OpenEnd", minute(105), time.Time{}, []string{"k11"}, 1},
		{"AfterEverything", minute(200), time.Time{}, nil, 1},
		{"BeforeEverything", minute(-100), minute(-50), nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, st, err := predlog.ReadPredictions(ctx, dir, tt.from, tt.to)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range recs {
				ids = append(ids, r.ID)
			}
			if !reflect.DeepEqual(ids, tt.ids) {
				t.Errorf("ids %v, want %v", ids, tt.ids)
			}
			if st.Files != tt.files || st.Records != len(tt.ids) {
				t.Errorf("read %d files, %d records; want %d, %d", st.Files, st.Records, tt.files, len(tt.ids))
			}
		})
	}
}

// TestConcurrentLog logs from many goroutines at once (run it with
// -race); with a queue as large as the load nothing is dropped.
func TestConcurrentLog(t *testing.T) {
	const goroutines, each = 16, 500
	for _, tt := range []struct {
		name   string
		buffer int
	}{
		{"QueueFitsAll", goroutines * each},
		{"TinyQueue", 4},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			w := newWriter(t, dir, predlog.Options{Buffer: tt.buffer, MaxFileBytes: 64 << 10})
			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Go(func() {
					for i := range each {
						w.Log(flight(g*each + i))
					}
				})
			}
			wg.Wait()
			closeWriter(t, w)
			got, st := readAll(t, dir)
			seen := map[string]bool{}
			for _, r := range got {
				if seen[r.ID] {
					t.Fatalf("%s read twice", r.ID)
				}
				seen[r.ID] = true
			}
			total := uint64(goroutines * each)
			if w.Written()+w.Dropped()+w.Failed() != total || uint64(len(got)) != w.Written() || st.Skipped != 0 {
				t.Errorf("written %d + dropped %d + failed %d != %d logged, or read %d (skipped %d)",
					w.Written(), w.Dropped(), w.Failed(), total, len(got), st.Skipped)
			}
			if tt.buffer >= int(total) && w.Dropped() != 0 {
				t.Errorf("dropped %d with a queue of %d", w.Dropped(), tt.buffer)
			}
		})
	}
}

// stall is a file writer that blocks until released, and says when a
// write has started.
type stall struct {
	w       io.Writer
	entered chan struct{}
	release chan struct{}
}

func (s *stall) Write(p []byte) (int, error) {
	select {
	case s.entered <- struct{}{}:
	default:
	}
	<-s.release
	return s.w.Write(p)
}

func newStall() (*stall, func(io.Writer) io.Writer) {
	s := &stall{entered: make(chan struct{}, 1), release: make(chan struct{})}
	return s, func(w io.Writer) io.Writer { s.w = w; return s }
}

// TestStalledDiskDrops: while the disk is stuck, Log keeps returning;
// past the queue's capacity records are dropped and counted.
func TestStalledDiskDrops(t *testing.T) {
	dir := t.TempDir()
	s, wrap := newStall()
	const buffer = 4
	opts := predlog.Options{Buffer: buffer}
	predlog.SetTestHooks(&opts, wrap)
	w := newWriter(t, dir, opts)

	w.Log(flight(0))
	<-s.entered // the goroutine holds record 0, stuck in Write
	const more = 14
	for i := 1; i <= more; i++ {
		w.Log(flight(i)) // returns: this test would hang otherwise
	}
	// Records 1-4 fill the queue; 5-14 are dropped.
	if got, want := w.Dropped(), uint64(more-buffer); got != want {
		t.Errorf("dropped %d while stalled, want %d", got, want)
	}
	if w.Written() != 0 {
		t.Errorf("written %d while stalled", w.Written())
	}
	close(s.release)
	closeWriter(t, w)
	if w.Written() != 1+buffer || w.Dropped() != more-buffer {
		t.Errorf("written %d dropped %d, want %d %d", w.Written(), w.Dropped(), 1+buffer, more-buffer)
	}
	if got, _ := readAll(t, dir); len(got) != 1+buffer || got[0].ID != "req-000000" {
		t.Errorf("read %d records, want %d from req-000000", len(got), 1+buffer)
	}
}

func TestClose(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	w := newWriter(t, dir, predlog.Options{})
	if _, err := predlog.NewWriter(dir, predlog.Options{}); !errors.Is(err, predlog.ErrLocked) {
		t.Errorf("second writer on the directory: %v, want ErrLocked", err)
	}
	// A label writer is another kind and may share the directory.
	lw, err := predlog.NewLabelWriter(dir, predlog.Options{})
	if err != nil {
		t.Fatalf("label writer beside a prediction writer: %v", err)
	}
	w.Log(flight(1))
	closeWriter(t, w)
	if err := lw.Close(ctx); err != nil {
		t.Fatal(err)
	}

	w.Log(flight(2)) // must not panic
	if w.Written() != 1 || w.Dropped() != 1 {
		t.Errorf("written %d dropped %d, want 1 1", w.Written(), w.Dropped())
	}
	if err := w.Flush(ctx); !errors.Is(err, predlog.ErrClosed) {
		t.Errorf("flush after close: %v, want ErrClosed", err)
	}
	if err := w.Close(ctx); err != nil {
		t.Errorf("second close: %v", err)
	}
	// Closing released the directory.
	w2 := newWriter(t, dir, predlog.Options{})
	w2.Log(flight(3))
	closeWriter(t, w2)
	if got, _ := readAll(t, dir); len(got) != 2 {
		t.Errorf("read %d records, want 2", len(got))
	}
	if names := logFiles(t, dir, "predictions-*"); len(names) != 2 {
		t.Errorf("files %v: a reopened writer must start a new file", names)
	}
}

// TestCloseStalled: Close gives up when ctx ends; what was not written
// then counts as dropped once the disk comes back.
func TestCloseStalled(t *testing.T) {
	dir := t.TempDir()
	s, wrap := newStall()
	var opts predlog.Options
	predlog.SetTestHooks(&opts, wrap)
	w := newWriter(t, dir, opts)
	for i := range 3 {
		w.Log(flight(i))
	}
	<-s.entered
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := w.Close(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("close on a stalled disk: %v, want context.Canceled", err)
	}
	close(s.release)
	if err := w.Close(context.Background()); err != nil { // waits for the goroutine
		t.Fatal(err)
	}
	if w.Written()+w.Dropped() != 3 || w.Written() < 1 {
		t.Errorf("written %d + dropped %d, want 3 with at least the stalled one written", w.Written(), w.Dropped())
	}
	if _, err := predlog.NewWriter(dir, predlog.Options{}); err != nil {
		t.Errorf("the directory is still locked: %v", err)
	}
}

// failing is a file that fails every write while broken is set.
type failing struct {
	w      io.Writer
	broken *atomic.Bool
}

func (f failing) Write(p []byte) (int, error) {
	if f.broken.Load() {
		return 0, errors.New("no space left on device")
	}
	return f.w.Write(p)
}

// TestWriteErrors: records the disk refuses count as Failed, the writer
// waits a second, then starts a new file.
func TestWriteErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clk := newClock(t0)
	broken := new(atomic.Bool)
	broken.Store(true)
	opts := predlog.Options{Now: clk.now}
	predlog.SetTestHooks(&opts, func(w io.Writer) io.Writer { return failing{w, broken} })
	w := newWriter(t, dir, opts)
	for i := range 3 {
		w.Log(flight(i))
	}
	if err := w.Flush(ctx); err == nil {
		t.Error("flush to a full disk succeeded")
	}
	broken.Store(false)
	w.Log(flight(3)) // within the retry delay: failed without trying
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	clk.set(t0.Add(2 * time.Second)) // past the one-second retry delay
	w.Log(flight(4))
	closeWriter(t, w)
	if w.Written() != 1 || w.Failed() != 4 {
		t.Errorf("written %d failed %d, want 1 4", w.Written(), w.Failed())
	}
	got, _ := readAll(t, dir)
	if len(got) != 1 || got[0].ID != "req-000004" {
		t.Errorf("read %v, want only req-000004", got)
	}
}
