package stored

import (
	"reflect"
	"testing"

	"github.com/swfd/swfd"
)

func str(s string) *string { return &s }

func TestTagsRoundTrip(t *testing.T) {
	in := []swfd.Tag{{Key: "none"}, {Key: "empty", Value: str("")}, {Key: "v", Value: str("x")}}
	js, err := Tags(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := ReadTags(js)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, in) {
		t.Fatalf("%s read back as %+v", js, out)
	}
	// Written before empty values were kept: "" reads as not given.
	old, err := ReadTags(`[{"Key":"k","Value":""}]`)
	if err != nil || len(old) != 1 || old[0].Value != nil {
		t.Fatalf("an old row: %+v %v", old, err)
	}
	if none, err := ReadTags(`[]`); err != nil || none != nil {
		t.Fatalf("no tags: %+v %v", none, err)
	}
	if _, err := ReadTags(`{`); err == nil {
		t.Fatal("bad JSON read")
	}
}

func TestDescription(t *testing.T) {
	for _, d := range []*string{nil, str(""), str("d")} {
		got := ReadDescription(Description(d))
		if (got == nil) != (d == nil) || (got != nil && *got != *d) {
			t.Errorf("%v read back as %v", d, got)
		}
	}
	if ReadDescription("", false) != nil {
		t.Error("an old row's empty description reads as given")
	}
}
