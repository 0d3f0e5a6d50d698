package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal of the given width: the side a program
// writes to, and the side that reads what it wrote.
func openPTY(t *testing.T, cols uint16) (tty, reader *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skipf("ptsname: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open pts: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if err := unix.IoctlSetWinsize(int(s.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: cols}); err != nil {
		t.Fatal(err)
	}
	// Line breaks as written, not turned into \r\n.
	tio, err := unix.IoctlGetTermios(int(s.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	tio.Oflag &^= unix.OPOST
	if err := unix.IoctlSetTermios(int(s.Fd()), unix.TCSETS, tio); err != nil {
		t.Fatal(err)
	}
	return s, m
}

// On a terminal (here one 80 columns wide, the width assumed elsewhere),
// a table is coloured by default (--color auto), as the AWS CLI colours it
// there, and --color off keeps it plain. Before, swf ignored --color: its tables were always
// plain. (TestOutputMatchesAWS checks the coloured table against aws's
// --color on; this checks that auto chooses it on a terminal.)
func TestTableColouredOnATerminal(t *testing.T) {
	setCreds(t)
	f := newFake(t, func(string, map[string]any) (int, string) { return 200, describeDomainWire })
	env := map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL}
	args := []string{"describe-domain", "--name", "d1", "--output", "table"}
	onTTY := func(extra ...string) string {
		tty, reader := openPTY(t, 80)
		done := make(chan []byte)
		go func() {
			var b bytes.Buffer
			io.Copy(&b, reader) // ends with EIO once the terminal is closed
			done <- b.Bytes()
		}()
		var errs bytes.Buffer
		if rc := Main(append(append([]string{}, args...), extra...), strings.NewReader(""), tty, &errs,
			func(k string) (string, bool) { v, ok := env[k]; return v, ok }); rc != 0 {
			t.Fatalf("rc=%d %s", rc, errs.String())
		}
		tty.Close()
		return string(<-done)
	}
	coloured := swfRun(env, append(args, "--color", "on")...).Stdout
	plain := swfRun(env, args...).Stdout
	if !strings.Contains(coloured, ansiValue) || strings.Contains(plain, "\x1b") {
		t.Fatalf("--color on:\n%q\nnot on a terminal:\n%q", coloured, plain)
	}
	if got := onTTY(); got != coloured {
		t.Errorf("on a terminal:\n%q\nwant what --color on prints:\n%q", got, coloured)
	}
	if got := onTTY("--color", "off"); got != plain {
		t.Errorf("on a terminal, --color off:\n%q\nwant\n%q", got, plain)
	}
}
