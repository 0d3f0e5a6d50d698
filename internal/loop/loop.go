// Package loop runs swfd's background loops so that a panic in one is
// logged with its stack and the loop starts again, instead of ending the
// process or leaving the loop's work undone.
package loop

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"
)

// restartAfter is how long a loop that panicked waits before it starts
// again: a panic that recurs at once costs one log line a second, not a
// spinning CPU.
const restartAfter = time.Second

// Keep runs fn until ctx ends, starting it again (after a second) whenever
// it panics; the panic is logged with its stack under the loop's name.
// fn should return only when ctx ends.
func Keep(ctx context.Context, log *slog.Logger, name string, fn func(context.Context)) {
	for ctx.Err() == nil {
		if !Recover(log, name, func() { fn(ctx) }) {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(restartAfter):
		}
	}
}

// Recover runs fn and reports whether it panicked; the panic is logged with
// its stack.
func Recover(log *slog.Logger, name string, fn func()) (panicked bool) {
	defer func() {
		if p := recover(); p != nil {
			panicked = true
			log.Error("panic in "+name, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		}
	}()
	fn()
	return false
}

// Error runs fn and turns a panic into an error (the panic is logged with
// its stack): for work done one item at a time, where one bad item must
// not stop the others.
func Error(log *slog.Logger, name string, fn func() error) (err error) {
	if Recover(log, name, func() { err = fn() }) {
		err = fmt.Errorf("%s panicked", name)
	}
	return err
}
