package loop

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/swfd/swfd/internal/logbuf"
)

// TestKeepRestarts checks that a loop that panics is logged with its stack
// and started again, and that Keep returns once ctx ends.
func TestKeepRestarts(t *testing.T) {
	var logs logbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	runs := 0
	done := make(chan struct{})
	go func() {
		Keep(ctx, log, "test loop", func(ctx context.Context) {
			runs++
			if runs == 1 {
				panic("boom")
			}
			cancel()
			<-ctx.Done()
		})
		close(done)
	}()
	<-done
	if runs != 2 {
		t.Errorf("loop ran %d times, want 2 (once more after its panic)", runs)
	}
	out := logs.String()
	if !strings.Contains(out, "panic in test loop") || !strings.Contains(out, "boom") || !strings.Contains(out, "loop_test.go") {
		t.Errorf("panic not logged with its stack:\n%s", out)
	}
}

// TestError checks that a panic becomes an error and an error passes.
func TestError(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	if err := Error(log, "item", func() error { panic("bad item") }); err == nil {
		t.Error("a panic gave no error")
	}
	want := context.Canceled
	if err := Error(log, "item", func() error { return want }); err != want {
		t.Errorf("error %v, want %v", err, want)
	}
}
