package cli

import (
	"io"
	"testing"
)

// FuzzQuery: no --query expression makes swf panic, whether go-jmespath
// takes it or not: query (the literal rewriting around the library, the
// conversion of the response to the library's values and of its result
// back, key order and number kinds included) either fails or gives a value
// that the json, text and table formats print without panicking.
func FuzzQuery(f *testing.F) {
	for _, s := range []string{"a.b[?c > `1`].d", "sort_by(l, &v)[::-1]", "{k: to_string(@), n: length(s)}", "`[1, {\"a\": 2.5}]`[*].a",
		"merge(a, `{}`) | keys(@)", "!a || b && c", "'x'.y[0:2]", "\"q\"(", "map(&[], @)", "max_by(l, &n)", "`d1`", "{\"x\": `2.0`, y: a.c}",
		"`[{\"n\": [1]}, [\"n\"]]`", "`[{}, [0, 1.0]]`", "avg(`[1.0, 3]`)", "merge(a, s)", "A\u0080"} {
		f.Add(s)
	}
	doc, err := decodeJSON([]byte(`{"a": {"b": [1, 2.5, "x", null, true, 2.0], "c": {"z": 1}}, "s": "héllo 漢字", "l": [{"n": "b", "v": 2}, {"n": "a", "v": 1.0}]}`))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		if compileQuery(expr) != nil {
			return
		}
		v, err := query(expr, doc)
		if err != nil {
			return
		}
		formatJSON(io.Discard, v)
		formatText(io.Discard, v)
		formatTable(io.Discard, "T", v, 80, false)
		formatTable(io.Discard, "T", v, 20, true)
	})
}
