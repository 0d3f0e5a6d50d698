package api_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/swfd/swfd/api"
)

// faultOf runs Validate and returns the fault (nil if the body is valid).
func faultOf(t *testing.T, shape, body string) *api.Fault {
	t.Helper()
	err := api.Validate(shape, []byte(body))
	if err == nil {
		return nil
	}
	f, ok := api.AsFault(err)
	if !ok {
		t.Fatalf("Validate(%s, %q) returned a non-fault error %T: %v", shape, body, err, err)
	}
	return f
}

func wantFault(t *testing.T, shape, body, code string, contains ...string) *api.Fault {
	t.Helper()
	f := faultOf(t, shape, body)
	if f == nil {
		t.Fatalf("Validate(%s, %q) = nil, want %s", shape, body, code)
	}
	if f.Code != code {
		t.Fatalf("Validate(%s, %q) code = %s (%s), want %s", shape, body, f.Code, f.Message, code)
	}
	for _, c := range contains {
		if !strings.Contains(f.Message, c) {
			t.Errorf("Validate(%s, %q) message\n  %s\nlacks\n  %s", shape, body, f.Message, c)
		}
	}
	return f
}

func wantValid(t *testing.T, shape, body string) {
	t.Helper()
	if f := faultOf(t, shape, body); f != nil {
		t.Fatalf("Validate(%s, %q) = %s: %s, want valid", shape, body, f.Code, f.Message)
	}
}

func TestValidateRequiredMember(t *testing.T) {
	f := wantFault(t, "RegisterDomainInput", `{"workflowExecutionRetentionPeriodInDays":"1"}`, api.ValidationException)
	want := "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null"
	if f.Message != want {
		t.Errorf("message = %q\nwant      %q", f.Message, want)
	}
	// An explicit JSON null is the same as absent.
	f = wantFault(t, "RegisterDomainInput", `{"name":null,"workflowExecutionRetentionPeriodInDays":"1"}`, api.ValidationException)
	if f.Message != want {
		t.Errorf("null member: message = %q, want %q", f.Message, want)
	}
	wantValid(t, "RegisterDomainInput", `{"name":"d","workflowExecutionRetentionPeriodInDays":"1"}`)
}

func TestValidatePluralAndJoin(t *testing.T) {
	f := wantFault(t, "RegisterDomainInput", `{}`, api.ValidationException)
	if !strings.HasPrefix(f.Message, "2 validation errors detected: ") {
		t.Errorf("message = %q, want plural prefix", f.Message)
	}
	parts := strings.Split(strings.TrimPrefix(f.Message, "2 validation errors detected: "), "; ")
	if len(parts) != 2 {
		t.Fatalf("want 2 '; '-joined errors, got %q", parts)
	}
	for _, p := range []string{"'name'", "'workflowExecutionRetentionPeriodInDays'"} {
		if !strings.Contains(f.Message, p) {
			t.Errorf("message %q lacks %s", f.Message, p)
		}
	}
}

func TestValidateNestedPath(t *testing.T) {
	wantFault(t, "StartWorkflowExecutionInput",
		`{"domain":"d","workflowId":"w","workflowType":{"version":"1"}}`, api.ValidationException,
		"Value null at 'workflowType.name' failed to satisfy constraint: Member must not be null")
	wantFault(t, "StartWorkflowExecutionInput",
		`{"domain":"d","workflowId":"w","workflowType":{"name":"n","version":""}}`, api.ValidationException,
		"Value '' at 'workflowType.version' failed to satisfy constraint: Member must have length greater than or equal to 1")
	// Deeper: a decision's attributes inside a list.
	wantFault(t, "RespondDecisionTaskCompletedInput",
		`{"taskToken":"t","decisions":[{"decisionType":"CompleteWorkflowExecution"},{"decisionType":"StartTimer","startTimerDecisionAttributes":{"startToFireTimeout":"5"}}]}`,
		api.ValidationException,
		"Value null at 'decisions.2.member.startTimerDecisionAttributes.timerId' failed to satisfy constraint: Member must not be null")
}

func TestValidateListElementPath(t *testing.T) {
	long := strings.Repeat("x", 257)
	f := wantFault(t, "StartWorkflowExecutionInput",
		`{"domain":"d","workflowId":"w","workflowType":{"name":"n","version":"1"},"tagList":["ok","`+long+`"]}`,
		api.ValidationException,
		"at 'tagList.2.member' failed to satisfy constraint: Member must have length less than or equal to 256")
	if strings.Contains(f.Message, "tagList.1.member") {
		t.Errorf("valid first element reported: %s", f.Message)
	}
	wantFault(t, "StartWorkflowExecutionInput",
		`{"domain":"d","workflowId":"w","workflowType":{"name":"n","version":"1"},"tagList":[null]}`,
		api.ValidationException, "Value null at 'tagList.1.member' failed to satisfy constraint: Member must not be null")
	wantFault(t, "StartWorkflowExecutionInput",
		`{"domain":"d","workflowId":"w","workflowType":{"name":"n","version":"1"},"tagList":["a","b","c","d","e","f"]}`,
		api.ValidationException, "Value '[a, b, c, d, e, f]' at 'tagList' failed to satisfy constraint: Member must have length less than or equal to 5")
	wantValid(t, "StartWorkflowExecutionInput",
		`{"domain":"d","workflowId":"w","workflowType":{"name":"n","version":"1"},"tagList":["a","b","c","d","e"]}`)
}

func TestValidateLengths(t *testing.T) {
	wantFault(t, "DescribeDomainInput", `{"name":""}`, api.ValidationException,
		"Value '' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 1")
	wantFault(t, "DescribeDomainInput", `{"name":"`+strings.Repeat("a", 257)+`"}`, api.ValidationException,
		"at 'name' failed to satisfy constraint: Member must have length less than or equal to 256")
	wantValid(t, "DescribeDomainInput", `{"name":"`+strings.Repeat("a", 256)+`"}`)
	// Lengths count characters, not bytes: 256 three-byte runes fit
	// (TestLengthsCountUTF16CodeUnits: those outside the BMP count two).
	wantValid(t, "DescribeDomainInput", `{"name":"`+strings.Repeat("€", 256)+`"}`)
	wantFault(t, "DescribeDomainInput", `{"name":"`+strings.Repeat("€", 257)+`"}`, api.ValidationException, "less than or equal to 256")
	// A long rejected value is cut in the message without breaking UTF-8.
	f := wantFault(t, "RegisterDomainInput", `{"name":"d","workflowExecutionRetentionPeriodInDays":"1","description":"ab`+strings.Repeat("€", 1100)+`"}`, api.ValidationException, "'description'")
	if !utf8.ValidString(f.Message) {
		t.Errorf("message is not clean UTF-8")
	}
}

func TestValidateEnum(t *testing.T) {
	f := wantFault(t, "ListDomainsInput", `{"registrationStatus":"BOGUS"}`, api.ValidationException)
	want := "1 validation error detected: Value 'BOGUS' at 'registrationStatus' failed to satisfy constraint: Member must satisfy enum value set: [REGISTERED, DEPRECATED]"
	if f.Message != want {
		t.Errorf("message = %q\nwant      %q", f.Message, want)
	}
	wantFault(t, "ListDomainsInput", `{"registrationStatus":"registered"}`, api.ValidationException, "enum value set")
	wantValid(t, "ListDomainsInput", `{"registrationStatus":"DEPRECATED"}`)
}

func TestValidateNumericRange(t *testing.T) {
	wantFault(t, "ListDomainsInput", `{"registrationStatus":"REGISTERED","maximumPageSize":1001}`, api.ValidationException,
		"Value '1001' at 'maximumPageSize' failed to satisfy constraint: Member must have value less than or equal to 1000")
	wantFault(t, "ListDomainsInput", `{"registrationStatus":"REGISTERED","maximumPageSize":-1}`, api.ValidationException,
		"Value '-1' at 'maximumPageSize' failed to satisfy constraint: Member must have value greater than or equal to 0")
	wantValid(t, "ListDomainsInput", `{"registrationStatus":"REGISTERED","maximumPageSize":1000}`)
	wantValid(t, "ListDomainsInput", `{"registrationStatus":"REGISTERED","maximumPageSize":0}`)
	// Beyond 32 bits is not an integer at all.
	wantFault(t, "ListDomainsInput", `{"registrationStatus":"REGISTERED","maximumPageSize":4294967296}`, api.SerializationException)
}

func TestValidateWrongJSONTypes(t *testing.T) {
	for _, tc := range []struct{ shape, body string }{
		{"DescribeDomainInput", `{"name":5}`},
		{"DescribeDomainInput", `{"name":true}`},
		{"DescribeDomainInput", `{"name":{"a":1}}`},
		{"DescribeDomainInput", `{"name":["a"]}`},
		{"ListDomainsInput", `{"registrationStatus":"REGISTERED","maximumPageSize":"10"}`},
		{"ListDomainsInput", `{"registrationStatus":"REGISTERED","maximumPageSize":1.5}`},
		{"ListDomainsInput", `{"registrationStatus":"REGISTERED","reverseOrder":"true"}`},
		{"ListDomainsInput", `{"registrationStatus":"REGISTERED","reverseOrder":1}`},
		{"StartWorkflowExecutionInput", `{"domain":"d","workflowId":"w","workflowType":"n"}`},
		{"StartWorkflowExecutionInput", `{"domain":"d","workflowId":"w","workflowType":{"name":"n","version":"1"},"tagList":"a"}`},
		{"StartWorkflowExecutionInput", `{"domain":"d","workflowId":"w","workflowType":{"name":"n","version":"1"},"tagList":[1]}`},
		{"CountOpenWorkflowExecutionsInput", `{"domain":"d","startTimeFilter":{"oldestDate":"yesterday"}}`},
		{"CountOpenWorkflowExecutionsInput", `{"domain":"d","startTimeFilter":{"oldestDate":1e300}}`},
		{"DescribeDomainInput", `["name"]`},
		{"DescribeDomainInput", `"name"`},
		{"DescribeDomainInput", `null`},
		{"DescribeDomainInput", `42`},
	} {
		f := faultOf(t, tc.shape, tc.body)
		if f == nil || f.Code != api.SerializationException {
			t.Errorf("Validate(%s, %s) = %v, want SerializationException", tc.shape, tc.body, f)
		}
	}
	// A type error wins over constraint errors elsewhere in the body.
	wantFault(t, "RegisterDomainInput", `{"name":"","workflowExecutionRetentionPeriodInDays":7}`, api.SerializationException,
		"workflowExecutionRetentionPeriodInDays")
}

func TestValidateMalformed(t *testing.T) {
	for name, body := range map[string]string{
		"invalid utf-8":       "{\"name\":\"a\xff\xfe\"}",
		"truncated":           `{"name":"a"`,
		"trailing object":     `{"name":"a"} {}`,
		"trailing brace":      `{"name":"a"}}`,
		"trailing bracket":    `{"name":"a"}]`,
		"trailing word":       `{"name":"a"} x`,
		"two objects no gap":  `{"name":"a"}{"name":"b"}`,
		"single quotes":       `{'name':'a'}`,
		"bare word":           `hello`,
		"comment":             `{"name":"a"} // c`,
		"deep nesting":        `{"name":"a","x":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`,
		"deep nesting object": `{"name":"a","x":` + strings.Repeat(`{"y":`, 40) + `1` + strings.Repeat("}", 40) + `}`,
		"very deep nesting":   strings.Repeat("[", 100000) + strings.Repeat("]", 100000),
	} {
		f := faultOf(t, "DescribeDomainInput", body)
		if f == nil || f.Code != api.SerializationException {
			t.Errorf("%s: Validate = %v, want SerializationException", name, f)
		} else if strings.Contains(f.Message, "invalid character") || strings.Contains(f.Message, "looking for") {
			t.Errorf("%s: the message is the JSON decoder's: %s", name, f.Message)
		}
	}
	// The message says where the body goes wrong, in the service's words.
	wantFault(t, "DescribeDomainInput", `{'name':'a'}`, api.SerializationException, "Malformed request body: not valid JSON at byte 2")
	wantFault(t, "DescribeDomainInput", `{"name":"a"`, api.SerializationException, "Malformed request body: the JSON ends before it is complete")
	// Brackets inside strings do not count as nesting.
	wantValid(t, "DescribeDomainInput", `{"name":"a","x":"`+strings.Repeat("[", 100)+`"}`)
	// Whitespace around the object and an empty body are fine (empty = {}).
	wantValid(t, "ListDomainsInput", " \n\t{\"registrationStatus\":\"REGISTERED\"}\r\n ")
	wantFault(t, "DescribeDomainInput", ``, api.ValidationException, "Value null at 'name'")
}

// A body that is not valid UTF-8 is refused with where its first bad byte
// is: the member whose value or name holds it, as a violation names a
// member, so that a client sending, say, Latin-1 text in one input learns
// which input it was.
func TestValidateInvalidUTF8NamesTheMember(t *testing.T) {
	wantFault(t, "RegisterDomainInput", "{\"name\":\"d\",\"description\":\"caf\xe9\"}", api.SerializationException,
		"Request body is not valid UTF-8 at byte 31, in the value at 'description'")
	wantFault(t, "StartWorkflowExecutionInput", "{\"domain\":\"d\",\"tagList\":[\"ok\",\"a\xff\"]}", api.SerializationException,
		"in the value at 'tagList.2.member'")
	wantFault(t, "RespondDecisionTaskCompletedInput",
		"{\"taskToken\":\"t\",\"decisions\":[{\"decisionType\":\"RecordMarker\"},{\"decisionType\":\"ScheduleActivityTask\",\"scheduleActivityTaskDecisionAttributes\":{\"activityType\":{\"name\":\"n\",\"version\":\"1\"},\"input\":\"\\\"x\xc3\"}}]}",
		api.SerializationException, "in the value at 'decisions.2.member.scheduleActivityTaskDecisionAttributes.input'")
	// In a member's name: the structure that holds it ("request" for the
	// body itself).
	wantFault(t, "DescribeDomainInput", "{\"na\xffme\":\"d\"}", api.SerializationException,
		"Request body is not valid UTF-8 at byte 5, in the name of a member of 'request'")
	wantFault(t, "StartWorkflowExecutionInput", "{\"workflowType\":{\"n\xff\":1}}", api.SerializationException,
		"in the name of a member of 'workflowType'")
	// Outside any string there is no member to name; leading white space
	// counts in the byte's position.
	wantFault(t, "DescribeDomainInput", " {\"name\":\"d\"\xff}", api.SerializationException,
		"Request body is not valid UTF-8 at byte 13")
	// Deeper than a request may nest, only the position is told.
	wantFault(t, "DescribeDomainInput", strings.Repeat("[", 100000)+"\"\xff\"", api.SerializationException,
		"Request body is not valid UTF-8 at byte 100002")
	// A name given in the body is cut as a value is, however long.
	long := strings.Repeat("k", 5000)
	f := wantFault(t, "DescribeDomainInput", "{\""+long+"\":\"\xff\"}", api.SerializationException, "in the value at 'kkk")
	if len(f.Message) > 1200 {
		t.Errorf("message of %d bytes for a 5,000-byte member name", len(f.Message))
	}
	if !utf8.ValidString(f.Message) {
		t.Errorf("message is not valid UTF-8: %q", f.Message)
	}
}

func TestValidateUnknownMembersIgnored(t *testing.T) {
	wantValid(t, "DescribeDomainInput", `{"name":"a","unknown":{"deep":[1,2,{"x":null}]},"Name":5}`)

	op := api.Operations["DescribeDomain"]
	in, err := op.Decode([]byte(`{"name":"good","NAME":"","Name":"b:c","nAmE":7}`))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if got := in.(*api.DescribeDomainInput).Name; got != "good" {
		t.Errorf("Name = %q: a member differing only in case overrode the validated one", got)
	}
}

func TestDecodeValues(t *testing.T) {
	op := api.Operations["StartWorkflowExecution"]
	in, err := op.Decode([]byte(`{"domain":"d","workflowId":"w","workflowType":{"name":"n","version":"1"},
		"tagList":["t1","t2"],"taskList":{"name":"tl"},"childPolicy":"ABANDON","executionStartToCloseTimeout":"NONE","input":"x","extra":1}`))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	s := in.(*api.StartWorkflowExecutionInput)
	if s.Domain != "d" || s.WorkflowID != "w" || s.WorkflowType.Name != "n" || s.WorkflowType.Version != "1" ||
		len(s.TagList) != 2 || s.TagList[1] != "t2" || s.TaskList == nil || s.TaskList.Name != "tl" ||
		s.ChildPolicy != api.ChildPolicyAbandon || s.ExecutionStartToCloseTimeout != "NONE" || api.Value(s.Input) != "x" {
		t.Errorf("decoded %+v", s)
	}
	// Null optional timestamps are absent, not an error.
	in, err = api.Operations["CountOpenWorkflowExecutions"].Decode([]byte(`{"domain":"d","startTimeFilter":{"oldestDate":1326592619.474,"latestDate":null}}`))
	if err != nil {
		t.Fatalf("Decode with null latestDate: %v", err)
	}
	c := in.(*api.CountOpenWorkflowExecutionsInput)
	if !c.StartTimeFilter.LatestDate.IsZero() || c.StartTimeFilter.OldestDate.UnixMilli() != 1326592619474 {
		t.Errorf("filter = %+v", c.StartTimeFilter)
	}
	// Every operation decodes an empty body to a fresh input or a
	// ValidationException naming its required members.
	for name, op := range api.Operations {
		in, err := op.Decode(nil)
		if err != nil {
			if f, ok := api.AsFault(err); !ok || f.Code != api.ValidationException {
				t.Errorf("%s: Decode(nil) = %v", name, err)
			}
			continue
		}
		if in == nil {
			t.Errorf("%s: Decode(nil) returned nil input", name)
		}
	}
}

// Lengths count UTF-16 code units, as a service whose strings are Java's
// counts them: a character outside the Basic Multilingual Plane (an emoji,
// 𝄞) counts two. So a name of 128 emoji fits in 256 and one of 129 does
// not, while 256 characters of the plane (€, 域) still fit.
func TestLengthsCountUTF16CodeUnits(t *testing.T) {
	wantValid(t, "DescribeDomainInput", `{"name":"`+strings.Repeat("😀", 128)+`"}`)
	wantValid(t, "DescribeDomainInput", `{"name":"`+strings.Repeat("😀", 127)+`ab"}`)
	wantFault(t, "DescribeDomainInput", `{"name":"`+strings.Repeat("😀", 128)+`a"}`, api.ValidationException,
		"at 'name' failed to satisfy constraint: Member must have length less than or equal to 256")
	wantFault(t, "DescribeDomainInput", `{"name":"`+strings.Repeat("😀", 256)+`"}`, api.ValidationException,
		"at 'name' failed to satisfy constraint: Member must have length less than or equal to 256")
	// Escaped in the JSON as a surrogate pair, the same.
	wantFault(t, "DescribeDomainInput", `{"name":"`+strings.Repeat(`\ud834\udd1e`, 129)+`"}`, api.ValidationException, "less than or equal to 256")
	wantValid(t, "DescribeDomainInput", `{"name":"`+strings.Repeat(`\ud834\udd1e`, 128)+`"}`)
	// A version (64), a tag in a list and in a filter (256), a signal's input (32,768).
	start := `{"domain":"d","workflowId":"w","workflowType":{"name":"n","version":"%s"},"tagList":["%s"]}`
	wantValid(t, "StartWorkflowExecutionInput", fmt.Sprintf(start, strings.Repeat("𝄞", 32), strings.Repeat("𝄞", 128)))
	wantFault(t, "StartWorkflowExecutionInput", fmt.Sprintf(start, strings.Repeat("𝄞", 33), "t"), api.ValidationException,
		"at 'workflowType.version' failed to satisfy constraint: Member must have length less than or equal to 64")
	wantFault(t, "StartWorkflowExecutionInput", fmt.Sprintf(start, "1", strings.Repeat("𝄞", 129)), api.ValidationException,
		"at 'tagList.1.member' failed to satisfy constraint: Member must have length less than or equal to 256")
	filter := `{"domain":"d","startTimeFilter":{"oldestDate":0},"tagFilter":{"tag":"%s"}}`
	wantValid(t, "CountOpenWorkflowExecutionsInput", fmt.Sprintf(filter, strings.Repeat("𝄞", 128)))
	wantFault(t, "CountOpenWorkflowExecutionsInput", fmt.Sprintf(filter, strings.Repeat("𝄞", 129)), api.ValidationException,
		"at 'tagFilter.tag' failed to satisfy constraint: Member must have length less than or equal to 256")
	for _, s := range []string{"", "a", "é€", "😀", "a😀b𝄞域\uFFFD", strings.Repeat("😀x", 100)} {
		if got, want := api.Length(s), len(utf16.Encode([]rune(s))); got != want {
			t.Errorf("Length(%q) = %d, want %d", s, got, want)
		}
	}
	signal := `{"domain":"d","workflowId":"w","signalName":"s","input":"%s"}`
	wantValid(t, "SignalWorkflowExecutionInput", fmt.Sprintf(signal, strings.Repeat("😀", 16384)))
	wantFault(t, "SignalWorkflowExecutionInput", fmt.Sprintf(signal, strings.Repeat("😀", 16384)+"a"), api.ValidationException,
		"at 'input' failed to satisfy constraint: Member must have length less than or equal to 32768")
}

func TestTimeEncoding(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{time.UnixMilli(1326592619474), "1326592619.474"},
		{time.UnixMilli(1326592619000), "1326592619"},
		{time.UnixMilli(1326592619400), "1326592619.4"},
		{time.UnixMilli(1326592619001), "1326592619.001"},
		{time.Unix(1700000000, 999_999_999), "1700000000.999"}, // truncated, never rounded up
	} {
		b, err := json.Marshal(api.NewTime(tc.t))
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tc.want {
			t.Errorf("Marshal(%v) = %s, want %s", tc.t, b, tc.want)
		}
	}
	// Zero times are omitted from output structures.
	b, _ := json.Marshal(api.ActivityTypeInfo{ActivityType: api.ActivityType{Name: "a", Version: "1"}, Status: "REGISTERED", CreationDate: api.NewTime(time.UnixMilli(1000))})
	if strings.Contains(string(b), "deprecationDate") || !strings.Contains(string(b), `"creationDate":1`) {
		t.Errorf("ActivityTypeInfo = %s", b)
	}
}

func TestTimeDecoding(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64 // µs: a bound between two milliseconds is kept as sent
	}{
		{"1326592619", 1326592619000000},
		{"1326592619.474", 1326592619474000},
		{"1326592619.4745", 1326592619474500},
		{"1.326592619474e9", 1326592619474000},
		{"0", 0},
		{"-1.5", -1500000},
		// Year 1's first instant is Go's zero time, a Time's "not
		// given": it is read a microsecond earlier, as a time given.
		{"-62135596800", -62135596800000001},
	} {
		var tm api.Time
		if err := json.Unmarshal([]byte(tc.in), &tm); err != nil {
			t.Errorf("Unmarshal(%s): %v", tc.in, err)
			continue
		}
		if tm.UnixMicro() != tc.want || tm.Location() != time.UTC {
			t.Errorf("Unmarshal(%s) = %v (%d µs), want %d µs UTC", tc.in, tm.Time, tm.UnixMicro(), tc.want)
		}
	}
	for _, bad := range []string{`"1326592619"`, `true`, `{}`} {
		var tm api.Time
		if err := json.Unmarshal([]byte(bad), &tm); err == nil {
			t.Errorf("Unmarshal(%s) succeeded", bad)
		}
	}
	// Round trip.
	orig := api.NewTime(time.Date(2024, 2, 29, 12, 34, 56, 789_000_000, time.UTC))
	b, _ := json.Marshal(orig)
	var back api.Time
	if err := json.Unmarshal(b, &back); err != nil || !back.Equal(orig.Time) {
		t.Errorf("round trip %s -> %v (%v)", b, back.Time, err)
	}
}

func TestFaultWire(t *testing.T) {
	for code, want := range map[string]string{
		api.UnknownResourceFault:      "com.amazonaws.swf.base.model#UnknownResourceFault",
		api.TooManyTagsFault:          "com.amazonaws.swf.base.model#TooManyTagsFault",
		api.ValidationException:       "com.amazon.coral.validate#ValidationException",
		api.UnknownOperationException: "com.amazon.coral.service#UnknownOperationException",
		api.ThrottlingException:       "com.amazon.coral.availability#ThrottlingException",
	} {
		f := &api.Fault{Code: code}
		if f.WireType() != want {
			t.Errorf("%s: WireType = %s, want %s", code, f.WireType(), want)
		}
		if f.HTTPStatus() != 400 {
			t.Errorf("%s: status %d", code, f.HTTPStatus())
		}
	}
	if (&api.Fault{Code: api.InternalFailure}).HTTPStatus() != 500 {
		t.Error("InternalFailure is not 500")
	}
	// Every modeled fault is an SWF-namespaced 400.
	for _, name := range api.FaultNames {
		f := &api.Fault{Code: name}
		if f.WireType() != "com.amazonaws.swf.base.model#"+name || f.HTTPStatus() != 400 {
			t.Errorf("%s: %s %d", name, f.WireType(), f.HTTPStatus())
		}
	}
}

// decisionList is a RespondDecisionTaskCompleted body of n decisions of
// the given decisionType.
func decisionList(n int, decisionType string) string {
	return `{"taskToken":"x","decisions":[` +
		strings.TrimSuffix(strings.Repeat(`{"decisionType":"`+decisionType+`"},`, n), ",") + `]}`
}

// A request of about 1 MB that breaks a constraint tens of thousands of
// times is answered in a few kilobytes: the first violations listed, the
// count honest ("or more" once the check stopped).
func TestValidationErrorsAreBounded(t *testing.T) {
	body := decisionList(47600, "Q")
	if len(body) < 900_000 {
		t.Fatalf("body is %d bytes, want about 1 MB", len(body))
	}
	f := wantFault(t, "RespondDecisionTaskCompletedInput", body, api.ValidationException,
		"Value 'Q' at 'decisions.1.member.decisionType' failed to satisfy constraint: Member must satisfy enum value set: [")
	want := fmt.Sprintf("%d or more validation errors detected (the request was checked no further), the first %d listed: ", api.MaxViolations, api.MaxListedViolations)
	if !strings.HasPrefix(f.Message, want) {
		t.Errorf("message begins %.200q, want %q", f.Message, want)
	}
	if n := strings.Count(f.Message, "failed to satisfy constraint"); n != api.MaxListedViolations {
		t.Errorf("message lists %d violations, want %d", n, api.MaxListedViolations)
	}
	if len(f.Message) > 8<<10 {
		t.Errorf("message is %d bytes, want at most 8 KB", len(f.Message))
	}

	// Fewer than the cap: the exact count, the first ten listed.
	f = wantFault(t, "RespondDecisionTaskCompletedInput", decisionList(25, "Q"), api.ValidationException)
	if want := "25 validation errors detected, the first 10 listed: Value 'Q' at 'decisions.1.member.decisionType'"; !strings.HasPrefix(f.Message, want) {
		t.Errorf("message begins %.200q, want %q", f.Message, want)
	}
	if n := strings.Count(f.Message, "failed to satisfy constraint"); n != 10 {
		t.Errorf("message lists %d violations, want 10", n)
	}
	if strings.Contains(f.Message, "decisions.11.member") {
		t.Errorf("message lists the 11th violation: %.300q", f.Message)
	}

	// Ten or fewer: each listed, as before.
	f = wantFault(t, "RespondDecisionTaskCompletedInput", decisionList(10, "Q"), api.ValidationException)
	if !strings.HasPrefix(f.Message, "10 validation errors detected: ") || strings.Count(f.Message, "; ") != 9 {
		t.Errorf("message = %.300q, want all 10 listed", f.Message)
	}
}

// A list value named in a violation is shown in about 1 KB, however long
// the list.
func TestValidationRendersLongListShort(t *testing.T) {
	tags := strings.TrimSuffix(strings.Repeat(`"tag",`, 50_000), ",")
	f := wantFault(t, "StartWorkflowExecutionInput",
		`{"domain":"d","workflowId":"w","workflowType":{"name":"n","version":"1"},"tagList":[`+tags+`]}`,
		api.ValidationException, "at 'tagList' failed to satisfy constraint: Member must have length less than or equal to 5",
		"Value '[tag, tag, tag")
	if len(f.Message) > 2<<10 {
		t.Errorf("message is %d bytes, want at most 2 KB", len(f.Message))
	}
}

// Checking a request full of violations costs no more allocations than
// checking a valid request of the same shape, but for formatting the
// violations up to the cap: past it nothing is formatted, and the walk
// stops. (The wrong decision type is an enum value of another shape: like
// the right one, it is the model's own string, which takes no memory, where
// any other string would take one allocation per decision.)
func TestValidationOfManyViolationsAllocatesLikeAValidRequest(t *testing.T) {
	bad := []byte(decisionList(5000, "COMPLETED"))
	good := []byte(decisionList(5000, "StartTimer"))
	if err := api.Validate("RespondDecisionTaskCompletedInput", good); err != nil {
		t.Fatalf("the valid body: %v", err)
	}
	badAllocs := testing.AllocsPerRun(3, func() { _ = api.Validate("RespondDecisionTaskCompletedInput", bad) })
	goodAllocs := testing.AllocsPerRun(3, func() { _ = api.Validate("RespondDecisionTaskCompletedInput", good) })
	const perViolation = 10
	if badAllocs > goodAllocs+perViolation*api.MaxViolations {
		t.Errorf("5,000 violations: %.0f allocations, a valid request of the same shape: %.0f; want at most %d more", badAllocs, goodAllocs, perViolation*api.MaxViolations)
	}
}

// A \u escape of half a surrogate pair without the other half is refused
// in any string the request keeps, a ValidationException naming the member
// and quoting the escape; it was read as U+FFFD and kept so, the value
// stored, and shown to every later reader, not the one sent. A pair, an
// escaped U+FFFD and the character itself are taken as they were.
func TestLoneSurrogateRefusedNamingTheMember(t *testing.T) {
	const rule = `failed to satisfy constraint: Member must not contain a lone UTF-16 surrogate (a \uD800 to \uDFFF escape without the other half of its pair)`
	for _, c := range []struct{ op, body, want string }{
		{"RegisterDomain", `{"name":"d","workflowExecutionRetentionPeriodInDays":"1","description":"ab\ud800"}`, `Value 'ab\uD800' at 'description' ` + rule},
		{"RegisterDomain", `{"name":"d\udfff","workflowExecutionRetentionPeriodInDays":"1"}`, `Value 'd\uDFFF' at 'name' ` + rule},
		{"SignalWorkflowExecution", `{"domain":"d","workflowId":"w","signalName":"s","input":"cut \ud83d"}`, `Value 'cut \uD83D' at 'input' ` + rule},
		{"SignalWorkflowExecution", `{"domain":"d","workflowId":"w","signalName":"s","input":"\ude00\ud83d"}`, `Value '\uDE00\uD83D' at 'input' ` + rule},
		{"StartWorkflowExecution", `{"domain":"d","workflowId":"w","workflowType":{"name":"n","version":"1"},"tagList":["ok","\ud800x"]}`, `Value '\uD800x' at 'tagList.2.member' ` + rule},
		{"RespondDecisionTaskCompleted", `{"taskToken":"t","decisions":[{"decisionType":"RecordMarker","recordMarkerDecisionAttributes":{"markerName":"m","details":"\udbff"}}]}`,
			`at 'decisions.1.member.recordMarkerDecisionAttributes.details' ` + rule},
	} {
		_, err := api.Operations[c.op].Decode([]byte(c.body))
		var f *api.Fault
		if !errors.As(err, &f) || f.Code != api.ValidationException || !strings.Contains(f.Message, c.want) {
			t.Errorf("%s %s: %v; want a ValidationException %q", c.op, c.body, err, c.want)
		}
	}
	for _, s := range []string{`\ud83d\ude00`, `\ufffd`, "\uFFFD", `a\u00e9`} {
		in, err := api.Operations["SignalWorkflowExecution"].Decode([]byte(`{"domain":"d","workflowId":"w","signalName":"s","input":"` + s + `"}`))
		if err != nil {
			t.Errorf("input %s: %v", s, err)
			continue
		}
		var want string
		json.Unmarshal([]byte(`"`+s+`"`), &want)
		if got := api.Value(in.(*api.SignalWorkflowExecutionInput).Input); got != want {
			t.Errorf("input %s: kept %q, want %q", s, got, want)
		}
	}
	// A member the model does not have is not kept, and not checked.
	if _, err := api.Operations["SignalWorkflowExecution"].Decode([]byte(`{"domain":"d","workflowId":"w","signalName":"s","extra":"\ud800","\udc00":1}`)); err != nil {
		t.Errorf("a lone surrogate in an unknown member: %v", err)
	}
}

// A request body that begins with a UTF-8 byte order mark is read as the
// same body without it, as Java's and Python's JSON parsers read such
// bytes; it was a SerializationException ("not valid JSON at byte 1").
// Only one at the very start is: anywhere else it is the JSON's business.
func TestBodyAfterByteOrderMark(t *testing.T) {
	const body = `{"domain":"d","workflowId":"w","signalName":"s","input":"x"}`
	for _, b := range []string{"\uFEFF" + body, "\uFEFF \n" + body} {
		in, err := api.Operations["SignalWorkflowExecution"].Decode([]byte(b))
		if err != nil || api.Value(in.(*api.SignalWorkflowExecutionInput).Input) != "x" {
			t.Errorf("%q: %v", b, err)
		}
	}
	if _, err := api.Operations["SignalWorkflowExecution"].Decode([]byte(" \uFEFF" + body)); err == nil {
		t.Error("a byte order mark after white space was taken")
	}
	// A bad byte is still counted from the body's first byte.
	_, err := api.Operations["RegisterDomain"].Decode([]byte("\uFEFF{\"name\":\"d\xff\"}"))
	if err == nil || !strings.Contains(err.Error(), "not valid UTF-8 at byte 14, in the value at 'name'") {
		t.Errorf("bad byte after a byte order mark: %v", err)
	}
}
