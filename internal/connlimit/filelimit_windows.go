package connlimit

import "math"

// FileLimit is the greatest uint64 on Windows, which has no limit on open
// files to read or raise: a process's sockets and files are kernel
// handles, of which it may hold millions, so memory runs out first.
// Default then gives its most (10,000 connections), and every cap Fits.
func FileLimit() uint64 {
	return math.MaxUint64
}
