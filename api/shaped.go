package api

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// Decoding a request costs memory beyond its body: every object, list,
// string and number of it becomes a value, and a body shaped for it (a list
// of a hundred thousand empty objects) made the decoder allocate fifty times
// the body's size. parseRequest keeps that in proportion: it keeps only what
// the input shape holds, in compact values, and refuses a body whose values
// would take more than MaxDecodeRatio bytes per byte of body.
const (
	// MaxDecodeRatio bounds the memory a request's decoded values may take,
	// in bytes per byte of its body (as parseRequest estimates it; see the
	// cost constants). The densest requests the model allows take less: a
	// TagResource of a million-odd tags {"key":"a"} about 10.75, an
	// UntagResource of one-character keys 8.25, a list of decisions of one
	// member each 3.6. A list of empty objects takes 16, and is refused.
	MaxDecodeRatio = 12
	// decodeSlack is what any request may take whatever its size.
	decodeSlack = 64 << 10
)

// Estimated sizes of what parseRequest allocates, charged to a request's
// budget: a structure's object and each member of it (the slice of members
// grows by doubling), a list (its header, boxed) and each element (a list
// is made at its size), a
// string's or number's header when it is boxed in an interface (and the
// bytes of its text).
const (
	costObject  = 32
	costMember  = 64
	costList    = 32
	costElement = 16
	costBoxed   = 16
)

// decodeBudget is how many bytes of decoded values a body of n bytes may
// take.
func decodeBudget(n int) int { return MaxDecodeRatio*n + decodeSlack }

// object is a structure of a request as parseRequest decodes it: the
// members the shape has that the body gives (not null), in the order they
// were first given. It is smaller than a map for the few members a
// structure usually has.
type object struct {
	fields []field
}

type field struct {
	name  string
	value any
}

// get returns the member called name.
func (o *object) get(name string) (any, bool) {
	for _, f := range o.fields {
		if f.name == name {
			return f.value, true
		}
	}
	return nil, false
}

// set gives the member called name its value: a repeated member replaces
// the earlier one, as encoding/json does. It reports whether the member is
// new.
func (o *object) set(name string, v any) bool {
	for i := range o.fields {
		if o.fields[i].name == name {
			o.fields[i].value = v
			return false
		}
	}
	o.fields = append(o.fields, field{name, v})
	return true
}

// remove drops the member called name (a later null undoes an earlier value).
func (o *object) remove(name string) {
	for i := range o.fields {
		if o.fields[i].name == name {
			o.fields = append(o.fields[:i], o.fields[i+1:]...)
			return
		}
	}
}

// MarshalJSON writes the object as a JSON object: decodeSlow writes the
// validated value out and reads it back with encoding/json.
func (o *object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o.fields {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(f.name)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(f.value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// wrongType stands for a value whose JSON type is not its shape's: it is
// read (its syntax checked) but not kept, and the check answers
// SerializationException for it.
type wrongType struct{}

// enumValues holds every enum value of the model, boxed once: a member that
// names one (a decision's type) takes no memory of its own.
var enumValues = func() map[string]any {
	vals := map[string]any{}
	for _, s := range shapes {
		for _, e := range s.Enum {
			vals[e] = e
		}
	}
	return vals
}()

// shapedParser decodes a request body against its input shape. It accepts
// exactly the JSON the generic parser (and so encoding/json) accepts, and
// gives what validate reduced that parser's value to: only the shape's
// members, spelled as the model spells them, null members dropped, a value
// of the wrong JSON type replaced by a wrongType. Members the shape does
// not have are read, never kept.
type shapedParser struct {
	jsonParser
	left    int  // bytes of the budget not yet charged
	over    bool // the budget ran out
	overAt  []string
	scratch []byte // an escaped key, unescaped
}

// parseRequest decodes body against the named shape within budget bytes.
// ok is false for a body that is not JSON (the caller asks encoding/json
// what is wrong) and for one whose values exceed the budget; overAt then
// names where the budget ran out (the members and list positions, outermost
// first, as a violation names them).
func parseRequest(body []byte, shapeName string, budget int) (v any, ok bool, overAt string, over bool) {
	p := shapedParser{jsonParser: jsonParser{b: body}, left: budget}
	p.space()
	v, ok = p.value(shapes[shapeName])
	if p.over {
		path := ""
		for i := len(p.overAt) - 1; i >= 0; i-- {
			path = join(path, p.overAt[i])
		}
		return nil, false, path, true
	}
	if !ok {
		return nil, false, "", false
	}
	p.space()
	return v, p.i == len(p.b), "", false
}

// charge takes n bytes from the budget and reports whether they were there.
func (p *shapedParser) charge(n int) bool {
	p.left -= n
	if p.left < 0 {
		p.over = true
		return false
	}
	return true
}

// kindOf is the shape type a JSON value beginning with c can be.
func kindOf(c byte) string {
	switch {
	case c == '{':
		return "structure"
	case c == '[':
		return "list"
	case c == '"':
		return "string"
	case c == '-' || c >= '0' && c <= '9':
		return "number"
	case c == 't' || c == 'f':
		return "boolean"
	}
	return ""
}

func (p *shapedParser) value(s *Shape) (any, bool) {
	if p.i >= len(p.b) {
		return nil, false
	}
	c := p.b[p.i]
	if c == 'n' {
		return nil, p.literal("null")
	}
	kind := kindOf(c)
	want := s.Type
	switch want {
	case "integer", "long", "timestamp":
		want = "number"
	}
	if kind != want {
		return wrongType{}, p.skip(0)
	}
	switch kind {
	case "structure":
		return p.structure(s)
	case "list":
		return p.list(s)
	case "string":
		return p.str()
	case "number":
		v, ok := p.number()
		if ok && !p.charge(costBoxed+len(v.(json.Number))) {
			return nil, false
		}
		return v, ok
	}
	// boolean
	if c == 't' {
		return true, p.literal("true")
	}
	return false, p.literal("false")
}

// str reads a string value: an enum value of the model is the model's.
func (p *shapedParser) str() (any, bool) {
	start := p.i + 1
	for j := start; j < len(p.b); j++ {
		if c := p.b[j]; c == '"' {
			if e, ok := enumValues[string(p.b[start:j])]; ok {
				p.i = j + 1
				return e, true
			}
			break
		} else if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
	}
	v, ok := p.string()
	if ok && !p.charge(costBoxed+len(v.(string))) {
		return nil, false
	}
	return v, ok
}

func (p *shapedParser) structure(s *Shape) (any, bool) {
	p.i++ // '{'
	if !p.charge(costObject) {
		return nil, false
	}
	o := &object{}
	p.space()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return o, true
	}
	for {
		p.space()
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return nil, false
		}
		m, ok := p.member(s)
		if !ok {
			return nil, false
		}
		p.space()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return nil, false
		}
		p.i++
		p.space()
		if m == nil {
			if !p.skip(0) {
				return nil, false
			}
		} else {
			v, ok := p.value(shapes[m.Shape])
			if !ok {
				if p.over {
					p.overAt = append(p.overAt, m.Name)
				}
				return nil, false
			}
			if v == nil {
				o.remove(m.Name) // null: the member is not given
			} else if o.set(m.Name, v) && !p.charge(costMember) {
				p.overAt = append(p.overAt, m.Name)
				return nil, false
			}
		}
		if more, ok := p.next('}'); !ok || !more {
			return o, ok
		}
	}
}

// member reads a member's name and returns the shape's member of that
// exact name, or nil when the shape has none.
func (p *shapedParser) member(s *Shape) (*ShapeMember, bool) {
	start := p.i + 1
	j := start
	for ; j < len(p.b); j++ {
		c := p.b[j]
		if c == '"' {
			p.i = j + 1
			return lookupMember(s, p.b[start:j]), true
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
	}
	// Escaped or not ASCII: unescaped into scratch, which is kept.
	name, ok := p.unescape()
	if !ok {
		return nil, false
	}
	return lookupMember(s, name), true
}

func lookupMember(s *Shape, name []byte) *ShapeMember {
	for i := range s.Members {
		if s.Members[i].Name == string(name) {
			return &s.Members[i]
		}
	}
	return nil
}

// unescape reads a string into p.scratch, without allocating once scratch
// is large enough.
func (p *shapedParser) unescape() ([]byte, bool) {
	p.i++ // '"'
	out, ok := p.appendRest(p.scratch[:0])
	if !ok {
		return nil, false
	}
	p.scratch = out
	return out, true
}

func (p *shapedParser) list(s *Shape) (any, bool) {
	// Its elements are counted first, so that the list is made once at
	// its size rather than grown (growing a list of n elements one at a
	// time allocates about five times its final size).
	n, ok := p.count()
	if !ok {
		return nil, false
	}
	if !p.charge(costList + costElement*n) {
		return nil, false
	}
	p.i++ // '['
	a := make([]any, 0, n)
	p.space()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return a, true
	}
	elem := shapes[s.Member]
	for {
		p.space()
		v, ok := p.value(elem)
		if !ok {
			if p.over {
				p.overAt = append(p.overAt, strconv.Itoa(len(a)+1)+".member")
			}
			return nil, false
		}
		a = append(a, v)
		if more, ok := p.next(']'); !ok || !more {
			return a, ok
		}
	}
}

// count returns how many elements the array at p.i holds, leaving p.i
// where it is; ok is false when it is not a well-formed array.
func (p *shapedParser) count() (n int, ok bool) {
	save := p.i
	defer func() { p.i = save }()
	p.i++ // '['
	p.space()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		return 0, true
	}
	for {
		p.space()
		if !p.skip(1) {
			return 0, false
		}
		n++
		if more, ok := p.next(']'); !ok || !more {
			return n, ok
		}
	}
}

// skip reads a value of any type, checking it as the generic parser would,
// and keeps nothing of it. depth counts the arrays and objects it is in:
// validate has bounded how deep the body nests.
func (p *shapedParser) skip(depth int) bool {
	if p.i >= len(p.b) || depth > maxNesting {
		return false
	}
	switch c := p.b[p.i]; {
	case c == '{':
		p.i++
		p.space()
		if p.i < len(p.b) && p.b[p.i] == '}' {
			p.i++
			return true
		}
		for {
			p.space()
			if p.i >= len(p.b) || p.b[p.i] != '"' || !p.skipString() {
				return false
			}
			p.space()
			if p.i >= len(p.b) || p.b[p.i] != ':' {
				return false
			}
			p.i++
			p.space()
			if !p.skip(depth + 1) {
				return false
			}
			if more, ok := p.next('}'); !ok || !more {
				return ok
			}
		}
	case c == '[':
		p.i++
		p.space()
		if p.i < len(p.b) && p.b[p.i] == ']' {
			p.i++
			return true
		}
		for {
			p.space()
			if !p.skip(depth + 1) {
				return false
			}
			if more, ok := p.next(']'); !ok || !more {
				return ok
			}
		}
	case c == '"':
		return p.skipString()
	case c == '-' || c >= '0' && c <= '9':
		return p.skipNumber()
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	}
	return false
}

// skipString reads a string as string does, keeping nothing.
func (p *shapedParser) skipString() bool {
	p.i++ // '"'
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			return true
		case c == '\\':
			if p.i+1 >= len(p.b) {
				return false
			}
			switch p.b[p.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.i += 2
			case 'u':
				p.i += 2
				if _, ok := p.hex4(); !ok {
					return false
				}
			default:
				return false
			}
		case c < 0x20:
			return false
		case c < utf8.RuneSelf:
			p.i++
		default:
			r, size := utf8.DecodeRune(p.b[p.i:])
			if r == utf8.RuneError && size == 1 {
				return false
			}
			p.i += size
		}
	}
	return false
}
