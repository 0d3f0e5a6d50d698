package api_test

import (
	"testing"

	"github.com/swfd/swfd/api"
)

func TestNameProblem(t *testing.T) {
	for _, tc := range []struct {
		name, want string
	}{
		{"", ""},
		{"order-42", ""},
		{"名前 with spaces", ""},
		{"arnold", ""},
		{"arn", "Member must not be the literal string 'arn'"},
		{"a:b", "Member must not contain ':', '/', '|' or control characters"},
		{"a/b", "Member must not contain ':', '/', '|' or control characters"},
		{"a|b", "Member must not contain ':', '/', '|' or control characters"},
		{"a\x00b", "Member must not contain ':', '/', '|' or control characters"},
		{"a\u0085b", "Member must not contain ':', '/', '|' or control characters"},
		{"a\x7fb", "Member must not contain ':', '/', '|' or control characters"},
		{"a\xffb", "Member must be valid UTF-8"},
		{"a\xef\xbfb", "Member must be valid UTF-8"},
		// U+FFFD is a character: only bytes that are not UTF-8 are refused.
		{"a\ufffdb", ""},
		{"\xef\xbf\xbd", ""},
	} {
		if got := api.NameProblem(tc.name); got != tc.want {
			t.Errorf("NameProblem(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestDecisionWorkflowIDProblem(t *testing.T) {
	for _, tc := range []struct {
		id, want string
	}{
		{"220VcvdUSPvocYm32TJUvCxWZi2pOsJtJFnL3SV0BB5i:1", ""},
		{"x/y+z=:2", ""},
		{"a:rn", ""},
		{"arn", "Member must not be the literal string 'arn'"},
		{"a|b", "Member must not contain '|' or control characters"},
		{"c\x01", "Member must not contain '|' or control characters"},
		{"a\xffb", "Member must be valid UTF-8"},
		{"child\ufffd:1", ""},
	} {
		if got := api.DecisionWorkflowIDProblem(tc.id); got != tc.want {
			t.Errorf("DecisionWorkflowIDProblem(%q) = %q, want %q", tc.id, got, tc.want)
		}
	}
}
