package predlog_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mlpipe/mlpipe/predlog"
)

// TestReadCrashedFiles reads the damaged files of testdata/crashed (its
// README says what is wrong with each line).
func TestReadCrashedFiles(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join("testdata", "crashed")
	recs, st, err := predlog.ReadPredictions(ctx, dir, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range recs {
		ids = append(ids, r.ID)
	}
	if want := []string{"a1", "a2", "a5", "a6", "a8"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("ids %v, want %v", ids, want)
	}
	want := predlog.Stats{Files: 3, Lines: 8, Records: 5, Skipped: 3, Bad: 2, Truncated: 1}
	first := st.FirstBad
	st.FirstBad = nil
	if st != want {
		t.Errorf("stats %+v, want %+v", st, want)
	}
	if first == nil || first.File != filepath.Join(dir, "predictions-20261125T100000.000Z-000001.jsonl") || first.Line != 3 {
		t.Errorf("first bad line %v, want file 000001 line 3", first)
	}
	if r := recs[0]; r.Inputs["distance"] != 1250.0 || r.Version != 3 || r.Probability != 0.25 || r.Predicted != "on_time" {
		t.Errorf("a1 = %+v", r)
	}

	labels, st, err := predlog.ReadLabels(ctx, dir, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(labels) != 2 || st.Bad != 1 || st.FirstBad == nil || st.FirstBad.Line != 2 {
		t.Errorf("labels %v, stats %+v; want 2, the object label on line 2 bad", labels, st)
	}
}

// TestTruncatedAtEveryByte cuts the last line of a written file at each
// byte: the reader always returns the complete lines and counts the cut
// one, never failing.
func TestTruncatedAtEveryByte(t *testing.T) {
	src := t.TempDir()
	w := newWriter(t, src, predlog.Options{})
	for i := range 3 {
		w.Log(flight(i))
	}
	closeWriter(t, w)
	names := logFiles(t, src, "predictions-*")
	if len(names) != 1 {
		t.Fatalf("files %v", names)
	}
	data, err := os.ReadFile(filepath.Join(src, names[0]))
	if err != nil {
		t.Fatal(err)
	}
	lastStart := bytes.LastIndexByte(data[:len(data)-1], '\n') + 1
	dir := t.TempDir()
	path := filepath.Join(dir, names[0])
	for cut := lastStart + 1; cut < len(data); cut++ {
		if err := os.WriteFile(path, data[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		recs, st := readAll(t, dir)
		wantRecs, wantTrunc := 2, 1
		if cut == len(data)-1 { // only the "\n" is missing: the line is whole
			wantRecs, wantTrunc = 3, 0
		}
		if len(recs) != wantRecs || st.Truncated != wantTrunc || st.Bad != 0 || st.Skipped != wantTrunc {
			t.Fatalf("cut at %d of %d: %d records, stats %+v; want %d records, %d truncated",
				cut, len(data), len(recs), st, wantRecs, wantTrunc)
		}
	}
}

func TestReadErrors(t *testing.T) {
	ctx := context.Background()
	if _, _, err := predlog.ReadPredictions(ctx, filepath.Join(t.TempDir(), "missing"), time.Time{}, time.Time{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing dir: %v, want fs.ErrNotExist", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := predlog.ReadPredictions(cancelled, filepath.Join("testdata", "crashed"), time.Time{}, time.Time{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled read: %v, want context.Canceled", err)
	}
	// A line longer than MaxLineBytes is bad, and the next line is read.
	dir := t.TempDir()
	long := `{"id":"x","time":"2026-11-25T10:00:00Z","inputs":{"s":"` + strings.Repeat("a", predlog.MaxLineBytes) + `"}}`
	good := `{"id":"y","time":"2026-11-25T10:00:01Z","inputs":{}}`
	if err := os.WriteFile(filepath.Join(dir, "predictions-20261125T100000.000Z-000001.jsonl"), []byte(long+"\n"+good+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	recs, st := readAll(t, dir)
	if len(recs) != 1 || recs[0].ID != "y" || st.Bad != 1 || st.FirstBad.Line != 1 {
		t.Errorf("records %d, stats %+v; want y, line 1 bad", len(recs), st)
	}
}
