package predlog_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlpipe/mlpipe/internal/s3test"
	"github.com/mlpipe/mlpipe/predlog"
	"github.com/mlpipe/mlpipe/storage"
)

// backends are the places a log can be: a local directory, and a prefix
// on a real S3 server (skipped without one, unless MLPIPE_REQUIRE_S3).
func backends(t *testing.T) map[string]func(t *testing.T) string {
	return map[string]func(t *testing.T) string{
		"disk": func(t *testing.T) string { return t.TempDir() },
		"s3": func(t *testing.T) string {
			srv := s3test.Start(t)
			return srv.URL(strings.ReplaceAll(t.Name(), "/", "-") + "/predictions/m")
		},
	}
}

// TestReplicaStreams has two replicas log to one place, one the
// predictions and the other their labels, and reads them back merged:
// the labels join across replicas.
func TestReplicaStreams(t *testing.T) {
	for name, place := range backends(t) {
		t.Run(name, func(t *testing.T) {
			dir := place(t)
			ctx := context.Background()
			clk := newClock(t0)
			opts := func(replica string) predlog.Options {
				return predlog.Options{Replica: replica, Now: clk.now, MaxFileBytes: 2000}
			}
			a := newWriter(t, dir, opts("a"))
			b := newWriter(t, dir, opts("b"))
			lb, err := predlog.NewLabelWriter(dir, opts("b"))
			if err != nil {
				t.Fatal(err)
			}
			const n = 40
			for i := range n {
				r := flight(i)
				r.Time = t0.Add(time.Duration(i) * time.Second)
				clk.set(r.Time)
				if i%2 == 0 {
					a.Log(r)
				} else {
					b.Log(r)
				}
				if err := a.Flush(ctx); err != nil { // one record at a time, so that files rotate
					t.Fatal(err)
				}
				if err := b.Flush(ctx); err != nil {
					t.Fatal(err)
				}
				// Replica b gets the labels of a's predictions.
				if i%2 == 0 {
					lb.Log(predlog.Label{ID: r.ID, Time: r.Time.Add(time.Hour), Label: i%4 == 0})
				}
			}
			if name == "s3" {
				// Before Close only rotated files are visible, each whole.
				got, st, err := predlog.ReadPredictions(ctx, dir, time.Time{}, time.Time{})
				if err != nil {
					t.Fatal(err)
				}
				if len(got) == 0 || len(got) >= n || st.Skipped != 0 {
					t.Errorf("before Close: %d records (%+v); want some, not all, none cut", len(got), st)
				}
			}
			closeWriter(t, a)
			closeWriter(t, b)
			if err := lb.Close(ctx); err != nil {
				t.Fatal(err)
			}
			recs, st := readAll(t, dir)
			if len(recs) != n || st.Skipped != 0 {
				t.Fatalf("read %d records (%+v), want %d", len(recs), st, n)
			}
			for i, r := range recs {
				if want := fmt.Sprintf("req-%06d", i); r.ID != want {
					t.Fatalf("record %d is %s, want %s (merged by time)", i, r.ID, want)
				}
			}
			labels, _, err := predlog.ReadLabels(ctx, dir, time.Time{}, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			joined, labeled := predlog.Join(recs, labels), 0
			for _, j := range joined {
				if j.Labeled {
					labeled++
					var i int
					fmt.Sscanf(j.ID, "req-%d", &i)
					if j.Label != (i%4 == 0) {
						t.Errorf("%s: label %v", j.ID, j.Label)
					}
				}
			}
			if labeled != n/2 {
				t.Errorf("%d predictions labeled, want %d", labeled, n/2)
			}
			// A window selects per stream.
			win, _, err := predlog.ReadPredictions(ctx, dir, t0.Add(10*time.Second), t0.Add(20*time.Second))
			if err != nil || len(win) != 10 {
				t.Errorf("window: %d records, %v; want 10", len(win), err)
			}
		})
	}
}

// TestRemoteCrash checks what a crash costs on object storage: the file
// being written is not uploaded (no half file is visible), and a writer
// restarted on the same spool directory uploads what the crash left,
// a cut last line included (which the reader skips and counts).
func TestRemoteCrash(t *testing.T) {
	srv := s3test.Start(t)
	url := srv.URL("crash/predictions/m")
	spool := t.TempDir()
	ctx := context.Background()
	// What a crashed writer leaves: a file whose last line was cut.
	good, _ := predlog.RecordEncoder()(nil, ptr(withTime(flight(1), t0)))
	left := filepath.Join(spool, "predictions-20261125T100000.000Z-000001.jsonl")
	if err := os.WriteFile(left, append(good, `{"id":"req-0000`...), 0o644); err != nil {
		t.Fatal(err)
	}
	w := newWriter(t, url, predlog.Options{Replica: "r1", Spool: spool})
	w.Log(withTime(flight(2), t0.Add(time.Second)))
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// Flushed to the spool, not visible yet.
	b, err := storage.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := b.List(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if !strings.HasSuffix(o.Key, filepath.Base(left)) {
			t.Errorf("before Close, %s is visible; want only the leftover", o.Key)
		}
	}
	closeWriter(t, w)
	recs, st := readAll(t, url)
	if len(recs) != 2 || st.Truncated != 1 {
		t.Errorf("read %d records, %d truncated; want 2 and 1", len(recs), st.Truncated)
	}
	if rest, _ := filepath.Glob(filepath.Join(spool, "*.jsonl")); len(rest) != 0 {
		t.Errorf("uploaded files left in the spool: %v", rest)
	}
}

func TestReplicaID(t *testing.T) {
	for _, id := range []string{"../x", "a/b", ".hidden", strings.Repeat("x", 65)} {
		if _, err := predlog.NewWriter(t.TempDir(), predlog.Options{Replica: id}); !errors.Is(err, predlog.ErrReplica) {
			t.Errorf("replica %q: %v, want ErrReplica", id, err)
		}
	}
	if id := predlog.DefaultReplica(); predlog.CheckReplica(id) != nil {
		t.Errorf("DefaultReplica() = %q is not valid", id)
	}
}

func withTime(r predlog.Record, at time.Time) predlog.Record { r.Time = at; return r }

func ptr[T any](v T) *T { return &v }

// TestUploadErrorNoSecret makes uploads fail (the bucket does not
// exist) with credentials in the environment, and checks that neither
// the log lines nor Close's error carry them.
func TestUploadErrorNoSecret(t *testing.T) {
	s3test.Start(t)
	const keyID, secret = "AKIAEXAMPLEKEYID0042", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLESECRET"
	t.Setenv("AWS_ACCESS_KEY_ID", keyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	t.Setenv("AWS_SESSION_TOKEN", "session-token-secret-0042")
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	w := newWriter(t, "s3://no-such-bucket-0042/predictions/m", predlog.Options{Replica: "r1", Log: log, Spool: t.TempDir()})
	w.Log(withTime(flight(1), t0))
	err := w.Close(context.Background())
	if err == nil {
		t.Fatal("Close: nil error; want the failed upload")
	}
	if !strings.Contains(logs.String(), "upload failed") {
		t.Errorf("no upload error logged:\n%s", logs.String())
	}
	for _, s := range []string{keyID, secret, "session-token-secret-0042"} {
		if strings.Contains(err.Error(), s) || strings.Contains(logs.String(), s) {
			t.Errorf("a credential reached the error or the log:\n%v\n%s", err, logs.String())
		}
	}
	// What could not be uploaded stays in the spool, named by the error.
	if !strings.Contains(err.Error(), "not uploaded, left in") {
		t.Errorf("Close's error does not say where the records are: %v", err)
	}
}
