// Package awscli finds the Python of the installed AWS CLI, for swfd's
// tests that run the real aws command (package cli's parity tests, e2e's
// warm CLI): they start that Python themselves, once, rather than aws's
// launcher for every command line.
package awscli

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"sync"
)

// Python returns the absolute path of a Python that can import awscli
// when the aws command is installed, or "". It looks once per process
// (each look starts Python and imports awscli, about half a second of
// CPU): first the interpreter aws's script names, then python3 and python,
// and gives the interpreter itself, not a launcher such as pyenv's shim,
// which is a shell script that starts a few more processes each time.
var Python = sync.OnceValue(func() string {
	path, err := exec.LookPath("aws")
	if err != nil {
		return ""
	}
	var candidates []string
	if f, err := os.Open(path); err == nil {
		line, _ := bufio.NewReader(f).ReadString('\n')
		f.Close()
		if fields := strings.Fields(strings.TrimPrefix(line, "#!")); strings.HasPrefix(line, "#!") && len(fields) > 0 && strings.Contains(fields[len(fields)-1], "python") {
			candidates = append(candidates, fields[len(fields)-1])
		}
	}
	candidates = append(candidates, "python3", "python")
	for _, c := range candidates {
		if out, err := exec.Command(c, "-c", "import awscli, sys; print(sys.executable)").Output(); err == nil {
			if exe := strings.TrimSpace(string(out)); exe != "" {
				return exe
			}
			return c
		}
	}
	return ""
})
