package serve_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/registry"
	"github.com/mlpipe/mlpipe/serve"
)

// metricValue reads one sample of the server's /metrics.
func metricValue(t *testing.T, base, sample string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), sample+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	t.Fatalf("/metrics has no %s", sample)
	return 0
}

// waitFor polls cond every 10ms for up to 10s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// addBundle copies version 1 of the fixture model into version v of the
// registry at reg, and lets edit change its files first.
func addBundle(t *testing.T, reg string, v int, edit func(dir string)) {
	t.Helper()
	src := filepath.Join(reg, "models", modelName, "v1")
	tmp := filepath.Join(reg, "models", modelName, ".tmp-test")
	if err := os.CopyFS(tmp, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	_ = filepath.WalkDir(tmp, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			_ = os.Chmod(p, 0o644)
		}
		return nil
	})
	edit(tmp)
	if err := os.Rename(tmp, filepath.Join(reg, "models", modelName, "v"+strconv.Itoa(v))); err != nil {
		t.Fatal(err)
	}
}

// TestReload moves the production alias of a registry while clients send
// requests: not one request fails, each response carries the version
// that scored it (its probability is that version's), and once the swap
// is seen no client sees the old version again. Two bad bundles (one
// that does not load, one whose signature example scores otherwise) are
// refused and counted, and the good model keeps serving.
func TestReload(t *testing.T) {
	reg := copyRegistry(t)
	store, err := registry.Open(reg)
	if err != nil {
		t.Fatal(err)
	}
	s := serve.New(serve.Options{Registry: store, Ref: modelName, PollInterval: 10 * time.Millisecond, AdminOpen: true})
	if _, err := s.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- s.Run(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-runErr; err != nil {
			t.Error(err)
		}
	}()
	base := "http://" + ln.Addr().String()

	// The expected probability of the test row under each version.
	var row map[string]any
	if err := json.Unmarshal([]byte(good), &row); err != nil {
		t.Fatal(err)
	}
	want := map[int]float64{}
	for _, v := range []int{1, 2} {
		b := loadBundle(t, v)
		x, err := b.Features.TransformRow(features.Row(row), nil)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]float64, 1)
		b.Model.PredictRow(x, out)
		want[v] = out[0]
	}
	if want[1] == want[2] {
		t.Fatal("v1 and v2 score the test row alike; the test could not tell them apart")
	}

	// Clients: each sends requests one after another and records what it
	// saw.
	var (
		mu       sync.Mutex
		failures []string
		latest   int
		counts   = map[int]int{}
		stop     = make(chan struct{})
		wg       sync.WaitGroup
	)
	client := &http.Client{Timeout: 10 * time.Second}
	for c := range 4 { // more clients than the machine's 2 cores, so requests overlap the swap
		wg.Go(func() {
			seen := 0
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				path, body := predictPath, good
				if (c+k)%2 == 1 { // half of the requests go through OIP
					path, body = inferPath, oipWith("", "", "")
				}
				resp, err := client.Post(base+path, "application/json", strings.NewReader(body))
				if err != nil {
					mu.Lock()
					failures = append(failures, err.Error())
					mu.Unlock()
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				v, p, err := parseAnswer(path, b)
				mu.Lock()
				switch {
				case resp.StatusCode != 200 || err != nil:
					failures = append(failures, fmt.Sprintf("%d %s %v", resp.StatusCode, b, err))
				case math.Float64bits(p) != math.Float64bits(want[v]):
					failures = append(failures, fmt.Sprintf("version %d answered %v, which is not its score %v", v, p, want[v]))
				case v < seen:
					failures = append(failures, fmt.Sprintf("client %d saw version %d after %d", c, v, seen))
				}
				seen = max(seen, v)
				counts[v]++
				latest = v
				mu.Unlock()
			}
		})
	}
	versionSeen := func(v int) func() bool {
		return func() bool { mu.Lock(); defer mu.Unlock(); return counts[v] > 20 && latest == v }
	}
	waitFor(t, "requests on v1", versionSeen(1))

	// Promote v2.
	if err := setAlias(store, "production", 2); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "requests on v2", versionSeen(2))

	// A bundle whose model file is damaged, then one whose recorded
	// example output is not what it scores.
	addBundle(t, reg, 3, func(dir string) {
		if err := os.WriteFile(filepath.Join(dir, "model.json"), []byte(`{"format":"mlpipe-model","version":1,"kind":"gbdt","model":{"trees":`), 0o644); err != nil {
			t.Fatal(err)
		}
	})
	addBundle(t, reg, 4, func(dir string) {
		p := filepath.Join(dir, "signature.json")
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var sig map[string]any
		if err := json.Unmarshal(b, &sig); err != nil {
			t.Fatal(err)
		}
		sig["example_output"] = []float64{0.123} // not what the model gives
		if err := os.WriteFile(p, []byte(mustJSON(t, sig)), 0o644); err != nil {
			t.Fatal(err)
		}
		remanifest(dir) // a bundle that verifies, but scores otherwise
	})
	failuresMetric := `mlserve_model_reloads_total{result="failure"}`
	for k, v := range []int{3, 4} {
		if err := setAlias(store, "production", v); err != nil {
			t.Fatal(err)
		}
		waitFor(t, fmt.Sprintf("v%d refused", v), func() bool { return metricValue(t, base, failuresMetric) == float64(k+1) })
	}
	// Polling does not retry a refused version; /admin/reload does, and
	// says why it refuses.
	time.Sleep(50 * time.Millisecond) // five poll intervals
	if got := metricValue(t, base, failuresMetric); got != 2 {
		t.Errorf("polling retried a refused bundle: %v failures", got)
	}
	resp, err := http.Post(base+"/admin/reload", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 500 || !strings.Contains(string(b), "bundle refused") || !strings.Contains(string(b), "signature example scores") {
		t.Errorf("admin reload of a bad bundle: %d %s", resp.StatusCode, b)
	}
	// Still v2, and the clients kept going.
	mu.Lock()
	before := counts[2]
	mu.Unlock()
	waitFor(t, "more requests on v2", func() bool { mu.Lock(); defer mu.Unlock(); return counts[2] > before+20 && latest == 2 })
	if got := metricValue(t, base, `mlserve_model_reloads_total{result="success"}`); got != 1 {
		t.Errorf("%v successful reloads, want 1", got)
	}

	close(stop)
	wg.Wait()
	if len(failures) > 0 {
		t.Errorf("%d failed requests, e.g. %s", len(failures), failures[0])
	}
	t.Logf("requests by version: %v", counts)
}

// parseAnswer returns the version and the probability of a one-row
// response of either API.
func parseAnswer(path string, b []byte) (int, float64, error) {
	if path == predictPath {
		var r nativeResponse
		if err := json.Unmarshal(b, &r); err != nil || r.Probability == nil {
			return 0, 0, fmt.Errorf("bad answer %s: %v", b, err)
		}
		return r.Version, *r.Probability, nil
	}
	var r oipResponse
	if err := json.Unmarshal(b, &r); err != nil || len(r.Outputs) == 0 || len(r.Outputs[0].Data) != 1 {
		return 0, 0, fmt.Errorf("bad answer %s: %v", b, err)
	}
	v, err := strconv.Atoi(r.ModelVersion)
	if err != nil {
		return 0, 0, err
	}
	p, _ := r.Outputs[0].Data[0].(float64)
	return v, p, nil
}

// TestLoadModelErrors checks that LoadModel refuses bad bundles with
// ErrBundle.
func TestLoadModelErrors(t *testing.T) {
	reg := copyRegistry(t)
	v1 := filepath.Join(reg, "models", modelName, "v1")
	tests := []struct {
		name string
		edit func(dir string)
		want string
	}{
		// "ORD" becomes "ORE" in features.json: one bit, caught by the
		// manifest (the example), so the tests below write a new
		// manifest after their edit, to reach the checks behind it.
		{"ErrOneBit", func(dir string) {
			p := filepath.Join(dir, "features.json")
			b, _ := os.ReadFile(p)
			os.WriteFile(p, []byte(strings.Replace(string(b), `"ORD"`, `"ORE"`, 1)), 0o644)
		}, "features.json has sha256"},
		{"ErrNoSignature", func(dir string) { os.Remove(filepath.Join(dir, "signature.json")); remanifest(dir) }, "no signature.json"},
		{"ErrNotBundle", func(dir string) { os.Remove(filepath.Join(dir, "training.json")); remanifest(dir) }, "not a model bundle"},
		{"ErrProfile", func(dir string) {
			os.WriteFile(filepath.Join(dir, "profile.json"), []byte("{"), 0o644)
			remanifest(dir)
		}, "profile.json"},
		{"ErrClasses", func(dir string) {
			p := filepath.Join(dir, "training.json")
			b, _ := os.ReadFile(p)
			os.WriteFile(p, []byte(strings.Replace(string(b), `"classes": [`, `"classes": ["x", `, 1)), 0o644)
			remanifest(dir)
		}, "2 class names"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "v1")
			if err := os.CopyFS(dir, os.DirFS(v1)); err != nil {
				t.Fatal(err)
			}
			tt.edit(dir)
			_, err := serve.LoadModel(dir, 1)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), serve.ErrBundle.Error()) {
				t.Errorf("err = %v, want ErrBundle and %q", err, tt.want)
			}
		})
	}
}
