package api

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"unicode/utf8"
)

// decodeLikeValidate decodes b as validate did before parseJSON: the
// Decoder with UseNumber, nothing but white space after the value.
func decodeLikeValidate(b []byte) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	return v, len(bytes.TrimSpace(b[dec.InputOffset():])) == 0
}

// checkParse holds parseJSON to the Decoder on one body: whatever it
// decodes it decodes as the Decoder does, and it decodes every body the
// Decoder accepts (valid UTF-8 with no white space around it, as validate
// hands it over).
func checkParse(t *testing.T, body []byte) {
	t.Helper()
	body = bytes.TrimSpace(body)
	got, ok := parseJSON(body)
	want, wantOK := decodeLikeValidate(body)
	if ok && (!wantOK || !reflect.DeepEqual(got, want)) {
		t.Fatalf("%q: parseJSON gave %#v, the Decoder %#v (ok %v)", body, got, want, wantOK)
	}
	if !ok && wantOK && utf8.Valid(body) {
		t.Fatalf("%q: parseJSON refused what the Decoder decodes as %#v", body, want)
	}
}

var parseSeeds = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `1.5e-3`, `-12.0E+7`, `true`, `false`, `null`,
	`{"domain":"d","workflowId":"w","workflowType":{"name":"n","version":"1"},"tagList":["a",null,"b"]}`,
	`{"a":1,"a":2}`, // the last one counts
	`{ "a" : [ 1 , { } , [ ] ] , "b" : "" }`,
	"{\n\t\"a\":\r\n1}",
	`"\" \\ \/ \b \f \n \r \t \u0041 \u00e9 \u20ac"`,
	// A surrogate pair, then halves alone.
	`"\ud83d\ude00"`,
	`"\ud83d"`, `"\ud83dx"`, `"\ud83d\u0041"`, `"\ude00\ud83d"`, `"\ud83d\ud83d\ude00"`,
	`"é ü 日本 😀"`, "\"\u2028\u2029\"",
	`{"big":123456789012345678901234567890,"neg":-9223372036854775809}`,
	// Malformed: left to the Decoder.
	``, `{`, `}`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[1 2]`, `{"a":1}}`, `{} {}`, `{}x`,
	`01`, `-`, `1.`, `.5`, `1e`, `1e+`, `+1`, `tru`, `nul`, `"abc`, `"\x"`, `"\u12"`, `"\u12G4"`,
	"\"a\x01b\"", "\"\xff\"", `{"a":"\`, `'a'`, `{a:1}`,
}

func TestParseJSONIsTheDecoders(t *testing.T) {
	for _, s := range parseSeeds {
		checkParse(t, []byte(s))
	}
	// Spot checks of what it decodes, beyond agreeing with the Decoder.
	v, ok := parseJSON([]byte(`{"n":1.50,"s":"\ud83d\ude00\ud83d","l":[true,null]}`))
	want := map[string]any{"n": json.Number("1.50"), "s": "😀\ufffd", "l": []any{true, nil}}
	if !ok || !reflect.DeepEqual(v, want) {
		t.Errorf("parseJSON = %#v, %v", v, ok)
	}
}

func FuzzParseJSON(f *testing.F) {
	for _, s := range parseSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if depth(body) > maxNesting {
			return // validate refuses these before decoding
		}
		checkParse(t, body)
	})
}

func BenchmarkParseRequest(b *testing.B) {
	body := []byte(`{"taskToken":"AAAAKgAAAAEAAAAAAAAAAjjSAq6QvRdA9lpFYNuF0bD1ZTZoVSkoyJUjhIf1QkfUqEpBt9qsVw0rhtDnjJqVkuEP0Q8rCTHnZqwA",` +
		`"decisions":[{"decisionType":"ScheduleActivityTask","scheduleActivityTaskDecisionAttributes":{"activityId":"a1",` +
		`"activityType":{"name":"act","version":"1"},"input":"payload","taskList":{"name":"tl"},"startToCloseTimeout":"60"}}],` +
		`"executionContext":"ctx"}`)
	b.Run("parseJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			parseJSON(body)
		}
	})
	b.Run("Decoder", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			decodeLikeValidate(body)
		}
	})
}
