// Package membus is an in-process swfd.Broadcaster for tests: the nodes of
// a test cluster in one process share a Bus, and every message published
// goes to every subscriber at once, on the publisher's goroutine.
package membus

import (
	"context"
	"sync"
)

// Bus is an in-process swfd.Broadcaster. The zero value is ready to use.
type Bus struct {
	mu   sync.Mutex
	subs []func([]byte)
	// Delivered, if not nil, receives each message after it has been
	// delivered to every subscriber (and is skipped when full).
	Delivered chan []byte
}

// Publish delivers msg to every subscriber.
func (b *Bus) Publish(_ context.Context, msg []byte) error {
	b.mu.Lock()
	subs := append([]func([]byte){}, b.subs...)
	b.mu.Unlock()
	for _, fn := range subs {
		fn(msg)
	}
	select {
	case b.Delivered <- msg:
	default:
	}
	return nil
}

// Subscribe calls fn with every message published until ctx ends.
func (b *Bus) Subscribe(ctx context.Context, fn func([]byte)) error {
	b.mu.Lock()
	b.subs = append(b.subs, fn)
	b.mu.Unlock()
	<-ctx.Done()
	return ctx.Err()
}

// Subscribers returns how many subscriptions the bus has had.
func (b *Bus) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

// MaxMessage is PostgreSQL's limit, so that tests split news as a cluster
// on PostgreSQL does.
func (b *Bus) MaxMessage() int { return 7999 }
