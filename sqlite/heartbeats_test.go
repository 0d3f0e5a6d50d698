package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/swfd/swfd"
)

// A backup, and a restore of it, carry the heartbeat details, which are
// kept apart from the runs' state.
func TestBackupAndRestoreCarryHeartbeatDetails(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(ctx, filepath.Join(dir, "swfd.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	run := swfd.Execution{Domain: "d", WorkflowID: "w", RunID: "run-1", TypeName: "wf", TypeVersion: "1",
		StartTime: time.UnixMilli(1_700_000_000_000), Open: true, Version: 1, State: []byte(`{}`)}
	details := "heartbeat\x00details"
	if err := db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{{Execution: run, Create: true,
		Heartbeats: []swfd.Heartbeat{{ScheduledEventID: 5, Details: &details}}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := Backup(ctx, filepath.Join(dir, "swfd.db"), filepath.Join(dir, "backup.db"), nil); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Restore(ctx, filepath.Join(dir, "backup.db"), filepath.Join(dir, "restored.db"), nil); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"backup.db", "restored.db"} {
		db, err := Open(ctx, filepath.Join(dir, name), nil)
		if err != nil {
			t.Fatal(err)
		}
		hbs, err := db.Heartbeats(ctx, "run-1")
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(hbs) != 1 || hbs[0].ScheduledEventID != 5 || *hbs[0].Details != details {
			t.Fatalf("%s: details %+v", name, hbs)
		}
	}
}
