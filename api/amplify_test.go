package api_test

import (
	"runtime"
	"strings"
	"testing"

	"github.com/swfd/swfd/api"
)

// amplifyCase is a request body of about 1 MB and the operation it is sent to.
type amplifyCase struct {
	name, op string
	body     []byte
	want     string // the fault's code, "" when the request is valid
}

// fill repeats elem, separated by commas, between prefix and suffix, until
// the body is about size bytes.
func fill(prefix, elem, suffix string, size int) []byte {
	n := (size - len(prefix) - len(suffix)) / (len(elem) + 1)
	return []byte(prefix + strings.TrimSuffix(strings.Repeat(elem+",", n), ",") + suffix)
}

// manyKeys makes a body of about size bytes whose unknown member is an
// object of distinct short keys.
func manyKeys(size int) []byte {
	var b strings.Builder
	b.WriteString(`{"taskToken":"t","x":{`)
	for i := 0; b.Len() < size-16; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + itoa36(i) + `":0`)
	}
	b.WriteString("}}")
	return []byte(b.String())
}

func itoa36(i int) string {
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	if i == 0 {
		return "0"
	}
	var s []byte
	for ; i > 0; i /= 36 {
		s = append([]byte{digits[i%36]}, s...)
	}
	return string(s)
}

func realDecision(i int, input string) string {
	return `{"decisionType":"ScheduleActivityTask","scheduleActivityTaskDecisionAttributes":{"activityType":{"name":"charge-card","version":"1"},` +
		`"activityId":"a` + itoa36(i) + `","input":"` + input + `","taskList":{"name":"workers"},"startToCloseTimeout":"300","heartbeatTimeout":"60"}}`
}

func amplifyCases() []amplifyCase {
	const mb = 1 << 20
	rdtc := "RespondDecisionTaskCompleted"
	var hundred, hundredBig []string
	for i := range 100 {
		hundred = append(hundred, realDecision(i, `{\"amount\":42}`))
		hundredBig = append(hundredBig, realDecision(i, strings.Repeat("x", 10000)))
	}
	return []amplifyCase{
		{"unknown member: [{},{},…]", rdtc, fill(`{"taskToken":"t","x":[`, `{}`, `]}`, mb), ""},
		{"unknown member: [\"\",\"\",…]", rdtc, fill(`{"taskToken":"t","x":[`, `""`, `]}`, mb), ""},
		{"unknown member: [0,0,…]", rdtc, fill(`{"taskToken":"t","x":[`, `0`, `]}`, mb), ""},
		{"unknown member: [[[]]],…", rdtc, fill(`{"taskToken":"t","x":[`, `[[[[[[]]]]]]`, `]}`, mb), ""},
		{"unknown member: many short keys", rdtc, manyKeys(mb), ""},
		{"decisions: [{},{},…]", rdtc, fill(`{"taskToken":"t","decisions":[`, `{}`, `]}`, mb), api.SerializationException},
		{"decisions: [{\"decisionType\":\"StartTimer\"},…]", rdtc, fill(`{"taskToken":"t","decisions":[`, `{"decisionType":"StartTimer"}`, `]}`, mb), ""},
		{"decisions: [{\"x\":0},…]", rdtc, fill(`{"taskToken":"t","decisions":[`, `{"x":0}`, `]}`, mb), api.ValidationException},
		{"decisionType: [{},{},…]", rdtc, fill(`{"taskToken":"t","decisions":[{"decisionType":[`, `{}`, `]}]}`, mb), api.SerializationException},
		{"tagList: [\"\",\"\",…]", "StartWorkflowExecution", fill(`{"domain":"d","workflowId":"w","workflowType":{"name":"n","version":"1"},"tagList":[`, `""`, `]}`, mb), api.ValidationException},
		{"tagResource tags: [{},{},…]", "TagResource", fill(`{"resourceArn":"a","tags":[`, `{}`, `]}`, mb), api.SerializationException},
		{"densest valid: tags [{\"key\":\"a\"},…]", "TagResource", fill(`{"resourceArn":"a","tags":[`, `{"key":"a"}`, `]}`, mb), ""},
		{"densest valid: tagKeys [\"a\",…]", "UntagResource", fill(`{"resourceArn":"a","tagKeys":[`, `"a"`, `]}`, mb), ""},
		{"densest valid: decisions [{\"decisionType\":\"CancelTimer\"},…]", rdtc, fill(`{"taskToken":"t","decisions":[`, `{"decisionType":"CancelTimer"}`, `]}`, mb), ""},
		{"realistic: 1 MB input string", "StartWorkflowExecution", []byte(`{"domain":"d","workflowId":"w","workflowType":{"name":"n","version":"1"},"input":"` + strings.Repeat("x", mb-100) + `"}`), api.ValidationException},
		{"realistic: 32 KB input", "StartWorkflowExecution", []byte(`{"domain":"d","workflowId":"w","workflowType":{"name":"n","version":"1"},"input":"` + strings.Repeat("x", 32768) + `"}`), ""},
		{"realistic: 100 decisions", rdtc, []byte(`{"taskToken":"` + strings.Repeat("A", 120) + `","decisions":[` + strings.Join(hundred, ",") + `]}`), ""},
		{"realistic: 100 decisions of 10 KB input", rdtc, []byte(`{"taskToken":"` + strings.Repeat("A", 120) + `","decisions":[` + strings.Join(hundredBig, ",") + `]}`), ""},
	}
}

// allocatedBy returns the bytes f allocates (the least of a few runs).
func allocatedBy(f func()) uint64 {
	var least uint64
	for i := range 3 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		if n := after.TotalAlloc - before.TotalAlloc; i == 0 || n < least {
			least = n
		}
	}
	return least
}

// TestDecodeAmplification reports, for request bodies shaped to make the
// decoder allocate and for realistic ones, how many bytes decoding
// allocates per byte of body (run with -v to see them).
func TestDecodeAmplification(t *testing.T) {
	if !testing.Verbose() {
		t.Skip("reports numbers only: run with -v")
	}
	for _, c := range amplifyCases() {
		op := api.Operations[c.op]
		var err error
		n := allocatedBy(func() { _, err = op.Decode(c.body) })
		code := "ok"
		if f, ok := api.AsFault(err); ok {
			code = f.Code
		}
		t.Logf("%-48s %8d B body %10d B allocated %6.1f B/B  %s", c.name, len(c.body), n, float64(n)/float64(len(c.body)), code)
	}
}

// maxAllocatedPerByte bounds what decoding a request allocates in all, per
// byte of body: the decoded values (at most api.MaxDecodeRatio) and the
// typed input they are stored in.
const maxAllocatedPerByte = 16

// Decoding any request of up to 1 MB allocates at most maxAllocatedPerByte
// bytes per byte of its body (and a little more): members the input shape
// does not have are read but not kept, a value of the wrong type is not
// kept either, lists are made at their size, and a body whose values would
// still take more than api.MaxDecodeRatio per byte (a list of empty objects)
// is refused with SerializationException naming where. The densest valid
// requests are decoded.
func TestDecodeMemoryIsBounded(t *testing.T) {
	for _, c := range amplifyCases() {
		t.Run(c.name, func(t *testing.T) {
			op := api.Operations[c.op]
			var err error
			n := allocatedBy(func() { _, err = op.Decode(c.body) })
			code := ""
			if err != nil {
				f, ok := api.AsFault(err)
				if !ok {
					t.Fatalf("Decode: %v, want a fault", err)
				}
				code = f.Code
			}
			if code != c.want {
				t.Errorf("Decode answered %q (%v), want %q", code, err, c.want)
			}
			if limit := uint64(maxAllocatedPerByte*len(c.body) + 256<<10); n > limit {
				t.Errorf("decoding %d bytes allocated %d bytes (%.1f per byte), want at most %d", len(c.body), n, float64(n)/float64(len(c.body)), limit)
			}
		})
	}
}

// A body whose values would take too much memory is refused with a
// SerializationException that names where it ran out, as a violation
// names a member.
func TestDecodeBudgetFault(t *testing.T) {
	body := fill(`{"taskToken":"t","decisions":[`, `{}`, `]}`, 1<<20)
	_, err := api.Operations["RespondDecisionTaskCompleted"].Decode(body)
	f, ok := api.AsFault(err)
	if !ok || f.Code != api.SerializationException {
		t.Fatalf("Decode = %v, want SerializationException", err)
	}
	for _, want := range []string{"Request body holds too many values for its size at 'decisions.", ".member'"} {
		if !strings.Contains(f.Message, want) {
			t.Errorf("message %q lacks %q", f.Message, want)
		}
	}
	// The same list, smaller, is checked as ever: each decision lacks its type.
	small := fill(`{"taskToken":"t","decisions":[`, `{}`, `]}`, 1000)
	_, err = api.Operations["RespondDecisionTaskCompleted"].Decode(small)
	if f, ok := api.AsFault(err); !ok || f.Code != api.ValidationException || !strings.Contains(f.Message, "decisions.1.member.decisionType") {
		t.Errorf("small body: Decode = %v, want a ValidationException naming decisions.1.member.decisionType", err)
	}
}
