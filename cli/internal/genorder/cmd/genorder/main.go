// Command genorder writes cli/order_gen.go from botocore's SWF model.
//
// Usage (from cli/): go run ./internal/genorder/cmd/genorder -out order_gen.go
package main

import (
	"flag"
	"log"
	"os"

	"github.com/swfd/swfd/cli/internal/genorder"
	"github.com/swfd/swfd/internal/apigen"
)

func main() {
	out := flag.String("out", "order_gen.go", "output file")
	flag.Parse()
	path, err := apigen.FindModel()
	if err != nil {
		log.Fatal(err)
	}
	data, err := apigen.ReadModel(path)
	if err != nil {
		log.Fatal(err)
	}
	src, err := genorder.Generate(data)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatal(err)
	}
}
