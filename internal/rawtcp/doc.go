// Package rawtcp wraps a TCP listener so that its connections read and
// write with raw system calls, which the Go scheduler does not see.
//
// In: a net.Listener. Out: a net.Listener whose TCP connections behave
// like *net.TCPConn (deadlines, Close, errors that satisfy net.Error,
// io.EOF at the end), except that Read and Write call read(2) and
// send(2) through syscall.RawSyscall instead of syscall.Syscall. Other
// connections, and every platform but Linux, pass through unchanged.
//
// Why. A Go program tells the scheduler about every system call it makes:
// entering and leaving one wakes the sysmon thread if it is asleep, and
// a woken sysmon then polls every 20 µs until it has had nothing to do
// for a millisecond (runtime/proc.go, sysmon; golang/go#18236). A server
// at moderate load, whose processors all go idle many times a second,
// pays for that on every burst: on the 2-CPU VM where mlserve is
// measured (docs/serving.md), 17,000 requests/s cost 21,600 nanosleep and
// 36,000 futex calls in 4 s, and a quarter of the server's CPU.
//
// The accounting exists so that a thread blocked in the kernel can give
// its processor to another; the sockets here are non-blocking, so read
// and send never sleep: they copy, or fail with EAGAIN, and then the
// connection waits in the runtime's network poller as a *net.TCPConn
// would (syscall.RawConn), with its deadlines. That is the one condition
// syscall.RawSyscall asks of a call, and the reason this is safe.
package rawtcp
