package auth

import (
	"math/rand"
	"strings"
	"testing"
)

// everyName and someName answer for every name, and for some name, what
// Match answers for one: on policies' own patterns, and checked against
// Match on every short name for random patterns.
func TestEveryAndSomeName(t *testing.T) {
	pre := []string{"arn:aws:swf:us-east-1:" + acct + ":/domain/", "arn:aws:swf:us-east-1:" + acct + ":domain/"}
	cases := []struct {
		patterns    []string
		every, some bool
	}{
		{[]string{"*"}, true, true},
		{[]string{"arn:aws:swf:*"}, true, true},
		{[]string{"arn:aws:swf:*:" + acct + ":/domain/*"}, true, true},
		{[]string{"arn:aws:swf:*:*:domain/*"}, true, true},
		{[]string{"arn:aws:swf:us-east-1:" + acct + ":/domain/?*"}, true, true},
		{[]string{"arn:aws:swf:us-east-1:" + acct + ":*?"}, true, true},
		{[]string{"arn:aws:swf:us-east-1:" + acct + ":/domain/?"}, false, true},
		{[]string{"arn:aws:swf:us-east-1:" + acct + ":/domain/??*"}, false, true},
		{[]string{"arn:aws:swf:us-east-1:" + acct + ":/domain/team-*"}, false, true},
		{[]string{"arn:aws:swf:us-east-1:" + acct + ":/domain/" + strings.Repeat("域", 256)}, false, true},
		{[]string{"arn:aws:swf:us-east-1:" + acct + ":/domain/a*", "arn:aws:swf:us-east-1:" + acct + ":/domain/*"}, true, true},
		{[]string{"arn:aws:swf:eu-west-1:" + acct + ":/domain/*"}, false, false},
		{[]string{"arn:aws:swf:us-east-1:999999999999:/domain/*"}, false, false},
		{[]string{"arn:aws:swf:us-east-1:" + acct + ":/domain/"}, false, false}, // the name is never empty
		{[]string{"arn:aws:swf::" + acct + ":domain/*"}, false, false},
		{nil, false, false},
	}
	for _, c := range cases {
		if got := everyName(c.patterns, pre); got != c.every {
			t.Errorf("everyName(%q) = %v, want %v", c.patterns, got, c.every)
		}
		if got := someName(c.patterns, pre); got != c.some {
			t.Errorf("someName(%q) = %v, want %v", c.patterns, got, c.some)
		}
	}

	// Random patterns of up to 3 runes after the prefix, over a small
	// alphabet, against Match on every name of up to 5 runes over the
	// same alphabet and one rune not in it.
	rng := rand.New(rand.NewSource(1))
	alphabet := []rune("ab域*?")
	names := []string{""}
	for n, all := 0, []string{""}; n < 5; n++ {
		var next []string
		for _, s := range all {
			for _, r := range "ab域z" {
				next = append(next, s+string(r))
			}
		}
		all = next
		names = append(names, next...)
	}
	names = names[1:]
	prefixes := []string{"x:", "x/"}
	for i := 0; i < 2000; i++ {
		var patterns []string
		for j := rng.Intn(3); j >= 0; j-- {
			var b strings.Builder
			if rng.Intn(4) == 0 {
				b.WriteString("x" + string("*:/"[rng.Intn(3)]))
			} else {
				b.WriteString(prefixes[rng.Intn(2)])
			}
			for k := rng.Intn(4); k > 0; k-- {
				b.WriteRune(alphabet[rng.Intn(len(alphabet))])
			}
			patterns = append(patterns, b.String())
		}
		every, some := true, false
		for _, name := range names {
			matched := false
			for _, p := range patterns {
				for _, pre := range prefixes {
					matched = matched || Match(p, pre+name)
				}
			}
			every = every && matched
			some = some || matched
		}
		if got := everyName(patterns, prefixes); got != every {
			t.Fatalf("everyName(%q) = %v, Match says %v", patterns, got, every)
		}
		if got := someName(patterns, prefixes); got != some {
			t.Fatalf("someName(%q) = %v, Match says %v", patterns, got, some)
		}
	}
}
