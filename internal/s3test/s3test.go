// Package s3test starts a real S3 server, SeaweedFS (`weed mini`), on
// 127.0.0.1 for tests that read and write object storage.
//
// In: the weed binary, found as $MLPIPE_WEED, then in the cache
// directory scripts/weed.sh builds it into, then on PATH. Out: a running
// server on free ports with one bucket, the environment set so that
// package storage talks to it, and a URL "s3://BUCKET/PREFIX" for the
// test. The server is killed when the test ends.
//
// Without the binary a test is skipped with the command that builds it,
// unless MLPIPE_REQUIRE_S3 is set (.ci/run sets it): then it fails, so
// CI cannot pass by skipping.
package s3test

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Bucket is the bucket every server starts with.
const Bucket = "mlpipe-test"

// Server is a running weed mini.
type Server struct {
	// Endpoint is "http://127.0.0.1:PORT", the S3 API.
	Endpoint string
	// Env is the environment a child process needs to reach it
	// (AWS_ENDPOINT_URL=...), to append to os.Environ().
	Env []string
	// Dir holds the server's data and its log (weed.log).
	Dir string
}

// URL is the URL of prefix in the server's bucket.
func (s *Server) URL(prefix string) string { return "s3://" + Bucket + "/" + prefix }

// Binary returns the weed binary's path, or "" and why there is none.
func Binary() (string, string) {
	if p := os.Getenv("MLPIPE_WEED"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Sprintf("MLPIPE_WEED=%s: %v", p, err)
		}
		return p, ""
	}
	if p := CachePath(); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p, ""
		}
	}
	if p, err := exec.LookPath("weed"); err == nil {
		return p, ""
	}
	return "", "no SeaweedFS binary: run scripts/weed.sh (builds it into " + CachePath() + ", about 6 CPU-minutes) or set MLPIPE_WEED"
}

// CachePath is where scripts/weed.sh puts the binary:
// $XDG_CACHE_HOME/mlpipe/weed/VERSION/weed (~/.cache without it).
// Keep VERSION in step with WEED_VERSION in scripts/weed.sh.
func CachePath() string {
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "mlpipe", "weed", Version, "weed")
}

// Version is the SeaweedFS module version scripts/weed.sh builds.
const Version = "v0.0.0-20261109003541-7506e5f91cd6"

// Start starts a server for t, sets AWS_ENDPOINT_URL (and clears the
// other AWS variables) for the test, and stops the server when t ends.
// It skips t when there is no binary, unless MLPIPE_REQUIRE_S3 is set.
func Start(t testing.TB) *Server {
	t.Helper()
	s, why := Try(t)
	if s == nil {
		t.Skip(why)
	}
	return s
}

// Try is Start for a test that also runs without S3: with no binary it
// returns nil and the reason (and fails t if MLPIPE_REQUIRE_S3 is set).
func Try(t testing.TB) (*Server, string) {
	t.Helper()
	bin, why := Binary()
	if bin == "" {
		if os.Getenv("MLPIPE_REQUIRE_S3") != "" {
			t.Fatalf("MLPIPE_REQUIRE_S3 is set but %s", why)
		}
		return nil, why
	}
	var s *Server
	var err error
	for attempt := 0; attempt < 3; attempt++ { // a free port can be taken before weed binds it
		if s, err = start(t, bin); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range []string{"AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"} {
		t.Setenv(kv, "")
	}
	t.Setenv("AWS_ENDPOINT_URL", s.Endpoint)
	return s, ""
}

func start(t testing.TB, bin string) (*Server, error) {
	dir := t.TempDir()
	ports, err := freePorts(10)
	if err != nil {
		return nil, err
	}
	p := func(i int) string { return strconv.Itoa(ports[i]) }
	args := []string{"mini", "-dir=" + dir, "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
		"-master.port=" + p(0), "-master.port.grpc=" + p(1),
		"-volume.port=" + p(2), "-volume.port.grpc=" + p(3),
		"-filer.port=" + p(4), "-filer.port.grpc=" + p(5),
		"-s3.port=" + p(6), "-s3.port.grpc=" + p(7),
		"-admin.ui=false", "-admin.port=" + p(8), "-admin.port.grpc=" + p(9), "-admin.port.legacy=0",
		"-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
		"-filer.localSocket=" + filepath.Join(dir, "filer.sock"),
		"-bucket=" + Bucket}
	logf, err := os.Create(filepath.Join(dir, "weed.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	// The server dies with the test binary even if cleanup never runs.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start weed: %w", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(done) }()
	stop := func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	s := &Server{Endpoint: "http://127.0.0.1:" + p(6), Dir: dir}
	s.Env = []string{"AWS_ENDPOINT_URL=" + s.Endpoint}
	// Ready when the bucket answers (weed creates it a moment after S3
	// starts listening). About 4 s here; 90 s under heavy load.
	deadline := time.Now().Add(90 * time.Second)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := client.Head(s.Endpoint + "/" + Bucket)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-done:
			log, _ := os.ReadFile(filepath.Join(dir, "weed.log"))
			return nil, fmt.Errorf("weed exited before it was ready:\n%s", tail(log))
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			log, _ := os.ReadFile(filepath.Join(dir, "weed.log"))
			return nil, fmt.Errorf("weed not ready after 90 s:\n%s", tail(log))
		}
	}
	t.Cleanup(stop)
	return s, nil
}

func tail(b []byte) []byte {
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return bytes.TrimSpace(b)
}

// freePorts returns n ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var out []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}
