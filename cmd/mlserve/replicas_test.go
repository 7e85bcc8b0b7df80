package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlpipe/mlpipe/internal/s3test"
	"github.com/mlpipe/mlpipe/storage"
)

// TestReplicas runs the production shape on loopback: three mlserve
// processes on one registry on a real S3 server (SeaweedFS), each with
// its own local cache (a pod of its own) and its own prediction-log
// stream, behind a client that fails over as a load balancer would.
//
// Under a bounded load (a few workers for a few seconds):
//   - version 2 is promoted; every replica answers with it within the
//     poll interval plus the model's load, and not one request fails;
//   - replica r3 is killed (SIGKILL); the others keep answering.
//
// How requests are counted: each request goes to the next replica in
// turn; a transport error from a replica (refused, reset: the killed
// one) marks it down and the same request goes to the next live
// replica, as a load balancer's retry would. Such a retry is counted as
// a failover, not a failure. A request fails when it gets a non-200
// answer from any replica, or no replica answers it.
//
// Then the labels of every answered prediction are posted to a replica
// other than the one that answered it, r1 and r2 drain (SIGINT, which
// uploads their last log files), and `mlpipe monitor` reads the three
// streams together: every prediction of r1 and r2 is there and joined
// with its label logged by the other replica; of r3's only what it had
// uploaded before it was killed (files rotate every second here).
func TestReplicas(t *testing.T) {
	mlpipe, mlserve := binaries(t)
	srv := s3test.Start(t)
	reg := srv.URL("replicas/registry")
	t.Setenv("MLPIPE_CACHE_DIR", t.TempDir())
	fixtureRegistryAt(t, mlpipe, reg)

	const poll = 500 * time.Millisecond
	names := []string{"r1", "r2", "r3"}
	procs := make([]*proc, len(names))
	for i, name := range names {
		t.Setenv("MLPIPE_CACHE_DIR", t.TempDir()) // read by the process at its start
		procs[i] = start(t, mlserve, "--registry", reg, "--model", "flights-delay",
			"--poll", poll.String(), "--replica", name, "--log-rotate", "1s", "--log-level", "warn")
	}

	type answer struct {
		id      string
		replica int
	}
	var (
		mu        sync.Mutex
		answers   []answer
		firstV2   = make([]time.Time, len(names)) // when each replica first answered with version 2
		v1After   = make([]int, len(names))       // version 1 answers to requests sent after a replica's first version 2 arrived
		served    = make([]atomic.Int64, len(names))
		down      = make([]atomic.Bool, len(names))
		sent      atomic.Int64
		failed    atomic.Int64
		failovers atomic.Int64
		afterKill atomic.Int64 // answers by r1 and r2 once r3 was killed
		killed    atomic.Bool
		firstErr  atomic.Value
		next      atomic.Int64
	)
	client := &http.Client{Timeout: 10 * time.Second}
	// send sends one request as a load balancer would: to the next live
	// replica, failing over on a transport error.
	send := func(id, body string) {
		sent.Add(1)
		for range 2 * len(names) {
			r := int(next.Add(1) % int64(len(names)))
			if down[r].Load() {
				continue
			}
			req, _ := http.NewRequest(http.MethodPost, "http://"+procs[r].addr+"/v1/models/flights-delay/predict", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Request-Id", id)
			at := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				down[r].Store(true)
				failovers.Add(1)
				continue
			}
			var p prediction
			err = json.NewDecoder(resp.Body).Decode(&p)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, fmt.Sprintf("%s: status %d, %v", names[r], resp.StatusCode, err))
				return
			}
			served[r].Add(1)
			if killed.Load() {
				afterKill.Add(1)
			}
			mu.Lock()
			answers = append(answers, answer{id, r})
			switch {
			case p.Version == 2 && firstV2[r].IsZero():
				firstV2[r] = time.Now()
			case p.Version == 1 && !firstV2[r].IsZero() && at.After(firstV2[r]):
				// Sent once the replica had answered with version 2: a
				// request already in flight then may still finish on
				// version 1, and is not counted.
				v1After[r]++
			}
			mu.Unlock()
			return
		}
		failed.Add(1)
		firstErr.CompareAndSwap(nil, "no replica answered")
	}

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	const workers = 4
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				send(fmt.Sprintf("w%d-%d", w, i), flights[(w+i)%len(flights)])
			}
		}()
	}
	// The load's bounds: it stops at 30 s whatever happens below.
	guard := time.AfterFunc(30*time.Second, stop)
	defer guard.Stop()

	time.Sleep(time.Second)
	promote := exec.Command(mlpipe, "models", "promote", "flights-delay@2", "--registry", reg)
	if out, err := promote.CombinedOutput(); err != nil {
		stop()
		wg.Wait()
		t.Fatalf("promote: %v\n%s", err, out)
	}
	promoted := time.Now()
	// Every replica answers with version 2.
	for deadline := promoted.Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		mu.Lock()
		all := !firstV2[0].IsZero() && !firstV2[1].IsZero() && !firstV2[2].IsZero()
		mu.Unlock()
		if all {
			break
		}
		if time.Now().After(deadline) {
			stop()
			wg.Wait()
			t.Fatalf("not every replica answered with version 2 within 10 s: %v", firstV2)
		}
	}
	// Replica r3 dies mid-load; the load goes on for another 1.5 s.
	time.Sleep(500 * time.Millisecond)
	if err := procs[2].cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed.Store(true)
	time.Sleep(1500 * time.Millisecond)
	stop()
	wg.Wait()

	if n := failed.Load(); n != 0 {
		t.Errorf("%d of %d requests failed; first: %v", n, sent.Load(), firstErr.Load())
	}
	if afterKill.Load() == 0 {
		t.Errorf("no answers from r1 and r2 after r3 was killed")
	}
	var lags []string
	for r := range names {
		lag := firstV2[r].Sub(promoted)
		lags = append(lags, fmt.Sprintf("%s %v", names[r], lag.Round(time.Millisecond)))
		// A replica notices within one poll; loading the new version
		// (downloaded from S3 into its cache, on two cores shared with
		// the load, the server and two other replicas) takes the rest:
		// 0.06 to 1.6 s here.
		if lag > poll+3*time.Second {
			t.Errorf("%s answered with version 2 %v after the promotion; want within the poll interval (%v) and the load", names[r], lag, poll)
		}
		if v1After[r] > 0 {
			t.Errorf("%s answered with version 1 %d times after version 2", names[r], v1After[r])
		}
	}
	t.Logf("%d requests (%d workers), 0 failed, %d failovers; served r1 %d, r2 %d, r3 %d; %d by r1 and r2 after r3 was killed; version 2 after the promotion: %s",
		sent.Load(), workers, failovers.Load(), served[0].Load(), served[1].Load(), served[2].Load(), afterKill.Load(), strings.Join(lags, ", "))

	// Labels: each prediction's goes to another live replica.
	var byOther [2][]map[string]any
	for _, a := range answers {
		other := (a.replica + 1) % 2 // r1's to r2, r2's and r3's to r1
		if a.replica == 0 {
			other = 1
		}
		byOther[other] = append(byOther[other], map[string]any{"id": a.id, "label": len(a.id)%2 == 0})
	}
	for r, labels := range byOther {
		for lo := 0; lo < len(labels); lo += 500 {
			b, _ := json.Marshal(map[string]any{"labels": labels[lo:min(lo+500, len(labels))]})
			resp, err := client.Post("http://"+procs[r].addr+"/v1/models/flights-delay/labels", "application/json", bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode/100 != 2 {
				t.Fatalf("labels to %s: status %d", names[r], resp.StatusCode)
			}
		}
	}
	for _, p := range procs[:2] {
		_ = p.cmd.Process.Signal(os.Interrupt) // drain: the last files are uploaded
		if err := p.cmd.Wait(); err != nil {
			t.Fatalf("mlserve exit: %v\n%s", err, p.logs.String())
		}
	}

	// Three streams, one per replica.
	b, err := storage.Open(reg + "/predictions/flights-delay")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := b.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	streams := map[string]int{}
	for _, o := range objs {
		streams[filepath.Dir(o.Key)]++
	}
	for _, name := range names {
		if streams[name] == 0 {
			t.Errorf("no log files from %s; streams: %v", name, streams)
		}
	}

	out, err := exec.Command(mlpipe, "monitor", "--registry", reg, "--model", "flights-delay",
		"--from", time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), "--to", time.Now().Add(time.Hour).UTC().Format(time.RFC3339), "--json").Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() != 6 { // 6: retrain recommended, also a report
		t.Fatalf("monitor: %v\n%s%s", err, out, ee.Stderr)
	} else if err != nil && ee == nil {
		t.Fatal(err)
	}
	var rep struct {
		Predictions int `json:"predictions"`
		Performance *struct {
			Labelled      int `json:"labelled"`
			OtherVersions int `json:"other_versions"` // labelled, of version 1
			BadLabels     int `json:"bad_labels"`
		} `json:"performance"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("monitor --json: %v\n%s", err, out)
	}
	live := int(served[0].Load() + served[1].Load())
	total := live + int(served[2].Load())
	if rep.Predictions < live || rep.Predictions > total {
		t.Errorf("monitor read %d predictions; want every one of r1 and r2 (%d) and at most r3's %d more", rep.Predictions, live, total-live)
	}
	if rep.Performance == nil {
		t.Fatalf("monitor joined no labels")
	}
	// The performance scores version 2's; version 1's count apart.
	joined := rep.Performance.Labelled + rep.Performance.OtherVersions
	if joined < live || joined > rep.Predictions || rep.Performance.BadLabels != 0 {
		t.Errorf("monitor joined %+v labels; want at least r1's and r2's %d (logged by the other replica), none bad", *rep.Performance, live)
	}
	t.Logf("monitor: %d predictions of %d answered (r3's last %d not uploaded when it was killed), %d joined with a label logged by another replica (%d of version 2); streams %v",
		rep.Predictions, total, total-rep.Predictions, joined, rep.Performance.Labelled, streams)
}

// fixtureRegistryAt trains the fixture twice into the registry at reg (a
// directory or an s3:// URL), as fixtureRegistry does: version 1 in
// production, version 2 beside it.
func fixtureRegistryAt(t testing.TB, mlpipe, reg string) {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "fixture.yaml")
	b, err := os.ReadFile("../../testdata/flights-10k.yaml")
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs("../../testdata/flights-10k.parquet")
	src := strings.Replace(string(b), "path: flights-10k.parquet", "path: "+abs, 1)
	if err := os.WriteFile(cfg, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	for i, models := range []string{"logreg", "gbdt"} {
		cmd := exec.Command(mlpipe, "run", "--config", cfg, "--registry", reg, "--out", "", "--models", models, "--log-level", "warn")
		if out, err := cmd.CombinedOutput(); err != nil && !strings.Contains(string(out), "REJECTED") {
			t.Fatalf("run %d: %v\n%s", i+1, err, out)
		}
	}
}

// BenchmarkStartS3 measures mlserve's start-up, from the process's start
// to its first 200 on /readyz, on a registry on the local disk and on a
// SeaweedFS server on loopback, each start with an empty cache (a new
// replica: on S3 it resolves the alias, downloads the version and
// verifies it). scripts/bench/s3.sh reports the ratio.
func BenchmarkStartS3(b *testing.B) {
	mlpipe, mlserve := binaries(b)
	srv := s3test.Start(b)
	b.Setenv("MLPIPE_CACHE_DIR", b.TempDir())
	regs := map[string]string{"disk": b.TempDir(), "s3": srv.URL("bench-start/registry")}
	for _, reg := range regs {
		fixtureRegistryAt(b, mlpipe, reg)
	}
	client := &http.Client{Timeout: time.Second}
	for _, where := range []string{"disk", "s3"} {
		b.Run(where, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					b.Fatal(err)
				}
				addr := ln.Addr().String()
				ln.Close()
				cmd := exec.Command(mlserve, "--registry", regs[where], "--model", "flights-delay", "--addr", addr, "--no-log", "--log-level", "warn")
				cmd.Env = append(os.Environ(), "MLPIPE_CACHE_DIR="+b.TempDir())
				var logs bytes.Buffer
				cmd.Stdout, cmd.Stderr = &logs, &logs
				b.StartTimer()
				if err := cmd.Start(); err != nil {
					b.Fatal(err)
				}
				for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(2 * time.Millisecond) {
					if resp, err := client.Get("http://" + addr + "/readyz"); err == nil {
						resp.Body.Close()
						if resp.StatusCode == http.StatusOK {
							break
						}
					}
					if time.Now().After(deadline) {
						cmd.Process.Kill()
						cmd.Wait()
						b.Fatalf("mlserve never became ready:\n%s", logs.String())
					}
				}
				b.StopTimer()
				cmd.Process.Kill()
				cmd.Wait()
				b.StartTimer()
			}
		})
	}
}

// TestReplicaFlag: a replica id that cannot be a path element is a
// usage error (exit 2), said before anything starts.
func TestReplicaFlag(t *testing.T) {
	var stderr bytes.Buffer
	code := execute(context.Background(), []string{"--addr", "127.0.0.1:0", "--registry", fixtureReg, "--model", model,
		"--log-dir", t.TempDir(), "--replica", "../r1"}, io.Discard, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), "--replica") || !strings.Contains(stderr.String(), "invalid replica id") {
		t.Errorf("exit %d, stderr %q; want 2 and the flag named", code, stderr.String())
	}
}
