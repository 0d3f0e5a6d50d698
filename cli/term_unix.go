//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package cli

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// isTerminal reports whether w is a terminal (one that has a size): the
// AWS CLI colours tables there unless --color off.
func isTerminal(w io.Writer) bool {
	if f, ok := w.(*os.File); ok {
		_, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
		return err == nil
	}
	return false
}

// termWidth is the terminal's width when w is one, else 80 (what the AWS
// CLI assumes when its output is piped).
func termWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok {
		if ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ); err == nil && ws.Col > 0 {
			return int(ws.Col)
		}
	}
	return 80
}
