package api_test

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/swfd/swfd/internal/apigen"
)

// TestGeneratedFilesUpToDate regenerates package api from botocore's copy of
// the service model and requires the committed *_gen.go files to match byte
// for byte, so nobody edits generated code by hand or forgets to regenerate.
func TestGeneratedFilesUpToDate(t *testing.T) {
	path, err := apigen.FindModel()
	if err != nil {
		t.Skipf("SWF service model not available: %v", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Skipf("SWF service model not available: %v", err)
	}
	model, err := apigen.ReadModel(path)
	if err != nil {
		t.Fatalf("read model %s: %v", path, err)
	}
	files, err := apigen.Generate(model)
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	want := []string{"ops_gen.go", "shapes_gen.go", "types_gen.go"}
	var got []string
	for name := range files {
		got = append(got, name)
	}
	sort.Strings(got)
	if len(got) != len(want) {
		t.Fatalf("generator produced %v, want %v", got, want)
	}
	for _, name := range want {
		gen, ok := files[name]
		if !ok {
			t.Errorf("generator did not produce %s", name)
			continue
		}
		committed, err := os.ReadFile(filepath.Join(".", name))
		if err != nil {
			t.Errorf("read committed %s: %v", name, err)
			continue
		}
		if !bytes.Equal(gen, committed) {
			line := 1
			for i := 0; i < len(gen) && i < len(committed); i++ {
				if gen[i] != committed[i] {
					break
				}
				if gen[i] == '\n' {
					line++
				}
			}
			t.Errorf("%s is stale: differs from the generator's output at line %d; run go generate ./api/", name, line)
		}
	}
	// Every *_gen.go file in the package must come from the generator.
	matches, _ := filepath.Glob("*_gen.go")
	for _, m := range matches {
		if _, ok := files[m]; !ok {
			t.Errorf("%s is not produced by the generator", m)
		}
	}
}
