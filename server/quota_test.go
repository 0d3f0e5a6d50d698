package server

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
