package e2e

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd/internal/swfdtest"
)

// The README's worked example runs as written, with the real AWS CLI, and
// prints what it shows: each block of comments right after a command is
// that command's output, and together, in order, they are all the example
// prints, line for line with each line's indentation (the AWS CLI indents
// its JSON over several lines). Runs of white space inside a line count as
// one (--output text separates columns with a tab), and a run id, which is
// new each time, is compared by its place only.
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
	var want []string
	blocks := 0
	afterCommand, inOutput := false, false
	for _, line := range strings.Split(script, "\n") {
		comment := line == "#" || strings.HasPrefix(line, "# ")
		switch {
		case comment && (afterCommand || inOutput):
			if afterCommand {
				blocks++
			}
			want = append(want, readmeLine(strings.TrimPrefix(strings.TrimPrefix(line, "#"), " ")))
			afterCommand, inOutput = false, true
		case comment || strings.TrimSpace(line) == "":
			afterCommand, inOutput = false, false
		default:
			afterCommand, inOutput = true, false
		}
	}
	if blocks < 4 {
		t.Fatalf("found %d blocks of output in the README's example; it shows 4 or more (the check finds nothing to hold it to)", blocks)
	}
	srv := swfdtest.Start(t, swfdtest.Options{PollTimeout: 5 * time.Second})
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "PATH="+awsDir+string(os.PathListSeparator)+os.Getenv("PATH"), socketVar, "AWS_ENDPOINT_URL_SWF="+srv.URL, "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_DEFAULT_REGION=us-east-1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("example failed: %v\n%s%s", err, out, stderr.String())
	}
	var got []string
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		got = append(got, readmeLine(line))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("the example printed:\n%s\nthe README shows:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

var runIDValue = regexp.MustCompile(`("runId": ")[^"]*(")`)

// readmeLine is line as the README's example and the AWS CLI's output are
// compared: its indentation kept, runs of white space after it made one
// space, and a run id's value left out.
func readmeLine(line string) string {
	body := strings.TrimLeft(line, " \t")
	indent := line[:len(line)-len(body)]
	return runIDValue.ReplaceAllString(indent+strings.Join(strings.Fields(body), " "), "${1}…${2}")
}
