package api

import "unicode/utf8"

// parseJSON decodes a JSON text into the values encoding/json's Decoder
// gives an interface with UseNumber: map[string]any, []any, string,
// json.Number, bool and nil, whatever shape it has. It reports false for
// anything it does not decode exactly as the Decoder would (malformed JSON,
// trailing data, a string that is not valid UTF-8).
//
// It is built on the jsonParser that parseRequest uses: the tests hold it
// to the Decoder on seeds and fuzzed input (FuzzParseJSON), and
// parseRequest to it (FuzzParseRequest).
func parseJSON(b []byte) (any, bool) {
	p := jsonParser{b: b}
	p.space()
	v, ok := p.value()
	if !ok {
		return nil, false
	}
	p.space()
	return v, p.i == len(p.b)
}

func (p *jsonParser) value() (any, bool) {
	if p.i >= len(p.b) {
		return nil, false
	}
	switch c := p.b[p.i]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		return p.string()
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	}
	return nil, false
}

func (p *jsonParser) object() (any, bool) {
	p.i++ // '{'
	m := map[string]any{}
	p.space()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return m, true
	}
	for {
		p.space()
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return nil, false
		}
		k, ok := p.key()
		if !ok {
			return nil, false
		}
		p.space()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return nil, false
		}
		p.i++
		p.space()
		v, ok := p.value()
		if !ok {
			return nil, false
		}
		m[k] = v // a repeated member: the last one counts, as with encoding/json
		if more, ok := p.next('}'); !ok || !more {
			return m, ok
		}
	}
}

func (p *jsonParser) array() (any, bool) {
	p.i++ // '['
	a := []any{}
	p.space()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return a, true
	}
	for {
		p.space()
		v, ok := p.value()
		if !ok {
			return nil, false
		}
		a = append(a, v)
		if more, ok := p.next(']'); !ok || !more {
			return a, ok
		}
	}
}

// key reads a member's name. The name of a model member, which nearly
// every key is, is not allocated again: its string is the model's.
func (p *jsonParser) key() (string, bool) {
	start := p.i + 1
	for j := start; j < len(p.b); j++ {
		if c := p.b[j]; c == '"' {
			if name, ok := memberNames[string(p.b[start:j])]; ok {
				p.i = j + 1
				return name, true
			}
			break
		} else if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
	}
	s, ok := p.string()
	if !ok {
		return "", false
	}
	return s.(string), true
}

// memberNames holds the name of every member of every shape of the model.
var memberNames = func() map[string]string {
	names := map[string]string{}
	for _, s := range shapes {
		for _, m := range s.Members {
			names[m.Name] = m.Name
		}
	}
	return names
}()
