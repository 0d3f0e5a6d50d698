package bench

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// procSample is what /proc says of a process at one moment: its CPU time
// (user and system) and how many write system calls it has made.
type procSample struct {
	cpu    time.Duration
	writes int64
}

// clockTick is the unit of the CPU times in /proc/PID/stat (USER_HZ, 100 on
// every Linux this runs on).
const clockTick = 10 * time.Millisecond

// sampleProc reads /proc/PID/stat and /proc/PID/io.
func sampleProc(pid int) (procSample, error) {
	var s procSample
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	// The command name (field 2) may hold spaces; the fields after it
	// start behind its closing parenthesis. utime and stime are fields
	// 14 and 15.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return s, fmt.Errorf("bench: /proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return s, fmt.Errorf("bench: /proc/%d/stat: unexpected format", pid)
	}
	for _, x := range f[11:13] {
		n, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			return s, fmt.Errorf("bench: /proc/%d/stat: %w", pid, err)
		}
		s.cpu += time.Duration(n) * clockTick
	}
	io, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return s, err
	}
	for _, line := range strings.Split(string(io), "\n") {
		if v, ok := strings.CutPrefix(line, "syscw:"); ok {
			if s.writes, err = strconv.ParseInt(strings.TrimSpace(v), 10, 64); err != nil {
				return s, fmt.Errorf("bench: /proc/%d/io: %w", pid, err)
			}
		}
	}
	return s, nil
}

// selfCPU is the CPU time (user and system) this process has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
