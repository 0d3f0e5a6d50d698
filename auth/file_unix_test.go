//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package auth

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// An auth file that is a named pipe is refused at once: reading it waited
// for a writer that might never come, at start (where SIGINT and SIGTERM
// could not stop swfd) or at a SIGHUP, and a pipe read once cannot be
// read again at the next reload.
func TestAuthFileThatIsANamedPipe(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.json")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := LoadKeyring(path, nil)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "auth file: "+path+" is a named pipe, not a file; give the path of the auth file") {
			t.Errorf("LoadKeyring of a named pipe: %v, want an error saying it is no file", err)
		}
	case <-time.After(5 * time.Second):
		// Let the reader go: open the pipe for writing and close it.
		if f, err := os.OpenFile(path, os.O_WRONLY, 0); err == nil {
			f.Close()
		}
		<-done
		t.Fatal("LoadKeyring of a named pipe was still waiting for a writer after 5 s")
	}
}
