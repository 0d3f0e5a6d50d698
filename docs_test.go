package swfd

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// The documents name the tests that hold swfd to what they say (the
// README's Production section, docs/behaviour.md's table, …): a test
// renamed or removed would leave a reader looking for nothing. Every test
// a document names in backticks is one that exists.
func TestDocumentsNameTestsThatExist(t *testing.T) {
	docs := []string{"README.md", "CONTRIBUTING.md", "BENCHMARKS.md", "clients/README.md"}
	more, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	docs = append(docs, more...)

	defined := map[string]bool{}
	funcTest := regexp.MustCompile(`(?m)^func (Test[A-Za-z0-9_]*)\(`)
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != "." || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range funcTest.FindAllSubmatch(b, -1) {
			defined[string(m[1])] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !defined["TestDocumentsNameTestsThatExist"] {
		t.Fatal("the walk found no tests: run from the repository's root")
	}

	named := regexp.MustCompile("`(Test[A-Z][A-Za-z0-9_]*)`")
	for _, doc := range docs {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		var missing []string
		seen := map[string]bool{}
		for _, m := range named.FindAllSubmatch(b, -1) {
			if name := string(m[1]); !defined[name] && !seen[name] {
				seen[name] = true
				missing = append(missing, name)
			}
		}
		sort.Strings(missing)
		for _, name := range missing {
			t.Errorf("%s names %s, which no _test.go file defines", doc, name)
		}
	}
}

// The README's "How the code is laid out", to which CONTRIBUTING.md and
// this package's comment send a newcomer, has a row for every package of
// the module (each directory holding Go files, tests alone included) and
// none for a package that is not there.
func TestReadmeTableListsEveryPackage(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(readme), "\n## How the code is laid out\n")
	if !ok {
		t.Fatal(`README.md has no "How the code is laid out" section`)
	}
	table, _, _ = strings.Cut(table, "\n## ")
	listed := map[string]bool{}
	row := regexp.MustCompile("(?m)^\\| `([^`]+)`[^|]*\\|")
	for _, m := range row.FindAllStringSubmatch(table, -1) {
		name := m[1]
		if name == "swfd" {
			name = "."
		}
		listed[name] = true
	}

	packages := map[string]bool{}
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != "." && (strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_") || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") {
			packages[filepath.ToSlash(filepath.Dir(path))] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !packages["."] || !packages["cmd/swfd"] {
		t.Fatal("the walk found no packages: run from the repository's root")
	}
	var missing, extra []string
	for p := range packages {
		if !listed[p] {
			missing = append(missing, p)
		}
	}
	for p := range listed {
		if !packages[p] {
			extra = append(extra, p)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	for _, p := range missing {
		t.Errorf("README.md's package table has no row for %s", p)
	}
	for _, p := range extra {
		t.Errorf("README.md's package table lists %s, which is no package of the module", p)
	}
}

// A test fixture the documents show (docs/testing.md's snippets, and the
// example files under docs/testing/) that starts swfd with its log on a
// pipe, and reads the pipe to find the address swfd logs, goes on reading
// it once it has: a pipe nobody reads fills (64 KB on Linux), and swfd,
// blocked writing its log, stops answering (after some sixty resets).
func TestDocumentedFixturesDrainTheLog(t *testing.T) {
	var blocks []string // "file: code"
	docs, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	docs = append(docs, "README.md")
	fence := regexp.MustCompile("(?ms)^```[a-z]*\n(.*?)^```")
	for _, doc := range docs {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range fence.FindAllStringSubmatch(string(b), -1) {
			blocks = append(blocks, doc+": "+m[1])
		}
	}
	err = filepath.WalkDir("docs/testing", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "node_modules" {
			return filepath.SkipDir
		}
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		blocks = append(blocks, path+": "+string(b))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, block := range blocks {
		// Code that matches the log line to find the address.
		if !strings.Contains(block, `swfd listening\" addr=`) && !strings.Contains(block, `swfd listening" addr=(`) {
			continue
		}
		found++
		drains := false
		for _, d := range []string{"stderr.resume()", "stderr.read", ".transferTo("} {
			drains = drains || strings.Contains(block, d)
		}
		if !drains {
			name, _, _ := strings.Cut(block, ": ")
			t.Errorf("%s: a fixture reads swfd's log to find its address and then stops reading it: swfd blocks once the pipe fills\n%s", name, block)
		}
	}
	if found < 3 {
		t.Fatalf("found %d fixtures that read swfd's address from its log; docs/testing.md has three", found)
	}
}

// The documents run the server and the command line as the commands swfd
// and swf (swfd --auth …, swfd backup …, swf register-domain …), while the
// README's "Run it" started the server with go run and no page said how to
// have either command: a newcomer following the pages met "command not
// found". Whenever a shell block of a document runs one of them from the
// PATH, "Run it", the README's first section, says how to install both.
func TestReadmeSaysHowToInstallTheCommands(t *testing.T) {
	docs, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	docs = append(docs, "README.md")
	fence := regexp.MustCompile("(?ms)^```sh\n(.*?)^```")
	command := regexp.MustCompile(`(?m)^(?:[A-Z_]+=\S+ )*(swfd?) `)
	runs := map[string]string{} // command → where a block first runs it
	for _, doc := range docs {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range fence.FindAllStringSubmatch(string(b), -1) {
			for _, c := range command.FindAllStringSubmatch(m[1], -1) {
				if _, ok := runs[c[1]]; !ok {
					runs[c[1]] = doc
				}
			}
		}
	}
	if runs["swfd"] == "" || runs["swf"] == "" {
		t.Fatalf("no shell block runs swfd or swf (%v): the check finds nothing to hold the README to", runs)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	runIt := strings.Index(text, "\n## Run it\n")
	next := strings.Index(text[runIt+1:], "\n## ")
	if runIt < 0 || next < 0 {
		t.Fatal("the README has no section \"Run it\"")
	}
	section := text[runIt : runIt+1+next]
	const install = "CGO_ENABLED=0 go install ./cmd/swfd ./cmd/swf\n"
	if !strings.Contains(section, "\n"+install) {
		t.Errorf("%s runs swfd and %s runs swf as commands, but the README's \"Run it\" does not say how to install them (%q)", runs["swfd"], runs["swf"], install)
	}
}
