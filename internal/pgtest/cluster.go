package pgtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// Cluster is a PostgreSQL server of a test's own, which it may stop and
// start at will: never the shared server's. It runs as the postgres user
// from a fresh data directory on a free loopback port, and is removed
// when the test ends.
type Cluster struct {
	t    testing.TB
	bin  string // the directory of pg_ctl, initdb, postgres
	dir  string // the data directory
	Port int
	// DSN is the URL of its postgres database, as the postgres user.
	DSN string
}

// NewCluster initializes and starts a cluster. It needs root (to run the
// server as the postgres user) and PostgreSQL's binaries under
// /usr/lib/postgresql/*/bin; without them the test is skipped, or fails
// with SWFD_REQUIRE_POSTGRES=1.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	unavailable := func(why string, args ...any) *Cluster {
		t.Helper()
		msg := fmt.Sprintf(why, args...)
		if os.Getenv("SWFD_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("private PostgreSQL cluster: %s (SWFD_REQUIRE_POSTGRES=1)", msg)
		}
		t.Skipf("private PostgreSQL cluster: %s; skipping", msg)
		return nil
	}
	if os.Geteuid() != 0 {
		return unavailable("needs root, to run the server as the postgres user")
	}
	pgUser, err := user.Lookup("postgres")
	if err != nil {
		return unavailable("no postgres user: %v", err)
	}
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(bins) == 0 {
		return unavailable("no /usr/lib/postgresql/*/bin/pg_ctl")
	}
	sort.Strings(bins) // the newest major version last (they are two digits)
	c := &Cluster{t: t, bin: filepath.Dir(bins[len(bins)-1])}
	// Not t.TempDir(): the postgres user must be able to reach it.
	if c.dir, err = os.MkdirTemp("", "swfd-pgtest-"); err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(pgUser.Uid)
	gid, _ := strconv.Atoi(pgUser.Gid)
	if err := os.Chown(c.dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.ctl("stop", "-m", "immediate")
		os.RemoveAll(c.dir)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.Port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	if out, err := c.run("initdb", "-D", c.dir+"/data", "-U", "postgres", "-A", "trust", "--no-sync"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	c.DSN = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.Port)
	c.Start()
	return c
}

func (c *Cluster) run(prog string, args ...string) ([]byte, error) {
	cmd := exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(c.bin, prog)}, args...)...)
	cmd.Dir = c.dir
	return cmd.CombinedOutput()
}

func (c *Cluster) ctl(args ...string) ([]byte, error) {
	return c.run("pg_ctl", append([]string{"-D", c.dir + "/data", "-w", "-t", "60"}, args...)...)
}

// Start starts the server and waits until it accepts connections.
func (c *Cluster) Start() {
	c.t.Helper()
	opts := strings.Join([]string{
		"-p", strconv.Itoa(c.Port), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=" + c.dir,
		"-c", "fsync=off", // a test's data need not survive the machine
		"-c", "max_connections=200",
	}, " ")
	if out, err := c.ctl("start", "-l", c.dir+"/log", "-o", opts); err != nil {
		log, _ := os.ReadFile(c.dir + "/log")
		c.t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
}

// Stop stops the server: mode "fast" (sessions are ended, a clean
// shutdown) or "immediate" (as if it crashed; it recovers from its WAL at
// the next start).
func (c *Cluster) Stop(mode string) {
	c.t.Helper()
	if out, err := c.ctl("stop", "-m", mode); err != nil {
		c.t.Fatalf("pg_ctl stop: %v\n%s", err, out)
	}
}
