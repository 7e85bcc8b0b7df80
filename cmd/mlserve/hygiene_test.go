package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestLogHygiene runs mlserve with an admin token at debug level, sends
// it malformed requests and admin calls that carry the token and a
// cookie, and checks that no log line has them; and that --no-log says
// the prediction log is off (issue 19, items 3 and 7).
func TestLogHygiene(t *testing.T) {
	const token = "mlserve-admin-t0ken-xyz"
	t.Setenv(adminTokenEnv, token)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	var stderr syncBuffer
	go func() {
		done <- run(ctx, []string{"--addr", "127.0.0.1:0", "--registry", fixtureReg, "--model", model, "--no-log", "--log-level", "debug"}, io.Discard, &stderr, ready)
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("run: %v\n%s", err, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("mlserve did not start")
	}
	creds := "Authorization: Bearer " + token + "\r\nCookie: sid=" + token + "\r\n"
	for _, raw := range []string{
		"POST /v1/models/" + model + "/predict HTTP/1.1\r\nHost: x\r\n" + creds + "BadHeaderLine\r\n\r\n",
		"POST /v1/models/" + model + "/predict HTTP/1.1\r\nHost: x\r\n" + creds + "Content-Length: 3\r\nContent-Length: 4\r\n\r\n{}}",
		"POST /admin/reload HTTP/1.1\r\nHost: x\r\n" + creds + "Content-Length: 0\r\n\r\n",
	} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprint(conn, raw)
		if resp, err := http.ReadResponse(bufio.NewReader(conn), nil); err == nil {
			b, _ := io.ReadAll(resp.Body)
			if strings.Contains(string(b), token) {
				t.Errorf("an answer carries the token: %s", b)
			}
		}
		conn.Close()
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	logs := stderr.String()
	if strings.Contains(logs, token) || strings.Contains(logs, "sid=") {
		t.Errorf("the log carries the token or the cookie:\n%s", logs)
	}
	if !strings.Contains(logs, "prediction_log=off") {
		t.Errorf("with --no-log the start line does not say prediction_log=off:\n%s", logs)
	}
}
