package api_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"sort"
	"testing"

	"github.com/swfd/swfd/api"
)

// FuzzDecode feeds arbitrary bytes to every operation's decoder. Decoding
// must never panic, and must answer either an input value or a fault of
// one of the two request-rejecting codes. A decoded value must also agree
// with Validate and survive a JSON round trip.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		``,
		`{}`,
		`{"name":"d","workflowExecutionRetentionPeriodInDays":"7"}`,
		`{"registrationStatus":"REGISTERED","maximumPageSize":1001}`,
		`{"domain":"d","workflowId":"w","workflowType":{"name":"n","version":"1"},"tagList":["a",null]}`,
		`{"taskToken":"t","decisions":[{"decisionType":"StartTimer","startTimerDecisionAttributes":{"timerId":"t","startToFireTimeout":"5"}}]}`,
		`{"domain":"d","startTimeFilter":{"oldestDate":1326592619.474}}`,
		`{"name":"a"}}`,
		"{\"name\":\"\xff\"}",
		`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`,
	} {
		f.Add([]byte(seed))
	}
	names := make([]string, 0, len(api.Operations))
	for name := range api.Operations {
		names = append(names, name)
	}
	sort.Strings(names)
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, name := range names {
			op := api.Operations[name]
			in, err := op.Decode(body)
			if err != nil {
				var fault *api.Fault
				if !errors.As(err, &fault) {
					t.Fatalf("%s: Decode returned %T %v, want *api.Fault", name, err, err)
				}
				if fault.Code != api.SerializationException && fault.Code != api.ValidationException {
					t.Fatalf("%s: Decode fault code %s (%s)", name, fault.Code, fault.Message)
				}
				if in != nil {
					t.Fatalf("%s: Decode returned both a value and a fault", name)
				}
				continue
			}
			if in == nil || reflect.TypeOf(in) != reflect.TypeOf(op.NewInput()) {
				t.Fatalf("%s: Decode returned %T, want %T", name, in, op.NewInput())
			}
			if slow, err := api.DecodeSlow(op, body); err != nil || !reflect.DeepEqual(in, slow) {
				t.Fatalf("%s: Decode gave %+v, encoding/json %+v (%v)", name, in, slow, err)
			}
			if verr := api.Validate(op.Input, body); verr != nil {
				t.Fatalf("%s: Decode accepted what Validate rejects: %v", name, verr)
			}
			// What we accepted, re-encoded, must be accepted again and decode
			// to the same value.
			b, err := json.Marshal(in)
			if err != nil {
				t.Fatalf("%s: re-encode: %v", name, err)
			}
			again, err := op.Decode(b)
			if err != nil {
				t.Fatalf("%s: re-encoded %s rejected: %v", name, b, err)
			}
			// Compare encodings: an empty list and an absent one are the same
			// request.
			b2, _ := json.Marshal(again)
			if string(b) != string(b2) {
				t.Fatalf("%s: round trip changed the value:\n%s\n%s", name, b, b2)
			}
		}
	})
}
