//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package connlimit

import "syscall"

// FileLimit is the process's current limit on open files (RLIMIT_NOFILE):
// the greatest uint64 when there is none (RLIM_INFINITY), 0 if it cannot
// be read.
func FileLimit() uint64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0
	}
	// uint64 on Linux and macOS, int64 on the BSDs, whose RLIM_INFINITY
	// (-1) becomes the greatest uint64 as Linux's is.
	return uint64(rl.Cur)
}
