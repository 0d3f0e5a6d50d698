//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package tlscert_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/swfd/swfd/internal/swfdtest"
	"github.com/swfd/swfd/internal/tlscert"
)

// A certificate or key that is a named pipe or a device is refused at once:
// crypto/tls's own loading read a pipe until a writer came (holding swfd's
// start, where signals could not stop it, or a SIGHUP) and /dev/zero
// without end. A reload to such a path keeps the certificate in use.
func TestCertOrKeyThatIsNoFile(t *testing.T) {
	dir := t.TempDir()
	good := swfdtest.NewCert(t, dir, "good")
	pipe := filepath.Join(dir, "pipe.pem")
	if err := syscall.Mkfifo(pipe, 0o600); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	load := func(cert, key string) error {
		t.Helper()
		done := make(chan error, 1)
		go func() {
			_, err := tlscert.Load(cert, key)
			done <- err
		}()
		select {
		case err := <-done:
			return err
		case <-time.After(5 * time.Second):
			if f, err := os.OpenFile(pipe, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				f.Close()
			}
			t.Fatalf("Load(%s, %s) had not returned after 5 s", cert, key)
			return nil
		}
	}
	for _, c := range []struct{ cert, key, want string }{
		{pipe, good.KeyFile, "TLS certificate: " + pipe + " is a named pipe, not a file; give the path of the TLS certificate"},
		{good.CertFile, pipe, "TLS key: " + pipe + " is a named pipe, not a file; give the path of the TLS key"},
		{"/dev/zero", good.KeyFile, "TLS certificate: /dev/zero is a device, not a file"},
		{good.CertFile, dir, "TLS key: " + dir + " is a directory; give the path of the TLS key"},
	} {
		if err := load(c.cert, c.key); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Load(%s, %s): %v, want %q", c.cert, c.key, err, c.want)
		}
	}
}
