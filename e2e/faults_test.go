package e2e

import (
	"context"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/jackc/pgx/v5"

	"github.com/swfd/swfd/internal/pgtest"
	"github.com/swfd/swfd/internal/swfdtest"
)

// startNodes starts n swfd nodes on one PostgreSQL database.
func startNodes(t *testing.T, bin, db string, n int) ([]*swfdProc, []string, []*swf.Client) {
	t.Helper()
	procs := make([]*swfdProc, n)
	addrs := make([]string, n)
	clients := make([]*swf.Client, n)
	for i := range n {
		procs[i] = startSwfd(t, bin, []string{"GOMAXPROCS=1"}, nodeArgs(anyPort, db)...)
		addrs[i] = procs[i].addr
		clients[i] = swfdtest.NewClient("http://" + addrs[i])
	}
	return procs, addrs, clients
}

func nodeArgs(addr, db string) []string {
	return []string{"--addr", addr, "--db", db, "--log-level", "warn", "--poll-timeout", "1s"}
}

// waitLong is waitFor with room for a loaded machine: reconnecting to a
// restarted database takes a node a few seconds of backing off.
func waitLong(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// readyz is a node's /readyz status (0 if it cannot be reached).
func readyz(addr string) int {
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Two nodes under load while their PostgreSQL server is restarted twice
// (a clean stop, then one as if it crashed): calls fail while it is gone
// and /readyz says so; then every workflow completes, nothing
// acknowledged is lost, no task is handed out twice, every history is
// contiguous. The server is the test's own, never the shared one. The
// calls that fail are answered ServiceUnavailable, never InternalFailure.
func TestClusterSurvivesPostgresRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test")
	}
	pg := pgtest.NewCluster(t)
	bin := buildSwfd(t)
	_, addrs, clients := startNodes(t, bin, pg.DSN, 2)
	load := startFaultLoad(t, clients, "pgrestart", faultLoadOptions{Workflows: 300, Starters: 4, Deciders: 8, Workers: 8,
		Retry: []string{"ServiceUnavailable"}})
	for k, mode := range []string{"fast", "immediate"} {
		load.waitAcked((k + 1) * 250)
		failedBefore := load.faultErr.Load() + load.transportErrs.Load()
		pg.Stop(mode)
		waitLong(t, "calls to fail while the database is down", func() bool {
			return load.faultErr.Load()+load.transportErrs.Load() > failedBefore
		})
		waitLong(t, "/readyz to say not ready", func() bool { return readyz(addrs[0]) == http.StatusServiceUnavailable })
		t.Logf("PostgreSQL stopped (%s) with %d completions acknowledged", mode, load.acked())
		pg.Start()
		for _, a := range addrs {
			waitLong(t, "the node to be ready again", func() bool { return readyz(a) == http.StatusOK })
		}
	}
	load.finish(clients[0], 2*time.Minute)
}

// Two nodes under load while every connection they hold to the database
// is ended by pg_terminate_backend, three times: the same checks. A call
// that fails is answered ServiceUnavailable (a write cut off once it may
// have committed), never InternalFailure.
func TestClusterSurvivesTerminatedConnections(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test")
	}
	db := pgtest.NewDatabase(t)
	bin := buildSwfd(t)
	_, addrs, clients := startNodes(t, bin, db, 2)
	load := startFaultLoad(t, clients, "pgterminate", faultLoadOptions{Workflows: 300, Starters: 4, Deciders: 8, Workers: 8,
		Retry: []string{"ServiceUnavailable"}})
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	for k := range 3 {
		load.waitAcked((k + 1) * 200)
		var ended int
		if err := admin.QueryRow(ctx, `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid()) t`).Scan(&ended); err != nil {
			t.Fatal(err)
		}
		t.Logf("ended %d connections with %d completions acknowledged", ended, load.acked())
		if ended == 0 {
			t.Fatal("no swfd connection to end")
		}
	}
	for _, a := range addrs {
		waitLong(t, "the node to be ready again", func() bool { return readyz(a) == http.StatusOK })
	}
	load.finish(clients[0], 2*time.Minute)
}

// Three nodes under load, one of them killed with SIGKILL again and
// again (a different one each time) and restarted: the same checks.
func TestClusterSurvivesRepeatedKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test")
	}
	db := pgtest.NewDatabase(t)
	bin := buildSwfd(t)
	procs, addrs, clients := startNodes(t, bin, db, 3)
	load := startFaultLoad(t, clients, "kill9", faultLoadOptions{Workflows: 300, Starters: 6, Deciders: 9, Workers: 9})
	for k := range 4 {
		load.waitAcked((k + 1) * 150)
		i := k % len(procs)
		if err := procs[i].cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-procs[i].exited
		t.Logf("node %d killed with %d completions acknowledged", i, load.acked())
		// The node comes back on the address it had, where its clients
		// keep calling. The port was freed by the kill a moment ago; another
		// process could take it first (rarely: the kernel hands out
		// ephemeral ports in turn), and then swfd fails to start and the
		// test with it, saying "address already in use".
		procs[i] = startSwfd(t, bin, []string{"GOMAXPROCS=1"}, nodeArgs(addrs[i], db)...)
	}
	load.finish(clients[0], 2*time.Minute)
}
