package rawtcp

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
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
	cn := &conn{TCPConn: tc, raw: rc}
	cn.rd.call, cn.wr.call = cn.readOnce, cn.writeOnce
	return cn, nil
}

// conn is a *net.TCPConn whose Read and Write make raw system calls.
type conn struct {
	*net.TCPConn
	raw    syscall.RawConn
	rd, wr pending
}

// pending is the state of one Read or Write that the poller's callback
// works on. It lives in the connection, and the callback is bound once
// per connection, so that a call allocates nothing (a closure over
// locals would escape through syscall.RawConn, three allocations a
// call). mu serializes calls of the same direction, which net.Conn
// allows from several goroutines.
type pending struct {
	mu    sync.Mutex
	call  func(fd uintptr) bool
	p     []byte
	n     int // bytes moved so far
	errno syscall.Errno
}

// Read reads like (*net.TCPConn).Read: at most len(p) bytes, waiting in
// the network poller until some are there, io.EOF once the peer has
// closed.
func (c *conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, errno, err := c.rd.run(c.raw.Read, p)
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

func (c *conn) readOnce(fd uintptr) bool {
	c.rd.n, c.rd.errno = rawIO(syscall.SYS_READ, fd, c.rd.p, 0)
	return c.rd.errno != syscall.EAGAIN
}

// Write writes all of p like (*net.TCPConn).Write, waiting in the
// network poller while the socket's buffer is full. MSG_NOSIGNAL turns a
// write to a closed peer into EPIPE, not a SIGPIPE.
func (c *conn) Write(p []byte) (int, error) {
	n, errno, err := c.wr.run(c.raw.Write, p)
	switch {
	case err != nil:
		return n, c.opError("write", err)
	case errno != 0:
		return n, c.opError("write", os.NewSyscallError("write", errno))
	}
	return n, nil
}

func (c *conn) writeOnce(fd uintptr) bool {
	w := &c.wr
	for w.n < len(w.p) {
		n, errno := rawIO(syscall.SYS_SENDTO, fd, w.p[w.n:], syscall.MSG_NOSIGNAL)
		if w.errno = errno; errno != 0 {
			return errno != syscall.EAGAIN
		}
		w.n += n
	}
	return true
}

// run hands p to the callback through wait (the RawConn's Read or
// Write) and returns what it moved, its last errno and the poller's
// error.
func (s *pending) run(wait func(func(uintptr) bool) error, p []byte) (int, syscall.Errno, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.p, s.n, s.errno = p, 0, 0
	err := wait(s.call)
	n, errno := s.n, s.errno
	s.p = nil
	return n, errno, err
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
