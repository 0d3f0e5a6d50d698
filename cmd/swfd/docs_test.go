package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd/internal/connlimit"
)

// serverFlags returns the server's flags as -h prints them: each name and
// the default it shows ("" when it shows none: an empty string, false, or
// a default the usage text words itself).
func serverFlags(t *testing.T) map[string]string {
	t.Helper()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-h"}, noenv, &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("run -h: %v", err)
	}
	defaultOf := regexp.MustCompile(`\(default ("[^"]*"|[^)]*)\)\s*$`)
	flags := map[string]string{}
	for _, block := range strings.Split(out.String(), "\n  -")[1:] {
		name, _, _ := strings.Cut(strings.Fields(block)[0], " ")
		def := ""
		if m := defaultOf.FindStringSubmatch(block); m != nil {
			def = strings.Trim(m[1], `"`)
		}
		flags[name] = def
	}
	if len(flags) < 20 {
		t.Fatalf("found only %d flags in swfd -h:\n%s", len(flags), out.String())
	}
	return flags
}

// sameDefault reports whether a default the documentation writes (doc)
// is the one swfd -h shows (help).
func sameDefault(doc, help string) bool {
	switch doc {
	case "(none)", "false":
		return help == ""
	}
	doc = strings.Trim(doc, "`")
	if doc == help {
		return true
	}
	d1, err1 := time.ParseDuration(doc)
	d2, err2 := time.ParseDuration(help)
	return err1 == nil && err2 == nil && d1 == d2
}

// The README's table of flags names every flag the server has, none it
// has not, and the defaults swfd -h shows; docs/operations.md's flags
// are the server's, with their variables.
func TestDocumentedFlagsAreTheServers(t *testing.T) {
	flags := serverFlags(t)
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, conf, ok := strings.Cut(string(readme), "\n## Configuration\n")
	if !ok {
		t.Fatal("README has no Configuration section")
	}
	conf, _, _ = strings.Cut(conf, "\n## ")
	flagName := regexp.MustCompile("`--([a-z-]+)`")
	documented := map[string]bool{}
	for _, line := range strings.Split(conf, "\n") {
		cells := strings.Split(line, " | ")
		if !strings.HasPrefix(line, "| `--") || len(cells) < 3 {
			continue
		}
		for _, m := range flagName.FindAllStringSubmatch(cells[0], -1) {
			name := m[1]
			documented[name] = true
			help, ok := flags[name]
			if !ok {
				t.Errorf("README's flag table has --%s, which swfd does not take", name)
				continue
			}
			if def := strings.TrimSpace(cells[1]); (strings.HasPrefix(def, "`") || def == "(none)" || def == "false" || def == "true") && !sameDefault(def, help) {
				t.Errorf("README's flag table gives --%s the default %s; swfd -h shows %q", name, def, help)
			}
		}
	}
	for name := range flags {
		if !documented[name] {
			t.Errorf("--%s is not in the README's flag table", name)
		}
	}

	ops, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	withEnv := regexp.MustCompile("`--([a-z-]+)` \\(`(SWFD_[A-Z_]+)`\\)")
	found := withEnv.FindAllStringSubmatch(string(ops), -1)
	if len(found) == 0 {
		t.Fatal("docs/operations.md names no flag with its variable")
	}
	for _, m := range found {
		if _, ok := flags[m[1]]; !ok {
			t.Errorf("docs/operations.md names --%s, which swfd does not take", m[1])
		} else if m[2] != envName(m[1]) {
			t.Errorf("docs/operations.md gives --%s the variable %s; swfd reads %s", m[1], m[2], envName(m[1]))
		}
	}
	// Its table of flags gives each the default swfd -h shows (a row of
	// several flags gives their defaults in the same order).
	for _, line := range strings.Split(string(ops), "\n") {
		cells := strings.Split(line, " | ")
		if !strings.HasPrefix(line, "| `--") || len(cells) < 3 {
			continue
		}
		names := flagName.FindAllStringSubmatch(cells[0], -1)
		defs := strings.Split(strings.TrimSpace(cells[1]), ", ")
		if len(defs) != len(names) {
			t.Errorf("docs/operations.md's row of %s gives %d defaults", cells[0], len(defs))
			continue
		}
		for i, m := range names {
			if help, ok := flags[m[1]]; ok && !sameDefault(strings.Trim(defs[i], "`"), help) {
				t.Errorf("docs/operations.md gives --%s the default %s; swfd -h shows %q", m[1], defs[i], help)
			}
		}
	}
}

// swfd -h, where the errors about a word on the command line send the
// operator, names swfd's other commands and how to get their help, as
// well as the server's flags.
func TestHelpNamesTheCommands(t *testing.T) {
	var out bytes.Buffer
	if code := command(context.Background(), []string{"-h"}, noenv, &out); code != 0 {
		t.Fatalf("swfd -h: exit status %d", code)
	}
	for _, want := range []string{"swfd migrate --from DSN --to DSN", "swfd backup --db sqlite:PATH --to FILE", "swfd restore --from BACKUP --db sqlite:PATH", "swfd COMMAND -h", "\n  -addr "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("swfd -h does not say %q:\n%s", want, out.String())
		}
	}
}

// Every variable SWFD_… a document names is one something reads: a flag's
// (SWFD_<NAME>, which swfd reads for each of its flags) or a switch the
// tests and scripts read, whose name is then written in them.
func TestDocumentedVariablesAreRead(t *testing.T) {
	flags := serverFlags(t)
	read := map[string]bool{}
	for name := range flags {
		read[envName(name)] = true
	}
	literal := regexp.MustCompile(`\bSWFD_[A-Z0-9_]*[A-Z0-9]\b`)
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && d.Name() != ".ci" && path != "../.." || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		switch filepath.Ext(path) {
		case ".go", ".sh", ".py", ".js", ".rb", ".java", "":
		default:
			return nil
		}
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, v := range literal.FindAllString(string(b), -1) {
			read[v] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !read["SWFD_TEST_LOG"] {
		t.Fatal("the walk found no switch of the tests: run from cmd/swfd")
	}
	docs, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	docs = append(docs, "../../README.md", "../../CONTRIBUTING.md", "../../clients/README.md")
	for _, doc := range docs {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, v := range literal.FindAllString(string(b), -1) {
			if !read[v] && !seen[v] {
				seen[v] = true
				t.Errorf("%s names %s, which neither swfd nor any test or script reads", strings.TrimPrefix(doc, "../../"), v)
			}
		}
	}
}

// The default of --max-connections, which swfd -h and the README word
// rather than show, names both bounds connlimit.Default keeps it within.
func TestMaxConnectionsDefaultDocumented(t *testing.T) {
	least, most := connlimit.Default(0), connlimit.Default(math.MaxUint64)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-h"}, noenv, &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("run -h: %v", err)
	}
	_, help, _ := strings.Cut(out.String(), "\n  -max-connections ")
	help, _, _ = strings.Cut(help, "\n  -")
	for _, want := range []string{fmt.Sprintf("at least %d", least), fmt.Sprintf("%d", most)} {
		if !strings.Contains(help, want) {
			t.Errorf("swfd -h's --max-connections does not say %q of its default:\n%s", want, help)
		}
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `--max-connections` \\| ([^|]*) \\|")
	m := row.FindStringSubmatch(string(readme))
	if m == nil {
		t.Fatal("README's flag table has no row for --max-connections")
	}
	for _, want := range []string{fmt.Sprintf("at least %d", least), fmt.Sprintf("%d,%03d", most/1000, most%1000)} {
		if !strings.Contains(m[1], want) {
			t.Errorf("README gives --max-connections the default %q, which does not say %q", m[1], want)
		}
	}
}
