//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package e2e

import (
	"os"
	"syscall"
	"testing"
)

// setRlimit sets a limit of a syscall.Rlimit, whose fields are uint64 on
// Linux and macOS and int64 on the BSDs (where RLIM_INFINITY is -1, the
// greatest uint64 once converted, as on Linux).
func setRlimit[T int64 | uint64](field *T, v uint64) { *field = T(v) }

func hostileRaiseFDLimit(t *testing.T, want uint64) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if uint64(lim.Cur) >= want {
		return
	}
	setRlimit(&lim.Cur, min(want, uint64(lim.Max)))
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || uint64(lim.Cur) < want {
		if os.Getenv("CI") != "" {
			t.Fatalf("file descriptor limit %d, need %d: %v", lim.Cur, want, err)
		}
		t.Skipf("file descriptor limit %d, need %d", lim.Cur, want)
	}
}
