package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/swfd/swfd"
)

func domain(name, status string) swfd.Domain {
	return swfd.Domain{
		Name:          name,
		Description:   str("the " + name + " domain"),
		Status:        status,
		RetentionDays: "30",
		Created:       at(0),
	}
}

func createDomain(t *testing.T, s swfd.Store, d swfd.Domain) {
	t.Helper()
	noErr(t, s.CreateDomain(ctx(), d, 100), "CreateDomain "+d.Name)
}

// createDomains registers domains for the types a test creates.
func createDomains(t *testing.T, s swfd.Store, names ...string) {
	t.Helper()
	for _, n := range names {
		createDomain(t, s, domain(n, swfd.StatusRegistered))
	}
}

func getDomain(t *testing.T, s swfd.Store, name string) swfd.Domain {
	t.Helper()
	d, err := s.GetDomain(ctx(), name)
	noErr(t, err, "GetDomain "+name)
	return d
}

func testDomainCreateGet(t *testing.T, s swfd.Store) {
	d := swfd.Domain{
		Name:          "orders",
		Description:   str("order processing"),
		Status:        swfd.StatusRegistered,
		RetentionDays: "NONE",
		Tags:          []swfd.Tag{{Key: "team", Value: str("b")}, {Key: "env", Value: str("prod")}, {Key: "a", Value: str("")}, {Key: "none"}},
		Created:       at(1).Add(123 * time.Millisecond),
	}
	noErr(t, s.CreateDomain(ctx(), d, 10), "CreateDomain")
	if got, want := domainView(getDomain(t, s, "orders")), domainView(d); got != want {
		t.Fatalf("GetDomain:\n got %s\nwant %s", got, want)
	}
	_, err := s.GetDomain(ctx(), "Orders")
	wantErr(t, err, swfd.ErrNotFound, "GetDomain of another name")
	_, err = s.GetDomain(ctx(), "missing")
	wantErr(t, err, swfd.ErrNotFound, "GetDomain missing")

	plain := domain("plain", swfd.StatusRegistered)
	createDomain(t, s, plain)
	if got := getDomain(t, s, "plain"); len(got.Tags) != 0 {
		t.Fatalf("domain without tags has tags %v", got.Tags)
	}
}

func testDomainDuplicate(t *testing.T, s swfd.Store) {
	createDomain(t, s, domain("dup", swfd.StatusRegistered))
	other := domain("dup", swfd.StatusRegistered)
	other.Description = str("another")
	wantErr(t, s.CreateDomain(ctx(), other, 100), swfd.ErrAlreadyExists, "CreateDomain of a registered name")
	noErr(t, s.SetDomainStatus(ctx(), "dup", swfd.StatusDeprecated, at(5)), "SetDomainStatus")
	wantErr(t, s.CreateDomain(ctx(), other, 100), swfd.ErrAlreadyExists, "CreateDomain of a deprecated name")
	if got := getDomain(t, s, "dup"); optView(got.Description) != `"the dup domain"` {
		t.Fatalf("duplicate CreateDomain changed the domain: %s", domainView(got))
	}
}

func testDomainLimit(t *testing.T, s swfd.Store) {
	noErr(t, s.CreateDomain(ctx(), domain("d1", swfd.StatusRegistered), 3), "CreateDomain d1")
	noErr(t, s.CreateDomain(ctx(), domain("d2", swfd.StatusRegistered), 3), "CreateDomain d2")
	noErr(t, s.SetDomainStatus(ctx(), "d2", swfd.StatusDeprecated, at(1)), "SetDomainStatus")
	noErr(t, s.CreateDomain(ctx(), domain("d3", swfd.StatusRegistered), 3), "CreateDomain d3")
	// Deprecated domains count.
	wantErr(t, s.CreateDomain(ctx(), domain("d4", swfd.StatusRegistered), 3), swfd.ErrLimitExceeded, "CreateDomain over the limit")
	_, err := s.GetDomain(ctx(), "d4")
	wantErr(t, err, swfd.ErrNotFound, "GetDomain of the refused domain")
	noErr(t, s.CreateDomain(ctx(), domain("d4", swfd.StatusRegistered), 4), "CreateDomain with a higher limit")
}

// testConcurrentDomains: domains created at once from many connections
// (several nodes' callers) all succeed, up to the limit and no further;
// none fails because the others ran beside it. (At SERIALIZABLE alone,
// every pair of creations conflicted on the count, and a creation that
// lost ten times in a row failed: a few in a hundred, from 24 callers.)
func testConcurrentDomains(t *testing.T, s swfd.Store) {
	const workers, each, limit = 32, 4, 100
	errs := make(chan error, workers*each)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := range each {
				errs <- s.CreateDomain(ctx(), domain(fmt.Sprintf("c%d-%d", w, i), swfd.StatusRegistered), limit)
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	created, refused := 0, 0
	for err := range errs {
		switch {
		case err == nil:
			created++
		case errors.Is(err, swfd.ErrLimitExceeded):
			refused++
		default:
			t.Errorf("CreateDomain beside %d others: %v", workers-1, err)
		}
	}
	if created != limit || refused != workers*each-limit {
		t.Errorf("%d domains created and %d refused at the limit; want %d and %d", created, refused, limit, workers*each-limit)
	}
}

func testDomainStatus(t *testing.T, s swfd.Store) {
	createDomain(t, s, domain("alpha", swfd.StatusRegistered))
	createDomain(t, s, domain("beta", swfd.StatusRegistered))
	mk := func(kind swfd.TypeKind, dom, name string) swfd.TypeRecord {
		return swfd.TypeRecord{Kind: kind, Domain: dom, Name: name, Version: "1", Status: swfd.StatusRegistered, Created: at(0)}
	}
	types := []swfd.TypeRecord{
		mk(swfd.ActivityKind, "alpha", "act"),
		mk(swfd.WorkflowKind, "alpha", "wf"),
		mk(swfd.ActivityKind, "alpha", "old"),
		mk(swfd.ActivityKind, "beta", "act"),
		mk(swfd.WorkflowKind, "beta", "wf"),
	}
	for _, tr := range types {
		noErr(t, s.CreateType(ctx(), tr, 100), "CreateType")
	}
	noErr(t, s.SetTypeStatus(ctx(), swfd.ActivityKind, "alpha", "old", "1", swfd.StatusDeprecated, at(3)), "SetTypeStatus")

	when := at(10).Add(7 * time.Millisecond)
	noErr(t, s.SetDomainStatus(ctx(), "alpha", swfd.StatusDeprecated, when), "SetDomainStatus")
	if got := getDomain(t, s, "alpha"); got.Status != swfd.StatusDeprecated {
		t.Fatalf("alpha status %q", got.Status)
	}
	if got := getDomain(t, s, "beta"); got.Status != swfd.StatusRegistered {
		t.Fatalf("beta status %q", got.Status)
	}
	check := func(kind swfd.TypeKind, dom, name, status string, deprecated time.Time) {
		t.Helper()
		got, err := s.GetType(ctx(), kind, dom, name, "1")
		noErr(t, err, "GetType")
		if got.Status != status || !got.Deprecated.Equal(deprecated) {
			t.Fatalf("%s %s/%s: status %q deprecated %s, want %q %s", kind, dom, name, got.Status, ms(got.Deprecated), status, ms(deprecated))
		}
	}
	check(swfd.ActivityKind, "alpha", "act", swfd.StatusDeprecated, when)
	check(swfd.WorkflowKind, "alpha", "wf", swfd.StatusDeprecated, when)
	check(swfd.ActivityKind, "alpha", "old", swfd.StatusDeprecated, at(3)) // already deprecated: keeps its date
	check(swfd.ActivityKind, "beta", "act", swfd.StatusRegistered, time.Time{})
	check(swfd.WorkflowKind, "beta", "wf", swfd.StatusRegistered, time.Time{})

	noErr(t, s.SetDomainStatus(ctx(), "alpha", swfd.StatusRegistered, at(11)), "SetDomainStatus back to registered")
	if got := getDomain(t, s, "alpha"); got.Status != swfd.StatusRegistered {
		t.Fatalf("alpha status %q after undeprecation", got.Status)
	}
	wantErr(t, s.SetDomainStatus(ctx(), "missing", swfd.StatusDeprecated, at(1)), swfd.ErrNotFound, "SetDomainStatus missing")
}

func testDomainTags(t *testing.T, s swfd.Store) {
	d := domain("tagged", swfd.StatusRegistered)
	d.Tags = []swfd.Tag{{Key: "a", Value: str("1")}, {Key: "b", Value: str("2")}}
	createDomain(t, s, d)
	check := func(what string, want []swfd.Tag) {
		t.Helper()
		d.Tags = want
		if got, want := domainView(getDomain(t, s, "tagged")), domainView(d); got != want {
			t.Fatalf("after %s:\n got %s\nwant %s", what, got, want)
		}
	}
	// Upserts: a key it has takes the new value in its place; new keys go last.
	noErr(t, s.UpdateDomainTags(ctx(), "tagged", []swfd.Tag{{Key: "z", Value: str("26")}, {Key: "b", Value: str("3")}, {Key: "c", Value: str("")}, {Key: "d"}}, nil, 50), "UpdateDomainTags add")
	check("adding", []swfd.Tag{{Key: "a", Value: str("1")}, {Key: "b", Value: str("3")}, {Key: "z", Value: str("26")}, {Key: "c", Value: str("")}, {Key: "d"}})
	// Removals; a key it does not have is ignored.
	noErr(t, s.UpdateDomainTags(ctx(), "tagged", nil, []string{"b", "d", "nope"}, 50), "UpdateDomainTags remove")
	check("removing", []swfd.Tag{{Key: "a", Value: str("1")}, {Key: "z", Value: str("26")}, {Key: "c", Value: str("")}})
	// The limit counts the stored list: upserting a key it has adds none.
	noErr(t, s.UpdateDomainTags(ctx(), "tagged", []swfd.Tag{{Key: "a", Value: str("one")}}, nil, 3), "UpdateDomainTags at the limit")
	wantErr(t, s.UpdateDomainTags(ctx(), "tagged", []swfd.Tag{{Key: "y"}}, nil, 3), swfd.ErrLimitExceeded, "UpdateDomainTags over the limit")
	check("a refused update", []swfd.Tag{{Key: "a", Value: str("one")}, {Key: "z", Value: str("26")}, {Key: "c", Value: str("")}})
	noErr(t, s.UpdateDomainTags(ctx(), "tagged", []swfd.Tag{{Key: "y"}}, nil, 0), "UpdateDomainTags with no limit")
	noErr(t, s.UpdateDomainTags(ctx(), "tagged", nil, []string{"a", "z", "c", "y"}, 50), "UpdateDomainTags remove all")
	if got := getDomain(t, s, "tagged"); len(got.Tags) != 0 {
		t.Fatalf("tags after clearing: %v", got.Tags)
	}
	wantErr(t, s.UpdateDomainTags(ctx(), "missing", d.Tags, nil, 50), swfd.ErrNotFound, "UpdateDomainTags missing")
}

// testConcurrentTags: updates of one domain's tags made at once all take
// effect (none writes back a list read before another's change), and the
// limit holds against what is stored when each update runs.
func testConcurrentTags(t *testing.T, s swfd.Store) {
	createDomain(t, s, domain("tags", swfd.StatusRegistered))
	noErr(t, s.UpdateDomainTags(ctx(), "tags", []swfd.Tag{{Key: "gone"}}, nil, 0), "UpdateDomainTags")
	const n = 8
	errs := make(chan error, 2*n)
	for i := range n {
		go func() { errs <- s.UpdateDomainTags(ctx(), "tags", []swfd.Tag{{Key: fmt.Sprintf("k%d", i)}}, nil, 0) }()
	}
	go func() { errs <- s.UpdateDomainTags(ctx(), "tags", nil, []string{"gone"}, 0) }()
	for range n + 1 {
		noErr(t, <-errs, "concurrent UpdateDomainTags")
	}
	var keys []string
	for _, tg := range getDomain(t, s, "tags").Tags {
		keys = append(keys, tg.Key)
	}
	slices.Sort(keys)
	checkIDs(t, "tags after concurrent updates", keys, []string{"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"})

	// With room for 10, of 8 new keys added at once exactly 2 fit.
	for i := range n {
		go func() { errs <- s.UpdateDomainTags(ctx(), "tags", []swfd.Tag{{Key: fmt.Sprintf("m%d", i)}}, nil, 10) }()
	}
	ok := 0
	for range n {
		switch err := <-errs; {
		case err == nil:
			ok++
		case !errors.Is(err, swfd.ErrLimitExceeded):
			t.Fatalf("concurrent UpdateDomainTags at the limit: %v", err)
		}
	}
	if got := len(getDomain(t, s, "tags").Tags); ok != 2 || got != 10 {
		t.Fatalf("at a limit of 10: %d updates succeeded and %d tags are stored, want 2 and 10", ok, got)
	}
}

// testRegistryEmptyStrings: a description or a tag value stored empty
// reads back empty, and one not given reads back as not given (nil), on
// every read: SWF shows the one as "" and leaves the other out.
func testRegistryEmptyStrings(t *testing.T, s swfd.Store) {
	doms := []swfd.Domain{domain("absent", swfd.StatusRegistered), domain("empty", swfd.StatusRegistered), domain("given", swfd.StatusRegistered)}
	doms[0].Description, doms[1].Description, doms[2].Description = nil, str(""), str("x")
	doms[1].Tags = []swfd.Tag{{Key: "none"}, {Key: "empty", Value: str("")}, {Key: "given", Value: str("v")}}
	for _, d := range doms {
		createDomain(t, s, d)
	}
	for _, d := range doms {
		if got, want := domainView(getDomain(t, s, d.Name)), domainView(d); got != want {
			t.Fatalf("GetDomain:\n got %s\nwant %s", got, want)
		}
	}
	listed, err := s.ListDomains(ctx(), swfd.ListQuery{Status: swfd.StatusRegistered})
	noErr(t, err, "ListDomains")
	if len(listed) != len(doms) {
		t.Fatalf("ListDomains returned %d domains, want %d", len(listed), len(doms))
	}
	for i, d := range doms {
		if got, want := domainView(listed[i]), domainView(d); got != want {
			t.Fatalf("ListDomains:\n got %s\nwant %s", got, want)
		}
	}
	doms[0].Tags = []swfd.Tag{{Key: "empty", Value: str("")}, {Key: "none"}}
	noErr(t, s.UpdateDomainTags(ctx(), "absent", doms[0].Tags, nil, 0), "UpdateDomainTags")
	if got, want := domainView(getDomain(t, s, "absent")), domainView(doms[0]); got != want {
		t.Fatalf("after UpdateDomainTags:\n got %s\nwant %s", got, want)
	}

	createDomain(t, s, domain("dom", swfd.StatusRegistered))

	types := []swfd.TypeRecord{typeRecord(swfd.ActivityKind, "dom", "absent", "1"), typeRecord(swfd.ActivityKind, "dom", "empty", "1"), typeRecord(swfd.WorkflowKind, "dom", "empty", "1")}
	types[0].Description, types[1].Description, types[2].Description = nil, str(""), str("")
	for _, tr := range types {
		noErr(t, s.CreateType(ctx(), tr, 100), "CreateType")
		got, err := s.GetType(ctx(), tr.Kind, tr.Domain, tr.Name, tr.Version)
		noErr(t, err, "GetType")
		if g, want := typeView(got), typeView(tr); g != want {
			t.Fatalf("GetType:\n got %s\nwant %s", g, want)
		}
	}
	acts, err := s.ListTypes(ctx(), swfd.ActivityKind, "dom", swfd.ListQuery{Status: swfd.StatusRegistered})
	noErr(t, err, "ListTypes")
	if len(acts) != 2 || typeView(acts[0]) != typeView(types[0]) || typeView(acts[1]) != typeView(types[1]) {
		var got []string
		for _, tr := range acts {
			got = append(got, typeView(tr))
		}
		t.Fatalf("ListTypes:\n got %q\nwant %q", got, []string{typeView(types[0]), typeView(types[1])})
	}
}

func domainNames(ds []swfd.Domain) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.Name
	}
	return out
}

func testListDomains(t *testing.T, s swfd.Store) {
	// Created out of order; deprecated: d02, d05.
	for _, n := range []string{"d04", "d01", "d06", "d02", "d07", "d03", "d05"} {
		createDomain(t, s, domain(n, swfd.StatusRegistered))
	}
	noErr(t, s.SetDomainStatus(ctx(), "d02", swfd.StatusDeprecated, at(1)), "SetDomainStatus")
	noErr(t, s.SetDomainStatus(ctx(), "d05", swfd.StatusDeprecated, at(1)), "SetDomainStatus")
	list := func(q swfd.ListQuery) []string {
		t.Helper()
		ds, err := s.ListDomains(ctx(), q)
		noErr(t, err, "ListDomains")
		for _, d := range ds {
			if d.Status != q.Status {
				t.Fatalf("ListDomains %+v returned %s", q, domainView(d))
			}
		}
		return domainNames(ds)
	}
	reg := swfd.StatusRegistered
	checkIDs(t, "registered", list(swfd.ListQuery{Status: reg}), []string{"d01", "d03", "d04", "d06", "d07"})
	checkIDs(t, "deprecated", list(swfd.ListQuery{Status: swfd.StatusDeprecated}), []string{"d02", "d05"})
	checkIDs(t, "reverse", list(swfd.ListQuery{Status: reg, Reverse: true}), []string{"d07", "d06", "d04", "d03", "d01"})
	checkIDs(t, "limit", list(swfd.ListQuery{Status: reg, Limit: 2}), []string{"d01", "d03"})
	// The contract: a limit of 0 or less is no limit.
	checkIDs(t, "limit 0", list(swfd.ListQuery{Status: reg, Limit: 0}), []string{"d01", "d03", "d04", "d06", "d07"})
	checkIDs(t, "negative limit", list(swfd.ListQuery{Status: reg, Limit: -1}), []string{"d01", "d03", "d04", "d06", "d07"})
	checkIDs(t, "after", list(swfd.ListQuery{Status: reg, After: "d03", Limit: 2}), []string{"d04", "d06"})
	checkIDs(t, "after a missing name", list(swfd.ListQuery{Status: reg, After: "d05", Limit: 10}), []string{"d06", "d07"})
	checkIDs(t, "after the last", list(swfd.ListQuery{Status: reg, After: "d07"}), nil)
	checkIDs(t, "reverse after", list(swfd.ListQuery{Status: reg, Reverse: true, After: "d06", Limit: 2}), []string{"d04", "d03"})

	// Paging visits every domain once.
	for _, rev := range []bool{false, true} {
		var all []string
		after := ""
		for range 10 {
			page := list(swfd.ListQuery{Status: reg, Reverse: rev, After: after, Limit: 2})
			if len(page) == 0 {
				break
			}
			all = append(all, page...)
			after = page[len(page)-1]
		}
		want := []string{"d01", "d03", "d04", "d06", "d07"}
		if rev {
			slices.Reverse(want)
		}
		checkIDs(t, "paged", all, want)
	}
}

func typeRecord(kind swfd.TypeKind, dom, name, version string) swfd.TypeRecord {
	return swfd.TypeRecord{
		Kind:        kind,
		Domain:      dom,
		Name:        name,
		Version:     version,
		Status:      swfd.StatusRegistered,
		Description: str(name + " v" + version),
		Created:     at(2),
		Config:      []byte(`{"defaultTaskList":{"name":"` + name + `"}}`),
	}
}

func testTypeCreateGet(t *testing.T, s swfd.Store) {
	createDomains(t, s, "dom", "dom2")
	a := typeRecord(swfd.ActivityKind, "dom", "charge", "1.0")
	a.Created = at(2).Add(45 * time.Millisecond)
	w := typeRecord(swfd.WorkflowKind, "dom", "order", "2")
	w.Config = nil
	noErr(t, s.CreateType(ctx(), a, 10), "CreateType activity")
	noErr(t, s.CreateType(ctx(), w, 10), "CreateType workflow")
	got, err := s.GetType(ctx(), swfd.ActivityKind, "dom", "charge", "1.0")
	noErr(t, err, "GetType")
	if g, want := typeView(got), typeView(a); g != want {
		t.Fatalf("GetType:\n got %s\nwant %s", g, want)
	}
	got, err = s.GetType(ctx(), swfd.WorkflowKind, "dom", "order", "2")
	noErr(t, err, "GetType")
	if g, want := typeView(got), typeView(w); g != want {
		t.Fatalf("GetType:\n got %s\nwant %s", g, want)
	}
	for _, k := range []struct {
		kind               swfd.TypeKind
		dom, name, version string
	}{
		{swfd.WorkflowKind, "dom", "charge", "1.0"}, // other kind
		{swfd.ActivityKind, "other", "charge", "1.0"},
		{swfd.ActivityKind, "dom", "charge", "1"},
		{swfd.ActivityKind, "dom", "Charge", "1.0"},
	} {
		_, err := s.GetType(ctx(), k.kind, k.dom, k.name, k.version)
		wantErr(t, err, swfd.ErrNotFound, "GetType "+k.name)
	}
}

func testTypeDuplicate(t *testing.T, s swfd.Store) {
	createDomains(t, s, "dom", "dom2")
	a := typeRecord(swfd.ActivityKind, "dom", "charge", "1")
	noErr(t, s.CreateType(ctx(), a, 10), "CreateType")
	wantErr(t, s.CreateType(ctx(), a, 10), swfd.ErrAlreadyExists, "CreateType registered duplicate")
	noErr(t, s.SetTypeStatus(ctx(), a.Kind, a.Domain, a.Name, a.Version, swfd.StatusDeprecated, at(3)), "SetTypeStatus")
	b := a
	b.Description = str("changed")
	wantErr(t, s.CreateType(ctx(), b, 10), swfd.ErrAlreadyExists, "CreateType deprecated duplicate")
	got, err := s.GetType(ctx(), a.Kind, a.Domain, a.Name, a.Version)
	noErr(t, err, "GetType")
	if optView(got.Description) != optView(a.Description) {
		t.Fatalf("duplicate CreateType changed the type: %s", typeView(got))
	}
	// The same name and version in another kind or domain, or another version, is a different type.
	noErr(t, s.CreateType(ctx(), typeRecord(swfd.WorkflowKind, "dom", "charge", "1"), 10), "CreateType other kind")
	noErr(t, s.CreateType(ctx(), typeRecord(swfd.ActivityKind, "dom2", "charge", "1"), 10), "CreateType other domain")
	noErr(t, s.CreateType(ctx(), typeRecord(swfd.ActivityKind, "dom", "charge", "2"), 10), "CreateType other version")
}

func testTypeLimit(t *testing.T, s swfd.Store) {
	createDomains(t, s, "dom", "dom2")
	noErr(t, s.CreateType(ctx(), typeRecord(swfd.ActivityKind, "dom", "a", "1"), 2), "CreateType")
	noErr(t, s.CreateType(ctx(), typeRecord(swfd.ActivityKind, "dom", "b", "1"), 2), "CreateType")
	noErr(t, s.SetTypeStatus(ctx(), swfd.ActivityKind, "dom", "b", "1", swfd.StatusDeprecated, at(1)), "SetTypeStatus")
	wantErr(t, s.CreateType(ctx(), typeRecord(swfd.ActivityKind, "dom", "c", "1"), 2), swfd.ErrLimitExceeded, "CreateType over the limit")
	_, err := s.GetType(ctx(), swfd.ActivityKind, "dom", "c", "1")
	wantErr(t, err, swfd.ErrNotFound, "GetType of the refused type")
	// The limit is per kind and per domain.
	noErr(t, s.CreateType(ctx(), typeRecord(swfd.WorkflowKind, "dom", "a", "1"), 2), "CreateType workflow")
	noErr(t, s.CreateType(ctx(), typeRecord(swfd.WorkflowKind, "dom", "b", "1"), 2), "CreateType workflow")
	wantErr(t, s.CreateType(ctx(), typeRecord(swfd.WorkflowKind, "dom", "c", "1"), 2), swfd.ErrLimitExceeded, "CreateType workflow over the limit")
	noErr(t, s.CreateType(ctx(), typeRecord(swfd.ActivityKind, "dom2", "c", "1"), 2), "CreateType in another domain")
	noErr(t, s.CreateType(ctx(), typeRecord(swfd.ActivityKind, "dom", "c", "1"), 3), "CreateType with a higher limit")
}

// testConcurrentTypeLimit: types registered at once into one domain all
// count against its limit (exactly as many as fit are taken), and a
// deleted type makes room for one more.
func testConcurrentTypeLimit(t *testing.T, s swfd.Store) {
	createDomains(t, s, "dom")
	noErr(t, s.CreateType(ctx(), typeRecord(swfd.ActivityKind, "dom", "first", "1"), 5), "CreateType")
	const n = 8
	errs := make(chan error, n)
	for i := range n {
		go func() {
			errs <- s.CreateType(ctx(), typeRecord(swfd.ActivityKind, "dom", fmt.Sprintf("t%d", i), "1"), 5)
		}()
	}
	ok := 0
	for range n {
		switch err := <-errs; {
		case err == nil:
			ok++
		case !errors.Is(err, swfd.ErrLimitExceeded):
			t.Fatalf("concurrent CreateType at the limit: %v", err)
		}
	}
	stored, err := s.ListTypes(ctx(), swfd.ActivityKind, "dom", swfd.ListQuery{})
	noErr(t, err, "ListTypes")
	if ok != 4 || len(stored) != 5 {
		t.Fatalf("at a limit of 5 with 1 type stored: %d of %d registrations succeeded and %d types are stored, want 4 and 5", ok, n, len(stored))
	}
	wantErr(t, s.CreateType(ctx(), typeRecord(swfd.ActivityKind, "dom", "more", "1"), 5), swfd.ErrLimitExceeded, "CreateType into the full domain")
	noErr(t, s.DeleteType(ctx(), swfd.ActivityKind, "dom", "first", "1"), "DeleteType")
	noErr(t, s.CreateType(ctx(), typeRecord(swfd.ActivityKind, "dom", "more", "1"), 5), "CreateType after a DeleteType made room")
	wantErr(t, s.CreateType(ctx(), typeRecord(swfd.ActivityKind, "dom", "more2", "1"), 5), swfd.ErrLimitExceeded, "CreateType into the full domain again")
	// The other kind has its own count.
	noErr(t, s.CreateType(ctx(), typeRecord(swfd.WorkflowKind, "dom", "w", "1"), 1), "CreateType of the other kind")
}

func testTypeStatus(t *testing.T, s swfd.Store) {
	createDomains(t, s, "dom", "dom2")
	a := typeRecord(swfd.ActivityKind, "dom", "charge", "1")
	noErr(t, s.CreateType(ctx(), a, 10), "CreateType")
	when := at(9).Add(999 * time.Millisecond)
	noErr(t, s.SetTypeStatus(ctx(), a.Kind, "dom", "charge", "1", swfd.StatusDeprecated, when), "SetTypeStatus")
	got, err := s.GetType(ctx(), a.Kind, "dom", "charge", "1")
	noErr(t, err, "GetType")
	a.Status, a.Deprecated = swfd.StatusDeprecated, when
	if g, w := typeView(got), typeView(a); g != w {
		t.Fatalf("after deprecation:\n got %s\nwant %s", g, w)
	}
	noErr(t, s.SetTypeStatus(ctx(), a.Kind, "dom", "charge", "1", swfd.StatusRegistered, time.Time{}), "SetTypeStatus")
	got, err = s.GetType(ctx(), a.Kind, "dom", "charge", "1")
	noErr(t, err, "GetType")
	a.Status, a.Deprecated = swfd.StatusRegistered, time.Time{}
	if g, w := typeView(got), typeView(a); g != w {
		t.Fatalf("after undeprecation:\n got %s\nwant %s", g, w)
	}
	wantErr(t, s.SetTypeStatus(ctx(), swfd.WorkflowKind, "dom", "charge", "1", swfd.StatusDeprecated, when),
		swfd.ErrNotFound, "SetTypeStatus of a missing type")
}

func testTypeDelete(t *testing.T, s swfd.Store) {
	createDomains(t, s, "dom", "dom2")
	a := typeRecord(swfd.ActivityKind, "dom", "charge", "1")
	w := typeRecord(swfd.WorkflowKind, "dom", "charge", "1")
	noErr(t, s.CreateType(ctx(), a, 10), "CreateType")
	noErr(t, s.CreateType(ctx(), w, 10), "CreateType")
	noErr(t, s.DeleteType(ctx(), swfd.ActivityKind, "dom", "charge", "1"), "DeleteType")
	_, err := s.GetType(ctx(), swfd.ActivityKind, "dom", "charge", "1")
	wantErr(t, err, swfd.ErrNotFound, "GetType after DeleteType")
	_, err = s.GetType(ctx(), swfd.WorkflowKind, "dom", "charge", "1")
	noErr(t, err, "GetType of the other kind")
	wantErr(t, s.DeleteType(ctx(), swfd.ActivityKind, "dom", "charge", "1"), swfd.ErrNotFound, "DeleteType again")
	// A deleted type's key is free again.
	noErr(t, s.CreateType(ctx(), a, 10), "CreateType after DeleteType")
}

func testListTypes(t *testing.T, s swfd.Store) {
	createDomains(t, s, "dom", "dom2")
	// Created out of order.
	for _, nv := range [][2]string{{"b", "2"}, {"a", "1"}, {"c", "1"}, {"b", "1"}, {"a", "2"}, {"b", "3"}, {"ab", "1"}} {
		noErr(t, s.CreateType(ctx(), typeRecord(swfd.ActivityKind, "dom", nv[0], nv[1]), 100), "CreateType")
	}
	noErr(t, s.CreateType(ctx(), typeRecord(swfd.WorkflowKind, "dom", "a", "9"), 100), "CreateType workflow")
	noErr(t, s.CreateType(ctx(), typeRecord(swfd.ActivityKind, "dom2", "a", "8"), 100), "CreateType other domain")
	noErr(t, s.SetTypeStatus(ctx(), swfd.ActivityKind, "dom", "b", "2", swfd.StatusDeprecated, at(5)), "SetTypeStatus")

	list := func(kind swfd.TypeKind, dom string, q swfd.ListQuery) []string {
		t.Helper()
		ts, err := s.ListTypes(ctx(), kind, dom, q)
		noErr(t, err, "ListTypes")
		out := make([]string, len(ts))
		for i, tr := range ts {
			if tr.Kind != kind || tr.Domain != dom || tr.Status != q.Status {
				t.Fatalf("ListTypes %s %s %+v returned %s", kind, dom, q, typeView(tr))
			}
			out[i] = tr.Name + ":" + tr.Version
		}
		return out
	}
	reg := swfd.StatusRegistered
	all := []string{"a:1", "a:2", "ab:1", "b:1", "b:3", "c:1"}
	checkIDs(t, "registered", list(swfd.ActivityKind, "dom", swfd.ListQuery{Status: reg}), all)
	checkIDs(t, "deprecated", list(swfd.ActivityKind, "dom", swfd.ListQuery{Status: swfd.StatusDeprecated}), []string{"b:2"})
	checkIDs(t, "workflow", list(swfd.WorkflowKind, "dom", swfd.ListQuery{Status: reg}), []string{"a:9"})
	checkIDs(t, "other domain", list(swfd.ActivityKind, "dom2", swfd.ListQuery{Status: reg}), []string{"a:8"})
	checkIDs(t, "no domain", list(swfd.ActivityKind, "none", swfd.ListQuery{Status: reg}), nil)
	checkIDs(t, "name a", list(swfd.ActivityKind, "dom", swfd.ListQuery{Status: reg, Name: "a"}), []string{"a:1", "a:2"})
	checkIDs(t, "name b", list(swfd.ActivityKind, "dom", swfd.ListQuery{Status: reg, Name: "b"}), []string{"b:1", "b:3"})
	checkIDs(t, "name b reverse", list(swfd.ActivityKind, "dom", swfd.ListQuery{Status: reg, Name: "b", Reverse: true}), []string{"b:3", "b:1"})
	rev := slices.Clone(all)
	slices.Reverse(rev)
	checkIDs(t, "reverse", list(swfd.ActivityKind, "dom", swfd.ListQuery{Status: reg, Reverse: true}), rev)
	checkIDs(t, "after a:2", list(swfd.ActivityKind, "dom", swfd.ListQuery{Status: reg, After: swfd.TypeListKey("a", "2"), Limit: 2}),
		[]string{"ab:1", "b:1"})
	checkIDs(t, "reverse after b:1", list(swfd.ActivityKind, "dom", swfd.ListQuery{Status: reg, Reverse: true, After: swfd.TypeListKey("b", "1")}),
		[]string{"ab:1", "a:2", "a:1"})

	for _, reverse := range []bool{false, true} {
		for _, limit := range []int{1, 2, 4} {
			var got []string
			after := ""
			for range 20 {
				ts, err := s.ListTypes(ctx(), swfd.ActivityKind, "dom", swfd.ListQuery{Status: reg, Reverse: reverse, After: after, Limit: limit})
				noErr(t, err, "ListTypes")
				if len(ts) > limit {
					t.Fatalf("ListTypes limit %d returned %d", limit, len(ts))
				}
				if len(ts) == 0 {
					break
				}
				for _, tr := range ts {
					got = append(got, tr.Name+":"+tr.Version)
				}
				last := ts[len(ts)-1]
				after = swfd.TypeListKey(last.Name, last.Version)
			}
			want := all
			if reverse {
				want = rev
			}
			checkIDs(t, fmt.Sprintf("paged reverse=%v limit=%d", reverse, limit), got, want)
		}
	}
}

// testTypeInDeprecatedDomain: no registered type can be put into a
// deprecated domain, by CreateType or by SetTypeStatus; a deprecated one
// can (swfd migrate copies a deprecated domain's types so).
func testTypeInDeprecatedDomain(t *testing.T, s swfd.Store) {
	createDomains(t, s, "dom")
	a := typeRecord(swfd.ActivityKind, "dom", "old", "1")
	noErr(t, s.CreateType(ctx(), a, 10), "CreateType")
	noErr(t, s.SetDomainStatus(ctx(), "dom", swfd.StatusDeprecated, at(1)), "SetDomainStatus")

	w := typeRecord(swfd.WorkflowKind, "dom", "new", "1")
	wantErr(t, s.CreateType(ctx(), w, 10), swfd.ErrDeprecated, "CreateType of a registered type in a deprecated domain")
	_, err := s.GetType(ctx(), w.Kind, "dom", "new", "1")
	wantErr(t, err, swfd.ErrNotFound, "GetType of the refused type")
	wantErr(t, s.SetTypeStatus(ctx(), a.Kind, "dom", "old", "1", swfd.StatusRegistered, time.Time{}), swfd.ErrDeprecated,
		"SetTypeStatus registered in a deprecated domain")
	got, err := s.GetType(ctx(), a.Kind, "dom", "old", "1")
	noErr(t, err, "GetType")
	if got.Status != swfd.StatusDeprecated || !got.Deprecated.Equal(at(1)) {
		t.Fatalf("refused undeprecation changed the type: %s", typeView(got))
	}
	d := typeRecord(swfd.WorkflowKind, "dom", "copied", "1")
	d.Status, d.Deprecated = swfd.StatusDeprecated, at(1)
	noErr(t, s.CreateType(ctx(), d, 10), "CreateType of a deprecated type in a deprecated domain")

	wantErr(t, s.CreateType(ctx(), typeRecord(swfd.ActivityKind, "missing", "a", "1"), 10), swfd.ErrNotFound, "CreateType in a missing domain")

	noErr(t, s.SetDomainStatus(ctx(), "dom", swfd.StatusRegistered, at(2)), "SetDomainStatus registered")
	noErr(t, s.SetTypeStatus(ctx(), a.Kind, "dom", "old", "1", swfd.StatusRegistered, time.Time{}), "SetTypeStatus after undeprecation")
	noErr(t, s.CreateType(ctx(), w, 10), "CreateType after undeprecation")
}

// testDeprecateWhileRegistering: types registered while the domain is
// deprecated are each either created before the deprecation, and
// deprecated with the domain, or refused; none is left registered, and the
// deprecation itself succeeds however many registrations run beside it.
func testDeprecateWhileRegistering(t *testing.T, s swfd.Store) {
	for round := range 3 {
		dom := fmt.Sprintf("race%d", round)
		createDomains(t, s, dom)
		const workers = 4
		stop := make(chan struct{})
		type result struct {
			created []string
			err     error
		}
		results := make(chan result, workers)
		started := make(chan struct{}, workers)
		for w := range workers {
			go func() {
				var r result
				for i := 0; ; i++ {
					after := false
					select {
					case <-stop:
						after = true
					default:
					}
					tr := typeRecord(swfd.WorkflowKind, dom, fmt.Sprintf("w%d-%d", w, i), "1")
					err := s.CreateType(ctx(), tr, 0)
					if i == 0 {
						started <- struct{}{}
					}
					if errors.Is(err, swfd.ErrDeprecated) {
						break
					}
					if err == nil && after {
						err = errors.New("a registration begun after the deprecation succeeded")
					}
					if err != nil {
						r.err = err
						break
					}
					r.created = append(r.created, tr.Name)
				}
				results <- r
			}()
		}
		for range workers {
			<-started
		}
		// The registrations go on until the deprecation commits, so one
		// starved by them would wait for good: it gets a minute (it takes
		// well under a second) and fails the test with its error instead.
		deprecate, cancel := context.WithTimeout(ctx(), time.Minute)
		err := s.SetDomainStatus(deprecate, dom, swfd.StatusDeprecated, at(3))
		cancel()
		close(stop)
		noErr(t, err, "SetDomainStatus while types are registered")
		created := 0
		for range workers {
			r := <-results
			noErr(t, r.err, "CreateType")
			created += len(r.created)
		}
		reg, err := s.ListTypes(ctx(), swfd.WorkflowKind, dom, swfd.ListQuery{Status: swfd.StatusRegistered})
		noErr(t, err, "ListTypes")
		if len(reg) != 0 {
			t.Fatalf("round %d: %d types are registered in the deprecated domain, e.g. %s", round, len(reg), typeView(reg[0]))
		}
		dep, err := s.ListTypes(ctx(), swfd.WorkflowKind, dom, swfd.ListQuery{Status: swfd.StatusDeprecated})
		noErr(t, err, "ListTypes")
		if len(dep) != created {
			t.Fatalf("round %d: %d types created, %d deprecated", round, created, len(dep))
		}
	}
}
