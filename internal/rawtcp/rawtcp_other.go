//go:build !linux

package rawtcp

import "net"

// Listener returns ln unchanged: raw system calls are used on Linux only.
func Listener(ln net.Listener) net.Listener { return ln }
