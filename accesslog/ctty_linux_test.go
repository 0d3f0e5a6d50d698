package accesslog_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/swfd/swfd/accesslog"
	"github.com/swfd/swfd/internal/ptytest"
)

// A terminal given by its path (/dev/pts/N, /dev/tty) is written as any
// other path, but does not become swfd's controlling terminal when swfd
// has none (a daemon's case): else a hang-up there would send swfd SIGHUP,
// and a ^C typed there SIGINT. The log is opened in a process of a session
// of its own, which has no controlling terminal to begin with. (A kernel
// that makes no terminal opened for writing alone a controlling terminal,
// as Linux 6.18 does, passes this without O_NOCTTY; TestOpenFileFlags
// checks the flag.)
func TestOpenTerminalIsNotControlling(t *testing.T) {
	if path := os.Getenv("SWFD_TEST_CTTY_PATH"); path != "" {
		if ptytest.ControllingTerminal() {
			fmt.Println("controlling terminal before the open")
			return
		}
		l, err := accesslog.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		fmt.Println("controlling terminal after the open:", ptytest.ControllingTerminal())
		return
	}
	_, path := ptytest.Open(t)
	out, err := ptytest.InNewSession(t, "^TestOpenTerminalIsNotControlling$", "SWFD_TEST_CTTY_PATH="+path)
	if err != nil || !strings.Contains(out, "controlling terminal after the open: false") {
		t.Errorf("--access-log %s, opened by a process with no controlling terminal: %v\n%s", path, err, out)
	}
}
