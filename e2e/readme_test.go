package e2e

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd/internal/swfdtest"
)

// The README's worked example runs as written, with the real AWS CLI, and
// ends with the history it shows.
func TestReadmeWorkedExample(t *testing.T) {
	awsDir, socketVar := awsCommand(t)
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "## A worked example with the AWS CLI")
	if !ok {
		t.Fatal("README has no worked example section")
	}
	_, rest, _ = strings.Cut(rest, "```sh\n")
	script, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatal("unterminated code block")
	}
	srv := swfdtest.Start(t, swfdtest.Options{PollTimeout: 5 * time.Second})
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "PATH="+awsDir+string(os.PathListSeparator)+os.Getenv("PATH"), socketVar, "AWS_ENDPOINT_URL_SWF="+srv.URL, "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_DEFAULT_REGION=us-east-1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("example failed: %v\n%s", err, out)
	}
	// The comments after the last command show its output.
	var want []string
	lines := strings.Split(script, "\n")
	for i := len(lines) - 1; i >= 0 && strings.HasPrefix(lines[i], "# ") || i == len(lines)-1; i-- {
		if strings.HasPrefix(lines[i], "# ") {
			want = append([]string{strings.Join(strings.Fields(lines[i][2:]), " ")}, want...)
		}
	}
	if len(want) < 5 {
		t.Fatalf("could not find the history the README shows (%d lines)", len(want))
	}
	outLines := strings.Split(strings.TrimSpace(string(out)), "\n")
	got := outLines[len(outLines)-len(want):]
	for i := range got {
		got[i] = strings.Join(strings.Fields(got[i]), " ")
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("history printed:\n%s\nREADME shows:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
