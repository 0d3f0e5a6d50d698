package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAWSBatchJobsAreSeparateRuns: the command lines of one batch, each
// with its own credentials, region, profile and config file, behave as
// many separate `aws` runs would: each signs with its own key and region
// and prints in its own config file's output format, whatever the batch's
// first command line had. Tests that compare swf with the AWS CLI rely on
// it when they put different environments in one batch.
func TestAWSBatchJobsAreSeparateRuns(t *testing.T) {
	f := newFake(t, func(string, map[string]any) (int, string) { return 200, describeDomainWire })
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	textCfg := write("text", "[default]\noutput = text\n")
	jsonCfg := write("json", "[default]\noutput = json\n")
	profiles := write("profiles", "[default]\noutput = text\nregion = us-west-2\naws_access_key_id = AKC\naws_secret_access_key = SC\n"+
		"[profile p]\noutput = json\nregion = sa-east-1\naws_access_key_id = AKP\naws_secret_access_key = SP\n")
	creds := write("credentials", "[default]\naws_access_key_id = AKS\naws_secret_access_key = SS\n")
	noCreds := write("no-credentials", "")
	cases := []struct {
		env         map[string]string
		args        []string
		stdout      string
		key, region string
	}{
		{env: map[string]string{"AWS_CONFIG_FILE": textCfg, "AWS_ACCESS_KEY_ID": "AKA", "AWS_SECRET_ACCESS_KEY": "SA", "AWS_DEFAULT_REGION": "eu-west-1"},
			stdout: "d1\n", key: "AKA", region: "eu-west-1"},
		{env: map[string]string{"AWS_CONFIG_FILE": jsonCfg, "AWS_ACCESS_KEY_ID": "AKB", "AWS_SECRET_ACCESS_KEY": "SB", "AWS_DEFAULT_REGION": "ap-south-1"},
			stdout: "\"d1\"\n", key: "AKB", region: "ap-south-1"},
		{env: map[string]string{"AWS_CONFIG_FILE": profiles},
			stdout: "d1\n", key: "AKC", region: "us-west-2"},
		{env: map[string]string{"AWS_CONFIG_FILE": profiles, "AWS_PROFILE": "p"},
			stdout: "\"d1\"\n", key: "AKP", region: "sa-east-1"},
		{env: map[string]string{"AWS_CONFIG_FILE": profiles}, args: []string{"--profile", "p", "--region", "ca-central-1"},
			stdout: "\"d1\"\n", key: "AKP", region: "ca-central-1"},
		{env: map[string]string{"AWS_CONFIG_FILE": textCfg, "AWS_SHARED_CREDENTIALS_FILE": creds, "AWS_DEFAULT_REGION": "eu-north-1"},
			stdout: "d1\n", key: "AKS", region: "eu-north-1"},
		{env: map[string]string{"AWS_CONFIG_FILE": jsonCfg, "AWS_ACCESS_KEY_ID": "AKA2", "AWS_SECRET_ACCESS_KEY": "SA2", "AWS_DEFAULT_REGION": "eu-west-1"},
			stdout: "\"d1\"\n", key: "AKA2", region: "eu-west-1"},
	}
	jobs := make([]awsJob, len(cases))
	for i, c := range cases {
		env := map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL, "AWS_SHARED_CREDENTIALS_FILE": noCreds}
		for k, v := range c.env {
			env[k] = v
		}
		// Each asks for a domain of its own, by which its request is known.
		args := []string{"swf", "describe-domain", "--name", fmt.Sprintf("job%d", i), "--query", "domainInfo.name"}
		jobs[i] = awsJob{Args: append(args, c.args...), Env: env}
	}
	runs := awsBatchJobs(t, jobs, 2)
	signed := map[string]string{}
	f.mu.Lock()
	for _, r := range f.requests {
		name, _ := r.body["name"].(string)
		signed[name] = r.header.Get("Authorization")
	}
	f.mu.Unlock()
	for i, c := range cases {
		r := runs[i]
		if r.RC != 0 || r.Stdout != c.stdout || r.Stderr != "" {
			t.Errorf("%d %v %q: rc=%d %q %q, want 0 %q", i, c.env, c.args, r.RC, r.Stdout, r.Stderr, c.stdout)
		}
		auth, ok := signed[fmt.Sprintf("job%d", i)]
		if !ok {
			t.Errorf("%d %v %q: no request", i, c.env, c.args)
		} else if !strings.Contains(auth, "Credential="+c.key+"/") || !strings.Contains(auth, "/"+c.region+"/swf/") {
			t.Errorf("%d %v %q: signed %q, want key %s and region %s", i, c.env, c.args, auth, c.key, c.region)
		}
	}
}
