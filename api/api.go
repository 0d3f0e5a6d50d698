// Package api holds the SWF wire types, generated member for member from the
// service model (types_gen.go, ops_gen.go, shapes_gen.go), the faults SWF
// answers with (each with the __type and HTTP status the real service
// sends it with), and the model-driven validation and decoding of requests.
// It serves no HTTP and knows nothing of storage: the frontend decodes a
// request here and calls a Service.
package api

//go:generate go run ../internal/apigen/cmd/apigen -out .

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"time"
)

// Time is the model's timestamp: on the wire, epoch seconds with a fraction
// (milliseconds), e.g. 1326592619.474.
type Time struct{ time.Time }

// NewTime wraps t, truncated to milliseconds as the wire carries them.
func NewTime(t time.Time) Time { return Time{t.Truncate(time.Millisecond)} }

// MarshalJSON encodes epoch seconds with millisecond fraction.
func (t Time) MarshalJSON() ([]byte, error) {
	return t.appendJSON(nil), nil
}

// appendJSON appends what MarshalJSON returns.
func (t Time) appendJSON(b []byte) []byte {
	ms := t.UnixMilli()
	if ms%1000 == 0 {
		return strconv.AppendInt(b, ms/1000, 10)
	}
	return strconv.AppendFloat(b, float64(ms)/1000, 'f', -1, 64)
}

// UnmarshalJSON accepts an integer or fractional number of epoch seconds,
// kept to the microsecond: a filter's bound between two milliseconds (which
// SDKs do not send, but a caller may) is taken as given, and the visibility
// query rounds it inward (service: oldest up, latest down). Validate has
// already bounded it to ±MaxEpochSeconds.
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil // absent, as encoding/json treats null elsewhere
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > MaxEpochSeconds {
		return fmt.Errorf("timestamp must be a number of epoch seconds")
	}
	sec := math.Floor(f)
	t.Time = time.Unix(int64(sec), int64(math.Round((f-sec)*1e6))*1000).UTC()
	if t.Time.IsZero() {
		// -62135596800, the first instant of year 1, is Go's zero time,
		// which a Time holds for a member not given. A time sent there is
		// read one microsecond earlier so that it stays a time given
		// (a latestDate there is a bound no run is within, not the
		// absence of one); nothing is stored at either instant.
		t.Time = t.Time.Add(-time.Microsecond)
	}
	return nil
}

// MaxEpochSeconds bounds the timestamps a request may carry, either side of
// the epoch: about 31 million years, so that a far-future bound such as
// 9999-12-31 (a common way to say "no upper bound") is taken, while its
// milliseconds still fit in an int64.
const MaxEpochSeconds = 1e15

// IsZero reports whether t is unset (used by omitempty-like checks).
func (t Time) IsZero() bool { return t.Time.IsZero() }

// Shape is one entry of the generated constraint table.
type Shape struct {
	Name    string
	Type    string // string, integer, long, boolean, timestamp, list, structure
	Min     int64
	HasMin  bool
	Max     int64
	HasMax  bool
	Enum    []string
	Member  string // element shape of a list
	Members []ShapeMember
}

// ShapeMember is one member of a structure shape.
type ShapeMember struct {
	Name     string
	Shape    string
	Required bool
}

// LookupShape returns the constraint table entry of a shape.
func LookupShape(name string) (*Shape, bool) {
	s, ok := shapes[name]
	return s, ok
}

// OperationInfo describes one operation of the model.
type OperationInfo struct {
	Name   string
	Input  string
	Output string
	Faults []string

	newInput func() any
	call     func(ctx context.Context, s Service, in any) (any, error)
}

// NewInput returns a pointer to a zero input value of the operation.
func (o OperationInfo) NewInput() any { return o.newInput() }

// Call invokes the operation on s. out is nil for operations without output.
func (o OperationInfo) Call(ctx context.Context, s Service, in any) (out any, err error) {
	out, err = o.call(ctx, s, in)
	if err != nil {
		return nil, err
	}
	if o.Output == "" {
		return nil, nil
	}
	return out, nil
}

// Decode validates body against the operation's input shape and decodes it
// into a fresh input value. Errors are *Fault values: SerializationException
// for malformed JSON or wrong JSON types, ValidationException for constraint
// violations.
func (o OperationInfo) Decode(body []byte) (any, error) {
	clean, err := validate(o.Input, body)
	if err != nil {
		return nil, err
	}
	// Decode the validated value, not the raw body: it holds only the
	// model's members, exactly spelled (see validate). It is stored
	// straight into the input (assign); anything assign is not sure of is
	// written out and decoded by encoding/json instead.
	in := o.newInput()
	if assign(reflect.ValueOf(in).Elem(), clean) {
		return in, nil
	}
	return o.decodeSlow(clean)
}

// decodeSlow decodes a validated value by writing it as JSON and reading it
// into a new input.
func (o OperationInfo) decodeSlow(clean any) (any, error) {
	b, err := json.Marshal(clean)
	if err != nil {
		return nil, NewFault(SerializationException, "%s", err.Error())
	}
	in := o.newInput()
	if err := json.Unmarshal(b, in); err != nil {
		return nil, NewFault(SerializationException, "%s", err.Error())
	}
	return in, nil
}

// String returns a pointer to s: the value of an optional string member
// that is given (even when empty).
func String(s string) *string { return &s }

// StringOrNil is String(s) for a non-empty s and nil (not given) for "".
func StringOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Value returns *p, or "" when the member is not given.
func Value(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
