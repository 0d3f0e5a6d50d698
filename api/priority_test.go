package api_test

import (
	"strings"
	"testing"

	"github.com/swfd/swfd/api"
)

func TestCanonicalPriority(t *testing.T) {
	for in, want := range map[string]string{
		"":                               "",
		"0":                              "0",
		"7":                              "7",
		"+7":                             "7",
		"0007":                           "7",
		"-0":                             "0",
		"-007":                           "-7",
		"+2147483647":                    "2147483647",
		"-2147483648":                    "-2147483648",
		strings.Repeat("0", 1<<20) + "3": "3",
		// Not priorities: left as they are (callers refuse them first).
		"2147483648": "2147483648",
		"high":       "high",
		" 1":         " 1",
	} {
		if got := api.CanonicalPriority(in); got != want {
			t.Errorf("CanonicalPriority(%.20q) = %.20q, want %.20q", in, got, want)
		}
	}
}
