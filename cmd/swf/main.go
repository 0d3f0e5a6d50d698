// Command swf is the command line of swfd: a drop-in for `aws swf` (change
// `aws swf` to `swf` in a script) plus commands for daily work. See
// package cli and docs/cli.md.
package main

import (
	"os"

	"github.com/swfd/swfd/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.LookupEnv))
}
