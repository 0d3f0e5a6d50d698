package tlscert_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swfd/swfd/internal/swfdtest"
	"github.com/swfd/swfd/internal/tlscert"
)

// Load needs both files, and a key that belongs to the certificate;
// Reload swaps in a new pair and keeps the old one when the new files
// are broken.
func TestLoadAndReload(t *testing.T) {
	dir := t.TempDir()
	first := swfdtest.NewCert(t, dir, "first")
	if _, err := tlscert.Load(first.CertFile, ""); err == nil || !strings.Contains(err.Error(), "--tls-key") {
		t.Fatalf("no key: %v", err)
	}
	other := swfdtest.NewCert(t, t.TempDir(), "other")
	if _, err := tlscert.Load(first.CertFile, other.KeyFile); err == nil {
		t.Fatal("a key of another certificate was accepted")
	}
	c, err := tlscert.Load(first.CertFile, first.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	serial := func() int64 {
		cert, err := c.GetCertificate(nil)
		if err != nil {
			t.Fatal(err)
		}
		return cert.Leaf.SerialNumber.Int64()
	}
	if serial() != first.Serial || c.NotAfter().IsZero() {
		t.Fatalf("serial %d, not after %v", serial(), c.NotAfter())
	}
	second := swfdtest.NewCert(t, dir, "second") // replaces the files
	if err := c.Reload(); err != nil || serial() != second.Serial {
		t.Fatalf("reload: %v, serial %d", err, serial())
	}
	os.WriteFile(filepath.Join(dir, "server-key.pem"), []byte("garbage"), 0o600)
	if err := c.Reload(); err == nil || serial() != second.Serial {
		t.Fatalf("broken key: %v, serial %d", err, serial())
	}
	if cfg := c.Config(); cfg.MinVersion == 0 || len(cfg.NextProtos) != 2 || cfg.NextProtos[0] != "h2" {
		t.Fatalf("config %+v", cfg)
	}
}
