package history

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
)

// memoDiff returns an error when m.AppendJSON(prefix, s) differs from
// s.AppendJSON(prefix) or from json.Marshal(s) (or, where json.Marshal
// fails, appends anything).
func memoDiff(name string, m *JSONMemo, s *State) error {
	prefix := []byte("prefix")
	got := m.AppendJSON(prefix[:len(prefix):len(prefix)], s)
	plain := s.AppendJSON(prefix[:len(prefix):len(prefix)])
	if !bytes.Equal(got, plain) {
		return fmt.Errorf("%s: memo differs from AppendJSON\n got: %s\nwant: %s\n at byte %d", name, got, plain, firstDiff(got, plain))
	}
	want, err := json.Marshal(s)
	if err != nil {
		if len(got) != len(prefix) {
			return fmt.Errorf("%s: json.Marshal fails (%v) but the memo wrote %q", name, err, got)
		}
		return nil
	}
	if !bytes.Equal(got[len(prefix):], want) {
		return fmt.Errorf("%s: memo differs from json.Marshal\n got: %s\nwant: %s", name, got, want)
	}
	return nil
}

// memoRand draws the values, keys and changes of the randomized memo
// checks.
type memoRand struct {
	r    *rand.Rand
	seen int // values drawn, to make strings that differ
}

// fill sets v (a field, struct or pointer of the open items' types) to a
// random value, often a zero one.
func (g *memoRand) fill(v reflect.Value) {
	if v.Type() == timeType {
		if g.r.IntN(3) > 0 {
			v.Set(reflect.ValueOf(times[g.r.IntN(len(times))]))
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				g.fill(v.Field(i))
			}
		}
	case reflect.Pointer:
		if g.r.IntN(3) > 0 {
			v.Set(reflect.New(v.Type().Elem()))
			g.fill(v.Elem())
		}
	default:
		if g.r.IntN(3) > 0 {
			g.change(v)
		}
	}
}

// change changes a leaf in place: the new value may encode as the old
// one did (a time without its monotonic reading) or differently (the same
// instant in another zone, an integer or string changed).
func (g *memoRand) change(v reflect.Value) {
	g.seen++
	if v.Type() == timeType {
		t := v.Interface().(time.Time)
		switch g.r.IntN(5) {
		case 0:
			t = t.Add(time.Duration(1 + g.r.IntN(1000)))
		case 1:
			t = t.In(zoneEast)
		case 2:
			t = t.Round(0)
		case 3:
			t = time.Time{}
		default:
			t = times[g.r.IntN(len(times))]
		}
		v.Set(reflect.ValueOf(t))
		return
	}
	switch v.Kind() {
	case reflect.String:
		if v.Len() > 0 && g.r.IntN(4) == 0 {
			v.SetString("")
		} else {
			v.SetString(fmt.Sprintf("%s%d", escapes[g.r.IntN(len(escapes))], g.seen%7))
		}
	case reflect.Int, reflect.Int64:
		switch g.r.IntN(3) {
		case 0:
			v.SetInt(0)
		case 1:
			v.SetInt(v.Int() + 1)
		default:
			v.SetInt(g.r.Int64N(2000) - 1000)
		}
	case reflect.Bool:
		v.SetBool(!v.Bool())
	default:
		panic(fmt.Sprintf("kind %v: teach memoRand", v.Kind()))
	}
}

// leaves returns the settable leaves of v, a struct, down through its
// pointers that are set (so a change reaches what they point to).
func leaves(v reflect.Value, out []reflect.Value) []reflect.Value {
	if v.Type() == timeType {
		return append(out, v)
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				out = leaves(v.Field(i), out)
			}
		}
	case reflect.Pointer:
		if !v.IsNil() {
			out = leaves(v.Elem(), out)
		}
	default:
		out = append(out, v)
	}
	return out
}

// key draws a key of a map: strings that sort differently as bytes and as
// numbers, some needing escapes; int64s of one to four digits, some
// negative.
func (g *memoRand) key(t reflect.Type) reflect.Value {
	k := reflect.New(t).Elem()
	n := g.r.IntN(300) - 50
	if t.Kind() == reflect.String {
		e := escapes[g.r.IntN(len(escapes))]
		k.SetString(fmt.Sprintf("%d%s", n, e[:min(2, len(e))]))
	} else {
		k.SetInt(int64(n))
	}
	return k
}

// value draws a map's value: a new item, or now and then a nil one.
func (g *memoRand) value(t reflect.Type) reflect.Value {
	if g.r.IntN(15) == 0 {
		return reflect.Zero(t)
	}
	v := reflect.New(t.Elem())
	g.fill(v.Elem())
	return v
}

// memoMaps returns the five maps of s.
func memoMaps(s *State) []reflect.Value {
	v := reflect.ValueOf(s).Elem()
	return []reflect.Value{v.FieldByName("Activities"), v.FieldByName("Timers"), v.FieldByName("Children"),
		v.FieldByName("Externals"), v.FieldByName("Lambdas")}
}

// step makes one random change to one of the maps of s (or, rarely, to s
// itself), of the kinds a run's steps make and some they do not: an item
// added, deleted, re-added as it was, one of its fields changed in place
// (what a pointer points to included), replaced by an equal copy or by
// another value, a map emptied or dropped.
func (g *memoRand) step(s *State, graves map[graveKey]reflect.Value) string {
	if g.r.IntN(40) == 0 {
		s.NextEventID++
		return "next event id"
	}
	maps := memoMaps(s)
	i := g.r.IntN(len(maps))
	m := maps[i]
	if m.IsNil() || g.r.IntN(200) == 0 {
		if g.r.IntN(3) == 0 {
			m.Set(reflect.Zero(m.Type()))
			return fmt.Sprintf("map %d dropped", i)
		}
		m.Set(reflect.MakeMap(m.Type()))
		return fmt.Sprintf("map %d made", i)
	}
	keys := m.MapKeys()
	if len(keys) == 0 || g.r.IntN(5) == 0 {
		for range 1 + g.r.IntN(3) {
			m.SetMapIndex(g.key(m.Type().Key()), g.value(m.Type().Elem()))
		}
		return fmt.Sprintf("added to map %d", i)
	}
	k := keys[g.r.IntN(len(keys))]
	switch g.r.IntN(6) {
	case 0:
		graves[graveKey{i, k.Interface()}] = m.MapIndex(k)
		m.SetMapIndex(k, reflect.Value{})
		return fmt.Sprintf("deleted %v from map %d", k, i)
	case 1:
		for gk, old := range graves {
			kv := reflect.ValueOf(gk.key)
			if gk.m == i && !m.MapIndex(kv).IsValid() {
				m.SetMapIndex(kv, old)
				delete(graves, gk)
				return fmt.Sprintf("re-added %v to map %d", gk.key, i)
			}
		}
		return "nothing to re-add"
	case 2:
		v := m.MapIndex(k)
		if v.IsNil() {
			return "nil item"
		}
		c := reflect.New(v.Type().Elem())
		c.Elem().Set(v.Elem())
		m.SetMapIndex(k, c)
		return fmt.Sprintf("copied %v in map %d", k, i)
	case 3:
		m.SetMapIndex(k, g.value(m.Type().Elem()))
		return fmt.Sprintf("replaced %v in map %d", k, i)
	default:
		v := m.MapIndex(k)
		if v.IsNil() {
			return "nil item"
		}
		ls := leaves(v.Elem(), nil)
		l := ls[g.r.IntN(len(ls))]
		g.change(l)
		return fmt.Sprintf("changed a field of %v in map %d in place", k, i)
	}
}

// graveKey names an item step deleted: its map's index in memoMaps and
// its key.
type graveKey struct {
	m   int
	key any
}

// newState returns a state with its maps made and a few items in
// each.
func (g *memoRand) newState() *State {
	s := &State{Domain: "d", WorkflowID: "w", RunID: "r", Open: true, NextEventID: 7}
	for _, m := range memoMaps(s) {
		m.Set(reflect.MakeMap(m.Type()))
		for range g.r.IntN(12) {
			m.SetMapIndex(g.key(m.Type().Key()), g.value(m.Type().Elem()))
		}
	}
	return s
}

// runMemoSequence makes steps random changes to a state, encoding it with
// m after each and checking the bytes. Now and then it also encodes, with
// the same memo, a state that went another way (a step decided and then
// dropped, as one that lost a race is) or the state as decoded from its
// JSON (as a run read from the store is), and goes on with the first.
func runMemoSequence(seed uint64, m *JSONMemo, steps int) error {
	g := &memoRand{r: rand.New(rand.NewPCG(seed, 7))}
	s := g.newState()
	graves := map[graveKey]reflect.Value{}
	if err := memoDiff("start", m, s); err != nil {
		return err
	}
	for i := range steps {
		what := g.step(s, graves)
		if err := memoDiff(fmt.Sprintf("seed %d, step %d (%s)", seed, i, what), m, s); err != nil {
			return err
		}
		if g.r.IntN(10) == 0 {
			b, err := json.Marshal(s)
			if err != nil {
				continue // a time json.Marshal refuses: checked above
			}
			other := new(State)
			if err := json.Unmarshal(b, other); err != nil {
				return err
			}
			for range g.r.IntN(3) {
				what := g.step(other, map[graveKey]reflect.Value{})
				if err := memoDiff(fmt.Sprintf("seed %d, step %d, other state (%s)", seed, i, what), m, other); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// TestJSONMemoRandomSequences encodes states changed at random, one step
// at a time, with one memo for each sequence: every encoding must be the
// plain one, byte for byte. The maps cross the memo's threshold (4 here)
// both ways.
func TestJSONMemoRandomSequences(t *testing.T) {
	n := 150
	if testing.Short() || underRace {
		n = 15
	}
	for seed := range uint64(n) {
		if err := runMemoSequence(seed, &JSONMemo{minItems: 4}, 100); err != nil {
			t.Fatal(err)
		}
	}
}

// TestJSONMemoShared encodes the states of several sequences with one
// memo at once (run it with -race): each goroutine must get its own
// state's bytes.
func TestJSONMemoShared(t *testing.T) {
	m := &JSONMemo{minItems: 2}
	steps := 60
	if underRace {
		steps = 25
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			for seed := uint64(w); seed < 40; seed += 8 {
				if err := runMemoSequence(1000+seed, m, steps); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestJSONMemoSeesEveryField changes each field of each open item's type,
// found by reflection and changed in place (what a pointer points to
// included), after the memo kept the item: wherever the change shows in
// the plain encoding, the memo must not take the item for the one it
// kept. A field added to one of these types that keep and same do not
// handle (a pointer compared as a pointer) fails here.
func TestJSONMemoSeesEveryField(t *testing.T) {
	checkMemoKind[string, Activity, activityMemo](t, "Activity")
	checkMemoKind[string, UserTimer, timerMemo](t, "UserTimer")
	checkMemoKind[string, Lambda, lambdaMemo](t, "Lambda")
	checkMemoKind[int64, Child, childMemo](t, "Child")
	checkMemoKind[int64, External, externalMemo](t, "External")
}

func checkMemoKind[K any, V any, M memoKind[K, V]](t *testing.T, name string) {
	var k M
	encode := func(v *V) string {
		var e stateEncoder
		k.value(&e, v)
		return string(e.b)
	}
	var probe V
	(&stateFiller{t: t, mode: fillAll}).fill(reflect.ValueOf(&probe).Elem(), name)
	n := len(leaves(reflect.ValueOf(&probe).Elem(), nil))
	for i := range n {
		var v V
		(&stateFiller{t: t, mode: fillAll}).fill(reflect.ValueOf(&v).Elem(), name)
		kept := k.keep(&v)
		if !k.same(&kept, &v) {
			t.Fatalf("%s: a value and its kept copy are not the same", name)
		}
		before := encode(&v)
		l := leaves(reflect.ValueOf(&v).Elem(), nil)[i]
		g := &memoRand{r: rand.New(rand.NewPCG(uint64(i), 1))}
		if l.Type() == timeType {
			l.Set(reflect.ValueOf(l.Interface().(time.Time).Add(time.Nanosecond)))
		} else {
			g.change(l)
		}
		if after := encode(&v); after != before && k.same(&kept, &v) {
			t.Errorf("%s: field %d changed from %s to %s, and the memo takes it for the value it kept", name, i, before, after)
		}
		if encode(&kept) != before {
			t.Errorf("%s: the kept copy changed with the value (field %d): %s, was %s", name, i, encode(&kept), before)
		}
	}
}

// TestJSONMemoUnencodableTime: a state holding a time json.Marshal
// refuses gets nothing from the memo, every time: the memo must not keep
// that item's bytes and reuse them the next time without noticing.
func TestJSONMemoUnencodableTime(t *testing.T) {
	m := &JSONMemo{}
	s := &State{Open: true, Activities: map[string]*Activity{}}
	for i := range 20 {
		id := fmt.Sprint(i)
		s.Activities[id] = &Activity{ActivityID: id, ScheduledTime: times[0]}
	}
	if err := memoDiff("good", m, s); err != nil {
		t.Fatal(err)
	}
	s.Activities["7"].ScheduledTime = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 {
		if got := m.AppendJSON([]byte("x"), s); string(got) != "x" {
			t.Fatalf("encoding %d of a state with the year 10000: wrote %q", i, got)
		}
	}
	s.Activities["7"].ScheduledTime = times[1]
	if err := memoDiff("good again", m, s); err != nil {
		t.Fatal(err)
	}
}

// TestJSONMemoFanOut is the case the memo is for: many activities
// scheduled in one step, then started and completed one at a time, each
// state encoded with one memo and checked.
func TestJSONMemoFanOut(t *testing.T) {
	n := 300
	if underRace {
		n = 60
	}
	s, m := fanOutState(n), &JSONMemo{}
	if err := memoDiff("scheduled", m, s); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		a := s.Activities[fmt.Sprint(i)]
		a.StartedID, a.StartedTime, a.Identity = int64(3000+i), times[2].Add(time.Duration(i)*time.Millisecond), "worker"
		if err := memoDiff(fmt.Sprint("started ", i), m, s); err != nil {
			t.Fatal(err)
		}
		if m.fresh != 1 {
			t.Fatalf("one activity started: %d written afresh", m.fresh)
		}
		if i%3 == 0 {
			delete(s.Activities, fmt.Sprint(i))
			s.NextEventID++
			if err := memoDiff(fmt.Sprint("completed ", i), m, s); err != nil {
				t.Fatal(err)
			}
			if m.fresh != 0 {
				t.Fatalf("one activity completed: %d written afresh", m.fresh)
			}
		}
	}
	if left := len(s.Activities); m.Size() < left*300 {
		t.Errorf("a memo of %d activities estimated at %d bytes", left, m.Size())
	}
}

// fanOutState is a run that has scheduled n activities.
func fanOutState(n int) *State {
	s := &State{Domain: "d", WorkflowID: "w", RunID: "r", Open: true, NextEventID: int64(n + 5), StartTime: times[0],
		WorkflowType: api.WorkflowType{Name: "w", Version: "1"}, Config: defaultConfig(), Activities: map[string]*Activity{},
		Timers: map[string]*UserTimer{}, Children: map[int64]*Child{}, Externals: map[int64]*External{}, Lambdas: map[string]*Lambda{}}
	for i := range n {
		id := fmt.Sprint(i)
		s.Activities[id] = &Activity{ActivityID: id, ActivityType: api.ActivityType{Name: "a", Version: "1"},
			ScheduledID: int64(5 + i), ScheduledTime: times[0], TaskList: "a", ScheduleToStart: "3600",
			ScheduleToClose: "3600", StartToClose: "3600", Heartbeat: "NONE"}
	}
	return s
}

// BenchmarkFanOutAppendJSON encodes the state of a run of 1000 open
// activities after one of them started, with and without a memo.
func BenchmarkFanOutAppendJSON(b *testing.B) {
	for _, memo := range []bool{false, true} {
		b.Run(fmt.Sprint("memo=", memo), func(b *testing.B) {
			s := fanOutState(1000)
			var m *JSONMemo
			if memo {
				m = &JSONMemo{}
			}
			buf := m.AppendJSON(nil, s)
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				a := s.Activities[fmt.Sprint(i%1000)]
				a.StartedID++
				i++
				buf = m.AppendJSON(buf[:0], s)
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}

// A memo whose items mostly went lets go of them: the items dropped are
// cleared, and once the blocks the items were allocated in hold more
// dropped items than kept ones, the kept ones are copied out, so that its
// size (which counts the blocks' places) comes down with them. Every
// encoding on the way is the plain one, the items kept reused.
func TestJSONMemoLetsGoOfItemsGone(t *testing.T) {
	s := &State{RunID: "r", Open: true, Activities: map[string]*Activity{}}
	for i := range 300 {
		id := fmt.Sprintf("a%03d", i)
		s.Activities[id] = &Activity{ActivityID: id, ScheduledID: int64(i + 1), TaskList: "l", Identity: strings.Repeat("x", 200)}
	}
	m := new(JSONMemo)
	if err := memoDiff("fan-out", m, s); err != nil {
		t.Fatal(err)
	}
	full := m.Size()
	for i := range 280 {
		delete(s.Activities, fmt.Sprintf("a%03d", i))
	}
	if err := memoDiff("most gone", m, s); err != nil {
		t.Fatal(err)
	}
	if m.fresh != 0 {
		t.Errorf("%d items written afresh; want the 20 kept reused", m.fresh)
	}
	if got := m.activities.slots; got != 20 {
		t.Errorf("the blocks hold %d places for 20 items kept", got)
	}
	if size := m.Size(); size > full/5 {
		t.Errorf("size %d with 20 of 300 items left; it was %d with all", size, full)
	}
	// Items kept, changed and added after the copy are written as ever.
	s.Activities["a290"].StartedID = 999
	for i := range 10 {
		id := fmt.Sprintf("b%03d", i)
		s.Activities[id] = &Activity{ActivityID: id, ScheduledID: int64(1000 + i), TaskList: "l"}
	}
	if err := memoDiff("changed and added", m, s); err != nil {
		t.Fatal(err)
	}
	if m.fresh != 11 {
		t.Errorf("%d items written afresh; want 11", m.fresh)
	}
	delete(s.Activities, "a285")
	if err := memoDiff("one more gone", m, s); err != nil {
		t.Fatal(err)
	}
}
