//go:build !(linux || darwin || freebsd || openbsd || netbsd || dragonfly || windows)

package cli

import "io"

// isTerminal is false here: this system's terminals are not looked for,
// and tables stay plain unless --color on.
func isTerminal(io.Writer) bool { return false }

// termWidth is 80 here, what the AWS CLI assumes when its output is piped.
func termWidth(io.Writer) int { return 80 }
