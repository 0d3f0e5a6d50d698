//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package quota

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A quota file that is a named pipe is refused at once: reading it waited
// for a writer that might never come, holding swfd's start (or a SIGHUP).
func TestLoadRefusesANamedPipe(t *testing.T) {
	path := filepath.Join(t.TempDir(), "quotas.json")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	err := loadWithin(t, path)
	if err == nil || !strings.Contains(err.Error(), "quota file: "+path+" is a named pipe, not a file; give the path of the quota file") {
		t.Errorf("Load of a named pipe: %v, want it refused as no file", err)
	}
}

// A device such as /dev/zero is refused, not read without end.
func TestLoadRefusesADevice(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero here")
	}
	err := loadWithin(t, "/dev/zero")
	if err == nil || !strings.Contains(err.Error(), "quota file: /dev/zero is a device, not a file") {
		t.Errorf("Load of /dev/zero: %v, want it refused as a device", err)
	}
}
