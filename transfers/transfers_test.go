package transfers

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/internal/logbuf"
)

// unreadableStore fails every read of the pending messages, as a store on
// a failed disk does, and counts them.
type unreadableStore struct {
	swfd.ExecutionStore
	reads atomic.Int32
}

func (s *unreadableStore) PendingTransfers(context.Context, int) ([]swfd.Transfer, error) {
	s.reads.Add(1)
	return nil, fmt.Errorf("pending transfers: %w", swfd.ErrStorageUnavailable)
}

// The loop looks for messages at every commit that sends one; while its
// rounds fail (the store down, or a message that keeps failing), a busy
// server's commits made it write an error line for each, hundreds a
// second. The lines are now a few a second, a later one saying how many
// were left out.
func TestFailingRoundsAreLoggedRateLimited(t *testing.T) {
	var logs logbuf.Buffer
	st := &unreadableStore{}
	l := New(Options{Store: st, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.Run(ctx)
	}()
	const rounds = 200
	for deadline := time.Now().Add(10 * time.Second); st.reads.Load() < rounds; time.Sleep(100 * time.Microsecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d rounds in 10 s", st.reads.Load())
		}
		l.Wake() // a commit that sent a message
	}
	cancel()
	<-done
	if lines := strings.Count(logs.String(), "delivering messages"); lines == 0 || lines > failLineBurst+1 {
		t.Fatalf("%d lines for %d failed rounds:\n%s", lines, st.reads.Load(), logs.String())
	}
}
