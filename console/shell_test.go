package console_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The command lines the console shows, run for real: bash runs each line as
// a person would paste it, with swf (built from ./cmd/swf) or the AWS CLI
// as swf, against a fixture's server.

// shell runs command lines in bash with a swf on PATH that talks to a
// server.
type shell struct {
	t   *testing.T
	dir string // holds swf
	env []string
}

// swfShell builds swf for a test; without bash, or with -short, the test is
// skipped.
func swfShell(t *testing.T, endpoint string) *shell {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash on PATH")
	}
	if testing.Short() {
		t.Skip("builds the swf binary")
	}
	dir := t.TempDir()
	if out, err := exec.Command("go", "build", "-o", filepath.Join(dir, "swf"), "github.com/swfd/swfd/cmd/swf").CombinedOutput(); err != nil {
		t.Fatalf("go build swf: %v\n%s", err, out)
	}
	home := t.TempDir()
	return &shell{t: t, dir: dir, env: []string{"PATH=" + dir + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + home,
		"AWS_CONFIG_FILE=" + filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "none"),
		"AWS_ACCESS_KEY_ID=AKIDCONSOLETEST", "AWS_SECRET_ACCESS_KEY=secret", "AWS_DEFAULT_REGION=us-east-1", "AWS_ENDPOINT_URL=" + endpoint}}
}

// awsShell is a shell whose swf is the AWS CLI's `aws swf`; without aws
// the test is skipped.
func awsShell(t *testing.T, endpoint string) *shell {
	t.Helper()
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("no aws on PATH (pip install awscli)")
	}
	sh := swfShell(t, endpoint)
	script := "#!/bin/sh\nexec aws swf \"$@\"\n"
	if err := os.WriteFile(filepath.Join(sh.dir, "swf"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return sh
}

// run runs a command line in bash and returns its output; a failure fails
// the test.
func (sh *shell) run(line string) string {
	sh.t.Helper()
	cmd := exec.Command("bash", "-c", "set -e -o pipefail\n"+line)
	cmd.Env = sh.env
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		sh.t.Fatalf("bash: %v\n%s\nstdout:\n%s\nstderr:\n%s", err, line, o.String(), e.String())
	}
	if e.Len() > 0 {
		sh.t.Errorf("bash: errors on stderr:\n%s\n%s", line, e.String())
	}
	return o.String()
}
