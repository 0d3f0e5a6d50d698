// Package tlscert serves a TLS certificate that can be replaced while the
// server runs: the certificate and key are read from PEM files, and
// Reload reads them again (on SIGHUP) and swaps them in atomically, so
// that new handshakes use the new certificate while connections already
// open go on undisturbed. A certificate outside its validity period
// (expired, or not valid yet), which every client that checks it would
// refuse, is refused as a key that does not match is. A path that is not a
// regular file (a named pipe, a device, a directory) is refused unread.
package tlscert

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/swfd/swfd/internal/cfgfile"
)

// Certificate is a certificate and key read from files, reloadable.
type Certificate struct {
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]
}

// Load reads a PEM certificate (chain) and its PEM private key. Validity
// is judged by the real time, as clients judge it, whatever the server's
// own clock shows (--clock).
func Load(certFile, keyFile string) (*Certificate, error) {
	if certFile == "" || keyFile == "" {
		return nil, errors.New("TLS needs both a certificate (--tls-cert) and its key (--tls-key)")
	}
	c := &Certificate{certFile: certFile, keyFile: keyFile}
	if err := c.Reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// Reload reads the files again. If they do not hold a valid certificate
// and matching key, or the certificate is expired or not valid yet, the
// one in use stays and the error says why.
func (c *Certificate) Reload() error {
	// crypto/tls's LoadX509KeyPair reads whatever the paths name: a
	// named pipe until some writer comes, a device without end.
	certPEM, err := cfgfile.Read("TLS certificate", c.certFile)
	if err != nil {
		return fmt.Errorf("TLS certificate: %w", err)
	}
	keyPEM, err := cfgfile.Read("TLS key", c.keyFile)
	if err != nil {
		return fmt.Errorf("TLS key: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return fmt.Errorf("TLS certificate %s, key %s: %w", c.certFile, c.keyFile, err)
	}
	if cert.Leaf == nil && len(cert.Certificate) > 0 {
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return fmt.Errorf("TLS certificate %s: %w", c.certFile, err)
		}
	}
	if err := validNow(c.certFile, cert.Leaf, time.Now()); err != nil {
		return err
	}
	c.cur.Store(&cert)
	return nil
}

// validNow says why leaf, read from file, is not valid at now: clients
// would refuse every handshake with it.
func validNow(file string, leaf *x509.Certificate, now time.Time) error {
	window := fmt.Sprintf("valid from %s to %s", leaf.NotBefore.UTC().Format(time.RFC3339), leaf.NotAfter.UTC().Format(time.RFC3339))
	switch {
	case now.After(leaf.NotAfter):
		return fmt.Errorf("TLS certificate %s expired %s ago (%s): every client that checks it would refuse it; renew it",
			file, now.Sub(leaf.NotAfter).Round(time.Second), window)
	case now.Before(leaf.NotBefore):
		return fmt.Errorf("TLS certificate %s is not valid yet, for another %s (%s; is this machine's clock right?): every client that checks it would refuse it",
			file, leaf.NotBefore.Sub(now).Round(time.Second), window)
	}
	return nil
}

// ExpiresSoon is how close to its expiry a certificate in use is worth a
// warning: time enough to renew it.
const ExpiresSoon = 7 * 24 * time.Hour

// NotAfter is when the certificate in use expires.
func (c *Certificate) NotAfter() time.Time {
	if l := c.cur.Load().Leaf; l != nil {
		return l.NotAfter
	}
	return time.Time{}
}

// ExpiresIn is how long the certificate in use has before it expires.
func (c *Certificate) ExpiresIn() time.Duration { return time.Until(c.NotAfter()) }

// File is the certificate's file.
func (c *Certificate) File() string { return c.certFile }

// GetCertificate is for tls.Config.GetCertificate: the certificate in use.
func (c *Certificate) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return c.cur.Load(), nil
}

// Config is a server TLS configuration that serves the certificate in
// use: TLS 1.2 or later, HTTP/2 and HTTP/1.1 offered by ALPN.
func (c *Certificate) Config() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: c.GetCertificate,
		NextProtos:     []string{"h2", "http/1.1"},
	}
}
