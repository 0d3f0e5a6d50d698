package cli

import (
	"io"
	"os"

	"golang.org/x/sys/windows"
)

// isTerminal reports whether w is a console that shows colours written
// as escape sequences: the AWS CLI colours tables there unless --color
// off. A console that does not yet is asked to (virtual terminal
// processing, which every console since Windows 10 has); one that cannot
// (older Windows) counts as no terminal, and its tables stay plain
// rather than full of escapes. Output redirected to a file or a pipe is
// no console.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	h := windows.Handle(f.Fd())
	var mode uint32
	if windows.GetConsoleMode(h, &mode) != nil {
		return false
	}
	if mode&windows.ENABLE_VIRTUAL_TERMINAL_PROCESSING != 0 {
		return true
	}
	return windows.SetConsoleMode(h, mode|windows.ENABLE_VIRTUAL_TERMINAL_PROCESSING) == nil
}

// termWidth is the width of the console's window when w is a console,
// else 80 (what the AWS CLI assumes when its output is piped).
func termWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok {
		var info windows.ConsoleScreenBufferInfo
		if windows.GetConsoleScreenBufferInfo(windows.Handle(f.Fd()), &info) == nil {
			if n := int(info.Window.Right) - int(info.Window.Left) + 1; n > 0 {
				return n
			}
		}
	}
	return 80
}
