package serve_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlpipe/mlpipe/bundle"
	"github.com/mlpipe/mlpipe/internal/manifest"
	"github.com/mlpipe/mlpipe/registry"
	"github.com/mlpipe/mlpipe/serve"
	"github.com/valyala/fasthttp"
)

// The tests serve models that the real pipeline trains on the fixtures,
// built once per test binary by TestMain with the mlpipe command:
//
//   - fixtureReg: a registry with model flights-delay, trained on
//     testdata/flights-10k.yaml: v1 (production) and v2 (the same task
//     with a smaller gbdt, so its probabilities differ);
//   - penguinsDir: a bundle directory of the three-class penguins model
//     (configs/penguins.yaml), for the multiclass paths;
//   - massReg: a registry with the penguins body-mass regression
//     (configs/penguins-body-mass.yaml), for the regression paths.
var (
	fixtureReg  string
	penguinsDir string
	massReg     string
)

// massModel is the regression fixture's model.
const massModel = "penguins-body-mass"

// modelName is the fixture's model (testdata/flights-10k.yaml).
const modelName = "flights-delay"

func TestMain(m *testing.M) {
	os.Exit(func() int {
		dir, err := os.MkdirTemp("", "serve-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		if err := buildFixtures(dir); err != nil {
			fmt.Fprintln(os.Stderr, "serve tests: building the fixture models:", err)
			return 1
		}
		// The benchmarks of package serve's internals find it here.
		os.Setenv("MLSERVE_TEST_REGISTRY", fixtureReg)
		return m.Run()
	}())
}

// buildFixtures builds mlpipe and trains the fixture models into dir.
func buildFixtures(dir string) error {
	root, err := filepath.Abs("..")
	if err != nil {
		return err
	}
	bin := filepath.Join(dir, "mlpipe")
	// exitRejected is mlpipe's exit code when the promotion gate rejects
	// the candidate (cmd/mlpipe): the version is registered all the same.
	const exitRejected = 5
	run := func(name string, args ...string) error {
		cmd := exec.Command(name, args...)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == exitRejected {
			err = nil
		}
		if err != nil {
			return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out)
		}
		return nil
	}
	if err := run("go", "build", "-o", bin, "./cmd/mlpipe"); err != nil {
		return err
	}
	fixtureReg = filepath.Join(dir, "registry")
	if err := run(bin, "run", "--config", "testdata/flights-10k.yaml", "--registry", fixtureReg, "--out", "", "--log-level", "error"); err != nil {
		return err
	}
	// v2: the same task with only a small gbdt, so that its scores differ.
	cfg, err := os.ReadFile(filepath.Join(root, "testdata", "flights-10k.yaml"))
	if err != nil {
		return err
	}
	small := strings.Replace(string(cfg), "path: flights-10k.parquet", "path: "+filepath.Join(root, "testdata", "flights-10k.parquet"), 1)
	at := strings.Index(small, "\nmodels:")
	end := strings.Index(small, "\nevaluate:")
	if at < 0 || end < at {
		return fmt.Errorf("testdata/flights-10k.yaml has no models: section before evaluate:")
	}
	small = small[:at] + "\nmodels:\n  - {name: gbdt, params: {rounds: 10, max_leaves: 4}}" + small[end:]
	smallPath := filepath.Join(dir, "small.yaml")
	if err := os.WriteFile(smallPath, []byte(small), 0o644); err != nil {
		return err
	}
	if err := run(bin, "run", "--config", smallPath, "--registry", fixtureReg, "--out", "", "--log-level", "error"); err != nil {
		return err
	}
	// Whatever the gate decided, production is v1.
	store, err := registry.Open(fixtureReg)
	if err != nil {
		return err
	}
	if err := setAlias(store, "production", 1); err != nil {
		return err
	}
	penguinsDir = filepath.Join(dir, "penguins")
	if err := run(bin, "train", "--config", "configs/penguins.yaml", "--out", penguinsDir, "--log-level", "error"); err != nil {
		return err
	}
	massReg = filepath.Join(dir, "mass-registry")
	return run(bin, "run", "--config", "configs/penguins-body-mass.yaml", "--registry", massReg, "--out", "", "--log-level", "error")
}

func setAlias(store *registry.Store, alias string, v int) error {
	unlock, err := store.Lock(context.Background(), true)
	if err != nil {
		return err
	}
	defer unlock()
	return store.SetAlias(modelName, alias, v)
}

// copyRegistry copies the fixture registry into a temp dir, for a test
// that changes it.
func copyRegistry(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "registry")
	if err := os.CopyFS(dst, os.DirFS(fixtureReg)); err != nil {
		t.Fatal(err)
	}
	// CopyFS keeps the read-only modes of version files; let the temp dir
	// be removed.
	_ = filepath.WalkDir(dst, func(p string, d os.DirEntry, err error) error {
		if err == nil {
			mode := os.FileMode(0o644)
			if d.IsDir() {
				mode = 0o755
			}
			_ = os.Chmod(p, mode)
		}
		return nil
	})
	return dst
}

// newServer returns a server with the fixture registry's production
// model loaded.
func newServer(t testing.TB, opts serve.Options) *serve.Server {
	t.Helper()
	store, err := registry.Open(fixtureReg)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Registry == nil {
		opts.Registry, opts.Ref = store, modelName
	}
	s := serve.New(opts)
	if _, err := s.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// do sends one request to h and returns the response, as a recorder.
// header lists names and values to set (an empty value deletes).
func do(h fasthttp.RequestHandler, method, path, body string, header ...string) *httptest.ResponseRecorder {
	var req fasthttp.Request
	req.Header.SetMethod(method)
	req.SetRequestURI(path)
	if body != "" {
		req.SetBodyString(body)
		req.Header.SetContentType("application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	var ctx fasthttp.RequestCtx
	ctx.Init(&req, nil, nil)
	h(&ctx)
	return recorded(&ctx.Response)
}

// recorded copies a fasthttp response into a recorder.
func recorded(resp *fasthttp.Response) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	for k, v := range resp.Header.All() {
		rec.Header().Add(string(k), string(v))
	}
	rec.WriteHeader(resp.StatusCode())
	rec.Write(resp.Body())
	return rec
}

// decodeBody decodes a JSON response body, failing the test otherwise.
func decodeBody(t testing.TB, rec *httptest.ResponseRecorder, v any) {
	t.Helper()
	if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
		t.Fatalf("response %d is not JSON: %v\n%s", rec.Code, err, rec.Body.String())
	}
}

// fixtureRows returns the first n rows of testdata/flights-10k.jsonl as
// request instances (the label column, delay, removed).
func fixtureRows(t testing.TB, n int) []map[string]any {
	t.Helper()
	f, err := os.Open("../testdata/flights-10k.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() && len(rows) < n {
		var row map[string]any
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.UseNumber()
		if err := dec.Decode(&row); err != nil {
			t.Fatal(err)
		}
		delete(row, "delay")
		rows = append(rows, row)
	}
	if len(rows) != n {
		t.Fatalf("%d fixture rows, want %d", len(rows), n)
	}
	return rows
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// remanifest writes a new manifest for a bundle a test edited: a bundle
// that verifies but is wrong in another way, to reach the checks behind
// the manifest's.
func remanifest(dir string) {
	if _, _, err := manifest.WriteAll(dir, bundle.RecordFile); err != nil {
		panic(err)
	}
}
