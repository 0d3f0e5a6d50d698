package auth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// uniqueMembers refuses a JSON document (already known to be valid JSON)
// in which an object gives a member name twice. Decoding keeps only the
// last of them, so a policy that says "StringEquals" twice in one
// Condition, or "Statement" twice, would lose the first without a word: a
// condition meant to narrow an Allow, or a whole Deny, would be dropped.
//
// With fold, names that differ only in case count as the same (the auth
// file's own members are matched to its fields that way). A member for
// which opaque returns true is not looked into: its value is checked on
// its own (the policies of the auth file, whose member names are
// case-sensitive).
func uniqueMembers(doc []byte, fold bool, opaque func(name string) bool) error {
	w := memberWalker{dec: json.NewDecoder(bytes.NewReader(doc)), fold: fold, opaque: opaque}
	return w.value("")
}

type memberWalker struct {
	dec    *json.Decoder
	fold   bool
	opaque func(string) bool
}

func (w *memberWalker) value(path string) error {
	tok, err := w.dec.Token()
	if err != nil {
		return err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	switch d {
	case '{':
		seen := map[string]bool{}
		for w.dec.More() {
			tok, err := w.dec.Token()
			if err != nil {
				return err
			}
			name, _ := tok.(string)
			k := name
			if w.fold {
				k = strings.ToLower(name)
			}
			if seen[k] {
				where := "the document"
				if path != "" {
					where = path
				}
				return fmt.Errorf("%s gives the member %q twice: only the last would count, so write it once (several conditions of one operator go in one object)", where, name)
			}
			seen[k] = true
			if w.opaque != nil && w.opaque(name) {
				var skip json.RawMessage
				if err := w.dec.Decode(&skip); err != nil {
					return err
				}
				continue
			}
			sub := name
			if path != "" {
				sub = path + "." + name
			}
			if err := w.value(sub); err != nil {
				return err
			}
		}
	case '[':
		for i := 1; w.dec.More(); i++ {
			if err := w.value(fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	}
	_, err = w.dec.Token() // the closing '}' or ']'
	return err
}
