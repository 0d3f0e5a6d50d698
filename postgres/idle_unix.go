//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package postgres

import (
	"net"
	"syscall"
)

// peek looks at c's socket with a non-blocking recv(MSG_PEEK): bytes
// waiting, the end of the stream (0 bytes) or an error other than "would
// block" (a reset) is true.
func peek(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	var waiting bool
	var b [1]byte
	// Control, not Read: Read would wait for the descriptor's read lock,
	// which pgconn's background reader (started while a write is slow)
	// may still hold, blocked in a read, on a connection now idle. A peek
	// consumes nothing, so it may run beside that read.
	err = rc.Control(func(fd uintptr) {
		_, _, rerr := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		// No error: bytes waiting, or (0 bytes) the end of the stream;
		// any error but "would block" is one of the connection.
		waiting = rerr != syscall.EAGAIN && rerr != syscall.EINTR
	})
	return err == nil && waiting
}
