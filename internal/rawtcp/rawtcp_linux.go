package rawtcp

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"
)

// Listener returns ln with its TCP connections wrapped (see the package
// documentation).
func Listener(ln net.Listener) net.Listener { return listener{ln} }

type listener struct{ net.Listener }

func (l listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c, nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return c, nil
	}
	return &conn{TCPConn: tc, raw: rc}, nil
}

// conn is a *net.TCPConn whose Read and Write make raw system calls.
type conn struct {
	*net.TCPConn
	raw syscall.RawConn
}

// Read reads like (*net.TCPConn).Read: at most len(p) bytes, waiting in
// the network poller until some are there, io.EOF once the peer has
// closed.
func (c *conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var errno syscall.Errno
	err := c.raw.Read(func(fd uintptr) bool {
		n, errno = rawIO(syscall.SYS_READ, fd, p, 0)
		return errno != syscall.EAGAIN
	})
	switch {
	case err != nil:
		return 0, c.opError("read", err)
	case errno != 0:
		return 0, c.opError("read", os.NewSyscallError("read", errno))
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// Write writes all of p like (*net.TCPConn).Write, waiting in the
// network poller while the socket's buffer is full. MSG_NOSIGNAL turns a
// write to a closed peer into EPIPE, not a SIGPIPE.
func (c *conn) Write(p []byte) (int, error) {
	done := 0
	var errno syscall.Errno
	err := c.raw.Write(func(fd uintptr) bool {
		for done < len(p) {
			var n int
			n, errno = rawIO(syscall.SYS_SENDTO, fd, p[done:], syscall.MSG_NOSIGNAL)
			if errno != 0 {
				return errno != syscall.EAGAIN
			}
			done += n
		}
		return true
	})
	switch {
	case err != nil:
		return done, c.opError("write", err)
	case errno != 0:
		return done, c.opError("write", os.NewSyscallError("write", errno))
	}
	return done, nil
}

// rawIO makes one read(2) or sendto(2) call on fd over p, retried when
// a signal interrupts it. It returns the bytes moved, or the errno.
func rawIO(trap, fd uintptr, p []byte, flags uintptr) (int, syscall.Errno) {
	for {
		r, _, errno := syscall.RawSyscall6(trap, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)), flags, 0, 0)
		if errno != syscall.EINTR {
			return int(r), errno
		}
	}
}

// opError says which operation failed on which connection, as net does.
// The poller's own errors (a deadline, a closed connection) already come
// as *net.OpError, named "raw-read" or "raw-write"; they get op's name.
func (c *conn) opError(op string, err error) error {
	if oe, ok := errors.AsType[*net.OpError](err); ok {
		oe.Op = op
		return oe
	}
	return &net.OpError{Op: op, Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}
