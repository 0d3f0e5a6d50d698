// Package jsonmember refuses JSON documents that give a member twice in one
// object. encoding/json keeps only the last of such members without a word,
// so a configuration file (the auth file, a policy, the quota file) that
// repeats one would lose the first: a Deny dropped, a quota lifted.
//
// Which names count as the same follows how encoding/json reads them into
// the Go value the document is for: the members of an object read into a
// struct are matched to its fields whatever their case (so "Operations"
// beside "operations" fill one field), while the keys of an object read
// into a map are taken as written (two domains "Batch" and "batch" are two
// entries).
package jsonmember

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"unicode"
)

// Error is a member given twice in one object.
type Error struct {
	// Path is where the object is: its members' names from the top,
	// joined with ".", and an array's elements as "[N]" counted from 1;
	// "" for the top-level object.
	Path string
	// Name is the member's second spelling, First its first (the same
	// unless the object's members are matched whatever their case).
	Name, First string
	// Line is the line of the document (from 1) where the second is.
	Line int
}

func (e *Error) Error() string {
	where := "the document"
	if e.Path != "" {
		where = e.Path
	}
	also := ""
	if e.First != e.Name {
		also = fmt.Sprintf(" (as %q and as %q, which are read as the same member)", e.First, e.Name)
	}
	return fmt.Sprintf("%s gives the member %q twice%s: only the last would count, so write it once", where, e.Name, also)
}

// Unique returns an *Error for the first object of doc (valid JSON, already
// decoded into a value of type t) that gives a member twice. t says which
// objects have their members matched whatever their case, as encoding/json
// matches them: those read into a struct. The keys of an object read into
// a map, an interface or nothing (t nil: a document read by hand) must
// differ as written. A value read into a json.RawMessage is not looked
// into: whoever reads it checks it on its own.
func Unique(doc []byte, t reflect.Type) error {
	dec := json.NewDecoder(bytes.NewReader(doc))
	w := walker{dec: dec, doc: doc}
	return w.value(t, "")
}

var rawMessage = reflect.TypeFor[json.RawMessage]()

type walker struct {
	dec *json.Decoder
	doc []byte
}

func (w *walker) value(t reflect.Type, path string) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == rawMessage {
		var skip json.RawMessage
		return w.dec.Decode(&skip)
	}
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
		var fields map[string]reflect.Type
		var elem reflect.Type
		fold := false
		if t != nil {
			switch t.Kind() {
			case reflect.Struct:
				fields, fold = structFields(t), true
			case reflect.Map:
				elem = t.Elem()
			}
		}
		seen := map[string]string{}
		for w.dec.More() {
			tok, err := w.dec.Token()
			if err != nil {
				return err
			}
			name, _ := tok.(string)
			k := name
			if fold {
				k = foldName(name)
			}
			if first, dup := seen[k]; dup {
				return &Error{Path: path, Name: name, First: first, Line: w.line()}
			}
			seen[k] = name
			sub := name
			if path != "" {
				sub = path + "." + name
			}
			st := elem
			if fold {
				st = fields[k]
			}
			if err := w.value(st, sub); err != nil {
				return err
			}
		}
	case '[':
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i := 1; w.dec.More(); i++ {
			if err := w.value(elem, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	}
	_, err = w.dec.Token() // the closing '}' or ']'
	return err
}

// line is the line the decoder has read up to.
func (w *walker) line() int {
	off := min(max(w.dec.InputOffset(), 0), int64(len(w.doc)))
	return 1 + bytes.Count(w.doc[:off], []byte("\n"))
}

// structFields returns the JSON members of struct type t, by their folded
// names, with the type each is read into: its exported fields named by
// their json tags (or their own names), and those of the structs it embeds
// without a tag, as encoding/json promotes them (the shallower field wins).
func structFields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	var embedded []reflect.Type
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		if f.Anonymous && name == "" {
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				embedded = append(embedded, ft)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[foldName(name)] = f.Type
	}
	for _, et := range embedded {
		for k, ft := range structFields(et) {
			if _, ok := fields[k]; !ok {
				fields[k] = ft
			}
		}
	}
	return fields
}

// foldName is the form in which encoding/json compares a member's name
// with a field's: names with the same form fill the same field. Each
// letter is taken to the upper case of its lower case, so that "ſ" (long
// s) and "K" (the Kelvin sign) match "s" and "k", as they do there.
func foldName(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(unicode.ToUpper(unicode.ToLower(r)))
	}
	return b.String()
}
