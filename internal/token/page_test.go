package token

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
)

// A page token must fit the 2048 characters the SWF model allows
// nextPageToken, whatever the scope holds: SDKs send it back as given, and
// swfd's own validation refuses a longer one. The longest position any
// list resumes after is a type's name and version (256 and 64 characters,
// up to four bytes each); scopes hold a domain, a task list or filters of
// 256 characters each.
func TestPageTokensFitTheModel(t *testing.T) {
	k := fuzzKeys()
	wide := strings.Repeat("😀", 256) // 1024 bytes; "<" or "&" would once have been escaped to six
	scope := "dtask|" + wide + "|" + wide + "|" + strings.Repeat("<&>\"\\", 256) + "|false"
	after := strings.Repeat("𝄞", 256) + "\x00" + strings.Repeat("𝄞", 64)
	tok := k.PageToken(scope, after)
	if len(tok) > 2048 {
		t.Fatalf("page token of %d characters, more than the model's 2048", len(tok))
	}
	got, err := k.OpenPage(tok, scope)
	if err != nil || got != after {
		t.Fatalf("OpenPage = %q, %v; want the position back", got, err)
	}
	if _, err := k.OpenPage(tok, scope+"x"); !isValidation(err, "does not belong") {
		t.Fatalf("OpenPage with another scope: %v, want a ValidationException that it does not belong", err)
	}
}

// Tokens made before the compact form (a JSON payload) still open for the
// rest of their lifetime, with the same checks.
func TestLegacyPageTokens(t *testing.T) {
	k := fuzzKeys()
	seal := func(p legacyPage) string {
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		return k.seal(b)
	}
	live := seal(legacyPage{Scope: "ListDomains|REGISTERED", After: "domain-7", Expires: fuzzNow.Add(time.Hour).Unix()})
	if got, err := k.OpenPage(live, "ListDomains|REGISTERED"); err != nil || got != "domain-7" {
		t.Fatalf("legacy token: %q, %v", got, err)
	}
	if _, err := k.OpenPage(live, "ListDomains|DEPRECATED"); !isValidation(err, "does not belong") {
		t.Fatalf("legacy token, other scope: %v", err)
	}
	old := seal(legacyPage{Scope: "s", After: "a", Expires: fuzzNow.Add(-time.Second).Unix()})
	if _, err := k.OpenPage(old, "s"); !isValidation(err, "maximum lifetime") {
		t.Fatalf("expired legacy token: %v", err)
	}
}

func TestPageTokenExpires(t *testing.T) {
	made := New(fuzzKeys().key, fuzzClock{fuzzNow.Add(-PageLifetime - time.Second)}, nil)
	tok := made.PageToken("s", "a")
	if _, err := fuzzKeys().OpenPage(tok, "s"); !isValidation(err, "maximum lifetime") {
		t.Fatalf("a token made more than %v ago: %v", PageLifetime, err)
	}
	fresh := New(fuzzKeys().key, fuzzClock{fuzzNow.Add(-PageLifetime + time.Second)}, nil)
	if _, err := fuzzKeys().OpenPage(fresh.PageToken("s", "a"), "s"); err != nil {
		t.Fatalf("a token within its lifetime: %v", err)
	}
}

func isValidation(err error, says string) bool {
	var f *api.Fault
	return errors.As(err, &f) && f.Code == api.ValidationException && strings.Contains(f.Message, says)
}
