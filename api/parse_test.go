package api

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
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
	got = surrogatesAsFFFD(got)
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
	want := map[string]any{"n": json.Number("1.50"), "s": "😀\xed\xa0\xbd", "l": []any{true, nil}}
	if !ok || !reflect.DeepEqual(v, want) {
		t.Errorf("parseJSON = %#v, %v", v, ok)
	}
}

// surrogatesAsFFFD is v with each lone surrogate in its strings (which
// parseJSON keeps as its three bytes, for validate to refuse) made U+FFFD,
// as the Decoder makes it: in all else the two decode alike.
func surrogatesAsFFFD(v any) any {
	switch x := v.(type) {
	case string:
		if utf8.ValidString(x) {
			return x
		}
		var b strings.Builder
		for i := 0; i < len(x); {
			if x[i] == 0xED && i+2 < len(x) && x[i+1] >= 0xA0 {
				b.WriteRune(utf8.RuneError)
				i += 3
				continue
			}
			b.WriteByte(x[i])
			i++
		}
		return b.String()
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = surrogatesAsFFFD(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[surrogatesAsFFFD(k).(string)] = surrogatesAsFFFD(e)
		}
		return out
	}
	return v
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
	b.Run("parseRequest", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			parseRequest(body, "RespondDecisionTaskCompletedInput", decodeBudget(len(body)))
		}
	})
	b.Run("Decoder", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			decodeLikeValidate(body)
		}
	})
}

// cleanLikeValidate reduces a generically parsed value to what validate
// made of it before parseRequest decoded against the shape: only the
// shape's members, exactly spelled, null members dropped; a value of the
// wrong JSON type stands as wrongType.
func cleanLikeValidate(s *Shape, v any) any {
	if v == nil {
		return nil
	}
	switch s.Type {
	case "structure":
		obj, ok := v.(map[string]any)
		if !ok {
			return wrongType{}
		}
		clean := map[string]any{}
		for _, m := range s.Members {
			if mv := obj[m.Name]; mv != nil {
				clean[m.Name] = cleanLikeValidate(shapes[m.Shape], mv)
			}
		}
		return clean
	case "list":
		arr, ok := v.([]any)
		if !ok {
			return wrongType{}
		}
		clean := []any{}
		for _, e := range arr {
			clean = append(clean, cleanLikeValidate(shapes[s.Member], e))
		}
		return clean
	case "string":
		if _, ok := v.(string); ok {
			return v
		}
	case "integer", "long", "timestamp":
		if _, ok := v.(json.Number); ok {
			return v
		}
	case "boolean":
		if _, ok := v.(bool); ok {
			return v
		}
	}
	return wrongType{}
}

// generic turns parseRequest's objects into maps.
func generic(v any) any {
	switch x := v.(type) {
	case *object:
		m := map[string]any{}
		for _, f := range x.fields {
			m[f.name] = generic(f.value)
		}
		return m
	case []any:
		out := []any{}
		for _, e := range x {
			out = append(out, generic(e))
		}
		return out
	}
	return v
}

// checkParseRequest holds parseRequest to the generic parser followed by
// the reduction validate made: they accept the same bodies, and decode
// them to the same value, for every input shape.
func checkParseRequest(t *testing.T, body []byte) {
	t.Helper()
	body = bytes.TrimSpace(body)
	if depth(body) > maxNesting || !utf8.Valid(body) {
		return // validate refuses these first
	}
	want, wantOK := parseJSON(body)
	for name, op := range Operations {
		got, ok, _, over := parseRequest(body, op.Input, 1<<40)
		if over {
			t.Fatalf("%s %q: over an unbounded budget", name, body)
		}
		if ok != wantOK {
			t.Fatalf("%s %q: parseRequest ok %v, parseJSON ok %v", name, body, ok, wantOK)
		}
		if !ok {
			continue
		}
		if g, w := generic(got), cleanLikeValidate(shapes[op.Input], want); !reflect.DeepEqual(g, w) {
			t.Fatalf("%s %q: parseRequest gave %#v, want %#v", name, body, g, w)
		}
	}
}

var requestSeeds = []string{
	`{"domain":"d","workflowId":"w","workflowType":{"name":"n","version":"1"},"tagList":["a",null,"b"],"input":"\u0041"}`,
	`{"taskToken":"t","decisions":[{"decisionType":"StartTimer","startTimerDecisionAttributes":{"timerId":"t","startToFireTimeout":"5"},"x":[{},[1,"a"]]},null,3]}`,
	`{"name":"a","name":null}`, `{"name":null,"name":"b"}`, `{"NAME":"a","name":"b","Name":"c"}`,
	`{"\u006eame":"a","n\u00e4me":"b","domain":{"x":1}}`,
	`{"domain":"d","startTimeFilter":{"oldestDate":1326592619.474,"latestDate":"x"},"maximumPageSize":true,"reverseOrder":1}`,
	`{"resourceArn":"a","tags":[{"key":"k","value":""},{},{"key":["x"]}],"tagKeys":["a","b"]}`,
	`{"taskToken":"t","decisions":{"decisionType":"StartTimer"}}`,
	`[{"name":"a"}]`, `"x"`, `null`, `{"x":"\ud800"}`,
}

func TestParseRequestIsParseJSONReduced(t *testing.T) {
	for _, s := range append(append([]string{}, requestSeeds...), parseSeeds...) {
		checkParseRequest(t, []byte(s))
	}
}

func FuzzParseRequest(f *testing.F) {
	for _, s := range append(append([]string{}, requestSeeds...), parseSeeds...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkParseRequest(t, body)
	})
}
