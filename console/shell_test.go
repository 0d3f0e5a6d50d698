package console_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
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

// swfShell is a shell whose swf is swf built from ./cmd/swf (once for all
// the package's tests); without bash, or with -short, the test is skipped.
func swfShell(t *testing.T, endpoint string) *shell {
	t.Helper()
	shellAllowed(t)
	bin, err := swfBinary.get()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(bin, filepath.Join(dir, "swf")); err != nil {
		t.Fatal(err)
	}
	return newShell(t, dir, endpoint)
}

// awsShell is a shell whose swf is the AWS CLI's `aws swf`; without aws
// the test is skipped, as it is by swfShell.
func awsShell(t *testing.T, endpoint string) *shell {
	t.Helper()
	shellAllowed(t)
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("no aws on PATH (pip install awscli)")
	}
	dir := t.TempDir()
	script := "#!/bin/sh\nexec aws swf \"$@\"\n"
	if err := os.WriteFile(filepath.Join(dir, "swf"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return newShell(t, dir, endpoint)
}

// shellAllowed skips a test of command lines without bash, or with -short
// (which skips building swf and running the AWS CLI).
func shellAllowed(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash on PATH")
	}
	if testing.Short() {
		t.Skip("builds the swf binary")
	}
}

// newShell is a shell with dir, which holds swf, first on its PATH, a home
// of its own, no AWS configuration, and the server at endpoint.
func newShell(t *testing.T, dir, endpoint string) *shell {
	home := t.TempDir()
	return &shell{t: t, dir: dir, env: []string{"PATH=" + dir + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + home,
		"AWS_CONFIG_FILE=" + filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "none"),
		"AWS_ACCESS_KEY_ID=AKIDCONSOLETEST", "AWS_SECRET_ACCESS_KEY=secret", "AWS_DEFAULT_REGION=us-east-1", "AWS_ENDPOINT_URL=" + endpoint}}
}

// swfBinary is swf built once for the package's tests (linking it took
// each test that runs command lines a second or more); TestMain removes it.
var swfBinary sharedBuild

// sharedBuild builds swf the first time a test asks for it.
type sharedBuild struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// get returns the path of the swf binary, building it if need be.
func (b *sharedBuild) get() (string, error) {
	b.once.Do(func() {
		if b.dir, b.err = os.MkdirTemp("", "swfd-console-swf-"); b.err != nil {
			return
		}
		path := filepath.Join(b.dir, "swf")
		if out, err := exec.Command("go", "build", "-o", path, "github.com/swfd/swfd/cmd/swf").CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build swf: %w\n%s", err, out)
			return
		}
		b.path = path
	})
	return b.path, b.err
}

// remove removes the binary, if one was built.
func (b *sharedBuild) remove() {
	if b.dir != "" {
		os.RemoveAll(b.dir)
	}
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
