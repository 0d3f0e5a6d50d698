package server

import (
	"context"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/swfd/swfd/internal/logbuf"
	"github.com/swfd/swfd/quota"
)

// writeFile writes a test's file and returns its path.
func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// A quota file that gives a member twice is refused at start, saying
// which and where; at a reload it is refused the same way and the quotas
// in force stay.
func TestQuotaFileMemberTwice(t *testing.T) {
	ctx := context.Background()
	dup := `{"base": "off",
  "principals": {"ci": {"operations": {"ListDomains": {"bucketSize": 1, "refillPerSecond": 1}},
                        "Operations": {}}}}`
	path := writeFile(t, "quotas.json", dup)
	_, err := Open(ctx, Config{DB: "sqlite::memory:", Quotas: path})
	want := `--quotas: quota file ` + path + `: line 3: principals.ci gives the member "Operations" twice`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Open with a member given twice: %v, want %q", err, want)
	}

	os.WriteFile(path, []byte(`{"base": "off", "operations": {"ListDomains": {"bucketSize": 2, "refillPerSecond": 1}}}`), 0o600)
	s, err := Open(ctx, Config{DB: "sqlite::memory:", Quotas: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	before := s.Quotas.Config()
	os.WriteFile(path, []byte(`{"base": "off", "operations": {"ListDomains": {"bucketSize": 2, "refillPerSecond": 1}, "ListDomains": {"unlimited": true}}}`), 0o600)
	reloaded, err := s.Reload()
	if err == nil || !strings.Contains(err.Error(), `quota file not reloaded; the previous quotas stay in force: quota file `+path+`: line 1: operations gives the member "ListDomains" twice`) {
		t.Fatalf("Reload: %v, %v", reloaded, err)
	}
	if s.Quotas.Config() != before || before.Operations["ListDomains"] != (quota.Limit{Size: 2, Rate: 1}) {
		t.Fatalf("the quotas in force changed: %+v", s.Quotas.Config().Operations["ListDomains"])
	}
}

// authFileOf is an auth file whose principals are each allowed everything.
func authFileOf(names ...string) string {
	var ps []string
	for _, n := range names {
		ps = append(ps, `{"name": "`+n+`", "accessKeys": [{"accessKeyId": "AKID`+strings.ToUpper(n)+`", "secretAccessKey": "s"}],
		  "policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "swf:*", "Resource": "*"}]}]}`)
	}
	return `{"principals": [` + strings.Join(ps, ", ") + `]}`
}

// principalQuotas is a quota file with an override for each of names.
func principalQuotas(names ...string) string {
	var ps []string
	for _, n := range names {
		ps = append(ps, `"`+n+`": {"operations": {"ListDomains": {"bucketSize": 1, "refillPerSecond": 1}}}`)
	}
	return `{"base": "off", "principals": {` + strings.Join(ps, ", ") + `}}`
}

// With --auth, a quota file's override for a principal the auth file does
// not know would apply to no call (a typo, a principal renamed): it is
// refused at start and at a reload, naming the principal. A reload checks
// the quota file against the auth file in force after it: the auth file is
// reloaded first, whatever the quota file says (a key it revokes must
// stop working at once), so a principal it drops while the quota file
// still names it leaves the quota file not reloaded, saying so, until the
// quota file drops it too.
func TestQuotaPrincipalsMustBeInTheAuthFile(t *testing.T) {
	ctx := context.Background()
	authPath := writeFile(t, "auth.json", authFileOf("operator", "ci"))
	qPath := writeFile(t, "quotas.json", principalQuotas("ci", "ghost", "Operator"))
	_, err := Open(ctx, Config{DB: "sqlite::memory:", AuthFile: authPath, Quotas: qPath})
	want := `--quotas: quota file ` + qPath + `: principals: "Operator", "ghost" are not principals of the auth file ` + authPath
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Open with principals the auth file does not know: %v, want %q", err, want)
	}

	os.WriteFile(qPath, []byte(principalQuotas("ci")), 0o600)
	s, err := Open(ctx, Config{DB: "sqlite::memory:", AuthFile: authPath, Quotas: qPath})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	inForce := s.Quotas.Config()

	// A quota file naming a principal the auth file lacks is not reloaded.
	os.WriteFile(qPath, []byte(principalQuotas("ci", "ghost")), 0o600)
	_, err = s.Reload()
	want = `quota file not reloaded; the previous quotas stay in force: quota file ` + qPath + `: principals: "ghost" is not a principal of the auth file ` + authPath
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Reload: %v, want %q", err, want)
	}
	if s.Quotas.Config() != inForce {
		t.Fatal("the quotas in force changed")
	}

	// The auth file drops ci, the quota file still names it: the auth file
	// is in force (ci's key no longer works), the quota file is not.
	os.WriteFile(qPath, []byte(principalQuotas("ci")), 0o600)
	os.WriteFile(authPath, []byte(authFileOf("operator")), 0o600)
	reloaded, err := s.Reload()
	if !slices.Contains(reloaded, "auth file") || slices.Contains(reloaded, "quota file") {
		t.Fatalf("reloaded %v, want the auth file and not the quota file", reloaded)
	}
	if s.Auth.Principal("AKIDCI") != nil {
		t.Fatal("ci's key still works after the auth file dropped it")
	}
	want = `principals: "ci" is not a principal of the auth file ` + authPath
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Reload: %v, want %q", err, want)
	}
	if s.Quotas.Config() != inForce {
		t.Fatal("the quotas in force changed")
	}

	// Both files changed at once, the new principal in each: both in force.
	os.WriteFile(authPath, []byte(authFileOf("operator", "ghost")), 0o600)
	os.WriteFile(qPath, []byte(principalQuotas("ghost")), 0o600)
	if reloaded, err := s.Reload(); err != nil || !slices.Contains(reloaded, "quota file") {
		t.Fatalf("Reload of both: %v, %v", reloaded, err)
	}
	if p := s.Quotas.Config().Principals; p["ghost"] == nil || p["ci"] != nil {
		t.Fatalf("the quotas in force name %v", slices.Sorted(maps.Keys(p)))
	}
}

// Without --auth no call has a principal: a quota file's principals are
// not checked against anything, and swfd warns at start and at each
// reload that their overrides apply to no call.
func TestQuotaPrincipalsWithoutAuth(t *testing.T) {
	qPath := writeFile(t, "quotas.json", principalQuotas("ci", "ops"))
	var logBuf logbuf.Buffer
	s, err := Open(context.Background(), Config{DB: "sqlite::memory:", Quotas: qPath, Logger: slog.New(slog.NewTextHandler(&logBuf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := `msg="the quota file names principals, but without --auth no call has a principal: their overrides apply to no call" quotas=` + qPath + ` principals="ci, ops"`
	if !strings.Contains(logBuf.String(), want) {
		t.Fatalf("log at start:\n%s\nwant %s", logBuf.String(), want)
	}
	if _, err := s.Reload(); err != nil || strings.Count(logBuf.String(), want) != 2 {
		t.Fatalf("Reload: %v; log:\n%s", err, logBuf.String())
	}
}
