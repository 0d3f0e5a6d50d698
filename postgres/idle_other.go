//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package postgres

import "net"

// peek cannot look at a socket here: a dead idle connection is found
// when a statement fails on it (or by pgxpool's ping after a second idle).
func peek(net.Conn) bool { return false }
