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
