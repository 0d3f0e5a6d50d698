package jsonmember

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

type limit struct {
	Size *float64 `json:"bucketSize"`
	Off  bool     `json:"unlimited"`
}

type set struct {
	Operations map[string]limit `json:"operations"`
	List       *limit           `json:"activityTaskList"`
}

type top struct {
	Base string `json:"base"`
	set
	Domains  map[string]set    `json:"domains"`
	Raw      []json.RawMessage `json:"raw"`
	Skipped  string            `json:"-"`
	Untagged int
}

// Which names count as one member follows the Go value the document is
// read into: a struct's members whatever their case (and Unicode's other
// spellings of a letter, as encoding/json matches them), a map's keys as
// written; a json.RawMessage is not looked into.
func TestUnique(t *testing.T) {
	typ := reflect.TypeFor[top]()
	for _, tc := range []struct {
		doc         string
		t           reflect.Type
		path, name  string
		first       string
		line        int
		wantMessage string
	}{
		{doc: `{"base": "a", "base": "b"}`, t: typ, name: "base", first: "base", line: 1,
			wantMessage: `the document gives the member "base" twice: only the last would count, so write it once`},
		{doc: `{"base": "a", "BASE": "b"}`, t: typ, name: "BASE", first: "base", line: 1,
			wantMessage: `the document gives the member "BASE" twice (as "base" and as "BASE", which are read as the same member): only the last would count, so write it once`},
		{doc: `{"operations": {}, "Operations": {}}`, t: typ, name: "Operations", first: "operations", line: 1}, // promoted from the embedded struct
		{doc: `{"untagged": 1, "Untagged": 2}`, t: typ, name: "Untagged", first: "untagged", line: 1},
		{doc: `{"domainſ": {}, "domains": {}}`, t: typ, name: "domains", first: "domainſ", line: 1},
		{doc: "{\"domains\": {\"d\": {},\n\n \"d\": {}}}", t: typ, path: "domains", name: "d", first: "d", line: 3},
		{doc: `{"domains": {"d": {"operations": {"X": {"bucketSize": 1, "BucketSize": 2}}}}}`, t: typ, path: "domains.d.operations.X", name: "BucketSize", first: "bucketSize", line: 1},
		{doc: `{"activityTaskList": {"unlimited": true, "Unlimited": false}}`, t: typ, path: "activityTaskList", name: "Unlimited", first: "unlimited", line: 1},
		{doc: `{"a": [{"b": 1}, {"b": 1, "b": 2}]}`, path: "a[2]", name: "b", first: "b", line: 1},
	} {
		err := Unique([]byte(tc.doc), tc.t)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: %v, want an *Error", tc.doc, err)
			continue
		}
		if e.Path != tc.path || e.Name != tc.name || e.First != tc.first || e.Line != tc.line {
			t.Errorf("%s: %+v, want path %q, name %q, first %q, line %d", tc.doc, *e, tc.path, tc.name, tc.first, tc.line)
		}
		if tc.wantMessage != "" && e.Error() != tc.wantMessage {
			t.Errorf("%s: %q, want %q", tc.doc, e.Error(), tc.wantMessage)
		}
	}
	for _, tc := range []struct {
		doc string
		t   reflect.Type
	}{
		{`{"domains": {"d": {}, "D": {}}}`, typ},                           // map keys as written
		{`{"a": 1, "A": 2}`, nil},                                          // read by hand: case matters
		{`{"raw": [{"x": 1, "x": 2}]}`, typ},                               // checked by whoever reads it
		{`{"a": {"b": 1}, "c": {"b": 1}, "d": [{"b": 1}, {"b": 2}]}`, nil}, // one name in several objects
	} {
		if err := Unique([]byte(tc.doc), tc.t); err != nil {
			t.Errorf("%s: %v, want it accepted", tc.doc, err)
		}
	}
}
