package token

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
)

type fuzzClock struct{ t time.Time }

func (c fuzzClock) Now() time.Time { return c.t }

var fuzzNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// fuzzRuns are the runs fuzzKeys know: their domains' names are too long
// for a task token to carry, but for "run-short"'s.
var fuzzRuns = &mapRuns{domains: map[string]string{
	testRunID:   strings.Repeat("域", 256),
	"run-emoji": strings.Repeat("😀", 256),
	"run-short": "short",
}}

// fuzzKeys are keys under a fixed key and clock, so that the seed corpus
// can hold genuine tokens to mutate.
func fuzzKeys() *Keys {
	return New([]byte("fuzz-token-key-0123456789abcdef!"), fuzzClock{fuzzNow}, fuzzRuns)
}

// FuzzTaskToken opens arbitrary strings as task tokens. It must never
// panic, must reject with UnknownResourceFault, and must accept only the
// exact tokens Keys itself produces: what it accepts re-seals to
// the same string, and names a task of the kind asked for. The seeds hold
// tokens of both formats: with the domain, and without it (whose run
// fuzzRuns knows).
func FuzzTaskToken(f *testing.F) {
	s := fuzzKeys()
	for _, r := range []Task{
		{Kind: swfd.DecisionTask, Domain: "d", RunID: "22abcdef0123456789", ScheduledID: 2, StartedID: 3},
		{Kind: swfd.ActivityTask, Domain: "a-domain", RunID: "run", ScheduledID: 5, StartedID: 6},
		{Kind: swfd.ActivityTask, Domain: "x", RunID: "", ScheduledID: 1 << 40, StartedID: 0},
		{Kind: swfd.DecisionTask, Domain: strings.Repeat("域", 256), RunID: testRunID, ScheduledID: 2, StartedID: 3},
		{Kind: swfd.ActivityTask, Domain: strings.Repeat("😀", 256), RunID: "run-emoji", ScheduledID: 1 << 40, StartedID: 1<<63 - 1},
	} {
		tok := s.TaskToken(r)
		f.Add(tok, r.Kind == swfd.DecisionTask)
		f.Add(tok+"\n", r.Kind == swfd.DecisionTask)
		f.Add(tok[:len(tok)-2], r.Kind == swfd.DecisionTask)
	}
	f.Add("", true)
	f.Add("AAAA", false)
	f.Add("not base64!", true)
	// Sealed, but not made by Keys: a run whose domain it would carry, a
	// kind that is neither, an inline token over 1024 characters, one
	// with an empty domain.
	f.Add(s.seal(append([]byte{taskByRun, 'A', 1, 2}, "run-short"...)), false)
	f.Add(s.seal(append([]byte{taskByRun, 'X', 1, 2}, testRunID...)), false)
	f.Add(s.seal(append([]byte{taskInline, 'D', 2, 3, 0x80, 6}, strings.Repeat("域", 256)+testRunID...)), true)
	f.Add(s.seal(append([]byte{taskInline, 'A', 1 << 6, 0, 0}, "run"...)), false)
	f.Fuzz(func(t *testing.T, token string, decision bool) {
		kind := swfd.ActivityTask
		if decision {
			kind = swfd.DecisionTask
		}
		r, err := s.OpenTask(token, kind)
		if err != nil {
			var f *api.Fault
			if !errors.As(err, &f) || f.Code != api.UnknownResourceFault {
				t.Fatalf("OpenTask(%q): %v, want UnknownResourceFault", token, err)
			}
			return
		}
		if r.Kind != kind {
			t.Fatalf("OpenTask(%q, %s) gave a %s task", token, kind, r.Kind)
		}
		if r.Domain == "" {
			// The token left its domain out: the service takes it from
			// the run, if it is one the token could name.
			d, err := fuzzRuns.RunDomain(context.Background(), r.RunID)
			if err != nil || !r.InDomain(d) {
				return
			}
			r.Domain = d
		}
		if again := s.TaskToken(r); again != token {
			t.Fatalf("accepted %q, which Keys spells %q", token, again)
		}
	})
}

// FuzzPageToken opens arbitrary strings as page tokens for a scope. It
// must never panic, must reject with ValidationException, and must accept
// only tokens Keys produced for that very scope and not yet
// expired, spelled exactly as it spelled them.
func FuzzPageToken(f *testing.F) {
	s := fuzzKeys()
	for _, sc := range []struct{ scope, after string }{
		{"ListDomains|REGISTERED", "domain-7"},
		{"history|d|w|r|false", "12"},
		{"", ""},
	} {
		tok := s.PageToken(sc.scope, sc.after)
		f.Add(tok, sc.scope)
		f.Add(tok, sc.scope+"x")
		f.Add(tok+"\r\n", sc.scope)
	}
	expired := New(s.key, fuzzClock{fuzzNow.Add(-25 * time.Hour)}, nil)
	f.Add(expired.PageToken("ListDomains|REGISTERED", "x"), "ListDomains|REGISTERED")
	legacy, _ := json.Marshal(legacyPage{Scope: "ListDomains|REGISTERED", After: "d", Expires: fuzzNow.Add(time.Hour).Unix()})
	f.Add(s.seal(legacy), "ListDomains|REGISTERED")
	f.Add("", "")
	f.Add("e30=", "") // "{}" without a MAC
	f.Fuzz(func(t *testing.T, token, scope string) {
		after, err := s.OpenPage(token, scope)
		if err != nil {
			var f *api.Fault
			if !errors.As(err, &f) || f.Code != api.ValidationException {
				t.Fatalf("OpenPage(%q): %v, want ValidationException", token, err)
			}
			return
		}
		payload, ok := s.unseal(token)
		if !ok {
			t.Fatalf("accepted %q, which does not unseal", token)
		}
		if again := s.seal(payload); again != token {
			t.Fatalf("accepted %q, which Keys spells %q", token, again)
		}
		// Keys made it for this scope, and it has not expired.
		if s.PageToken(scope, after) != token && !fuzzSameScope(t, s, payload, scope) {
			t.Fatalf("accepted %q for scope %q", token, scope)
		}
	})
}

// fuzzSameScope reports whether a payload (from another moment) names the
// scope and is still live.
func fuzzSameScope(t *testing.T, s *Keys, payload []byte, scope string) bool {
	t.Helper()
	p, ok := decodePage(payload)
	return ok && p.belongs(scope) && p.expires >= s.clock.Now().Unix()
}
