// Package stored holds the forms in which the SQL stores (package sqlite and
// package postgres) keep the registry values whose absence and emptiness
// differ on the wire: a domain's or a type's description and a domain tag's
// value. Both stores keep them the same way, so that a database copied from
// one to the other (swfd migrate) reads the same.
//
// A description or a tag's value that was not given is stored as "". So was
// one given empty before the stores' migration 0003, and it reads as not
// given, as such old rows always did. One given empty is "" marked as such:
// by the empty_description column beside the description, or by EmptyValue
// in the tags column's JSON.
//
// UpdateTags is the one way both stores change a domain's tag list.
package stored

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/swfd/swfd"
)

// Description returns a description's columns: description and
// empty_description.
func Description(p *string) (desc string, empty bool) {
	if p == nil {
		return "", false
	}
	return *p, *p == ""
}

// ReadDescription returns the description its columns hold: nil when none
// was given.
func ReadDescription(desc string, empty bool) *string {
	if desc == "" && !empty {
		return nil
	}
	return &desc
}

// tag is a tag as the tags column holds it: a JSON array of these.
type tag struct {
	Key, Value string
	EmptyValue bool `json:",omitempty"`
}

// Tags returns the tags column's JSON for tags.
func Tags(tags []swfd.Tag) (string, error) {
	out := make([]tag, len(tags))
	for i, t := range tags {
		out[i].Key = t.Key
		if t.Value != nil {
			out[i].Value, out[i].EmptyValue = *t.Value, *t.Value == ""
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "", fmt.Errorf("encode tags: %w", err)
	}
	return string(b), nil
}

// ReadTags returns the tags a tags column's JSON holds (nil for none).
func ReadTags(js string) ([]swfd.Tag, error) {
	var in []tag
	if err := json.Unmarshal([]byte(js), &in); err != nil {
		return nil, fmt.Errorf("decode tags: %w", err)
	}
	if len(in) == 0 {
		return nil, nil
	}
	tags := make([]swfd.Tag, len(in))
	for i, t := range in {
		tags[i].Key = t.Key
		if t.Value != "" || t.EmptyValue {
			tags[i].Value = &t.Value
		}
	}
	return tags, nil
}

// UpdateTags returns tags with the keys in remove taken out and then add
// upserted: a key tags has takes the new value and keeps its place, a new
// key goes last. tags itself is not changed.
func UpdateTags(tags, add []swfd.Tag, remove []string) []swfd.Tag {
	out := make([]swfd.Tag, 0, len(tags)+len(add))
	for _, t := range tags {
		if !slices.Contains(remove, t.Key) {
			out = append(out, t)
		}
	}
	for _, t := range add {
		if i := slices.IndexFunc(out, func(o swfd.Tag) bool { return o.Key == t.Key }); i >= 0 {
			out[i].Value = t.Value
		} else {
			out = append(out, t)
		}
	}
	return out
}
