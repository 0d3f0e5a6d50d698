package cli

import (
	"fmt"
	"strings"
	"unicode"
)

// The AWS CLI's shorthand syntax for structure and list arguments:
//
//	key=value,key2=value2        a structure
//	key=a,b,c                    a list value (a, b, c)
//	key=[a,b],key2={k=v}         explicit lists and nested structures
//	key='quoted, value'          single or double quotes keep , and =
//	key@=file://path             the value read from a file
//
// parseShorthand parses the syntax alone (no model): the result is an
// *omap whose values are strings, []any and *omaps. shapeShorthand then
// converts it for the argument's shape (numbers, booleans, one value where
// a list is expected).

type shorthandError struct{ msg string }

func (e *shorthandError) Error() string { return e.msg }

type shParser struct {
	in      []rune
	i       int
	resolve bool // the current key used @=
}

func parseShorthand(s string) (*omap, error) {
	p := &shParser{in: []rune(s)}
	return p.parameter()
}

func (p *shParser) eof() bool { return p.i >= len(p.in) }

func (p *shParser) cur() rune {
	if p.eof() {
		return -1
	}
	return p.in[p.i]
}

func (p *shParser) syntaxErr(expected, actual string, at int) error {
	return &shorthandError{fmt.Sprintf("Expected: '%s', received: '%s' for input:\n%s", expected, actual, p.location(at))}
}

// location draws the input with a caret under position at.
func (p *shParser) location(at int) string {
	s := string(p.in)
	consumed, rest := s, ""
	runes := p.in
	col := at
	if at > len(runes) {
		at = len(runes)
	}
	before := string(runes[:at])
	if nl := strings.LastIndexByte(before, '\n'); nl >= 0 {
		col = len([]rune(before[nl+1:]))
	}
	after := string(runes[at:])
	if nl := strings.IndexByte(after, '\n'); nl >= 0 {
		consumed = before + after[:nl]
		rest = after[nl:]
	}
	return consumed + "\n" + strings.Repeat(" ", col) + "^" + rest
}

func (p *shParser) expect(r rune, ws bool) error {
	if ws {
		p.skipSpace()
	}
	if p.eof() {
		return p.syntaxErr(string(r), "EOF", p.i)
	}
	if p.in[p.i] != r {
		return p.syntaxErr(string(r), string(p.in[p.i]), p.i)
	}
	p.i++
	if ws {
		p.skipSpace()
	}
	return nil
}

func (p *shParser) skipSpace() {
	for !p.eof() && unicode.IsSpace(p.in[p.i]) {
		p.i++
	}
}

func (p *shParser) parameter() (*omap, error) {
	out := newOmap()
	k, v, err := p.keyval()
	if err != nil {
		return nil, err
	}
	out.set(k, v)
	last := p.i
	for !p.eof() {
		if err := p.expect(',', true); err != nil {
			return nil, err
		}
		k, v, err := p.keyval()
		if err != nil {
			return nil, err
		}
		if _, dup := out.get(k); dup {
			return nil, &shorthandError{fmt.Sprintf("Second instance of key \"%s\" encountered for input:\n%s\nThis is often because there is a preceding \",\" instead of a space.", k, p.location(last+1))}
		}
		out.set(k, v)
		last = p.i
	}
	return out, nil
}

func (p *shParser) keyval() (string, any, error) {
	k := p.key()
	p.resolve = false
	save := p.i
	if p.expect('@', true) == nil {
		p.resolve = true
	} else {
		p.i = save
	}
	if err := p.expect('=', true); err != nil {
		return "", nil, err
	}
	v, err := p.values()
	return k, v, err
}

func isKeyChar(r rune) bool {
	return r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.#/:", r))
}

func (p *shParser) key() string {
	start := p.i
	for !p.eof() && isKeyChar(p.in[p.i]) {
		p.i++
	}
	return string(p.in[start:p.i])
}

func (p *shParser) values() (any, error) {
	switch {
	case p.eof():
		return "", nil
	case p.cur() == '[':
		return p.explicitList()
	case p.cur() == '{':
		return p.hash()
	}
	return p.csv()
}

func (p *shParser) csv() (any, error) {
	first, err := p.firstValue()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.eof() || p.cur() != ',' {
		return first, nil
	}
	if err := p.expect(',', true); err != nil {
		return nil, err
	}
	list := []any{first}
	for {
		v, err := p.secondValue()
		if err == nil {
			p.skipSpace()
			if p.eof() {
				list = append(list, v)
				break
			}
			err = p.expect(',', true)
			if err == nil {
				list = append(list, v)
				continue
			}
		}
		if p.eof() {
			return nil, err
		}
		// Not a list value after all (a=b,c=d): back up to the comma that
		// starts the next key.
		for p.i >= 0 && p.in[p.i] != ',' {
			p.i--
		}
		break
	}
	if len(list) == 1 {
		return first, nil
	}
	return list, nil
}

// Character classes of unquoted values.
func isStartChar(r rune) bool {
	switch {
	case r <= ' ', r == '"', r == '\'', r == ',', r == '=', r == '[', r == '{':
		return false
	}
	return true
}

func isFirstFollow(r rune) bool {
	if unicode.IsSpace(r) {
		return true
	}
	switch {
	case r < ' ', r == '"', r == '\'', r == ',', r == ']', r == '}':
		return false
	}
	return true
}

func isSecondFollow(r rune) bool {
	if unicode.IsSpace(r) {
		return true
	}
	switch {
	case r < ' ', r == '"', r == '\'', r == ',', r == '=':
		return false
	}
	return true
}

// word consumes an unquoted value whose first character is a start
// character and the rest satisfy follow; "\," stands for a comma.
func (p *shParser) word(follow func(rune) bool) (string, bool) {
	start := p.i
	first := true
	for !p.eof() {
		r := p.in[p.i]
		if r == '\\' && p.i+1 < len(p.in) && p.in[p.i+1] == ',' {
			p.i += 2
			first = false
			continue
		}
		if first && !isStartChar(r) || !first && !follow(r) {
			break
		}
		first = false
		p.i++
	}
	if p.i == start {
		return "", false
	}
	s := strings.ReplaceAll(string(p.in[start:p.i]), `\,`, ",")
	return strings.TrimRightFunc(s, unicode.IsSpace), true
}

func (p *shParser) firstValue() (any, error) {
	switch p.cur() {
	case '\'':
		return p.quoted('\'')
	case '"':
		return p.quoted('"')
	}
	s, _ := p.word(isFirstFollow)
	return p.maybeFile(s)
}

func (p *shParser) secondValue() (any, error) {
	switch p.cur() {
	case '\'':
		return p.quoted('\'')
	case '"':
		return p.quoted('"')
	}
	s, ok := p.word(isSecondFollow)
	if !ok {
		got := "<none>"
		return nil, &shorthandError{fmt.Sprintf("Expected: '<second>', received: '%s' for input:\n%s", got, p.location(p.i))}
	}
	return p.maybeFile(s)
}

func (p *shParser) quoted(q rune) (any, error) {
	start := p.i
	j := p.i + 1
	for j < len(p.in) {
		if p.in[j] == '\\' && j+1 < len(p.in) && p.in[j+1] == q {
			j += 2
			continue
		}
		if p.in[j] == q {
			break
		}
		j++
	}
	if j >= len(p.in) {
		name := "singled quoted"
		if q == '"' {
			name = "double quoted"
		}
		return nil, &shorthandError{fmt.Sprintf("Expected: '<%s>', received: '<none>' for input:\n%s", name, p.location(start))}
	}
	s := string(p.in[start+1 : j])
	p.i = j + 1
	s = strings.ReplaceAll(s, `\`+string(q), string(q))
	s = strings.ReplaceAll(s, `\\`, `\`)
	return p.maybeFile(s)
}

func (p *shParser) maybeFile(s string) (any, error) {
	if !p.resolve {
		return s, nil
	}
	v, ok, err := readParamFile(s)
	if err != nil {
		return nil, err
	}
	if ok {
		return v, nil
	}
	return s, nil
}

func (p *shParser) explicitList() (any, error) {
	if err := p.expect('[', true); err != nil {
		return nil, err
	}
	list := []any{}
	for p.cur() != ']' {
		if p.eof() {
			return nil, p.syntaxErr("]", "EOF", p.i)
		}
		v, err := p.explicitValue()
		if err != nil {
			return nil, err
		}
		list = append(list, v)
		p.skipSpace()
		if p.cur() != ']' {
			if err := p.expect(',', false); err != nil {
				return nil, err
			}
			p.skipSpace()
		}
	}
	return list, p.expect(']', false)
}

func (p *shParser) explicitValue() (any, error) {
	switch p.cur() {
	case '[':
		return p.explicitList()
	case '{':
		return p.hash()
	}
	return p.firstValue()
}

func (p *shParser) hash() (any, error) {
	if err := p.expect('{', true); err != nil {
		return nil, err
	}
	out := newOmap()
	for p.cur() != '}' {
		if p.eof() {
			return nil, p.syntaxErr("}", "EOF", p.i)
		}
		k := p.key()
		p.resolve = false
		save := p.i
		if p.expect('@', true) == nil {
			p.resolve = true
		} else {
			p.i = save
		}
		if err := p.expect('=', true); err != nil {
			return nil, err
		}
		v, err := p.explicitValue()
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.cur() != '}' {
			if err := p.expect(',', false); err != nil {
				return nil, err
			}
			p.skipSpace()
		}
		out.set(k, v)
	}
	return out, p.expect('}', false)
}
