package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swfd/swfd/internal/swfdtest"
)

// awsCLI runs the real AWS CLI against a test server. It returns stdout,
// stderr and the exit status.
type awsCLI struct {
	t        *testing.T
	endpoint string
	aws      string // the warm aws (awsCommand)
	env      []string
}

func newAWSCLI(t *testing.T, endpoint string) *awsCLI {
	t.Helper()
	awsDir, socketVar := awsCommand(t)
	dir := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		// Drop anything that could point the CLI at real credentials,
		// profiles or endpoints; AWS_CA_BUNDLE stays, as users have it.
		if strings.HasPrefix(k, "AWS_") && k != "AWS_CA_BUNDLE" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"AWS_ACCESS_KEY_ID=AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY=secret",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE="+filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "credentials"),
		"AWS_MAX_ATTEMPTS=1",
		"AWS_PAGER=",
		socketVar,
	)
	return &awsCLI{t: t, endpoint: endpoint, aws: filepath.Join(awsDir, "aws"), env: env}
}

func (a *awsCLI) run(args ...string) (stdout, stderr string, status int) {
	a.t.Helper()
	full := append([]string{"swf"}, args...)
	full = append(full, "--endpoint-url", a.endpoint, "--output", "json")
	cmd := exec.Command(a.aws, full...)
	cmd.Env = a.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		status = ee.ExitCode()
	default:
		a.t.Fatalf("aws %v: %v", args, err)
	}
	return out.String(), errb.String(), status
}

// ok runs a command that must succeed and decodes its JSON output (nil
// when the command prints nothing).
func (a *awsCLI) ok(args ...string) map[string]any {
	a.t.Helper()
	stdout, stderr, status := a.run(args...)
	if status != 0 {
		a.t.Fatalf("aws swf %s: exit %d\n%s", strings.Join(args, " "), status, stderr)
	}
	if strings.TrimSpace(stdout) == "" {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(stdout), &m); err != nil {
		a.t.Fatalf("aws swf %s: output %q: %v", strings.Join(args, " "), stdout, err)
	}
	return m
}

func TestAWSCLI(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("aws CLI not on PATH")
	}
	srv := swfdtest.Start(t, swfdtest.Options{})
	cli := newAWSCLI(t, srv.URL)

	if out := cli.ok("register-domain", "--name", "cli-domain", "--workflow-execution-retention-period-in-days", "14",
		"--description", "from the cli", "--tags", "key=team,value=ops"); out != nil {
		t.Errorf("register-domain printed %v", out)
	}
	d := cli.ok("describe-domain", "--name", "cli-domain")
	info, _ := d["domainInfo"].(map[string]any)
	if info["name"] != "cli-domain" || info["status"] != "REGISTERED" || info["description"] != "from the cli" ||
		info["arn"] != "arn:aws:swf:us-east-1:123456789012:/domain/cli-domain" {
		t.Errorf("domainInfo = %v", info)
	}
	if cfg, _ := d["configuration"].(map[string]any); cfg["workflowExecutionRetentionPeriodInDays"] != "14" {
		t.Errorf("configuration = %v", d["configuration"])
	}

	l := cli.ok("list-domains", "--registration-status", "REGISTERED")
	infos, _ := l["domainInfos"].([]any)
	if len(infos) != 1 || infos[0].(map[string]any)["name"] != "cli-domain" {
		t.Errorf("list-domains = %v", l)
	}

	cli.ok("register-activity-type", "--domain", "cli-domain", "--name", "act", "--activity-version", "1",
		"--default-task-list", "name=tl", "--default-task-start-to-close-timeout", "60")
	cli.ok("deprecate-activity-type", "--domain", "cli-domain", "--activity-type", "name=act,version=1")
	at := cli.ok("describe-activity-type", "--domain", "cli-domain", "--activity-type", "name=act,version=1")
	ti, _ := at["typeInfo"].(map[string]any)
	if ti["status"] != "DEPRECATED" || ti["deprecationDate"] == nil || ti["creationDate"] == nil {
		t.Errorf("typeInfo after deprecate = %v", ti)
	}
	if cfg, _ := at["configuration"].(map[string]any); cfg["defaultTaskStartToCloseTimeout"] != "60" {
		t.Errorf("configuration = %v", at["configuration"])
	}

	arn := "arn:aws:swf:us-east-1:123456789012:/domain/cli-domain"
	cli.ok("tag-resource", "--resource-arn", arn, "--tags", "key=env,value=prod", "key=team,value=dev")
	tags := cli.ok("list-tags-for-resource", "--resource-arn", arn)
	got := map[string]any{}
	list, _ := tags["tags"].([]any)
	for _, tg := range list {
		m := tg.(map[string]any)
		got[m["key"].(string)] = m["value"]
	}
	if len(got) != 2 || got["team"] != "dev" || got["env"] != "prod" {
		t.Errorf("tags = %v", tags)
	}

	_, stderr, status := cli.run("describe-domain", "--name", "nope")
	if status != 254 && status != 255 {
		t.Errorf("describe-domain nope: exit %d, want 254 or 255", status)
	}
	if !strings.Contains(stderr, "An error occurred (UnknownResourceFault) when calling the DescribeDomain operation") {
		t.Errorf("stderr = %q", stderr)
	}
	if !strings.Contains(stderr, "Unknown domain: nope") {
		t.Errorf("stderr lacks the message: %q", stderr)
	}
	_, stderr, status = cli.run("register-domain", "--name", "a:b", "--workflow-execution-retention-period-in-days", "1")
	if status == 0 || !strings.Contains(stderr, "(ValidationException)") {
		t.Errorf("register-domain a:b: exit %d, stderr %q", status, stderr)
	}
}
