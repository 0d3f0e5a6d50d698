package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/swfd/swfd/internal/ptytest"
	"github.com/swfd/swfd/sqlite"
)

// A database path that names a terminal (--db sqlite:/dev/pts/3, a
// slip) is refused before it is opened, saying what it is, and does not
// become the controlling terminal of a swfd that has none (a daemon's),
// which would have a hang-up there send swfd SIGHUP, and a ^C typed there
// SIGINT. The store is opened in a process of a session of its own, which
// has no controlling terminal to begin with.
func TestOpenTerminalIsRefused(t *testing.T) {
	if path := os.Getenv("SWFD_TEST_CTTY_PATH"); path != "" {
		if ptytest.ControllingTerminal() {
			fmt.Println("controlling terminal before the open")
			return
		}
		db, err := sqlite.Open(context.Background(), path, nil)
		if err == nil {
			db.Close()
		}
		fmt.Printf("open: %v\n", err)
		fmt.Println("controlling terminal after the open:", ptytest.ControllingTerminal())
		return
	}
	_, path := ptytest.Open(t)
	out, err := ptytest.InNewSession(t, "^TestOpenTerminalIsRefused$", "SWFD_TEST_CTTY_PATH="+path)
	if err != nil || !strings.Contains(out, "controlling terminal after the open: false") {
		t.Errorf("--db sqlite:%s, opened by a process with no controlling terminal: %v\n%s", path, err, out)
	}
	if want := "open: sqlite: open " + path + ": " + path + " is a device, not a file; give the path of the database file"; !strings.Contains(out, want) {
		t.Errorf("--db sqlite:%s: want %q in\n%s", path, want, out)
	}
}
