// Command guardgen regenerates auth/guard_ops.go, the auth.Guard method of
// every SWF operation, from api.Operations (run it after regenerating
// package api):
//
//	go generate ./auth
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/internal/apigen"
)

func main() {
	out := flag.String("out", "guard_ops.go", "file to write")
	flag.Parse()
	src, err := apigen.GuardOps(api.Operations)
	if err == nil {
		err = os.WriteFile(*out, src, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "guardgen:", err)
		os.Exit(1)
	}
}
