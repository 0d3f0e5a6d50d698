// Package clients holds the real SWF clients that run-all.sh drives
// against swfd (see README.md); its Go test checks the script's own
// helpers.
package clients

import (
	"os/exec"
	"strings"
	"testing"
)

// run-all.sh's table of outcomes keeps its columns whatever the clients'
// names: each outcome starts where the others do, one space past the
// longest name.
func TestResultsTableColumnsLineUp(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	script := `. ./results.sh
declare -A result=([go-v2]="PASS (3s)" [boto3-throttling]="FAIL (12s)" [awscli-auth]=SKIP [js]="PASS (1s)")
print_results go-v2 boto3-throttling awscli-auth js`
	out, err := exec.Command("bash", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("print_results: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	want := map[string]string{"go-v2": "PASS (3s)", "boto3-throttling": "FAIL (12s)", "awscli-auth": "SKIP", "js": "PASS (1s)"}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), out)
	}
	column := len("boto3-throttling") + 1
	for _, l := range lines {
		name, _, _ := strings.Cut(l, " ")
		if len(l) <= column || strings.TrimSpace(l[:column]) != name || l[column-1] != ' ' || l[column:] != want[name] {
			t.Errorf("line %q: want the name, then its outcome %q from column %d", l, want[name], column+1)
		}
	}
}
