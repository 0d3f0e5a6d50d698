package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/swfd/swfd"
)

// Strings that a collation other than byte order would sort or match
// differently: case, accents written precomposed (NFC) and decomposed
// (NFD), characters whose upper case is two letters, letters outside the
// Basic Multilingual Plane, and prefixes.
var unicodeNames = []string{
	"a", "A", "b", "B", "ab", "a b", "aB",
	"\u00e9", "e\u0301", "E\u0301", "\u00c9", "e", "f",
	"stra\u00dfe", "STRASSE", "strasse",
	"\u0131", "I", "i", // dotless i, I, i
	"\U0001F600", "\uFF41", // an emoji, fullwidth a
	"z",
	// What an array's or a row's text form would quote.
	"NULL", "null", "a,b", "{x}", `"q"`, `b\s`, " s ", "(p)",
}

// byteSorted returns names sorted by bytes, or the other way round.
func byteSorted(names []string, reverse bool) []string {
	s := slices.Clone(names)
	slices.Sort(s) // Go compares strings by bytes
	if reverse {
		slices.Reverse(s)
	}
	return s
}

// testUnicodeVisibility: every driver orders executions that start at the
// same instant by the bytes of their run ids, pages through them at one a
// page without skipping or repeating one, and matches workflowIds, type
// names and tags byte for byte: no case folding, no Unicode normalization.
func testUnicodeVisibility(t *testing.T, s swfd.Store) {
	const dom = "uni"
	byRun := map[string]swfd.Execution{}
	for i, n := range unicodeNames {
		e := execution(dom, n, n, at(1)) // one start time: ties everywhere
		e.TypeName, e.TypeVersion, e.Tags = n, n, []string{n}
		create(t, s, e)
		if i%2 == 1 {
			e = closeRun(t, s, e, "COMPLETED", at(2)) // one close time too
		}
		byRun[n] = e
	}
	match := func(open bool, f func(e swfd.Execution) bool) []string {
		var out []string
		for _, n := range unicodeNames {
			if e := byRun[n]; e.Open == open && f(e) {
				out = append(out, n)
			}
		}
		return out
	}
	all := func(swfd.Execution) bool { return true }
	for _, open := range []bool{true, false} {
		for _, byClose := range []bool{false, true} {
			if open && byClose {
				continue
			}
			for _, reverse := range []bool{false, true} {
				q := swfd.VisibilityQuery{Domain: dom, Open: open, ByCloseTime: byClose, Reverse: reverse}
				what := fmt.Sprintf("open=%v byClose=%v reverse=%v", open, byClose, reverse)
				want := byteSorted(match(open, all), !reverse)
				checkIDs(t, what, runIDs(list(t, s, q)), want)
				// One a page, resuming after the last one seen: the
				// tie is broken by the run id alone.
				var got []string
				p := q
				p.Limit = 1
				for range len(unicodeNames) + 2 {
					page := list(t, s, p)
					if len(page) == 0 {
						break
					}
					got = append(got, page[0].RunID)
					p.AfterTime, p.AfterRunID = page[0].StartTime, page[0].RunID
					if byClose {
						p.AfterTime = page[0].CloseTime
					}
				}
				checkIDs(t, what+", one a page", got, want)
			}
		}
	}
	// Each string selects its own run only, whatever the filter, open or
	// closed, and counts one.
	for _, n := range unicodeNames {
		open := byRun[n].Open
		for name, q := range map[string]swfd.VisibilityQuery{
			"workflowId":   {WorkflowID: n},
			"type":         {TypeName: n},
			"type/version": {TypeName: n, TypeVersion: n},
			"tag":          {Tag: n},
		} {
			q.Domain, q.Open = dom, open
			what := fmt.Sprintf("%s %q (%+q)", name, n, n)
			es := list(t, s, q)
			checkIDs(t, what, runIDs(es), []string{n})
			// The row comes back as stored, its tag too.
			if e := es[0]; e.WorkflowID != n || e.TypeName != n || e.TypeVersion != n || len(e.Tags) != 1 || e.Tags[0] != n {
				t.Fatalf("%s: %s", what, execView(e))
			}
			c, truncated, err := s.CountExecutions(ctx(), q, 100)
			noErr(t, err, "CountExecutions")
			if c != 1 || truncated {
				t.Fatalf("count %s: %d truncated %v, want 1 false", what, c, truncated)
			}
		}
	}
}

// testUnicodeRegistry: domains and types are listed in byte order of their
// names (then versions), forward and reversed, at one a page as a whole,
// and a name filter matches byte for byte.
func testUnicodeRegistry(t *testing.T, s swfd.Store) {
	const dom = "uni"
	createDomains(t, s, dom)
	for _, n := range unicodeNames {
		createDomain(t, s, domain("d"+n, swfd.StatusRegistered))
		for _, v := range []string{"1", n} {
			noErr(t, s.CreateType(ctx(), typeRecord(swfd.WorkflowKind, dom, n, v), 1000), "CreateType "+n)
		}
	}
	var domains, types []string
	for _, n := range unicodeNames {
		domains = append(domains, "d"+n)
	}
	domains = append(domains, dom)
	slices.Sort(domains)
	for _, n := range unicodeNames {
		types = append(types, n+"\x00"+"1", n+"\x00"+n)
	}
	slices.Sort(types) // the order of (name, version) too: no name holds U+0000
	for _, reverse := range []bool{false, true} {
		wantD, wantT := slices.Clone(domains), slices.Clone(types)
		if reverse {
			slices.Reverse(wantD)
			slices.Reverse(wantT)
		}
		var gotD []string
		q := swfd.ListQuery{Status: swfd.StatusRegistered, Reverse: reverse, Limit: 1}
		for range len(domains) + 2 {
			ds, err := s.ListDomains(ctx(), q)
			noErr(t, err, "ListDomains")
			if len(ds) == 0 {
				break
			}
			gotD = append(gotD, ds[0].Name)
			q.After = ds[0].Name
		}
		checkIDs(t, fmt.Sprintf("domains one a page, reverse=%v", reverse), gotD, wantD)
		var gotT []string
		q = swfd.ListQuery{Status: swfd.StatusRegistered, Reverse: reverse, Limit: 1}
		for range len(types) + 2 {
			ts, err := s.ListTypes(ctx(), swfd.WorkflowKind, dom, q)
			noErr(t, err, "ListTypes")
			if len(ts) == 0 {
				break
			}
			gotT = append(gotT, swfd.TypeListKey(ts[0].Name, ts[0].Version))
			q.After = swfd.TypeListKey(ts[0].Name, ts[0].Version)
		}
		checkIDs(t, fmt.Sprintf("types one a page, reverse=%v", reverse), gotT, wantT)
	}
	for _, n := range unicodeNames {
		ts, err := s.ListTypes(ctx(), swfd.WorkflowKind, dom, swfd.ListQuery{Status: swfd.StatusRegistered, Name: n})
		noErr(t, err, "ListTypes")
		var got []string
		for _, tr := range ts {
			got = append(got, tr.Name)
		}
		if !slices.Equal(got, []string{n, n}) {
			t.Fatalf("types named %q (%+q): %q", n, n, got)
		}
	}
}
