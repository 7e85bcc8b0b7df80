package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlpipe/mlpipe/registry"
)

// The end-to-end tests drive run, the whole binary without the process,
// on 127.0.0.1:0, against a registry that TestMain trains from the
// fixture config (testdata/flights-10k.yaml) with the mlpipe command.
var fixtureReg string

const model = "flights-delay" // the fixture config's model name

func TestMain(m *testing.M) {
	os.Exit(func() int {
		dir, err := os.MkdirTemp("", "mlserve-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		root, _ := filepath.Abs("../..")
		bin := filepath.Join(dir, "mlpipe")
		fixtureReg = filepath.Join(dir, "registry")
		for _, args := range [][]string{
			{"go", "build", "-o", bin, "./cmd/mlpipe"},
			{bin, "run", "--config", "testdata/flights-10k.yaml", "--registry", fixtureReg, "--out", "", "--log-level", "error"},
		} {
			cmd := exec.Command(args[0], args[1:]...)
			cmd.Dir = root
			if out, err := cmd.CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n%s", strings.Join(args, " "), err, out)
				return 1
			}
		}
		return m.Run()
	}())
}

// server runs mlserve with args until the test ends, and returns its
// base URL and a function that stops it and returns run's error.
func server(t *testing.T, args ...string) (string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	var stderr syncBuffer
	go func() {
		done <- run(ctx, append([]string{"--addr", "127.0.0.1:0", "--log-format", "json"}, args...), io.Discard, &stderr, ready)
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("run: %v\n%s", err, stderr.String())
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("mlserve did not start")
	}
	var once sync.Once
	var err error
	stop := func() error {
		once.Do(func() {
			cancel()
			err = <-done
		})
		return err
	}
	t.Cleanup(func() { stop() })
	return "http://" + addr, stop
}

// syncBuffer is a bytes.Buffer safe for the server's and the test's
// goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const instance = `{"date":"2001-06-15T08:30:00","distance":1250,"origin":"ATL","destination":"LAX"}`

// predict posts one instance and returns the status and the version that
// answered.
func predict(t *testing.T, base string) (int, int) {
	t.Helper()
	resp, err := http.Post(base+"/v1/models/"+model+"/predict", "application/json", strings.NewReader(instance))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Version     int      `json:"version"`
		Probability *float64 `json:"probability"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode == 200 && r.Probability == nil {
		t.Errorf("200 without a probability")
	}
	return resp.StatusCode, r.Version
}

// TestRunRegistry serves the fixture registry's production model, then
// promotes a new version and waits for the server to swap it in.
func TestRunRegistry(t *testing.T) {
	reg := filepath.Join(t.TempDir(), "registry")
	if err := os.CopyFS(reg, os.DirFS(fixtureReg)); err != nil {
		t.Fatal(err)
	}
	base, stop := server(t, "--registry", reg, "--model", model, "--poll", "20ms")
	for _, p := range []string{"/healthz", "/readyz", "/v2/health/ready", "/openapi.json", "/metrics", "/v2/models/" + model} {
		resp, err := http.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %d", p, resp.StatusCode)
		}
	}
	if code, v := predict(t, base); code != 200 || v != 1 {
		t.Fatalf("predict: %d, version %d", code, v)
	}

	// Register v2 (a copy of v1) and promote it, as `mlpipe models
	// promote` does.
	v1 := filepath.Join(reg, "models", model, "v1")
	if err := os.CopyFS(filepath.Join(reg, "models", model, "v2"), os.DirFS(v1)); err != nil {
		t.Fatal(err)
	}
	store, err := registry.Open(reg)
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := store.Lock(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	err = store.SetAlias(model, "production", 2)
	unlock()
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, v := predict(t, base)
		if code != 200 {
			t.Fatalf("predict during the swap: %d", code)
		}
		if v == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the server did not pick up version 2")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := stop(); err != nil {
		t.Errorf("run: %v", err)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("the server answers after it stopped")
	}
}

// TestRunBundle serves a bundle directory; its version comes from the
// directory's name.
func TestRunBundle(t *testing.T) {
	base, _ := server(t, "--bundle", filepath.Join(fixtureReg, "models", model, "v1"))
	if code, v := predict(t, base); code != 200 || v != 1 {
		t.Fatalf("predict: %d, version %d", code, v)
	}
	// Nothing to reload, and admin is open on loopback.
	resp, err := http.Post(base+"/admin/reload", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("admin reload: %d", resp.StatusCode)
	}
}

// TestAdminToken checks that the environment variable sets the token.
func TestAdminToken(t *testing.T) {
	t.Setenv(adminTokenEnv, "t0ken")
	base, _ := server(t, "--registry", fixtureReg, "--model", model+"@production")
	for _, tt := range []struct {
		auth string
		code int
	}{{"", 401}, {"Bearer nope", 401}, {"Bearer t0ken", 200}} {
		req, _ := http.NewRequest("POST", base+"/admin/reload", nil)
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.code {
			t.Errorf("Authorization %q: %d, want %d", tt.auth, resp.StatusCode, tt.code)
		}
	}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // in the error
	}{
		{"ErrNoSource", nil, "--registry DIR with --model REF, or --bundle DIR"},
		{"ErrBoth", []string{"--registry", "r", "--model", "m", "--bundle", "b"}, "or --bundle"},
		{"ErrNoModel", []string{"--registry", "r"}, "--model is required"},
		{"ErrModelWithBundle", []string{"--bundle", "b", "--model", "m"}, "--model applies to --registry"},
		{"ErrFlag", []string{"--nope"}, "unknown flag --nope (see mlserve --help)"},
		{"ErrFlagTypo", []string{"--regsitry", "r"}, "unknown flag --regsitry (did you mean --registry? see mlserve --help)"},
		{"ErrFlagValue", []string{"--poll", "often"}, `--poll: invalid value "often": parse error (see mlserve --help)`},
		{"ErrArg", []string{"--bundle", "b", "extra"}, `unexpected argument "extra"`},
		{"ErrLimit", []string{"--bundle", "b", "--max-batch", "0"}, "must be positive"},
		{"ErrPoll", []string{"--registry", "r", "--model", "m", "--poll", "-1s"}, "--poll"},
		{"ErrLogFormat", []string{"--bundle", "b", "--log-format", "xml"}, "--log-format"},
		{"ErrLogLevel", []string{"--bundle", "b", "--log-level", "loud"}, "--log-level"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(context.Background(), tt.args, io.Discard, io.Discard, nil)
			var ue *usageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want a usage error with %q", err, tt.want)
			}
		})
	}
}

// TestHelp checks that --help, on stdout, documents every flag, and
// that each flag's argument is named by its type: package flag takes a
// back-quoted word in a flag's usage for the argument's name
// ("-log-dir mlpipe monitor").
func TestHelp(t *testing.T) {
	var stderr bytes.Buffer
	if err := run(context.Background(), []string{"--help"}, &stderr, io.Discard, nil); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err = %v", err)
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if f := strings.Fields(line); strings.HasPrefix(line, "  -") && len(f) > 1 && !slices.Contains([]string{"string", "int", "int64", "duration", "value"}, f[1]) {
			t.Errorf("--help names an argument %q: %s", f[1], line)
		}
	}
	for _, f := range []string{"addr", "registry", "model", "bundle", "poll", "admin-token", "max-body", "max-batch", "max-inflight", "max-explain",
		"read-header-timeout", "read-timeout", "write-timeout", "idle-timeout", "shutdown-timeout", "log-format", "log-level", "version"} {
		if !strings.Contains(stderr.String(), "-"+f+" ") && !strings.Contains(stderr.String(), "-"+f+"\n") {
			t.Errorf("--help does not document -%s", f)
		}
	}
	if !strings.Contains(stderr.String(), adminTokenEnv) {
		t.Errorf("--help does not mention %s", adminTokenEnv)
	}
}

// TestStartErrors checks that a model that cannot be loaded stops the
// start (exit 1, not a usage error), and that a wrong model name is said
// once, with the models there are.
func TestStartErrors(t *testing.T) {
	var stderr bytes.Buffer
	code := execute(context.Background(), []string{"--addr", "127.0.0.1:0", "--registry", fixtureReg, "--model", "flights-dealy@production"}, io.Discard, &stderr)
	want := "mlserve: model flights-dealy@production: not found in " + fixtureReg + " (did you mean " + model + "? models: " + model + ")\n"
	if code != 1 || stderr.String() != want {
		t.Errorf("exit %d, stderr\n%s\nwant\n%s", code, stderr.String(), want)
	}
	for _, args := range [][]string{
		{"--registry", fixtureReg, "--model", "nope"},
		{"--registry", fixtureReg, "--model", model + "@7"},
		{"--bundle", t.TempDir()},
	} {
		err := run(context.Background(), append([]string{"--addr", "127.0.0.1:0"}, args...), io.Discard, io.Discard, nil)
		var ue *usageError
		if err == nil || errors.As(err, &ue) {
			t.Errorf("%v: err = %v, want a start error", args, err)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"127.0.0.1:8080", true},
		{"[::1]:8080", true},
		{"0.0.0.0:8080", false},
		{"[::]:8080", false},
		{"192.168.1.10:8080", false},
	}
	for _, tt := range tests {
		a, err := net.ResolveTCPAddr("tcp", tt.addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := isLoopback(a); got != tt.want {
			t.Errorf("isLoopback(%s) = %v", tt.addr, got)
		}
	}
}

// TestDocsListFlags: docs/serving.md's table has a row for every flag.
func TestDocsListFlags(t *testing.T) {
	var help bytes.Buffer
	if err := run(context.Background(), []string{"--help"}, &help, io.Discard, nil); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err = %v", err)
	}
	doc, err := os.ReadFile("../../docs/serving.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`(?m)^  -([a-z-]+)`).FindAllStringSubmatch(help.String(), -1) {
		if !bytes.Contains(doc, []byte("| `--"+m[1])) {
			t.Errorf("docs/serving.md's flag table has no row for --%s", m[1])
		}
	}
}
