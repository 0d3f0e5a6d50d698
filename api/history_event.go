package api

import "encoding/json"

// MarshalJSON sends Raw when it is set (the stored wire form of the event)
// and otherwise encodes the fields.
func (e HistoryEvent) MarshalJSON() ([]byte, error) {
	if len(e.Raw) > 0 {
		return e.Raw, nil
	}
	type fields HistoryEvent // no methods: the default encoding
	return json.Marshal(fields(e))
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
