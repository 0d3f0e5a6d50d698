package migrate_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/internal/migrate"
	"github.com/swfd/swfd/internal/pgtest"
	"github.com/swfd/swfd/postgres"
	"github.com/swfd/swfd/server"
	"github.com/swfd/swfd/sqlite"
)

// A copy stopped half-way (swfd migrate interrupted: here its context is
// canceled after the first batch of executions) leaves a target that lacks
// part of the source. It must say so: a second copy into it is refused as
// an unfinished copy, with how to start over, and swfd refuses to serve it.
// Nor is it a source: a copy of it would be marked finished and served
// (copyOutOfHalfCopy). Both target stores.
func TestInterruptedCopy(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	srcPath := filepath.Join(dir, "src.db")
	srv, err := server.Open(ctx, server.Config{DB: "sqlite:" + srcPath})
	if err != nil {
		t.Fatal(err)
	}
	svc := srv.Service
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(svc.RegisterDomain(ctx, &api.RegisterDomainInput{Name: "d", WorkflowExecutionRetentionPeriodInDays: "5"}))
	must(svc.RegisterWorkflowType(ctx, &api.RegisterWorkflowTypeInput{Domain: "d", Name: "wf", Version: "1", DefaultTaskList: &api.TaskList{Name: "l"},
		DefaultExecutionStartToCloseTimeout: "3600", DefaultTaskStartToCloseTimeout: "60", DefaultChildPolicy: api.ChildPolicyTerminate}))
	const runs = 250 // more than one batch of the copy
	for i := range runs {
		_, err := svc.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: fmt.Sprint("w", i), WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
		must(err)
	}
	must(srv.Close())
	src, err := sqlite.Open(ctx, srcPath, nil)
	must(err)
	defer src.Close()

	for _, target := range []struct {
		name string
		dsn  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "dst.db") }},
		{"postgres", func(t *testing.T) string { return pgtest.NewDatabase(t) }},
	} {
		t.Run(target.name, func(t *testing.T) {
			dsn := target.dsn(t)
			dst, err := server.OpenStore(ctx, dsn, nil)
			must(err)
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			st, err := migrate.Copy(cctx, src, dst, func(migrate.Stats) { cancel() })
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("interrupted copy: %+v, %v", st, err)
			}
			if st.Executions == 0 || st.Executions >= runs {
				t.Fatalf("interrupted after %d of %d executions; the test wants a copy stopped half-way", st.Executions, runs)
			}
			if !strings.Contains(err.Error(), "unfinished copy") {
				t.Errorf("the interrupted copy's error does not say it left an unfinished copy: %v", err)
			}
			_, err = migrate.Copy(ctx, src, dst, nil)
			for _, want := range []string{"unfinished copy", "swfd migrate again"} {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("copy into a half-copied target: %v, want an error saying %q", err, want)
				}
			}
			must(dst.Close())
			copyOutOfHalfCopy(t, target.name, dsn)

			s, err := server.Open(ctx, server.Config{DB: dsn})
			if err == nil {
				s.Close()
				t.Fatal("swfd started on a half-copied database")
			}
			if !strings.Contains(err.Error(), "unfinished copy") {
				t.Errorf("swfd on a half-copied database: %v", err)
			}
		})
	}
}

// copyOutOfHalfCopy opens the half-copied store at dsn as swfd migrate
// opens a source (read only) and copies it into a new SQLite store: Copy
// must refuse it, saying it is an unfinished copy, and write nothing, not
// even its own mark, into the target.
func copyOutOfHalfCopy(t *testing.T, driver, dsn string) {
	ctx := context.Background()
	var src swfd.Store
	var err error
	if driver == "sqlite" {
		src, err = sqlite.OpenExisting(ctx, strings.TrimPrefix(dsn, "sqlite:"), nil)
	} else {
		src, err = postgres.OpenExisting(ctx, dsn, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "onward.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	st, err := migrate.Copy(ctx, src, dst, nil)
	for _, want := range []string{"source", "unfinished copy", "copy the database it was copied from"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("copy out of a half-copied %s store: %+v, %v; want an error saying %q", driver, st, err, want)
		}
	}
	if err != nil && strings.Contains(err.Error(), "drop it") {
		t.Errorf("copy out of a half-copied %s store: %v; the source is only read and must not be dropped", driver, err)
	}
	if !errors.Is(err, migrate.ErrUnfinishedCopy) {
		t.Errorf("the error does not wrap ErrUnfinishedCopy: %v", err)
	}
	if ds, err := dst.ListDomains(ctx, swfd.ListQuery{Limit: 1}); err != nil || len(ds) != 0 {
		t.Errorf("the refused copy's target has domains %v (%v)", ds, err)
	}
	if err := migrate.CheckFinished(ctx, dst); err != nil {
		t.Errorf("the refused copy marked its target: %v", err)
	}
}
