package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// builtCmds holds the commands built for one run of the package's tests:
// each is built (linked: some seconds of CPU) once, into a directory that
// TestMain removes at the end, and every test that runs it shares the
// binary, which none of them changes.
type builtCmds struct {
	mu   sync.Mutex
	dir  string
	bins map[string]string // name -> path
}

// built is the package's one builtCmds: a test's t.TempDir would go with
// the test, and the point is to keep the binaries from one to the next.
var built builtCmds

// TestMain runs the tests, then stops the AWS CLI's warm process
// (awsCommand) and removes the binaries the tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	stopAWSFork()
	built.mu.Lock()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	built.mu.Unlock()
	os.Exit(code)
}

// buildCmd builds ./cmd/<name> once for the package's tests (see
// builtCmds) and returns the binary's path. A build that fails fails the
// test, and the next test that asks tries again.
func buildCmd(t testing.TB, name string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the " + name + " binary")
	}
	built.mu.Lock()
	defer built.mu.Unlock()
	if bin, ok := built.bins[name]; ok {
		return bin
	}
	if built.dir == "" {
		dir, err := os.MkdirTemp("", "swfd-e2e-bin-")
		if err != nil {
			t.Fatal(err)
		}
		built.dir, built.bins = dir, map[string]string{}
	}
	bin := filepath.Join(built.dir, name)
	out, err := exec.Command("go", "build", "-o", bin, "github.com/swfd/swfd/cmd/"+name).CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	built.bins[name] = bin
	return bin
}

// startManual starts the swfd binary with a manual clock, args added, on a
// free port, and returns its URL.
func startManual(t *testing.T, bin string, args ...string) string {
	t.Helper()
	p := startSwfd(t, bin, nil, append([]string{"--addr", anyPort, "--db", "sqlite::memory:", "--clock", "manual"}, args...)...)
	return "http://" + p.addr
}

// noCredsEnv is an environment with no AWS credentials anywhere (but the
// machine's CA bundle, as users have it).
func noCredsEnv(t *testing.T) []string {
	home := t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home,
		"AWS_CONFIG_FILE=" + filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "none")}
	if ca := os.Getenv("AWS_CA_BUNDLE"); ca != "" {
		env = append(env, "AWS_CA_BUNDLE="+ca)
	}
	return env
}

type cliRun struct {
	stdout, stderr string
	rc             int
}

func runCLI(t *testing.T, bin string, env []string, args ...string) cliRun {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	rc := 0
	if ee, ok := err.(*exec.ExitError); ok {
		rc = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return cliRun{o.String(), e.String(), rc}
}

// swf against a local swfd with no credentials configured signs with
// placeholder ones without a word (no instance-metadata warning), says so
// under --debug, and drives the clock.
func TestSwfLocalWithoutCredentials(t *testing.T) {
	swfd, swfBin := buildCmd(t, "swfd"), buildCmd(t, "swf")
	url := startManual(t, swfd)
	env := noCredsEnv(t)
	swf := func(args ...string) cliRun {
		return runCLI(t, swfBin, env, append([]string{"--endpoint-url", url}, args...)...)
	}

	r := swf("register-domain", "--name", "d", "--workflow-execution-retention-period-in-days", "1")
	if r.rc != 0 || r.stderr != "" {
		t.Fatalf("register-domain: rc %d, stderr %q", r.rc, r.stderr)
	}
	r = swf("clock")
	if r.rc != 0 || r.stderr != "" || !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \(manual clock\)\n$`).MatchString(r.stdout) {
		t.Fatalf("clock: rc %d, %q, stderr %q", r.rc, r.stdout, r.stderr)
	}
	before, _ := time.Parse(time.RFC3339, strings.Fields(r.stdout)[0])
	r = swf("clock", "advance", "1d12h")
	if r.rc != 0 || !strings.Contains(r.stdout, before.Add(36*time.Hour).Format("2006-01-02T15:04:05.000Z")+" (manual clock; 0 timers fired)") {
		t.Fatalf("clock advance: rc %d, %q, stderr %q", r.rc, r.stdout, r.stderr)
	}
	r = swf("clock", "set", "2001-01-01T00:00:00Z")
	if r.rc != 255 || !strings.Contains(r.stderr, "An error occurred (ValidationException) when calling the SetClock operation") ||
		!strings.Contains(r.stderr, "the clock never goes backwards") {
		t.Fatalf("clock set backwards: rc %d, stderr %q", r.rc, r.stderr)
	}
	r = swf("clock", "advance", "-1h")
	if r.rc != 255 || !strings.Contains(r.stderr, "must not be negative") {
		t.Fatalf("clock advance -1h: rc %d, stderr %q", r.rc, r.stderr)
	}
	r = swf("clock", "--output", "json")
	if r.rc != 0 || !strings.Contains(r.stdout, `"mode": "manual"`) {
		t.Fatalf("clock --output json: %q", r.stdout)
	}
	r = swf("--debug", "clock")
	if r.rc != 0 || !strings.Contains(r.stderr, "signing with placeholder credentials") || strings.Contains(r.stderr, "IMDS") && !strings.Contains(r.stderr, "access disabled to EC2 IMDS") {
		t.Fatalf("--debug: rc %d, stderr %q", r.rc, r.stderr)
	}
}

const clockAuthFile = `{"principals": [
  {"name": "operator", "accessKeys": [{"accessKeyId": "AKIDOPERATOR", "secretAccessKey": "operator-secret"}],
   "policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "swf:*", "Resource": "*"}]}]},
  {"name": "tester", "accessKeys": [{"accessKeyId": "AKIDTESTER", "secretAccessKey": "tester-secret"}],
   "policies": [{"Version": "2012-10-17", "Statement": [
     {"Effect": "Allow", "Action": ["swf:*", "swfd:AdvanceClock", "swfd:Reset"], "Resource": "*"}]}]}]}`

// With --auth, swf without credentials fails with a message that says real
// keys are needed, and moving the clock needs swfd:AdvanceClock.
func TestSwfAgainstAuthWithoutCredentials(t *testing.T) {
	swfd, swfBin := buildCmd(t, "swfd"), buildCmd(t, "swf")
	authPath := filepath.Join(t.TempDir(), "auth.json")
	os.WriteFile(authPath, []byte(clockAuthFile), 0o600)
	url := startManual(t, swfd, "--auth", authPath)
	env := noCredsEnv(t)
	swf := func(env []string, args ...string) cliRun {
		return runCLI(t, swfBin, env, append([]string{"--endpoint-url", url}, args...)...)
	}
	r := swf(env, "list-domains", "--registration-status", "REGISTERED")
	if r.rc != 255 || !strings.Contains(r.stderr, "UnrecognizedClientException") || !strings.Contains(r.stderr, "this server checks signatures (swfd --auth)") ||
		!strings.Contains(r.stderr, "AWS_ACCESS_KEY_ID") {
		t.Fatalf("list-domains without credentials: rc %d, stderr %q", r.rc, r.stderr)
	}
	r = swf(env, "clock", "advance", "1h")
	if r.rc != 255 || !strings.Contains(r.stderr, "real access key") {
		t.Fatalf("clock advance without credentials: rc %d, stderr %q", r.rc, r.stderr)
	}
	operator := append(env, "AWS_ACCESS_KEY_ID=AKIDOPERATOR", "AWS_SECRET_ACCESS_KEY=operator-secret")
	if r = swf(operator, "clock"); r.rc != 0 {
		t.Fatalf("operator reads the clock: rc %d, stderr %q", r.rc, r.stderr)
	}
	r = swf(operator, "clock", "advance", "1h")
	if r.rc != 255 || !strings.Contains(r.stderr, "OperationNotPermittedFault") || !strings.Contains(r.stderr, "swfd:AdvanceClock") {
		t.Fatalf("operator advances the clock: rc %d, stderr %q", r.rc, r.stderr)
	}
	tester := append(env, "AWS_ACCESS_KEY_ID=AKIDTESTER", "AWS_SECRET_ACCESS_KEY=tester-secret")
	if r = swf(tester, "clock", "advance", "1h"); r.rc != 0 || !strings.Contains(r.stdout, "manual clock; 0 timers fired") {
		t.Fatalf("tester advances the clock: rc %d, %q, stderr %q", r.rc, r.stdout, r.stderr)
	}
}

// swf dev reset empties a swfd --dev; a server that keeps its data refuses
// it, and with --auth it needs swfd:Reset.
func TestSwfDevReset(t *testing.T) {
	swfd, swfBin := buildCmd(t, "swfd"), buildCmd(t, "swf")
	authPath := filepath.Join(t.TempDir(), "auth.json")
	os.WriteFile(authPath, []byte(clockAuthFile), 0o600)
	dev := startManual(t, swfd, "--dev", "--auth", authPath)
	kept := startManual(t, swfd, "--auth", authPath)
	env := slices.Clip(noCredsEnv(t)) // each append below gets its own copy
	operator := append(env, "AWS_ACCESS_KEY_ID=AKIDOPERATOR", "AWS_SECRET_ACCESS_KEY=operator-secret")
	tester := append(env, "AWS_ACCESS_KEY_ID=AKIDTESTER", "AWS_SECRET_ACCESS_KEY=tester-secret")
	swf := func(url string, env []string, args ...string) cliRun {
		return runCLI(t, swfBin, env, append([]string{"--endpoint-url", url}, args...)...)
	}
	domains := func(url string) string {
		r := swf(url, tester, "list-domains", "--registration-status", "REGISTERED", "--query", "domainInfos[].name", "--output", "text")
		if r.rc != 0 {
			t.Fatalf("list-domains: rc %d, stderr %q", r.rc, r.stderr)
		}
		return strings.TrimSpace(r.stdout)
	}
	for _, url := range []string{dev, kept} {
		if r := swf(url, tester, "register-domain", "--name", "d", "--workflow-execution-retention-period-in-days", "1"); r.rc != 0 {
			t.Fatalf("register-domain: rc %d, stderr %q", r.rc, r.stderr)
		}
	}
	r := swf(dev, operator, "dev", "reset")
	if r.rc != 255 || !strings.Contains(r.stderr, "OperationNotPermittedFault") || !strings.Contains(r.stderr, "swfd:Reset") {
		t.Fatalf("operator resets: rc %d, stderr %q", r.rc, r.stderr)
	}
	if got := domains(dev); got != "d" {
		t.Fatalf("after a denied reset the domains are %q", got)
	}
	r = swf(kept, tester, "dev", "reset")
	if r.rc != 255 || !strings.Contains(r.stderr, "(OperationNotPermittedFault) when calling the Reset operation") || !strings.Contains(r.stderr, "--dev") {
		t.Fatalf("reset of a server that keeps its data: rc %d, stderr %q", r.rc, r.stderr)
	}
	if got := domains(kept); got != "d" {
		t.Fatalf("after a refused reset the domains are %q", got)
	}
	r = swf(dev, tester, "dev", "reset")
	if r.rc != 0 || r.stdout != "reset: every domain, execution and task dropped\n" {
		t.Fatalf("dev reset: rc %d, %q, stderr %q", r.rc, r.stdout, r.stderr)
	}
	if got := domains(dev); got != "" {
		t.Fatalf("after the reset the domains are %q, want none", got)
	}
	if r = swf(dev, tester, "dev"); r.rc != 252 && r.rc != 2 {
		t.Errorf("swf dev without reset: rc %d, stderr %q", r.rc, r.stderr)
	}
}
