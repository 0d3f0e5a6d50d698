//go:build !(linux || darwin || freebsd || openbsd || netbsd || dragonfly || windows)

package connlimit

// FileLimit is 0 here: this system's limit on open files is not read.
// Default then gives its least (32 connections), and every cap Fits.
func FileLimit() uint64 {
	return 0
}
