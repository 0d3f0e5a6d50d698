package api

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// assign stores a validated request value (what validate returns: objects
// or maps, slices, strings, json.Numbers and booleans) in dst as encoding/json would
// decode its JSON, without writing and reading it back. It reports false
// when it meets anything it does not handle the way encoding/json would, or
// cannot be sure it does; dst is then in an unspecified state and the caller
// decodes the slow way.
func assign(dst reflect.Value, v any) bool {
	t := dst.Type()
	if t.Kind() == reflect.Pointer {
		// encoding/json makes a new value for a member that is not null.
		return assignPointer(dst, v)
	}
	if dst.CanAddr() {
		if u, ok := dst.Addr().Interface().(json.Unmarshaler); ok {
			b, err := json.Marshal(v)
			return err == nil && u.UnmarshalJSON(b) == nil
		}
		if _, ok := dst.Addr().Interface().(encoding.TextUnmarshaler); ok {
			return false
		}
	}
	switch val := v.(type) {
	case *object:
		if t.Kind() != reflect.Struct {
			return false
		}
		fs := fieldsOf(t)
		if fs == nil {
			return false
		}
		for _, f := range val.fields {
			i, ok := fs.index(f.name)
			if !ok {
				continue // encoding/json ignores unknown members
			}
			if !assign(dst.Field(i), f.value) {
				return false
			}
		}
		return true
	case map[string]any:
		if t.Kind() != reflect.Struct {
			return false
		}
		fs := fieldsOf(t)
		if fs == nil {
			return false
		}
		for name, mv := range val {
			i, ok := fs.index(name)
			if !ok {
				continue // encoding/json ignores unknown members
			}
			if !assign(dst.Field(i), mv) {
				return false
			}
		}
		return true
	case []any:
		if t.Kind() != reflect.Slice {
			return false
		}
		s := reflect.MakeSlice(t, len(val), len(val))
		for i, e := range val {
			if !assign(s.Index(i), e) {
				return false
			}
		}
		dst.Set(s)
		return true
	case string:
		if t.Kind() != reflect.String {
			return false
		}
		dst.SetString(val)
		return true
	case bool:
		if t.Kind() != reflect.Bool {
			return false
		}
		dst.SetBool(val)
		return true
	case json.Number:
		switch t.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			n, err := strconv.ParseInt(string(val), 10, 64)
			if err != nil || dst.OverflowInt(n) {
				return false
			}
			dst.SetInt(n)
			return true
		case reflect.Float32, reflect.Float64:
			f, err := strconv.ParseFloat(string(val), t.Bits())
			if err != nil || dst.OverflowFloat(f) {
				return false
			}
			dst.SetFloat(f)
			return true
		}
	}
	return false
}

// assignPointer assigns v to a new value that dst, a pointer, points to.
func assignPointer(dst reflect.Value, v any) bool {
	p := reflect.New(dst.Type().Elem())
	if !assign(p.Elem(), v) {
		return false
	}
	dst.Set(p)
	return true
}

// structFields is a struct type's members by their JSON names.
type structFields struct {
	byName map[string]int
	names  []string // for case-insensitive matching, as encoding/json does
	ids    []int
}

func (f *structFields) index(name string) (int, bool) {
	if i, ok := f.byName[name]; ok {
		return i, true
	}
	for k, n := range f.names {
		if strings.EqualFold(n, name) {
			return f.ids[k], true
		}
	}
	return 0, false
}

var fieldCache sync.Map // reflect.Type → *structFields (nil: not handled)

// fieldsOf returns a struct type's JSON members, or nil when the type has
// something assign does not handle (an embedded field).
func fieldsOf(t reflect.Type) *structFields {
	if f, ok := fieldCache.Load(t); ok {
		return f.(*structFields)
	}
	f := &structFields{byName: map[string]int{}}
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous {
			f = nil
			break
		}
		if !sf.IsExported() {
			continue
		}
		name := sf.Name
		if tag, ok := sf.Tag.Lookup("json"); ok {
			if tag == "-" {
				continue
			}
			if n, _, _ := strings.Cut(tag, ","); n != "" {
				name = n
			}
		}
		if _, dup := f.byName[name]; dup {
			f = nil
			break
		}
		f.byName[name] = i
		f.names = append(f.names, name)
		f.ids = append(f.ids, i)
	}
	fieldCache.Store(t, f)
	return f
}
