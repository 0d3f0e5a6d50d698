package swfdtest_test

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd/clock"
	"github.com/swfd/swfd/server"
	"github.com/swfd/swfd/swfdtest"
)

// fatalTB records the first Fatalf and ends the goroutine that called it,
// as testing.T's does, without failing the test; its cleanups run at the
// end of the test that made it.
type fatalTB struct {
	t   *testing.T
	msg string
}

func (f *fatalTB) Helper()           {}
func (f *fatalTB) Cleanup(fn func()) { f.t.Cleanup(fn) }
func (f *fatalTB) Fatalf(s string, a ...any) {
	f.msg = fmt.Sprintf(s, a...)
	runtime.Goexit()
}

// inGoroutine runs fn on a goroutine of its own, which fatalTB may end.
func inGoroutine(fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	<-done
}

func tryNew(t *testing.T, opts ...swfdtest.Option) (*swfdtest.Server, *fatalTB) {
	tb := &fatalTB{t: t}
	var srv *swfdtest.Server
	inGoroutine(func() { srv = swfdtest.New(tb, opts...) })
	return srv, tb
}

// Options that cannot apply are refused in this package's words, naming
// what to change, rather than ignored or refused in swfd's flags' words.
func TestOptionsThatCannotApplyAreRefused(t *testing.T) {
	// StartAt sets a manual clock's start; another clock would ignore it.
	for _, mode := range []clock.Mode{clock.Skip, clock.Real} {
		if srv, tb := tryNew(t, swfdtest.WithClock(mode), swfdtest.StartAt(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))); srv != nil || tb.msg == "" {
			if srv != nil {
				srv.Stop()
			}
			t.Errorf("StartAt with a %s clock was taken, and ignored", mode)
		} else if !strings.Contains(tb.msg, "StartAt sets where a manual clock starts; a "+string(mode)+" clock starts at the real time") {
			t.Errorf("StartAt with a %s clock: %q", mode, tb.msg)
		}
	}

	// A store that keeps its data, with the manual clock: ClockUnsafe is
	// needed, and named as the Config field it is.
	db := "sqlite:" + filepath.Join(t.TempDir(), "swfd.db")
	srv, tb := tryNew(t, swfdtest.WithConfig(func(c *server.Config) { c.DB = db }))
	if srv != nil {
		srv.Stop()
	}
	if !strings.Contains(tb.msg, "set Config.ClockUnsafe in WithConfig") || strings.Contains(tb.msg, "--clock-unsafe") {
		t.Errorf("a manual clock on a store that keeps its data: %q", tb.msg)
	}

	// With it, the server runs, and Reset, which would drop that data, is
	// refused, naming Config.DB.
	srv, tb = tryNew(t, swfdtest.WithConfig(func(c *server.Config) { c.DB, c.ClockUnsafe = db, true }))
	if srv == nil || tb.msg != "" {
		t.Fatalf("a manual clock on a store that keeps its data, with ClockUnsafe: %q", tb.msg)
	}
	srv.RegisterDomain("shop")
	inGoroutine(srv.Reset)
	if !strings.Contains(tb.msg, "Reset empties the in-memory store only, and this server's Config.DB is sqlite:") {
		t.Errorf("Reset of a store that keeps its data: %q", tb.msg)
	}
}

// A type's duration that is not a whole number of seconds fails the test,
// naming the field, rather than being cut to the second below: a heartbeat
// of 500 ms used to be registered as "0", and a decision task of 1.5 s as
// "1", so a test's timeouts fired at times it never asked for.
func TestTypeDurationsMustBeWholeSeconds(t *testing.T) {
	srv, tb := tryNew(t)
	if srv == nil {
		t.Fatal(tb.msg)
	}
	for i, c := range []struct {
		typ  swfdtest.Type
		want string
	}{
		{swfdtest.ActivityType{Name: "ship", Version: "1", Heartbeat: 500 * time.Millisecond},
			"register activity type ship/1 in shop0: Heartbeat is 500ms; durations are whole seconds"},
		{swfdtest.ActivityType{Name: "ship", Version: "2", ScheduleToClose: 90*time.Second + time.Millisecond},
			"register activity type ship/2 in shop1: ScheduleToClose is 1m30.001s; durations are whole seconds"},
		{swfdtest.WorkflowType{Name: "order", Version: "1", Task: 1500 * time.Millisecond},
			"register workflow type order/1 in shop2: Task is 1.5s; durations are whole seconds"},
	} {
		tb.msg = ""
		inGoroutine(func() { srv.RegisterDomain(fmt.Sprint("shop", i), c.typ) })
		if !strings.Contains(tb.msg, c.want) {
			t.Errorf("%+v registered: %q, want it refused: %q", c.typ, tb.msg, c.want)
		}
	}
	// Whole seconds are taken.
	tb.msg = ""
	inGoroutine(func() {
		srv.RegisterDomain("whole", swfdtest.ActivityType{Name: "ship", Version: "1", Heartbeat: 2 * time.Second},
			swfdtest.WorkflowType{Name: "order", Version: "1", Task: time.Minute})
	})
	if tb.msg != "" {
		t.Errorf("whole seconds refused: %q", tb.msg)
	}
}
