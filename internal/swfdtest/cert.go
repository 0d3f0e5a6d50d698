package swfdtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Cert is a certificate authority made for one test and a server
// certificate it signed, written as PEM files.
type Cert struct {
	CAFile   string // the authority's certificate: a client's CA bundle
	CertFile string // the server certificate
	KeyFile  string // its private key
	Pool     *x509.CertPool
	Serial   int64 // the server certificate's serial number
}

// NewCert makes a CA and a server certificate for 127.0.0.1, ::1 and
// localhost, named name (the subject's common name), in dir, valid from
// an hour ago for 90 days. Writing another into the same dir replaces the
// server certificate and key, signed by a new CA.
func NewCert(t testing.TB, dir, name string) *Cert {
	t.Helper()
	now := time.Now()
	return NewCertValid(t, dir, name, now.Add(-time.Hour), now.Add(90*24*time.Hour))
}

// NewCertValid is NewCert with a server certificate valid from notBefore
// to notAfter (its CA is valid for a year either side of now).
func NewCertValid(t testing.TB, dir, name string, notBefore, notAfter time.Time) *Cert {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()), Subject: pkix.Name{CommonName: name + " test CA"},
		NotBefore: now.Add(-365 * 24 * time.Hour), NotAfter: now.Add(365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	must(err)
	ca, err := x509.ParseCertificate(caDER)
	must(err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	serial := now.UnixNano() + 1
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
		NotBefore: notBefore, NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	must(err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	must(err)
	c := &Cert{CAFile: filepath.Join(dir, name+"-ca.pem"), CertFile: filepath.Join(dir, "server.pem"), KeyFile: filepath.Join(dir, "server-key.pem"),
		Pool: x509.NewCertPool(), Serial: serial}
	c.Pool.AddCert(ca)
	write := func(path, typ string, b []byte, mode os.FileMode) {
		// Written beside and renamed, as an operator's tooling would, so
		// that a reload never reads half a file.
		tmp := path + ".tmp"
		must(os.WriteFile(tmp, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), mode))
		must(os.Rename(tmp, path))
	}
	write(c.CAFile, "CERTIFICATE", caDER, 0o644)
	write(c.KeyFile, "PRIVATE KEY", keyDER, 0o600)
	write(c.CertFile, "CERTIFICATE", der, 0o644)
	return c
}
