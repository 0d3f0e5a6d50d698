package history

import (
	"bytes"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/swfd/swfd/api"
)

// AppendJSON appends the JSON encoding of s to b and returns the extended
// slice: byte for byte what json.Marshal(s) returns (nil s gives null).
//
// It exists because the service stores a run's State as JSON on every
// step, and encoding/json's reflection over the State, its maps and its
// nested structs cost a noticeable share of the server's CPU (3.6% in one
// profile). AppendJSON writes the same bytes field by field without
// allocating (beyond growing b, and sorting the keys of a map of more than
// eight entries), following
// encoding/json's rules: fields in declaration order under their Go names,
// omitzero and omitempty as tagged, nil maps as null, map keys sorted (int64
// keys as quoted decimal strings, sorted as strings), strings escaped as
// json.Marshal escapes them (HTML-safe, with U+2028 and U+2029 escaped and
// invalid UTF-8 replaced by U+FFFD), and times as time.Time.MarshalJSON
// writes them. json.Marshal stays the reference: the tests compare the two
// on hand-built states, on states with every field set (found by
// reflection, so a field added to State or to a type inside it without
// being added here fails them), on fuzzed values and on the states of the
// history scenarios. A change to State or to a type it contains must be
// made here too. (That is encoding/json as Go builds it by default: under
// GOEXPERIMENT=jsonv2 json.Marshal writes invalid UTF-8 as a raw U+FFFD,
// not as \ufffd, and the tests fail on it.)
//
// json.Marshal fails on a state holding a time that RFC 3339 cannot
// express (a year outside 0–9999, or a zone offset of 24 hours or more
// either way). For such a state AppendJSON appends nothing and returns b
// unchanged; since it adds at least "{}" (or "null") for any other, a
// caller tells the two apart by length and calls json.Marshal for the
// error.
func (s *State) AppendJSON(b []byte) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	e := stateEncoder{b: b}
	e.state(s)
	if e.bad {
		return b
	}
	return e.b
}

// stateEncoder accumulates the encoding of a State. Each object is written
// as a run of members that each begin with ','; the object's first comma
// then becomes its '{' (see open and close), so no member needs to know
// whether it comes first.
type stateEncoder struct {
	b   []byte
	bad bool // a time was written that time.Time.MarshalJSON rejects
}

// open starts an object and returns its start for close.
func (e *stateEncoder) open() int { return len(e.b) }

// close ends the object begun at start.
func (e *stateEncoder) close(start int) {
	if len(e.b) == start {
		e.b = append(e.b, "{}"...)
		return
	}
	e.b[start] = '{'
	e.b = append(e.b, '}')
}

// The member writers take the member's key as `,"Name":` and skip the
// member when its value is the zero value (under omitzero and omitempty
// alike, which agree for strings, integers and bools).

func (e *stateEncoder) str(key, v string) {
	if v != "" {
		e.b = append(e.b, key...)
		e.b = appendJSONString(e.b, v)
	}
}

func (e *stateEncoder) int(key string, v int64) {
	if v != 0 {
		e.b = append(e.b, key...)
		e.b = strconv.AppendInt(e.b, v, 10)
	}
}

func (e *stateEncoder) bool(key string, v bool) {
	if v {
		e.b = append(e.b, key...)
		e.b = append(e.b, "true"...)
	}
}

// time writes t unless t.IsZero(), the test omitzero uses for time.Time
// (a zero instant with a location is omitted too).
func (e *stateEncoder) time(key string, t time.Time) {
	if !t.IsZero() {
		e.b = append(e.b, key...)
		e.appendTime(t)
	}
}

// strPtr writes *p unless p is nil (a pointer to "" is written).
func (e *stateEncoder) strPtr(key string, p *string) {
	if p != nil {
		e.b = append(e.b, key...)
		e.b = appendJSONString(e.b, *p)
	}
}

// appendTime writes t as time.Time.MarshalJSON does: RFC 3339 with as many
// fractional digits as the nanoseconds need, quoted. It marks the encoder
// bad where MarshalJSON would fail.
func (e *stateEncoder) appendTime(t time.Time) {
	e.b = append(e.b, '"')
	start := len(e.b)
	e.b = t.AppendFormat(e.b, time.RFC3339Nano)
	if !strictRFC3339(e.b[start:]) {
		e.bad = true
	}
	e.b = append(e.b, '"')
}

// strictRFC3339 reports whether f, a time formatted with RFC3339Nano, is
// valid RFC 3339, as time.Time.MarshalJSON requires: a four-digit year
// (AppendFormat writes other years with a sign or a fifth digit) and, unless
// the zone is Z, a zone offset of two-digit hours below 24 (AppendFormat
// writes an offset of 100 hours or more with three digits).
func strictRFC3339(f []byte) bool {
	if len(f) < len("2006-01-02T15:04:05Z") || f[4] != '-' {
		return false
	}
	n := len(f)
	if f[n-1] == 'Z' {
		return true
	}
	zone := f[n-len("-07:00"):]
	if zone[0] != '+' && zone[0] != '-' {
		return false
	}
	return (zone[1]-'0')*10+(zone[2]-'0') < 24
}

func (e *stateEncoder) state(s *State) {
	start := e.stateHead(s)
	e.stateMaps(s)
	e.stateTail(s, start)
}

// stateHead opens a State's object, writes its members before the maps and
// returns the object's start for stateTail.
func (e *stateEncoder) stateHead(s *State) int {
	start := e.open()
	e.str(`,"Domain":`, s.Domain)
	e.str(`,"WorkflowID":`, s.WorkflowID)
	e.str(`,"RunID":`, s.RunID)
	if s.WorkflowType != (api.WorkflowType{}) {
		e.b = append(e.b, `,"WorkflowType":`...)
		e.nameVersion(s.WorkflowType.Name, s.WorkflowType.Version)
	}
	if s.Config != (Config{}) {
		e.b = append(e.b, `,"Config":`...)
		e.config(&s.Config)
	}
	if s.TagList != nil { // omitzero: an empty list is written, a nil one is not
		e.b = append(e.b, `,"TagList":[`...)
		for i, t := range s.TagList {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.b = appendJSONString(e.b, t)
		}
		e.b = append(e.b, ']')
	}
	if s.Parent != nil {
		e.b = append(e.b, `,"Parent":`...)
		e.workflowExecution(s.Parent)
	}
	e.int(`,"ParentInitiatedEventID":`, s.ParentInitiatedEventID)
	e.time(`,"StartTime":`, s.StartTime)
	e.time(`,"CloseTime":`, s.CloseTime)
	e.bool(`,"Open":`, s.Open)
	e.str(`,"CloseStatus":`, string(s.CloseStatus))
	e.bool(`,"CancelRequested":`, s.CancelRequested)
	e.int(`,"NextEventID":`, s.NextEventID)
	// A struct under omitzero is omitted when it equals its zero value, as
	// reflect.Value.IsZero decides (none of these types has an IsZero
	// method): == on the struct is that test, times included.
	if s.Decision != (DecisionState{}) {
		e.b = append(e.b, `,"Decision":`...)
		e.decision(&s.Decision)
	}
	e.int(`,"PreviousStartedEventID":`, s.PreviousStartedEventID)
	return start
}

// stateMaps writes the maps of a State, which have no tag: always
// written, null when nil. (JSONMemo writes them its own way, between
// stateHead and stateTail.)
func (e *stateEncoder) stateMaps(s *State) {
	e.b = append(e.b, `,"Activities":`...)
	e.activities(s.Activities)
	e.b = append(e.b, `,"Timers":`...)
	e.timers(s.Timers)
	e.b = append(e.b, `,"Children":`...)
	e.children(s.Children)
	e.b = append(e.b, `,"Externals":`...)
	e.externals(s.Externals)
	e.b = append(e.b, `,"Lambdas":`...)
	e.lambdas(s.Lambdas)
}

// stateTail writes the members of a State after its maps and closes the
// object begun at start.
func (e *stateEncoder) stateTail(s *State, start int) {
	e.strPtr(`,"LatestExecutionContext":`, s.LatestExecutionContext)
	e.time(`,"LatestActivityTaskTimestamp":`, s.LatestActivityTaskTimestamp)
	if s.Trouble != (Trouble{}) {
		e.b = append(e.b, `,"Trouble":`...)
		e.trouble(&s.Trouble)
	}
	e.close(start)
}

// The api types' fields have plain names as tags (no omitzero): every
// member is written.

// nameVersion writes an api.WorkflowType or api.ActivityType.
func (e *stateEncoder) nameVersion(name, version string) {
	e.b = append(e.b, `{"name":`...)
	e.b = appendJSONString(e.b, name)
	e.b = append(e.b, `,"version":`...)
	e.b = appendJSONString(e.b, version)
	e.b = append(e.b, '}')
}

func (e *stateEncoder) workflowExecution(w *api.WorkflowExecution) {
	e.b = append(e.b, `{"runId":`...)
	e.b = appendJSONString(e.b, w.RunID)
	e.b = append(e.b, `,"workflowId":`...)
	e.b = appendJSONString(e.b, w.WorkflowID)
	e.b = append(e.b, '}')
}

func (e *stateEncoder) config(c *Config) {
	start := e.open()
	e.str(`,"TaskList":`, c.TaskList)
	e.str(`,"TaskPriority":`, c.TaskPriority)
	e.str(`,"ExecutionStartToCloseTimeout":`, c.ExecutionStartToCloseTimeout)
	e.str(`,"TaskStartToCloseTimeout":`, c.TaskStartToCloseTimeout)
	e.str(`,"ChildPolicy":`, string(c.ChildPolicy))
	e.str(`,"LambdaRole":`, c.LambdaRole)
	e.close(start)
}

func (e *stateEncoder) decision(d *DecisionState) {
	start := e.open()
	e.int(`,"ScheduledID":`, d.ScheduledID)
	e.time(`,"ScheduledTime":`, d.ScheduledTime)
	e.str(`,"ScheduledList":`, d.ScheduledList)
	e.int(`,"StartedID":`, d.StartedID)
	e.int(`,"StartedSchedID":`, d.StartedSchedID)
	e.time(`,"StartedTime":`, d.StartedTime)
	e.str(`,"Override":`, d.Override)
	e.str(`,"OverrideTimeout":`, d.OverrideTimeout)
	e.str(`,"ScheduleToStart":`, d.ScheduleToStart)    // omitempty
	e.bool(`,"StartedTemporary":`, d.StartedTemporary) // omitempty
	e.time(`,"Listed":`, d.Listed)
	e.close(start)
}

func (e *stateEncoder) activity(a *Activity) {
	start := e.open()
	e.str(`,"ActivityID":`, a.ActivityID)
	if a.ActivityType != (api.ActivityType{}) {
		e.b = append(e.b, `,"ActivityType":`...)
		e.nameVersion(a.ActivityType.Name, a.ActivityType.Version)
	}
	e.int(`,"ScheduledID":`, a.ScheduledID)
	e.time(`,"ScheduledTime":`, a.ScheduledTime)
	e.int(`,"StartedID":`, a.StartedID)
	e.time(`,"StartedTime":`, a.StartedTime)
	e.str(`,"Identity":`, a.Identity)
	e.str(`,"TaskList":`, a.TaskList)
	e.str(`,"TaskPriority":`, a.TaskPriority)
	e.str(`,"ScheduleToStart":`, a.ScheduleToStart)
	e.str(`,"ScheduleToClose":`, a.ScheduleToClose)
	e.str(`,"StartToClose":`, a.StartToClose)
	e.str(`,"Heartbeat":`, a.Heartbeat)
	e.time(`,"LastHeartbeat":`, a.LastHeartbeat)
	e.bool(`,"CancelRequested":`, a.CancelRequested)
	e.int(`,"LatestCancelRequestID":`, a.LatestCancelRequestID)
	e.close(start)
}

func (e *stateEncoder) timer(t *UserTimer) {
	start := e.open()
	e.str(`,"TimerID":`, t.TimerID)
	e.int(`,"StartedID":`, t.StartedID)
	e.time(`,"Due":`, t.Due)
	e.close(start)
}

func (e *stateEncoder) child(c *Child) {
	start := e.open()
	e.int(`,"InitiatedID":`, c.InitiatedID)
	e.int(`,"StartedID":`, c.StartedID)
	e.str(`,"WorkflowID":`, c.WorkflowID)
	e.str(`,"RunID":`, c.RunID)
	if c.WorkflowType != (api.WorkflowType{}) {
		e.b = append(e.b, `,"WorkflowType":`...)
		e.nameVersion(c.WorkflowType.Name, c.WorkflowType.Version)
	}
	e.strPtr(`,"Control":`, c.Control) // omitempty: only nil is omitted
	e.int(`,"DecisionTaskCompletedID":`, c.DecisionTaskCompletedID)
	e.close(start)
}

func (e *stateEncoder) external(x *External) {
	start := e.open()
	e.int(`,"InitiatedID":`, x.InitiatedID)
	e.str(`,"WorkflowID":`, x.WorkflowID)
	e.strPtr(`,"RunID":`, x.RunID)
	e.strPtr(`,"Control":`, x.Control)
	e.bool(`,"Signal":`, x.Signal)
	e.int(`,"DecisionTaskCompletedID":`, x.DecisionTaskCompletedID)
	e.close(start)
}

func (e *stateEncoder) lambda(l *Lambda) {
	start := e.open()
	e.str(`,"ID":`, l.ID)
	e.str(`,"Name":`, l.Name)
	e.int(`,"ScheduledID":`, l.ScheduledID)
	e.time(`,"ScheduledTime":`, l.ScheduledTime)
	e.int(`,"StartedID":`, l.StartedID)
	e.time(`,"StartedTime":`, l.StartedTime)
	e.str(`,"StartToClose":`, l.StartToClose)
	e.close(start)
}

func (e *stateEncoder) trouble(t *Trouble) {
	start := e.open()
	e.int(`,"DecisionTimeouts":`, int64(t.DecisionTimeouts))
	e.time(`,"LastTimeout":`, t.LastTimeout)
	if t.FailedDecision != (FailedDecision{}) {
		e.b = append(e.b, `,"FailedDecision":`...)
		e.failedDecision(&t.FailedDecision)
	}
	e.close(start)
}

func (e *stateEncoder) failedDecision(f *FailedDecision) {
	start := e.open()
	e.int(`,"EventID":`, f.EventID)
	e.str(`,"EventType":`, string(f.EventType))
	e.str(`,"Cause":`, f.Cause)
	e.time(`,"Time":`, f.Time)
	e.close(start)
}

// The maps are written with their keys sorted, null when nil, and a nil
// value as null. Each has its own writer: calling the value's writer
// through a function value would make the encoder escape to the heap.

func (e *stateEncoder) activities(m map[string]*Activity) {
	if m == nil {
		e.b = append(e.b, "null"...)
		return
	}
	var small [8]string
	e.b = append(e.b, '{')
	for i, k := range sortedStringKeys(m, small[:0]) {
		e.stringKey(i, k)
		if v := m[k]; v != nil {
			e.activity(v)
		} else {
			e.b = append(e.b, "null"...)
		}
	}
	e.b = append(e.b, '}')
}

func (e *stateEncoder) timers(m map[string]*UserTimer) {
	if m == nil {
		e.b = append(e.b, "null"...)
		return
	}
	var small [8]string
	e.b = append(e.b, '{')
	for i, k := range sortedStringKeys(m, small[:0]) {
		e.stringKey(i, k)
		if v := m[k]; v != nil {
			e.timer(v)
		} else {
			e.b = append(e.b, "null"...)
		}
	}
	e.b = append(e.b, '}')
}

func (e *stateEncoder) lambdas(m map[string]*Lambda) {
	if m == nil {
		e.b = append(e.b, "null"...)
		return
	}
	var small [8]string
	e.b = append(e.b, '{')
	for i, k := range sortedStringKeys(m, small[:0]) {
		e.stringKey(i, k)
		if v := m[k]; v != nil {
			e.lambda(v)
		} else {
			e.b = append(e.b, "null"...)
		}
	}
	e.b = append(e.b, '}')
}

func (e *stateEncoder) children(m map[int64]*Child) {
	if m == nil {
		e.b = append(e.b, "null"...)
		return
	}
	var small [8]int64
	e.b = append(e.b, '{')
	for i, k := range sortedIntKeys(m, small[:0]) {
		e.intKey(i, k)
		if v := m[k]; v != nil {
			e.child(v)
		} else {
			e.b = append(e.b, "null"...)
		}
	}
	e.b = append(e.b, '}')
}

func (e *stateEncoder) externals(m map[int64]*External) {
	if m == nil {
		e.b = append(e.b, "null"...)
		return
	}
	var small [8]int64
	e.b = append(e.b, '{')
	for i, k := range sortedIntKeys(m, small[:0]) {
		e.intKey(i, k)
		if v := m[k]; v != nil {
			e.external(v)
		} else {
			e.b = append(e.b, "null"...)
		}
	}
	e.b = append(e.b, '}')
}

// sortedStringKeys appends the keys of m to keys in byte order, as
// encoding/json sorts them.
func sortedStringKeys[V any](m map[string]V, keys []string) []string {
	for k := range m {
		keys = append(keys, k)
	}
	if len(keys) > 1 {
		slices.Sort(keys)
	}
	return keys
}

// sortedIntKeys appends the keys of m to keys in the order of their
// decimal strings, as encoding/json sorts them ("10" before "9", "-1"
// before "0").
func sortedIntKeys[V any](m map[int64]V, keys []int64) []int64 {
	for k := range m {
		keys = append(keys, k)
	}
	if len(keys) > 1 {
		slices.SortFunc(keys, compareDecimal)
	}
	return keys
}

// stringKey writes the i-th key of an object being written, and its colon.
func (e *stateEncoder) stringKey(i int, k string) {
	if i > 0 {
		e.b = append(e.b, ',')
	}
	e.b = appendJSONString(e.b, k)
	e.b = append(e.b, ':')
}

// intKey writes the i-th key of an object being written, an int64 as a
// quoted decimal string, and its colon.
func (e *stateEncoder) intKey(i int, k int64) {
	if i > 0 {
		e.b = append(e.b, ',')
	}
	e.b = append(e.b, '"')
	e.b = strconv.AppendInt(e.b, k, 10)
	e.b = append(e.b, '"', ':')
}

// compareDecimal orders int64s as their decimal strings compare.
func compareDecimal(a, b int64) int {
	var x, y [20]byte // the longest int64, -9223372036854775808, has 20 bytes
	return bytes.Compare(strconv.AppendInt(x[:0], a, 10), strconv.AppendInt(y[:0], b, 10))
}

// jsonPlain[c] is true for the ASCII bytes json.Marshal copies into a
// string unescaped: all but the control characters, '"', '\\', and the
// HTML-sensitive '<', '>' and '&'.
var jsonPlain = func() (t [utf8.RuneSelf]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = true
	}
	for _, c := range `"\<>&` {
		t[c] = false
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// appendJSONString appends s quoted and escaped as json.Marshal escapes a
// string by default: '"' and '\\' with a backslash; \b, \f, \n, \r and \t
// by those short forms; other control characters and '<', '>', '&' as
// \u00XX; U+2028 and U+2029 as \u2028 and \u2029; each byte of invalid
// UTF-8 as \ufffd. Everything else is copied as is.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	copied := 0 // s[:copied] is in b
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonPlain[c] {
				i++
				continue
			}
			b = append(b, s[copied:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, `\b`...)
			case '\f':
				b = append(b, `\f`...)
			case '\n':
				b = append(b, `\n`...)
			case '\r':
				b = append(b, `\r`...)
			case '\t':
				b = append(b, `\t`...)
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			copied = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b = append(b, s[copied:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028':
			b = append(b, s[copied:i]...)
			b = append(b, `\u2028`...)
		case r == '\u2029':
			b = append(b, s[copied:i]...)
			b = append(b, `\u2029`...)
		default:
			i += n
			continue
		}
		i += n
		copied = i
	}
	b = append(b, s[copied:]...)
	return append(b, '"')
}
