package api

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"unsafe"
)

// MarshalJSON sends Raw when it is set (the stored wire form of the event)
// and otherwise encodes the fields, exactly as encoding/json would encode
// them (see appendEvent).
func (e HistoryEvent) MarshalJSON() ([]byte, error) {
	return e.EncodeJSON()
}

// EncodeJSON returns what MarshalJSON returns, for an event the caller
// holds by pointer. MarshalJSON's receiver is a copy, which escapes to the
// heap (over 500 bytes, nearly all of them attribute pointers) on every
// call; the engine encodes each event it records, so it calls this on the
// events of its step's result instead.
func (e *HistoryEvent) EncodeJSON() ([]byte, error) {
	if len(e.Raw) > 0 {
		return e.Raw, nil
	}
	if b, ok := appendEvent(make([]byte, 0, 512), e); ok {
		return b, nil
	}
	return json.Marshal((*eventFields)(e))
}

// eventFields is HistoryEvent without its methods: encoding/json's default
// encoding of its fields, the reference appendEvent is held to.
type eventFields HistoryEvent

// appendEvent appends the JSON encoding/json gives an event's fields, or
// reports false for an event it leaves to encoding/json (an event type
// that would need escaping; none of SWF's does).
//
// The engine encodes every event it records once, to store it, and
// encoding/json spent three quarters of that on the event's envelope: the
// omitempty test of each of its 54 attribute pointers, of which one is set,
// and the timestamp's MarshalJSON output checked and copied again. Here the
// fields are walked through a plan made once from the struct (eventPlan),
// so a field added to HistoryEvent is written as encoding/json would write
// it or, if it is of a kind the plan does not know, sends every event back
// to encoding/json; only the set attribute goes through encoding/json.
func appendEvent(b []byte, e *HistoryEvent) ([]byte, bool) {
	if eventPlan == nil {
		return nil, false
	}
	b = append(b, '{')
	first := true
	for _, f := range eventPlan {
		p := unsafe.Add(unsafe.Pointer(e), f.offset)
		if f.kind == eventAttribute && *(*unsafe.Pointer)(p) == nil {
			continue // omitempty
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, f.key...)
		switch f.kind {
		case eventAttribute:
			attr, err := json.Marshal(reflect.NewAt(f.attrType, *(*unsafe.Pointer)(p)).Interface())
			if err != nil {
				return nil, false
			}
			b = append(b, attr...)
		case eventInt64:
			b = strconv.AppendInt(b, *(*int64)(p), 10)
		case eventTime:
			b = (*Time)(p).appendJSON(b)
		case eventTypeName:
			s := string(*(*EventType)(p))
			if !plainJSON(s) {
				return nil, false
			}
			b = append(append(append(b, '"'), s...), '"')
		}
	}
	return append(b, '}'), true
}

// An eventField is one field of HistoryEvent as appendEvent writes it.
type eventField struct {
	key      string // `"name":`
	offset   uintptr
	kind     int
	attrType reflect.Type // eventAttribute: the attributes' struct type
}

const (
	eventAttribute = iota // *...EventAttributes, omitempty
	eventInt64            // int64
	eventTime             // Time
	eventTypeName         // EventType
)

// eventPlan is HistoryEvent's fields in declaration order, the order
// encoding/json writes them in; nil if a field is of a kind appendEvent
// does not write.
var eventPlan = planEvent()

func planEvent() []eventField {
	t := reflect.TypeFor[HistoryEvent]()
	var plan []eventField
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if !f.IsExported() || name == "" || !plainJSON(name) {
			return nil
		}
		ef := eventField{key: `"` + name + `":`, offset: f.Offset}
		switch {
		case f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct && opts == "omitempty":
			ef.kind, ef.attrType = eventAttribute, f.Type.Elem()
		case f.Type == reflect.TypeFor[int64]() && opts == "":
			ef.kind = eventInt64
		case f.Type == reflect.TypeFor[Time]() && opts == "":
			ef.kind = eventTime
		case f.Type == reflect.TypeFor[EventType]() && opts == "":
			ef.kind = eventTypeName
		default:
			return nil
		}
		plan = append(plan, ef)
	}
	return plan
}

// plainJSON reports whether s is written in JSON as it is, between quotes,
// by encoding/json: printable ASCII with nothing it escapes.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// RawHistoryEvent returns an event carrying its stored wire JSON: Raw, and of
// the fields only EventID, EventType and EventTimestamp (the attributes stay
// nil — Full decodes them). Serving stored history this way skips decoding
// and re-encoding every attribute of every event.
func RawHistoryEvent(raw []byte) (HistoryEvent, error) {
	var env struct {
		EventID        int64     `json:"eventId"`
		EventType      EventType `json:"eventType"`
		EventTimestamp Time      `json:"eventTimestamp"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return HistoryEvent{}, err
	}
	return HistoryEvent{EventID: env.EventID, EventType: env.EventType, EventTimestamp: env.EventTimestamp, Raw: raw}, nil
}

// Full returns the event with every field decoded (from Raw when set).
func (e HistoryEvent) Full() (HistoryEvent, error) {
	if len(e.Raw) == 0 {
		return e, nil
	}
	var full HistoryEvent
	if err := json.Unmarshal(e.Raw, &full); err != nil {
		return HistoryEvent{}, err
	}
	full.Raw = e.Raw
	return full, nil
}
