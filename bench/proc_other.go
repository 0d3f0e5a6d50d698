//go:build !linux

package bench

import (
	"errors"
	"time"
)

type procSample struct {
	cpu    time.Duration
	writes int64
}

func sampleProc(pid int) (procSample, error) {
	return procSample{}, errors.New("bench: --server-pid needs Linux's /proc")
}

func selfCPU() time.Duration { return 0 }
