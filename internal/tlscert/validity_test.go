package tlscert_test

import (
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd/internal/swfdtest"
	"github.com/swfd/swfd/internal/tlscert"
)

// A certificate outside its validity period, which every client that
// checks it refuses, is refused: at Load, and by Reload, which keeps the
// certificate in use. The error names the file and the period. The issue:
// an expired or not-yet-valid certificate replaced a working one on
// SIGHUP, and every new handshake failed.
func TestCertificateOutsideItsValidityIsRefused(t *testing.T) {
	now := time.Now()
	day := 24 * time.Hour
	expired := func(dir string) *swfdtest.Cert {
		return swfdtest.NewCertValid(t, dir, "expired", now.Add(-30*day), now.Add(-day))
	}
	future := func(dir string) *swfdtest.Cert {
		return swfdtest.NewCertValid(t, dir, "future", now.Add(day), now.Add(30*day))
	}
	for name, mk := range map[string]func(string) *swfdtest.Cert{"expired": expired, "not yet valid": future} {
		bad := mk(t.TempDir())
		_, err := tlscert.Load(bad.CertFile, bad.KeyFile)
		if err == nil {
			t.Fatalf("%s: loaded", name)
		}
		for _, want := range []string{bad.CertFile, "valid from ", " to ", "would refuse"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %q does not say %q", name, err, want)
			}
		}
	}

	dir := t.TempDir()
	good := swfdtest.NewCert(t, dir, "good")
	c, err := tlscert.Load(good.CertFile, good.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	serial := func() int64 {
		cert, _ := c.GetCertificate(nil)
		return cert.Leaf.SerialNumber.Int64()
	}
	if left := c.ExpiresIn(); left < 89*day || left > 90*day {
		t.Fatalf("expires in %v", left)
	}
	for _, mk := range []func(string) *swfdtest.Cert{expired, future} {
		bad := mk(dir) // replaces the files
		if err := c.Reload(); err == nil || !strings.Contains(err.Error(), bad.CertFile) {
			t.Fatalf("reload of an invalid certificate: %v", err)
		}
		if serial() != good.Serial {
			t.Fatalf("serial %d after a refused reload, want %d", serial(), good.Serial)
		}
	}
	soon := swfdtest.NewCertValid(t, dir, "soon", now.Add(-day), now.Add(3*day))
	if err := c.Reload(); err != nil || serial() != soon.Serial {
		t.Fatalf("a certificate valid for 3 more days: %v", err)
	}
	if left := c.ExpiresIn(); left > tlscert.ExpiresSoon {
		t.Fatalf("expires in %v", left)
	}
}
