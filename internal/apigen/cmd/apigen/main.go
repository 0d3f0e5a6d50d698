// Command apigen regenerates package api from the SWF service model.
//
//	go run ./internal/apigen/cmd/apigen [-model PATH] [-out DIR]
//
// Without -model it looks for botocore's copy of the model through python3.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/swfd/swfd/internal/apigen"
)

func main() {
	model := flag.String("model", "", "path to service-2.json or service-2.json.gz (default: botocore's)")
	out := flag.String("out", "api", "output directory")
	flag.Parse()
	path := *model
	if path == "" {
		var err error
		if path, err = apigen.FindModel(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	data, err := apigen.ReadModel(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	files, err := apigen.Generate(data)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(*out, name), src, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
