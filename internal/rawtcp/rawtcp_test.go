//go:build linux

package rawtcp

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// pair returns both ends of a loopback TCP connection: the server's
// through Listener, and the client's.
func pair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err = Listener(ln).Accept()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := server.(*conn); !ok {
		t.Fatalf("Accept returned %T, want the raw *conn", server)
	}
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}

func TestReadWrite(t *testing.T) {
	// Sizes: one byte, a typical request, and more than a loopback
	// socket buffer holds, so that Write waits for the reader (EAGAIN)
	// and Read returns parts.
	for _, size := range []int{1, 300, 16 << 20} {
		server, client := pair(t)
		want := make([]byte, size)
		rng := rand.New(rand.NewPCG(1, uint64(size))) // fixed seed: the same bytes every run
		for i := range want {
			want[i] = byte(rng.Uint32())
		}

		transfer(t, "client", client, "server", server, want)
		transfer(t, "server", server, "client", client, want)
	}
}

// transfer writes want on one end while reading it on the other, and
// checks that every byte arrived.
func transfer(t *testing.T, fromName string, from net.Conn, toName string, to net.Conn, want []byte) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		n, err := from.Write(want)
		if err == nil && n != len(want) {
			err = errors.New("short write")
		}
		errc <- err
	}()
	got := make([]byte, len(want))
	if _, err := io.ReadFull(to, got); err != nil {
		t.Fatalf("%d bytes: %s read: %v", len(want), toName, err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("%d bytes: %s write: %v", len(want), fromName, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%d bytes: the %s read other bytes than the %s wrote", len(want), toName, fromName)
	}
}

func TestEOF(t *testing.T) {
	server, client := pair(t)
	client.Write([]byte("last"))
	client.Close()
	got, err := io.ReadAll(server) // stops at io.EOF, which it does not return
	if err != nil || string(got) != "last" {
		t.Fatalf("ReadAll = %q, %v; want \"last\", nil", got, err)
	}
	if n, err := server.Read(make([]byte, 8)); n != 0 || err != io.EOF {
		t.Fatalf("Read after the peer closed = %d, %v; want 0, io.EOF", n, err)
	}
}

func TestErrors(t *testing.T) {
	// 64 MiB: more than the loopback socket buffers hold, so a Write to
	// a peer that does not read must wait, and times out.
	big := make([]byte, 64<<20)
	tests := []struct {
		name    string
		do      func(server, client net.Conn) error
		is      error // errors.Is target
		timeout bool  // the error is a net.Error that timed out
		op      string
	}{
		{name: "read deadline", op: "read", is: os.ErrDeadlineExceeded, timeout: true,
			do: func(server, _ net.Conn) error {
				server.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
				_, err := server.Read(make([]byte, 8))
				return err
			}},
		{name: "write deadline", op: "write", is: os.ErrDeadlineExceeded, timeout: true,
			do: func(server, _ net.Conn) error {
				server.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
				_, err := server.Write(big)
				return err
			}},
		{name: "read after close", op: "read", is: net.ErrClosed,
			do: func(server, _ net.Conn) error {
				server.Close()
				_, err := server.Read(make([]byte, 8))
				return err
			}},
		{name: "write after close", op: "write", is: net.ErrClosed,
			do: func(server, _ net.Conn) error {
				server.Close()
				_, err := server.Write([]byte("x"))
				return err
			}},
		{name: "write to a reset peer", op: "write", is: syscall.ECONNRESET,
			do: func(server, client net.Conn) error {
				client.(*net.TCPConn).SetLinger(0) // close with RST
				client.Close()
				time.Sleep(20 * time.Millisecond)
				var err error
				for range 10 { // the first send may still be accepted
					if _, err = server.Write([]byte("x")); err != nil {
						break
					}
				}
				return err
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			server, client := pair(t)
			err := tt.do(server, client)
			if tt.name == "write to a reset peer" && errors.Is(err, syscall.EPIPE) {
				err = syscall.ECONNRESET // either is how Linux reports it
			}
			if !errors.Is(err, tt.is) {
				t.Fatalf("error %v, want one that is %v", err, tt.is)
			}
			ne, ok := errors.AsType[net.Error](err)
			if !ok || ne.Timeout() != tt.timeout {
				t.Fatalf("error %v: a net.Error with Timeout() %v wanted", err, tt.timeout)
			}
			if oe, ok := errors.AsType[*net.OpError](err); !ok || oe.Op != tt.op {
				t.Fatalf("error %v: a *net.OpError for %q wanted", err, tt.op)
			}
		})
	}
}

func TestOtherConnsPassThrough(t *testing.T) {
	ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "s"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := net.Dial("unix", ln.Addr().String()); err == nil {
			c.Close()
		}
	}()
	c, err := Listener(ln).Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := c.(*net.UnixConn); !ok {
		t.Fatalf("Accept on a unix socket returned %T, want *net.UnixConn", c)
	}
}

// TestNoAllocations checks that a Read and a Write allocate nothing:
// they run on every request mlserve serves.
func TestNoAllocations(t *testing.T) {
	server, client := pair(t)
	msg, buf := []byte("ping"), make([]byte, 4)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := server.Write(msg); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(client, buf); err != nil {
			t.Fatal(err)
		}
		if _, err := client.Write(msg); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(server, buf); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("a round trip allocates %v times, want 0", allocs)
	}
}
