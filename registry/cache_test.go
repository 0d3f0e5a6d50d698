package registry_test

import (
	"context"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/registry"
)

// slowReads is a store whose domain and type reads return the record they
// read, then wait until release is closed before returning it: a read that
// began before a write and returns after the write has cleared the cache.
type slowReads struct {
	swfd.Store
	domain  swfd.Domain
	typ     swfd.TypeRecord
	read    chan struct{} // a read has taken its record
	release chan struct{}
}

func (s *slowReads) GetDomain(ctx context.Context, name string) (swfd.Domain, error) {
	d := s.domain
	s.read <- struct{}{}
	<-s.release
	return d, nil
}

func (s *slowReads) GetType(ctx context.Context, kind swfd.TypeKind, domain, name, version string) (swfd.TypeRecord, error) {
	t := s.typ
	s.read <- struct{}{}
	<-s.release
	return t, nil
}

func (s *slowReads) SetDomainStatus(ctx context.Context, name, status string, at time.Time) error {
	s.domain.Status = status
	return nil
}

func (s *slowReads) SetTypeStatus(ctx context.Context, kind swfd.TypeKind, domain, name, version, status string, at time.Time) error {
	s.typ.Status = status
	return nil
}

// A read of the store that began before a registry write and ends after it
// does not leave what it read in the cache: the next read sees the write.
func TestCacheKeepsNoReadOlderThanAWrite(t *testing.T) {
	ctx := context.Background()
	st := &slowReads{
		domain:  swfd.Domain{Name: "d", Status: swfd.StatusRegistered},
		typ:     swfd.TypeRecord{Kind: swfd.WorkflowKind, Domain: "d", Name: "wf", Version: "1", Status: swfd.StatusRegistered},
		read:    make(chan struct{}),
		release: make(chan struct{}),
	}
	c := registry.NewCache(st, 0, nil)

	// staleRead runs read, which takes the store's record, lets write
	// change it, and only then returns.
	staleRead := func(read func(), write func() error) {
		t.Helper()
		done := make(chan struct{})
		go func() {
			defer close(done)
			read()
		}()
		<-st.read
		if err := write(); err != nil {
			t.Fatal(err)
		}
		st.release <- struct{}{}
		<-done
	}
	// Reads after the stale one are answered at once.
	fresh := func(read func()) {
		t.Helper()
		go func() {
			<-st.read
			st.release <- struct{}{}
		}()
		read()
	}

	staleRead(func() { c.GetType(ctx, swfd.WorkflowKind, "d", "wf", "1") },
		func() error {
			return c.SetTypeStatus(ctx, swfd.WorkflowKind, "d", "wf", "1", swfd.StatusDeprecated, time.Now())
		})
	var typ swfd.TypeRecord
	var err error
	fresh(func() { typ, err = c.GetType(ctx, swfd.WorkflowKind, "d", "wf", "1") })
	if err != nil || typ.Status != swfd.StatusDeprecated {
		t.Errorf("type after its deprecation: %q %v, want DEPRECATED", typ.Status, err)
	}

	staleRead(func() { c.GetDomain(ctx, "d") },
		func() error { return c.SetDomainStatus(ctx, "d", swfd.StatusDeprecated, time.Now()) })
	var d swfd.Domain
	fresh(func() { d, err = c.GetDomain(ctx, "d") })
	if err != nil || d.Status != swfd.StatusDeprecated {
		t.Errorf("domain after its deprecation: %q %v, want DEPRECATED", d.Status, err)
	}
}
