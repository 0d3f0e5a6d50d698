package history

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
)

// checkAppendJSON asserts that s.AppendJSON writes what json.Marshal(s)
// returns, after a prefix it must keep; or, where json.Marshal fails,
// that it appends nothing.
func checkAppendJSON(t testing.TB, name string, s *State) {
	t.Helper()
	want, err := json.Marshal(s)
	prefix := []byte("prefix")
	got := s.AppendJSON(prefix[:len(prefix):len(prefix)])
	if !bytes.HasPrefix(got, prefix) {
		t.Fatalf("%s: AppendJSON lost the prefix: %q", name, got)
	}
	got = got[len(prefix):]
	if err != nil {
		if len(got) != 0 {
			t.Fatalf("%s: json.Marshal fails (%v) but AppendJSON wrote %q", name, err, got)
		}
		return
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: AppendJSON differs from json.Marshal\n got: %s\nwant: %s\n at byte %d", name, got, want, firstDiff(got, want))
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// escapes are strings that need every kind of escape json.Marshal makes,
// and some that need none.
var escapes = []string{
	"",
	"plain ascii 0123 ~!@#$%^*()_+-={}[]|:;',.?/`",
	"<script>&amp;</script>",
	"quote \" backslash \\ slash /",
	"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f",
	"\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f",
	"line\nbreak\r\ttab\bback\fform",
	"invalid \xff utf8 \xc3 end \xe2\x82",
	"\xed\xa0\x80 surrogate, \xf4\x90\x80\x80 past U+10FFFF, \xc0\x80 overlong",
	"separators \u2028 and \u2029, next to \u2027 and \u202a",
	"é 日本語 🎉 \ufffd literal replacement char",
	"\xff",
	"\u2028",
	"trailing <",
}

// times are times with and without fractions, in UTC and at offsets east
// and west (with minutes, and with seconds, which RFC 3339 drops), at the
// edges of the years it allows, and one with a monotonic clock reading.
var (
	zoneWest  = time.FixedZone("W", -(3*3600 + 30*60))
	zoneEast  = time.FixedZone("E", 5*3600+45*60)
	zoneOddly = time.FixedZone("S", 23*3600+59*60+59) // seconds are dropped
	times     = []time.Time{
		time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC),
		time.Date(2024, 3, 1, 12, 0, 0, 123000000, time.UTC),
		time.Date(2024, 3, 1, 12, 0, 0, 123456789, time.UTC),
		time.Date(2024, 3, 1, 12, 0, 0, 100, zoneWest),
		time.Date(1999, 12, 31, 23, 59, 59, 999999999, zoneEast),
		time.Date(0, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 0, zoneOddly),
		time.Date(1, 1, 1, 0, 0, 0, 0, zoneWest), // not IsZero: another instant
		time.Now(),                               // with a monotonic reading
	}
)

func TestAppendJSONHandBuilt(t *testing.T) {
	zeroWithZone := time.Time{}.In(zoneEast) // IsZero, but not == time.Time{}
	full := func() *State {
		return &State{
			Domain: "d", WorkflowID: "w<1>", RunID: "r&1",
			WorkflowType:           api.WorkflowType{Name: "wf", Version: "1"},
			Config:                 Config{TaskList: "tl", TaskPriority: "-3", ExecutionStartToCloseTimeout: "3600", TaskStartToCloseTimeout: "NONE", ChildPolicy: api.ChildPolicyRequestCancel, LambdaRole: "arn:role"},
			TagList:                []string{"a", "", "c\n"},
			Parent:                 &api.WorkflowExecution{WorkflowID: "pw", RunID: "pr"},
			ParentInitiatedEventID: 12,
			StartTime:              times[0], CloseTime: times[3],
			Open: true, CloseStatus: api.CloseStatusTimedOut, CancelRequested: true,
			NextEventID: 42,
			Decision: DecisionState{ScheduledID: 40, ScheduledTime: times[1], ScheduledList: "o", StartedID: 41, StartedSchedID: 39,
				StartedTime: times[2], Override: "o", OverrideTimeout: "5", ScheduleToStart: "5", StartedTemporary: true, Listed: times[2]},
			PreviousStartedEventID: 3,
			Activities: map[string]*Activity{
				"b": {ActivityID: "b", ActivityType: api.ActivityType{Name: "act", Version: "1"}, ScheduledID: 5, ScheduledTime: times[0],
					StartedID: 6, StartedTime: times[1], Identity: "worker", TaskList: "acts", TaskPriority: "1", ScheduleToStart: "1",
					ScheduleToClose: "2", StartToClose: "3", Heartbeat: "4", LastHeartbeat: times[4], HeartbeatDetails: api.String("hb"),
					CancelRequested: true, LatestCancelRequestID: 9},
				"a":  {ActivityID: "a", HeartbeatDetails: api.String("")},
				"a<": nil,
				"":   {},
			},
			Timers:    map[string]*UserTimer{"t": {TimerID: "t", StartedID: 7, Due: times[5]}, "T": {}},
			Children:  map[int64]*Child{9: {InitiatedID: 9, StartedID: 11, WorkflowID: "c", RunID: "cr", WorkflowType: api.WorkflowType{Name: "child"}, Control: api.String("ctl"), DecisionTaskCompletedID: 8}, 10: {Control: api.String("")}, -1: nil, 100: {}},
			Externals: map[int64]*External{20: {InitiatedID: 20, WorkflowID: "x", RunID: api.String("xr"), Control: api.String("c"), Signal: true, DecisionTaskCompletedID: 8}, 3: {RunID: api.String(""), Control: api.String("")}},
			Lambdas: map[string]*Lambda{"l": {ID: "l", Name: "fn", ScheduledID: 30, ScheduledTime: times[6], StartedID: 31, StartedTime: times[7],
				StartToClose: "300"}},
			LatestExecutionContext:      api.String("ctx"),
			LatestActivityTaskTimestamp: times[8],
			Trouble: Trouble{DecisionTimeouts: 2, LastTimeout: times[3],
				FailedDecision: FailedDecision{EventID: 17, EventType: api.EventTypeStartTimerFailed, Cause: "TIMER_ID_ALREADY_IN_USE", Time: times[4]}},
		}
	}
	cases := map[string]*State{
		"nil":    nil,
		"zero":   {},
		"full":   full(),
		"domain": {Domain: "d"},
		"empty maps": {Activities: map[string]*Activity{}, Timers: map[string]*UserTimer{}, Children: map[int64]*Child{},
			Externals: map[int64]*External{}, Lambdas: map[string]*Lambda{}},
		"empty tag list":     {TagList: []string{}},
		"pointers to empty":  {Parent: &api.WorkflowExecution{}, LatestExecutionContext: api.String("")},
		"half workflow type": {WorkflowType: api.WorkflowType{Version: "1"}},
		"negative ints": {ParentInitiatedEventID: -1, NextEventID: -9223372036854775808, PreviousStartedEventID: 9223372036854775807,
			Trouble: Trouble{DecisionTimeouts: -5}, Decision: DecisionState{StartedSchedID: -2}},
		"zero time with a zone": {StartTime: zeroWithZone, Decision: DecisionState{ScheduledTime: zeroWithZone},
			Trouble: Trouble{LastTimeout: zeroWithZone, FailedDecision: FailedDecision{Time: zeroWithZone}}},
		"only a failed decision": {Trouble: Trouble{FailedDecision: FailedDecision{Cause: "c"}}},
		"only omitempty":         {Decision: DecisionState{ScheduleToStart: "5"}},
		"only StartedTemporary":  {Decision: DecisionState{StartedTemporary: true}},
		"int keys in string order": {Children: map[int64]*Child{2: {}, 10: {}, 1: {}, -1: {}, -10: {}, -2: {}, 0: {}, 100: {}, 11: {},
			-9223372036854775808: {}, 9223372036854775807: {}}},
		"many keys": func() *State {
			s := &State{Activities: map[string]*Activity{}, Externals: map[int64]*External{}}
			for i := range 40 {
				s.Activities[fmt.Sprint(i*7%40)] = &Activity{ScheduledID: int64(i)}
				s.Externals[int64(i*13%40-20)] = &External{InitiatedID: int64(i)}
			}
			return s
		}(),
		"key order by bytes": {Timers: map[string]*UserTimer{"b": {}, "B": {}, "é": {}, "\xff": {}, "\ufffd": {}, "a\x00": {}, "a": {}, "<": {}}},
	}
	for i, tm := range times {
		cases[fmt.Sprint("time ", i)] = &State{StartTime: tm, Decision: DecisionState{StartedTime: tm}, Lambdas: map[string]*Lambda{"l": {StartedTime: tm}}}
	}
	for i, s := range escapes {
		st := full()
		st.Domain, st.CloseStatus, st.TagList = s, api.CloseStatus(s), []string{s, s}
		st.WorkflowType.Name, st.Config.LambdaRole, st.Parent.RunID = s, s, s
		st.Decision.ScheduleToStart = s
		st.Activities[s] = &Activity{ActivityID: s, HeartbeatDetails: &s, ActivityType: api.ActivityType{Version: s}}
		st.Timers[s] = &UserTimer{TimerID: s}
		st.Children[int64(i)] = &Child{Control: &s}
		st.Lambdas[s] = &Lambda{Name: s}
		st.LatestExecutionContext = &s
		st.Trouble.FailedDecision.Cause = s
		cases[fmt.Sprintf("escapes %d", i)] = st
	}
	for name, s := range cases {
		checkAppendJSON(t, name, s)
	}
}

// A state json.Marshal cannot encode (a time RFC 3339 cannot express)
// gets nothing from AppendJSON, so rowOf can fall back to json.Marshal's
// error.
func TestAppendJSONUnencodableTime(t *testing.T) {
	bad := []time.Time{
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 1, 1, 0, 0, 0, 0, time.FixedZone("", 24*3600)),
		time.Date(2024, 1, 1, 0, 0, 0, 0, time.FixedZone("", -24*3600)),
		time.Date(2024, 1, 1, 0, 0, 0, 0, time.FixedZone("", 100*3600)),
		time.Date(2024, 1, 1, 0, 0, 0, 0, time.FixedZone("", -1000*3600)),
	}
	for i, tm := range bad {
		for j, s := range []*State{
			{StartTime: tm},
			{Domain: "d", Lambdas: map[string]*Lambda{"l": {ScheduledTime: tm}}},
			{Trouble: Trouble{FailedDecision: FailedDecision{Time: tm}}},
		} {
			if _, err := json.Marshal(s); err == nil {
				t.Fatalf("time %d: json.Marshal accepts %v", i, tm)
			}
			if got := s.AppendJSON([]byte("x")); string(got) != "x" {
				t.Fatalf("time %d, state %d: AppendJSON wrote %q", i, j, got)
			}
		}
	}
	// The limits themselves are fine.
	for _, tm := range []time.Time{
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2024, 1, 1, 0, 0, 0, 0, time.FixedZone("", 24*3600-1)),
		time.Date(2024, 1, 1, 0, 0, 0, 0, time.FixedZone("", -(24*3600-1))),
	} {
		checkAppendJSON(t, tm.String(), &State{StartTime: tm})
	}
}

// fillMode says what stateFiller puts in the fields of a State.
type fillMode int

const (
	fillAll  fillMode = iota // every field non-zero
	fillNone                 // maps, slices and pointers made, every other field zero
	fillOne                  // as fillNone, but the field numbered target non-zero
)

// stateFiller fills a value, found by reflection, for
// TestAppendJSONEveryField. Maps get three entries (two keys that sort
// differently as strings and as numbers, and a nil value when the values
// are pointers), slices two elements, pointers a value; the other fields
// are leaves, numbered in the order they are met.
type stateFiller struct {
	t      *testing.T
	mode   fillMode
	target int
	leaves int
}

var timeType = reflect.TypeFor[time.Time]()

func (f *stateFiller) fill(v reflect.Value, path string) {
	t := v.Type()
	if t == timeType {
		f.leaf(v, path)
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		for i := range t.NumField() {
			if sf := t.Field(i); sf.IsExported() {
				f.fill(v.Field(i), path+"."+sf.Name)
			}
		}
	case reflect.Pointer:
		v.Set(reflect.New(t.Elem()))
		f.fill(v.Elem(), "(*"+path+")")
	case reflect.Slice:
		v.Set(reflect.MakeSlice(t, 2, 2))
		for i := range 2 {
			f.fill(v.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.Map:
		v.Set(reflect.MakeMap(t))
		for i, k := range []string{"9", "10", "-3"} {
			key := reflect.New(t.Key()).Elem()
			switch t.Key().Kind() {
			case reflect.String:
				key.SetString(k + "<&>")
			case reflect.Int64:
				fmt.Sscan(k, key.Addr().Interface())
			default:
				f.t.Fatalf("%s: map key kind %v: teach stateFiller and AppendJSON", path, t.Key().Kind())
			}
			val := reflect.New(t.Elem()).Elem()
			if i < 2 || t.Elem().Kind() != reflect.Pointer {
				f.fill(val, fmt.Sprintf("%s[%v]", path, key))
			}
			v.SetMapIndex(key, val)
		}
	default:
		f.leaf(v, path)
	}
}

// leaf sets v to a non-zero value unique to its number if the mode says
// so.
func (f *stateFiller) leaf(v reflect.Value, path string) {
	n := f.leaves
	f.leaves++
	if f.mode == fillNone || f.mode == fillOne && n != f.target {
		return
	}
	if v.Type() == timeType {
		v.Set(reflect.ValueOf(times[n%len(times)].Add(time.Duration(n) * time.Hour)))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("%s#%d%s", path, n, escapes[n%len(escapes)]))
	case reflect.Int, reflect.Int64:
		x := int64(n + 1)
		if n%2 == 1 {
			x = -x * 1000003
		}
		v.SetInt(x)
	case reflect.Bool:
		v.SetBool(true)
	default:
		f.t.Fatalf("%s: kind %v: teach stateFiller and AppendJSON", path, v.Kind())
	}
}

// TestAppendJSONEveryField fills every field of a State and of the types
// inside it, found by reflection, so a field added to any of them that
// AppendJSON does not write makes json.Marshal's output differ: with every
// field set, with none set (but the maps and pointers made), and with
// each field alone set.
func TestAppendJSONEveryField(t *testing.T) {
	all := &stateFiller{t: t, mode: fillAll}
	var s State
	all.fill(reflect.ValueOf(&s).Elem(), "State")
	checkAppendJSON(t, "every field", &s)
	if all.leaves < 80 {
		t.Fatalf("only %d fields filled", all.leaves)
	}

	s = State{}
	(&stateFiller{t: t, mode: fillNone}).fill(reflect.ValueOf(&s).Elem(), "State")
	checkAppendJSON(t, "no field", &s)

	for i := range all.leaves {
		s = State{}
		(&stateFiller{t: t, mode: fillOne, target: i}).fill(reflect.ValueOf(&s).Elem(), "State")
		checkAppendJSON(t, fmt.Sprint("field ", i), &s)
	}
}

// The tests of this package check AppendJSON on every state they reach
// (harness.check); this makes sure they reach the parts of a state that
// only some runs use.
func TestAppendJSONScenarioStates(t *testing.T) {
	h := newHarness(t)
	p := rootParams()
	p.Parent = &api.WorkflowExecution{WorkflowID: "pw", RunID: "pr"}
	h.start(p)
	st := h.pollDecision()
	h.must(func(s *State) (Result, error) {
		return s.CompleteDecisionTask(h.env, st, &api.RespondDecisionTaskCompletedInput{ExecutionContext: api.String("<c>\u2028"), TaskList: &api.TaskList{Name: "o"}, TaskListScheduleToStartTimeout: "5", Decisions: []api.Decision{
			schedAct("a"), schedAct("b"), startTimer("t", "5"), startChild("c", "child", nil), signalExt("x", "", "s"), cancelExt("y", "r"),
			{DecisionType: api.DecisionTypeStartTimer, StartTimerDecisionAttributes: &api.StartTimerDecisionAttributes{TimerID: "t", StartToFireTimeout: "1"}},
		}})
	})
	h.startActivity("a")
	h.advance(1500 * time.Microsecond)
	h.must(func(s *State) (Result, error) {
		_, r, err := s.RecordHeartbeat(h.env, 5, h.s.Activities["a"].StartedID, api.String("hb\u2028"))
		return r, err
	})
	h.must(func(s *State) (Result, error) { return s.Signal(h.env, "s", api.String("")) })
	for _, want := range []string{`"Activities":{"a":{`, `"Children":{"`, `"Externals":{"`, `"Timers":{"t":{`, `"FailedDecision":{`, `"Parent":{`, `\u2028`} {
		if b := h.s.AppendJSON(nil); !bytes.Contains(b, []byte(want)) {
			t.Fatalf("state lacks %s: %s", want, b)
		}
	}
	checkAppendJSON(t, "scenario", h.s)
	l := startLambdaRun(t)
	l.pollAndDecide(lambda("l1"))
	if b := l.s.AppendJSON(nil); !bytes.Contains(b, []byte(`"Lambdas":{"l1":{`)) {
		t.Fatalf("state lacks its Lambda task: %s", b)
	}
	checkAppendJSON(t, "lambda scenario", l.s)
}

// FuzzAppendJSON puts fuzzed strings, integers and a time into every kind
// of place in a State (fields, map keys, pointers, lists) and compares
// AppendJSON with json.Marshal.
func FuzzAppendJSON(f *testing.F) {
	for i, s := range escapes {
		f.Add(s, escapes[(i+1)%len(escapes)], int64(i), int64(-i*10), times[i%len(times)].Unix(), int64(times[i%len(times)].Nanosecond()), i*3541-20000)
	}
	f.Add("a", "a", int64(10), int64(9), int64(-62135596800-1), int64(0), 0)                // year 0
	f.Add("", "\xff", int64(0), int64(0), int64(253402300800), int64(0), 0)                 // year 10000
	f.Add("x", "y", int64(-1), int64(1), int64(0), int64(-1), 86400)                        // zone of 24 hours
	f.Add("x", "y", int64(1<<62), int64(-1<<62), int64(1<<40), int64(1<<40), -(86400 - 60)) // far away
	f.Fuzz(func(t *testing.T, s1, s2 string, i1, i2, sec, nsec int64, offset int) {
		tm := time.Unix(sec, nsec).In(time.FixedZone(s2, offset))
		st := &State{
			Domain: s1, WorkflowID: s2, RunID: s1 + s2,
			WorkflowType: api.WorkflowType{Name: s1, Version: s2},
			Config:       Config{TaskList: s1, ChildPolicy: api.ChildPolicy(s2)},
			TagList:      []string{s1, s2},
			Parent:       &api.WorkflowExecution{WorkflowID: s1, RunID: s2},
			NextEventID:  i1, PreviousStartedEventID: i2,
			StartTime: tm, CloseStatus: api.CloseStatus(s1),
			Decision: DecisionState{ScheduledID: i2, StartedTime: tm, ScheduleToStart: s2},
			Activities: map[string]*Activity{
				s1: {ActivityID: s2, ActivityType: api.ActivityType{Name: s2}, ScheduledID: i1, LastHeartbeat: tm, HeartbeatDetails: &s1},
				s2: {Identity: s1},
			},
			Timers:                 map[string]*UserTimer{s2: {TimerID: s1, StartedID: i2, Due: tm}},
			Children:               map[int64]*Child{i1: {InitiatedID: i1, WorkflowID: s1, Control: &s2}, i2: nil},
			Externals:              map[int64]*External{i2: {RunID: &s2, Control: &s1}, i1 ^ i2: {}},
			Lambdas:                map[string]*Lambda{s1 + "\x00": {Name: s2, StartedTime: tm}},
			LatestExecutionContext: &s2,
			Trouble:                Trouble{DecisionTimeouts: int(i1), FailedDecision: FailedDecision{EventType: api.EventType(s2), Cause: s1, Time: tm}},
		}
		checkAppendJSON(t, "fuzzed state", st)
		// The same with the zero-valued and empty forms.
		st.Domain, st.TagList, st.Parent, st.StartTime = "", []string{}, nil, time.Time{}
		st.Activities, st.Timers = nil, map[string]*UserTimer{}
		checkAppendJSON(t, "fuzzed state, emptied", st)
	})
}

// benchState is a typical state: a run with one activity scheduled and a
// decision task started.
func benchState(b *testing.B) *State {
	env := Env{Now: t0, Types: newFakeTypes(), Limits: DefaultLimits}
	s, _ := Start(env, rootParams())
	steps := []func() (Result, error){
		func() (Result, error) { return s.StartDecisionTask(env, 2, api.String("decider")) },
		func() (Result, error) {
			return s.CompleteDecisionTask(env, 3, &api.RespondDecisionTaskCompletedInput{Decisions: []api.Decision{schedAct("a1")}})
		},
		func() (Result, error) { return s.Signal(env, "go", api.String("now")) },
		func() (Result, error) { return s.StartDecisionTask(env, s.Decision.ScheduledID, api.String("decider")) },
	}
	for _, step := range steps {
		env.Now = env.Now.Add(1234567 * time.Nanosecond)
		if _, err := step(); err != nil {
			b.Fatal(err)
		}
	}
	if len(s.Activities) != 1 || s.Decision.StartedID == 0 {
		b.Fatalf("not the state wanted: %+v", s)
	}
	checkAppendJSON(b, "bench state", s)
	return s
}

func BenchmarkStateAppendJSON(b *testing.B) {
	s := benchState(b)
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf = s.AppendJSON(buf[:0])
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkStateJSONMarshal(b *testing.B) {
	s := benchState(b)
	var out []byte
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if out, err = json.Marshal(s); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(out)))
}
