package api

import (
	"encoding/json"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// fullValue makes a valid JSON value of a shape with every member set (lists
// of two), so that decoding it touches every field of the input types.
func fullValue(shapeName string, depth int) any {
	s := shapes[shapeName]
	switch s.Type {
	case "structure":
		obj := map[string]any{}
		if depth > 6 {
			return obj
		}
		for _, m := range s.Members {
			obj[m.Name] = fullValue(m.Shape, depth+1)
		}
		return obj
	case "list":
		return []any{fullValue(s.Member, depth+1), fullValue(s.Member, depth+1)}
	case "string":
		if len(s.Enum) > 0 {
			return s.Enum[len(s.Enum)-1]
		}
		n := max(s.Min, 3)
		if s.HasMax {
			n = min(n, s.Max)
		}
		return strings.Repeat("é", int(n))
	case "integer", "long":
		return json.Number(strconv.FormatInt(max(s.Min, 7), 10))
	case "boolean":
		return true
	case "timestamp":
		return json.Number("1326592619.474")
	}
	return nil
}

// TestAssignMatchesEncodingJSON checks that decoding a request by storing the
// validated value straight into the input gives what writing it as JSON and
// reading it back with encoding/json gives: for every operation, with every
// member set, with none, and with members spelled in other cases.
func TestAssignMatchesEncodingJSON(t *testing.T) {
	names := make([]string, 0, len(Operations))
	for name := range Operations {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		op := Operations[name]
		full, err := json.Marshal(fullValue(op.Input, 0))
		if err != nil {
			t.Fatal(err)
		}
		upper := strings.ReplaceAll(string(full), `"domain"`, `"DOMAIN"`)
		if _, err := validate(op.Input, full); err != nil {
			t.Fatalf("%s: the full request is not valid: %v", name, err)
		}
		for _, body := range []string{string(full), `{}`, upper} {
			clean, err := validate(op.Input, []byte(body))
			if err != nil {
				continue // {} lacks the required members of most inputs
			}
			fast := op.NewInput()
			if !assign(reflect.ValueOf(fast).Elem(), clean) {
				t.Errorf("%s: assign refused %s", name, body)
				continue
			}
			slow, err := op.decodeSlow(clean)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !reflect.DeepEqual(fast, slow) {
				t.Errorf("%s: assign and encoding/json differ for %s:\n%+v\n%+v", name, body, fast, slow)
			}
		}
	}
}

// TestAssignRefuses checks that assign gives up, rather than guessing, on
// values encoding/json would refuse or treat in its own way.
func TestAssignRefuses(t *testing.T) {
	type inner struct {
		N int32 `json:"n"`
	}
	type target struct {
		S  string  `json:"s"`
		N  int32   `json:"n"`
		In *inner  `json:"in"`
		L  []inner `json:"l"`
		A  any     `json:"a"`
	}
	for _, v := range []map[string]any{
		{"s": json.Number("1")},
		{"n": "x"},
		{"n": json.Number("3000000000")},
		{"n": json.Number("1.5")},
		{"in": []any{}},
		{"l": map[string]any{}},
		{"a": "anything"},
	} {
		var dst target
		if assign(reflect.ValueOf(&dst).Elem(), v) {
			t.Errorf("assign took %v", v)
		}
	}
}
