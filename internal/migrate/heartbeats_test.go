package migrate_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/internal/migrate"
	"github.com/swfd/swfd/sqlite"
)

// The copy carries the heartbeat details of open runs' activities, which
// are kept apart from the runs' state.
func TestCopyCarriesHeartbeatDetails(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src, err := sqlite.Open(ctx, filepath.Join(dir, "src.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := sqlite.Open(ctx, filepath.Join(dir, "dst.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if err := src.CreateDomain(ctx, swfd.Domain{Name: "d", Status: swfd.StatusRegistered, RetentionDays: "1", Created: time.UnixMilli(1_700_000_000_000)}, 0); err != nil {
		t.Fatal(err)
	}
	run := swfd.Execution{Domain: "d", WorkflowID: "w", RunID: "run-1", TypeName: "wf", TypeVersion: "1",
		StartTime: time.UnixMilli(1_700_000_000_000), Open: true, Version: 1, State: []byte(`{}`)}
	details := "nul\x00 and 2 KB " + string(make([]byte, 2048))
	empty := ""
	if err := src.Commit(ctx, swfd.Batch{Updates: []swfd.Update{{Execution: run, Create: true,
		Heartbeats: []swfd.Heartbeat{{ScheduledEventID: 5, Details: &details}, {ScheduledEventID: 6, Details: &empty}}}}}); err != nil {
		t.Fatal(err)
	}
	st, err := migrate.Copy(ctx, src, dst, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Executions != 1 || st.Heartbeats != 2 {
		t.Fatalf("stats %+v", st)
	}
	hbs, err := dst.Heartbeats(ctx, "run-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(hbs) != 2 || hbs[0].ScheduledEventID != 5 || *hbs[0].Details != details || hbs[1].ScheduledEventID != 6 || *hbs[1].Details != "" {
		t.Fatalf("copied details %+v", hbs)
	}
}
