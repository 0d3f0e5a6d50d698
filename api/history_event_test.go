package api

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fill sets every field reachable from v (a settable value) to a non-zero
// value derived from seed, strings carrying characters encoding/json
// escapes.
func fill(v reflect.Value, seed int) {
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), seed+1)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[Time]() {
			v.Set(reflect.ValueOf(Time{time.UnixMilli(1_700_000_000_000 + int64(seed)*37)}))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), seed*7+i)
			}
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		fill(s.Index(0), seed+1)
		fill(s.Index(1), seed+2)
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, seed+1)
		fill(e, seed+2)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.String:
		v.SetString(strings.Repeat("x", seed%3) + "<a & \"b\"> \n é \u2028")
	case reflect.Int, reflect.Int32, reflect.Int64:
		v.SetInt(int64(seed) - 3)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Float64:
		v.SetFloat(float64(seed) / 3)
	default:
		panic("fill: " + v.Type().String())
	}
}

func checkSameAsEncodingJSON(t *testing.T, what string, e HistoryEvent) {
	t.Helper()
	got, err := e.MarshalJSON()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	want, err := json.Marshal((*eventFields)(&e))
	if err != nil {
		t.Fatalf("%s: encoding/json: %v", what, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s:\n got %s\nwant %s", what, got, want)
	}
	if b, err := e.EncodeJSON(); err != nil || !bytes.Equal(b, got) {
		t.Errorf("%s: EncodeJSON %s (%v), MarshalJSON %s", what, b, err, got)
	}
	// Through encoding/json as a member of something else, as the
	// frontend sends it.
	outer, err := json.Marshal([]HistoryEvent{e})
	if err != nil || !bytes.Equal(outer, append(append([]byte("["), want...), ']')) {
		t.Errorf("%s in a list: %s (%v)", what, outer, err)
	}
}

// TestEventJSONIsEncodingJSONs holds appendEvent to encoding/json's
// encoding of the same fields, for every attribute of HistoryEvent filled
// in full, for none and for two at once, so that a field appendEvent writes
// wrongly, or a kind of field added to HistoryEvent that it does not know,
// fails here.
func TestEventJSONIsEncodingJSONs(t *testing.T) {
	if eventPlan == nil {
		t.Fatal("appendEvent does not know every kind of HistoryEvent field: every event goes through encoding/json")
	}
	typ := reflect.TypeFor[HistoryEvent]()
	attrs := 0
	for i := range typ.NumField() {
		f := typ.Field(i)
		if !strings.HasSuffix(f.Name, "EventAttributes") {
			continue
		}
		attrs++
		var e HistoryEvent
		e.EventID, e.EventType = int64(i), EventType(strings.TrimSuffix(f.Name, "EventAttributes"))
		e.EventTimestamp = Time{time.UnixMilli(1_326_592_619_474)}
		fill(reflect.ValueOf(&e).Elem().Field(i), i)
		checkSameAsEncodingJSON(t, f.Name, e)
	}
	if attrs != 54 {
		t.Errorf("%d attribute fields; the test expects SWF's 54", attrs)
	}

	checkSameAsEncodingJSON(t, "no attributes, whole-second time", HistoryEvent{EventID: -1, EventType: "X",
		EventTimestamp: Time{time.Unix(1_326_592_619, 0)}})
	checkSameAsEncodingJSON(t, "zero event", HistoryEvent{})
	var two HistoryEvent
	fill(reflect.ValueOf(&two.ActivityTaskCompletedEventAttributes).Elem(), 1)
	fill(reflect.ValueOf(&two.WorkflowExecutionStartedEventAttributes).Elem(), 2)
	checkSameAsEncodingJSON(t, "two attributes", two)
	// An event type that needs escaping goes through encoding/json.
	checkSameAsEncodingJSON(t, "escaped type", HistoryEvent{EventType: "<odd & \"type\">"})

	// Raw is sent as it is.
	if got, _ := (HistoryEvent{EventID: 1, Raw: []byte(`{"stored":1}`)}).MarshalJSON(); string(got) != `{"stored":1}` {
		t.Errorf("Raw: %s", got)
	}
}

// TestEncodeJSONCopiesNoEvent wants EncodeJSON, which the engine encodes
// every event it records with, to allocate less than MarshalJSON, whose
// receiver (a copy of the event, over 500 bytes) escapes to the heap.
func TestEncodeJSONCopiesNoEvent(t *testing.T) {
	e := HistoryEvent{EventID: 5, EventType: "ActivityTaskScheduled", EventTimestamp: Time{time.UnixMilli(1_700_000_000_123)},
		ActivityTaskScheduledEventAttributes: &ActivityTaskScheduledEventAttributes{ActivityID: "a1",
			ActivityType: ActivityType{Name: "n", Version: "1"}, TaskList: TaskList{Name: "tl"}}}
	encode := testing.AllocsPerRun(100, func() { e.EncodeJSON() })
	marshal := testing.AllocsPerRun(100, func() { e.MarshalJSON() })
	if encode >= marshal {
		t.Errorf("EncodeJSON makes %.0f allocations, MarshalJSON %.0f: want fewer (no copy of the event)", encode, marshal)
	}
}

func BenchmarkEventMarshalJSON(b *testing.B) {
	e := HistoryEvent{EventID: 5, EventType: "ActivityTaskScheduled", EventTimestamp: Time{time.UnixMilli(1_700_000_000_123)},
		ActivityTaskScheduledEventAttributes: &ActivityTaskScheduledEventAttributes{ActivityID: "a1",
			ActivityType: ActivityType{Name: "n", Version: "1"}, TaskList: TaskList{Name: "tl"},
			DecisionTaskCompletedEventID: 4, Input: String("input")}}
	b.Run("appendEvent", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			e.MarshalJSON()
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			json.Marshal((*eventFields)(&e))
		}
	})
}
