package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"

	"github.com/swfd/swfd/internal/logbuf"
	"github.com/swfd/swfd/internal/promtest"
	"github.com/swfd/swfd/internal/swfdtest"
	"github.com/swfd/swfd/server"
)

// HTTPS with a certificate the test makes: aws-sdk-go-v2 (over HTTP/2
// and HTTP/1.1), the AWS CLI with --ca-bundle and boto3 with verify= all
// work against it, with the machine's AWS_CA_BUNDLE left as users have it
// (the CLI without --ca-bundle then refuses the certificate).
func TestTLSClients(t *testing.T) {
	cert := swfdtest.NewCert(t, t.TempDir(), "swfd")
	srv := swfdtest.Start(t, swfdtest.Options{TLS: cert})
	if !strings.HasPrefix(srv.URL, "https://") {
		t.Fatalf("URL %s", srv.URL)
	}
	ctx := context.Background()
	c := srv.Client()
	if _, err := c.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String("tls"), WorkflowExecutionRetentionPeriodInDays: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	// HTTP/2 where the client offers it, HTTP/1.1 otherwise.
	for _, c := range []struct {
		client *http.Client
		proto  string
	}{
		{swfdtest.TLSHTTPClient(cert.Pool), "HTTP/2.0"},
		{&http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: cert.Pool}}}, "HTTP/1.1"},
	} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(`{"registrationStatus":"REGISTERED"}`))
		req.Header.Set("X-Amz-Target", "SimpleWorkflowService.ListDomains")
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		resp, err := c.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Proto != c.proto || !strings.Contains(string(b), `"name":"tls"`) {
			t.Fatalf("%s: %d %s %s", c.proto, resp.StatusCode, resp.Proto, b)
		}
	}

	t.Run("awscli", func(t *testing.T) {
		cli := newAWSCLI(t, srv.URL)
		out := cli.ok("list-domains", "--registration-status", "REGISTERED", "--ca-bundle", cert.CAFile)
		if infos, _ := out["domainInfos"].([]any); len(infos) != 1 {
			t.Fatalf("list-domains: %v", out)
		}
		if os.Getenv("AWS_CA_BUNDLE") != "" {
			_, stderr, status := cli.run("list-domains", "--registration-status", "REGISTERED")
			if status == 0 || !strings.Contains(stderr, "SSL") {
				t.Fatalf("without --ca-bundle: exit %d %s", status, stderr)
			}
		}
	})
	// The README's aws-sdk-go-v2 client: config.LoadDefaultConfig with the
	// SDK's own HTTP client given the long-poll timeout, so that
	// AWS_CA_BUNDLE (set on many machines) is honoured; a plain http.Client
	// there makes LoadDefaultConfig fail whenever AWS_CA_BUNDLE is set, as
	// the README warns.
	t.Run("aws-sdk-go-v2 with AWS_CA_BUNDLE", func(t *testing.T) {
		const documented = "config.LoadDefaultConfig(ctx, config.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(70*time.Second)))"
		if readme := string(mustRead(t, "../README.md")); !strings.Contains(readme, documented) {
			t.Fatalf("the README no longer shows %s", documented)
		}
		t.Setenv("AWS_CA_BUNDLE", cert.CAFile)
		t.Setenv("AWS_ENDPOINT_URL_SWF", srv.URL)
		t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
		t.Setenv("AWS_REGION", "us-east-1")
		t.Setenv("AWS_CONFIG_FILE", os.DevNull)
		t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
		cfg, err := config.LoadDefaultConfig(ctx, config.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(70*time.Second)))
		if err != nil {
			t.Fatalf("as the README says: %v", err)
		}
		out, err := swf.NewFromConfig(cfg).ListDomains(ctx, &swf.ListDomainsInput{RegistrationStatus: types.RegistrationStatusRegistered})
		if err != nil || len(out.DomainInfos) != 1 || aws.ToString(out.DomainInfos[0].Name) != "tls" {
			t.Fatalf("ListDomains: %v %+v", err, out)
		}
		if _, err := config.LoadDefaultConfig(ctx, config.WithHTTPClient(&http.Client{Timeout: 70 * time.Second})); err == nil || !strings.Contains(err.Error(), "unable to add custom RootCAs HTTPClient") {
			t.Fatalf("a plain http.Client with AWS_CA_BUNDLE set: %v, want the error the README quotes", err)
		}
	})
	t.Run("boto3", func(t *testing.T) {
		py, err := exec.LookPath("python3")
		if err != nil {
			t.Skip("python3 not on PATH")
		}
		if err := exec.Command(py, "-c", "import boto3").Run(); err != nil {
			t.Skip("boto3 not installed")
		}
		script := `
import sys, boto3
c = boto3.client("swf", endpoint_url=sys.argv[1], region_name="us-east-1", verify=sys.argv[2],
                 aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret")
print(",".join(d["name"] for d in c.list_domains(registrationStatus="REGISTERED")["domainInfos"]))
`
		cmd := exec.Command(py, "-c", script, srv.URL, cert.CAFile)
		cmd.Env = append(os.Environ(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
		out, err := cmd.CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "tls" {
			t.Fatalf("boto3: %v\n%s", err, out)
		}
	})
}

// A new certificate is taken on Reload (SIGHUP) without dropping a
// connection: a long poll waiting on the old one is answered, calls on
// an open HTTP/2 connection go on over it, and new connections get the
// new certificate. A broken one is refused and the last good one stays.
func TestTLSReloadKeepsConnections(t *testing.T) {
	dir := t.TempDir()
	first := swfdtest.NewCert(t, dir, "first")
	srv := swfdtest.Start(t, swfdtest.Options{TLS: first, PollTimeout: 30 * time.Second})
	ctx := context.Background()
	c := srv.Client()
	if _, err := c.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String("d"), WorkflowExecutionRetentionPeriodInDays: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RegisterWorkflowType(ctx, &swf.RegisterWorkflowTypeInput{Domain: aws.String("d"), Name: aws.String("w"), Version: aws.String("1"),
		DefaultTaskList: &types.TaskList{Name: aws.String("l")}, DefaultExecutionStartToCloseTimeout: aws.String("60"),
		DefaultTaskStartToCloseTimeout: aws.String("60"), DefaultChildPolicy: types.ChildPolicyTerminate}); err != nil {
		t.Fatal(err)
	}
	// A long poll in flight over the first certificate's connection.
	polled := make(chan *swf.PollForDecisionTaskOutput, 1)
	go func() {
		out, err := c.PollForDecisionTask(ctx, &swf.PollForDecisionTaskInput{Domain: aws.String("d"), TaskList: &types.TaskList{Name: aws.String("l")}})
		if err != nil {
			t.Error(err)
		}
		polled <- out
	}()

	second := swfdtest.NewCert(t, dir, "second") // same file names: the files are replaced
	hc := swfdtest.TLSHTTPClient(first.Pool)
	hc.Transport.(*http.Transport).TLSClientConfig.RootCAs.AppendCertsFromPEM(mustRead(t, second.CAFile))
	serial := func() (int64, bool) { // the serial the server shows, and whether the connection was reused
		var reused bool
		var sn int64
		trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodGet, srv.URL+"/healthz", nil)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		sn = resp.TLS.PeerCertificates[0].SerialNumber.Int64()
		return sn, reused
	}
	if sn, _ := serial(); sn != first.Serial {
		t.Fatalf("serial %d before reload, want %d", sn, first.Serial)
	}
	if what, err := srv.Server.Reload(); err != nil || fmt.Sprint(what) != "[TLS certificate]" {
		t.Fatalf("reload: %v %v", what, err)
	}
	// The open connection goes on with the certificate it was made with.
	if sn, reused := serial(); !reused || sn != first.Serial {
		t.Fatalf("open connection after reload: reused %v, serial %d", reused, sn)
	}
	// A new connection gets the new certificate.
	hc.CloseIdleConnections()
	if sn, reused := serial(); reused || sn != second.Serial {
		t.Fatalf("new connection after reload: reused %v, serial %d, want %d", reused, sn, second.Serial)
	}
	// The long poll is answered.
	if _, err := c.StartWorkflowExecution(ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String("d"), WorkflowId: aws.String("x"),
		WorkflowType: &types.WorkflowType{Name: aws.String("w"), Version: aws.String("1")}}); err != nil {
		t.Fatal(err)
	}
	if out := <-polled; out == nil || out.TaskToken == nil {
		t.Fatal("long poll across the reload got no task")
	}
	// A broken certificate file is refused; the second stays in use.
	if err := os.WriteFile(filepath.Join(dir, "server.pem"), []byte("not a certificate"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Server.Reload(); err == nil || !strings.Contains(err.Error(), "TLS certificate not reloaded") {
		t.Fatalf("broken certificate: %v", err)
	}
	hc.CloseIdleConnections()
	if sn, _ := serial(); sn != second.Serial {
		t.Fatalf("serial %d after a failed reload, want %d", sn, second.Serial)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// swfd does not start with a certificate outside its validity period, and
// a SIGHUP that finds one keeps the certificate in use; a certificate that
// expires within 7 days is taken with a warning, at start and on reload.
// The issue: an expired or not-yet-valid certificate was taken silently
// (at INFO on SIGHUP, replacing a working one), and every handshake of a
// client that checks it failed.
func TestTLSCertificateValidityChecked(t *testing.T) {
	now := time.Now()
	day := 24 * time.Hour
	expired := swfdtest.NewCertValid(t, t.TempDir(), "expired", now.Add(-30*day), now.Add(-day))
	cfg := server.Config{DB: server.MemoryDB, TLSCertFile: expired.CertFile, TLSKeyFile: expired.KeyFile}
	if s, err := server.Open(context.Background(), cfg); err == nil {
		s.Close()
		t.Fatal("started with an expired certificate")
	} else if !strings.Contains(err.Error(), expired.CertFile) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("start with an expired certificate: %v", err)
	}

	dir := t.TempDir()
	soon := swfdtest.NewCertValid(t, dir, "soon", now.Add(-day), now.Add(3*day))
	var log logbuf.Buffer
	srv := swfdtest.Start(t, swfdtest.Options{TLS: soon, Config: func(c *server.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&log, nil))
	}})
	warned := func() int { return strings.Count(log.String(), `level=WARN msg="TLS certificate expires soon`) }
	if warned() != 1 || !strings.Contains(log.String(), "cert="+soon.CertFile) {
		t.Fatalf("no warning at start of a certificate that expires in 3 days:\n%s", log.String())
	}
	hc := swfdtest.TLSHTTPClient(soon.Pool)
	serial := func() int64 {
		t.Helper()
		hc.CloseIdleConnections()
		resp, err := hc.Get(srv.URL + "/healthz")
		if err != nil {
			t.Fatalf("handshake: %v", err)
		}
		resp.Body.Close()
		return resp.TLS.PeerCertificates[0].SerialNumber.Int64()
	}
	if sn := serial(); sn != soon.Serial {
		t.Fatalf("serial %d, want %d", sn, soon.Serial)
	}
	for _, bad := range []*swfdtest.Cert{
		swfdtest.NewCertValid(t, dir, "expired", now.Add(-30*day), now.Add(-day)),
		swfdtest.NewCertValid(t, dir, "future", now.Add(day), now.Add(30*day)),
	} {
		_, err := srv.Server.Reload()
		if err == nil || !strings.Contains(err.Error(), "TLS certificate not reloaded; the previous one stays in use") ||
			!strings.Contains(err.Error(), bad.CertFile) || !strings.Contains(err.Error(), "valid from") {
			t.Fatalf("reload of a certificate outside its validity: %v", err)
		}
		if sn := serial(); sn != soon.Serial {
			t.Fatalf("serial %d after a refused reload, want %d", sn, soon.Serial)
		}
	}
	again := swfdtest.NewCertValid(t, dir, "again", now.Add(-day), now.Add(5*day))
	hc.Transport.(*http.Transport).TLSClientConfig.RootCAs.AppendCertsFromPEM(mustRead(t, again.CAFile))
	if _, err := srv.Server.Reload(); err != nil {
		t.Fatal(err)
	}
	if sn := serial(); sn != again.Serial || warned() != 2 {
		t.Fatalf("reload of a certificate that expires in 5 days: serial %d (want %d), %d warnings:\n%s", sn, again.Serial, warned(), log.String())
	}
	fams, err := promtest.Scrape(hc, srv.URL+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := fams.Value("swfd_tls_certificate_expiry_timestamp_seconds"); int64(v) != now.Add(5*day).Unix() {
		t.Fatalf("swfd_tls_certificate_expiry_timestamp_seconds = %v, want %d", v, now.Add(5*day).Unix())
	}
}
