package cli

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigSectionNamesAsBotocore: a section of the config file is named
// by all between its brackets, as botocore reads it, so "[ default ]" is
// no profile and "[ profile p ]" is not p; a section starting with
// "profile" names the profile of its second word ("[profile  q ]" is q,
// "[profilex r]" is r), and of "[default]" and "[profile default]" the
// one written last counts.
func TestConfigSectionNamesAsBotocore(t *testing.T) {
	setCreds(t)
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	f := newFake(t, func(string, map[string]any) (int, string) { return 200, describeDomainWire })
	dir := t.TempDir()
	spaced, twice := filepath.Join(dir, "spaced"), filepath.Join(dir, "twice")
	os.WriteFile(spaced, []byte("[ default ]\noutput = text\nregion = eu-west-1\n"+
		"[ profile p ]\noutput = text\naws_access_key_id = AKP\naws_secret_access_key = SP\n"+
		"[profile  q ]\noutput = text\nregion = eu-west-2\naws_access_key_id = AKQ\naws_secret_access_key = SQ\n"+
		"[profilex r]\noutput = text\nregion = eu-west-3\naws_access_key_id = AKR\naws_secret_access_key = SR\n"), 0o600)
	os.WriteFile(twice, []byte("[default]\noutput = table\n[profile default]\noutput = text\n"), 0o600)
	dd := []string{"describe-domain", "--name", "d1", "--query", "domainInfo.name"}
	cases := []struct {
		config  string
		args    []string
		stdout  string
		stderr  string
		rc      int
		region  string // the region swf signs with
		keyUsed string
	}{
		{config: spaced, stdout: "\"d1\"\n", region: "us-east-1", keyUsed: "AKIDTEST"},
		{config: spaced, args: []string{"--profile", "p"}, stderr: "\nThe config profile (p) could not be found\n", rc: 255},
		{config: spaced, args: []string{"--profile", "q"}, stdout: "d1\n", region: "eu-west-2", keyUsed: "AKQ"},
		{config: spaced, args: []string{"--profile", "r"}, stdout: "d1\n", region: "eu-west-3", keyUsed: "AKR"},
		{config: twice, stdout: "d1\n", region: "us-east-1", keyUsed: "AKIDTEST"},
	}
	for _, c := range cases {
		t.Setenv("AWS_CONFIG_FILE", c.config) // the SDK reads the process's environment
		env := map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL, "AWS_CONFIG_FILE": c.config, "AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret"}
		n := len(f.requests)
		r := swfRun(env, append(append([]string{}, dd...), c.args...)...)
		if r.RC != c.rc || r.Stdout != c.stdout || r.Stderr != c.stderr {
			t.Errorf("swf %s %q: rc=%d %q %q, want %d %q %q", filepath.Base(c.config), c.args, r.RC, r.Stdout, r.Stderr, c.rc, c.stdout, c.stderr)
			continue
		}
		if c.rc != 0 {
			continue
		}
		if len(f.requests) != n+1 {
			t.Errorf("swf %s %q: %d calls", filepath.Base(c.config), c.args, len(f.requests)-n)
			continue
		}
		if auth := f.last().header.Get("Authorization"); !strings.Contains(auth, "Credential="+c.keyUsed+"/") || !strings.Contains(auth, "/"+c.region+"/swf/") {
			t.Errorf("swf %s %q: signed %q, want key %s and region %s", filepath.Base(c.config), c.args, auth, c.keyUsed, c.region)
		}
	}
	t.Run("aws", func(t *testing.T) {
		var jobs []awsJob
		for _, c := range cases {
			region := c.region
			if c.region == "us-east-1" {
				region = "" // aws has no default; given here as swf takes it
			}
			env := map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL, "AWS_CONFIG_FILE": c.config, "AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret"}
			if region == "" {
				env["AWS_DEFAULT_REGION"] = "us-east-1"
			}
			jobs = append(jobs, awsJob{Args: append(append([]string{"swf"}, dd...), c.args...), Env: env})
		}
		runs := awsBatchJobs(t, jobs, 2)
		for i, r := range runs {
			c := cases[i]
			if r.RC != c.rc || r.Stdout != c.stdout || r.Stderr != c.stderr {
				t.Errorf("aws %s %q: rc=%d %q %q, want %d %q %q", filepath.Base(c.config), c.args, r.RC, r.Stdout, r.Stderr, c.rc, c.stdout, c.stderr)
			}
		}
	})
}

// TestCABundleOfTheProfile: the profile's ca_bundle is the CA bundle when
// neither --ca-bundle nor AWS_CA_BUNDLE is given, and as those it is read
// only for an https endpoint: a missing one fails such a call as the AWS
// CLI words it, and leaves an http one alone.
func TestCABundleOfTheProfile(t *testing.T) {
	setCreds(t)
	plain := newFake(t, func(string, map[string]any) (int, string) { return 200, describeDomainWire })
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, describeDomainWire) }))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	dir := t.TempDir()
	good := caFile(t, tlsSrv)
	missingCfg, goodCfg := filepath.Join(dir, "missing"), filepath.Join(dir, "good")
	os.WriteFile(missingCfg, []byte("[default]\nca_bundle = "+filepath.Join(dir, "nope.pem")+"\n"), 0o600)
	os.WriteFile(goodCfg, []byte("[default]\nca_bundle = "+good+"\n"), 0o600)
	dd := []string{"describe-domain", "--name", "d1", "--query", "domainInfo.name", "--output", "text"}
	cases := []struct {
		config, endpoint, envBundle string
		args                        []string
		stdout, stderr              string
		rc                          int
	}{
		{config: missingCfg, endpoint: plain.URL, stdout: "d1\n"},
		{config: missingCfg, endpoint: tlsSrv.URL, rc: 255, stderr: "\nSSL validation failed for " + tlsSrv.URL + "/ [Errno 2] No such file or directory\n"},
		{config: missingCfg, endpoint: tlsSrv.URL, envBundle: good, stdout: "d1\n"},
		{config: missingCfg, endpoint: tlsSrv.URL, args: []string{"--ca-bundle", good}, stdout: "d1\n"},
		{config: goodCfg, endpoint: tlsSrv.URL, stdout: "d1\n"},
	}
	for _, c := range cases {
		t.Setenv("AWS_CONFIG_FILE", c.config)
		t.Setenv("AWS_CA_BUNDLE", c.envBundle)
		if c.envBundle == "" {
			os.Unsetenv("AWS_CA_BUNDLE")
		}
		env := map[string]string{"AWS_CONFIG_FILE": c.config}
		r := swfRun(env, append(append([]string{}, dd...), append([]string{"--endpoint-url", c.endpoint}, c.args...)...)...)
		if r.RC != c.rc || r.Stdout != c.stdout || r.Stderr != c.stderr {
			t.Errorf("swf %s %s AWS_CA_BUNDLE=%q %q: rc=%d %q %q, want %d %q %q", filepath.Base(c.config), c.endpoint, c.envBundle, c.args, r.RC, r.Stdout, r.Stderr, c.rc, c.stdout, c.stderr)
		}
	}
	t.Run("aws", func(t *testing.T) {
		var jobs []awsJob
		for _, c := range cases {
			env := map[string]string{"AWS_CONFIG_FILE": c.config, "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s", "AWS_DEFAULT_REGION": "us-east-1", awsMaxAttempts: "1"}
			if c.envBundle != "" {
				env["AWS_CA_BUNDLE"] = c.envBundle
			}
			jobs = append(jobs, awsJob{Args: append(append([]string{"swf"}, dd...), append([]string{"--endpoint-url", c.endpoint}, c.args...)...), Env: env})
		}
		runs := awsBatchJobs(t, jobs, 2)
		for i, r := range runs {
			c := cases[i]
			// Python adds where in _ssl.c after the reason.
			if r.RC != c.rc || r.Stdout != c.stdout || !strings.HasPrefix(r.Stderr, strings.TrimSuffix(c.stderr, "\n")) || (c.stderr == "") != (r.Stderr == "") {
				t.Errorf("aws %s %s AWS_CA_BUNDLE=%q %q: rc=%d %q %q, want %d %q %q", filepath.Base(c.config), c.endpoint, c.envBundle, c.args, r.RC, r.Stdout, r.Stderr, c.rc, c.stdout, c.stderr)
			}
		}
	})
}
