package api

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Bounds on what one request's ValidationException holds. A request of 1 MB
// can break a constraint tens of thousands of times (a list of decisions
// each with an unknown decisionType); listing every violation made an
// answer twenty times the request's size and cost hundreds of megabytes to
// build. The answer lists the first few and says how many more there were.
const (
	// MaxListedViolations is how many violations a ValidationException
	// spells out; the rest are counted.
	MaxListedViolations = 10
	// MaxViolations is how many violations a request is checked for: a
	// check that finds this many stops there, and the answer says that
	// there were at least this many.
	MaxViolations = 100
	// maxRendered bounds the text of one value quoted in a violation.
	maxRendered = 1024
)

// Violations collects the constraint violations of one request and reports
// them as the AWS framework does ("N validation errors detected: …"),
// listing at most MaxListedViolations of them and counting at most
// MaxViolations. The zero value is ready to use; its memory is bounded
// whatever is added to it.
type Violations struct {
	n      int
	listed []string
}

// Add records that the value rendered as val ("null", or the value in
// single quotes) at path breaks constraint. Past MaxViolations it does
// nothing: a checker should stop once Full says so.
func (v *Violations) Add(val, path, constraint string) {
	if v.n >= MaxViolations {
		return
	}
	v.n++
	if len(v.listed) < MaxListedViolations {
		v.listed = append(v.listed, "Value "+val+" at '"+path+"' failed to satisfy constraint: "+constraint)
	}
}

// Full reports whether MaxViolations have been recorded, so that checking
// the rest of the request would add nothing to the answer.
func (v *Violations) Full() bool { return v.n >= MaxViolations }

// Len returns how many violations were recorded (at most MaxViolations).
func (v *Violations) Len() int { return v.n }

// Err returns the violations as one ValidationException, or nil when there
// are none. Up to MaxListedViolations it lists each, joined by "; ", as
// the framework does; past that it lists the first MaxListedViolations and
// says how many more there were, or, once the check stopped at
// MaxViolations, that there were at least that many.
func (v *Violations) Err() error {
	if v.n == 0 {
		return nil
	}
	var b strings.Builder
	switch {
	case v.n == 1:
		b.WriteString("1 validation error detected: ")
	case v.n >= MaxViolations:
		b.WriteString(strconv.Itoa(v.n) + " or more validation errors detected (the request was checked no further)")
	default:
		b.WriteString(strconv.Itoa(v.n) + " validation errors detected")
	}
	if v.n > MaxListedViolations {
		b.WriteString(", the first " + strconv.Itoa(MaxListedViolations) + " listed: ")
	} else if v.n > 1 {
		b.WriteString(": ")
	}
	b.WriteString(strings.Join(v.listed, "; "))
	return &Fault{Code: ValidationException, Message: b.String()}
}

// Quote renders a string value as a violation names it: in single quotes,
// cut (on a character boundary, marked "...") past 1,024 bytes.
func Quote(s string) string {
	return "'" + cut(s, maxRendered) + "'"
}

// cut returns s shortened to at most n bytes on a character boundary, with
// "..." after it when it was shortened.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
