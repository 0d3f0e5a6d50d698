package schema

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, c := range []struct {
		version, latest int
		readOnly        bool
		want            string // "" for nil
	}{
		{3, 3, false, ""},
		{3, 3, true, ""},
		{2, 3, false, ""}, // migrated on open
		{2, 3, true, "older than this swfd's (3)"},
		{4, 3, false, "newer than this swfd supports (3)"},
		{4, 3, true, "newer than this swfd supports (3)"},
	} {
		err := Check(c.version, c.latest, c.readOnly)
		if (err == nil) != (c.want == "") || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("Check(%d, %d, %v) = %v, want %q", c.version, c.latest, c.readOnly, err, c.want)
		}
	}
}
