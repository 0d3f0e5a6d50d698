package api

import (
	"encoding/json"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonParser holds what both of the package's JSON parsers share: reading
// white space, literals, numbers and strings exactly as encoding/json's
// Decoder does (with UseNumber). parseRequest decodes requests with it;
// the tests hold it to the Decoder through a generic parser (parseJSON,
// FuzzParseJSON).
type jsonParser struct {
	b []byte
	i int
}

func (p *jsonParser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) literal(word string) bool {
	if len(p.b)-p.i < len(word) || string(p.b[p.i:p.i+len(word)]) != word {
		return false
	}
	p.i += len(word)
	return true
}

// next reads what follows a member of an object or an element of an
// array: a comma (more follows) or the closing bracket end.
func (p *jsonParser) next(end byte) (more, ok bool) {
	p.space()
	if p.i >= len(p.b) {
		return false, false
	}
	switch p.b[p.i] {
	case ',':
		p.i++
		return true, true
	case end:
		p.i++
		return false, true
	}
	return false, false
}

// number reads a number with JSON's grammar, kept as its text.
func (p *jsonParser) number() (any, bool) {
	start := p.i
	if !p.skipNumber() {
		return nil, false
	}
	return json.Number(p.b[start:p.i]), true
}

// skipNumber reads a number with JSON's grammar.
func (p *jsonParser) skipNumber() bool {
	if p.b[p.i] == '-' {
		p.i++
	}
	switch {
	case p.i < len(p.b) && p.b[p.i] == '0':
		p.i++
	case p.digits() == 0:
		return false
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		if p.digits() == 0 {
			return false
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if p.digits() == 0 {
			return false
		}
	}
	return true
}

func (p *jsonParser) digits() int {
	start := p.i
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		p.i++
	}
	return p.i - start
}

// string reads a string, unescaping it as encoding/json does, but for a
// \u escape of half a surrogate pair that is not followed by the other
// half: where encoding/json puts U+FFFD, it puts the half's own three
// bytes (as UTF-8 would encode it, were it a character; WTF-8), which are
// not UTF-8, so that validate can refuse the value, naming its member,
// rather than let a value the caller did not send be kept (see
// loneSurrogateRule).
func (p *jsonParser) string() (any, bool) {
	p.i++ // '"'
	start := p.i
	// The common case: no escapes, ASCII or valid UTF-8.
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			s := string(p.b[start:p.i])
			p.i++
			return s, true
		case c == '\\':
			return p.escaped(start)
		case c < 0x20:
			return nil, false
		case c < utf8.RuneSelf:
			p.i++
		default:
			r, size := utf8.DecodeRune(p.b[p.i:])
			if r == utf8.RuneError && size == 1 {
				return nil, false
			}
			p.i += size
		}
	}
	return nil, false
}

// escaped goes on reading a string begun at start from its first escape.
func (p *jsonParser) escaped(start int) (any, bool) {
	out, ok := p.appendRest(append(make([]byte, 0, p.i-start+16), p.b[start:p.i]...))
	if !ok {
		return nil, false
	}
	return string(out), true
}

// appendRest appends to out the rest of a string, from p.i to its closing
// quote (consumed), its escapes undone.
func (p *jsonParser) appendRest(out []byte) ([]byte, bool) {
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			return out, true
		case c == '\\':
			var ok bool
			if out, ok = p.appendEscape(out); !ok {
				return nil, false
			}
		case c < 0x20:
			return nil, false
		case c < utf8.RuneSelf:
			out = append(out, c)
			p.i++
		default:
			r, size := utf8.DecodeRune(p.b[p.i:])
			if r == utf8.RuneError && size == 1 {
				return nil, false
			}
			out = append(out, p.b[p.i:p.i+size]...)
			p.i += size
		}
	}
	return nil, false
}

// appendEscape reads the escape at p.i and appends what it stands for to
// out: a \u escape of half a surrogate pair that is not followed by the
// other half becomes that half's three bytes (see string).
func (p *jsonParser) appendEscape(out []byte) ([]byte, bool) {
	if p.i+1 >= len(p.b) {
		return nil, false
	}
	e := p.b[p.i+1]
	p.i += 2
	switch e {
	case '"', '\\', '/':
		out = append(out, e)
	case 'b':
		out = append(out, '\b')
	case 'f':
		out = append(out, '\f')
	case 'n':
		out = append(out, '\n')
	case 'r':
		out = append(out, '\r')
	case 't':
		out = append(out, '\t')
	case 'u':
		r, ok := p.hex4()
		if !ok {
			return nil, false
		}
		if utf16.IsSurrogate(r) {
			// The other half must follow at once as \uXXXX.
			if p.i+1 < len(p.b) && p.b[p.i] == '\\' && p.b[p.i+1] == 'u' {
				save := p.i
				p.i += 2
				r2, ok := p.hex4()
				if ok {
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						return utf8.AppendRune(out, d), true
					}
				}
				p.i = save // not a pair: that escape is read on its own
			}
			return appendSurrogate(out, r), true
		}
		out = utf8.AppendRune(out, r)
	default:
		return nil, false
	}
	return out, true
}

// hex4 reads the four hex digits of a \u escape.
func (p *jsonParser) hex4() (rune, bool) {
	if len(p.b)-p.i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range p.b[p.i : p.i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	p.i += 4
	return r, true
}

// appendSurrogate appends the three bytes UTF-8's scheme gives the
// surrogate r (U+D800 to U+DFFF), which valid UTF-8 never holds.
func appendSurrogate(out []byte, r rune) []byte {
	return append(out, 0xE0|byte(r>>12), 0x80|byte(r>>6)&0x3F, 0x80|byte(r)&0x3F)
}

// showSurrogates writes each lone surrogate in s (as appendSurrogate puts
// it) as the \u escape it came from, for a violation to quote.
func showSurrogates(s string) string {
	var b []byte
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 && i+3 <= len(s) && s[i] == 0xED && s[i+1] >= 0xA0 && s[i+1] <= 0xBF && s[i+2]&0xC0 == 0x80 {
			if b == nil {
				b = append(make([]byte, 0, len(s)+8), s[:i]...)
			}
			u := rune(s[i]&0x0F)<<12 | rune(s[i+1]&0x3F)<<6 | rune(s[i+2]&0x3F)
			b = append(b, fmt.Sprintf("\\u%04X", u)...)
			i += 3
			continue
		}
		if b != nil {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	if b == nil {
		return s
	}
	return string(b)
}
