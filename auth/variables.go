package auth

import (
	"fmt"
	"strings"
	"unicode"
)

// Policy variables. In a Version 2012-10-17 policy, "${aws:username}" in a
// Resource, a NotResource or a condition value stands for the value of
// that key in the request (for aws:username, the caller's name), and
// "${*}", "${?}" and "${$}" for the characters '*', '?' and '$' taken as
// themselves. "${KEY, 'TEXT'}" gives TEXT when the request has no value
// for KEY; TEXT may hold any character but a single quote, '}' included.
// What a variable puts in a pattern is matched as itself: a '*' in a name
// is not a wildcard.

// variableKeys are the keys a policy variable may name, by lower-case
// name.
var variableKeys = map[string]globalKey{
	"aws:username":         keyUsername,
	"aws:principalarn":     keyPrincipalArn,
	"aws:principalaccount": keyPrincipalAccount,
	"aws:principaltype":    keyPrincipalType,
	"aws:requestedregion":  keyRequestedRegion,
}

// template is a pattern or value that uses policy variables.
type template []tmplPart

// tmplPart is a piece of a template: text as written (key == 0, literal
// false), text taken as itself (an escape: literal), or a variable.
type tmplPart struct {
	text    string
	literal bool
	key     globalKey
	def     string
	hasDef  bool
}

// hasVariable reports whether some string may use a policy variable.
func hasVariable(list []string) bool {
	for _, s := range list {
		if strings.Contains(s, "${") {
			return true
		}
	}
	return false
}

// supportedVariables lists, for messages, the policy variables swfd
// replaces.
const supportedVariables = "${aws:username}, ${aws:PrincipalArn}, ${aws:PrincipalAccount}, ${aws:PrincipalType}, ${aws:RequestedRegion}, each with an optional default (${aws:username, 'text'}), and ${*}, ${?}, ${$}"

// compileTemplate parses the policy variables of s. A "${…}" that is not
// one swfd replaces is an error: left as text, a Deny naming it would
// never apply. So is a "${" that no '}' closes: read as text it would
// match only a name holding those characters, so a Deny meant for the
// caller's own domain (a Resource ending in "${aws:username" with the
// brace left off) would apply to no domain of theirs, and an Allow's
// NotResource would leave that domain allowed. IAM gives such a string
// no meaning to rely on, so swfd refuses it rather than guess; "${$}"
// writes a '$' taken as itself.
func compileTemplate(s string) (template, error) {
	var t template
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			break
		}
		j, err := variableEnd(s[i:])
		if err != nil {
			return nil, err
		}
		inner := s[i+2 : i+j]
		part, ok := parseVariable(inner)
		if !ok {
			return nil, fmt.Errorf("policy variable ${%s} is not supported (supported: %s)", inner, supportedVariables)
		}
		if i > 0 {
			t = append(t, tmplPart{text: s[:i]})
		}
		t = append(t, part)
		s = s[i+j+1:]
	}
	if s != "" {
		t = append(t, tmplPart{text: s})
	}
	return t, nil
}

// variableEnd returns the index in v, which starts with "${", of the '}'
// that closes the variable. A default is quoted ("${KEY, 'TEXT'}") and
// TEXT may hold any character but a single quote, so a '}' between the
// quotes is part of TEXT, not the end. The quote opens only as the first
// thing after the comma; anything else (a default not in quotes) runs to
// the first '}' and parseVariable refuses it.
func variableEnd(v string) (int, error) {
	from := 2
	if c := strings.IndexAny(v[from:], ",}"); c >= 0 && v[from+c] == ',' {
		q := from + c + 1
		q += len(v[q:]) - len(strings.TrimLeftFunc(v[q:], unicode.IsSpace))
		if q < len(v) && v[q] == '\'' {
			e := strings.IndexByte(v[q+1:], '\'')
			if e < 0 {
				return 0, fmt.Errorf("policy variable %s has a default whose quote is not closed", v)
			}
			from = q + 1 + e + 1
		}
	}
	j := strings.IndexByte(v[from:], '}')
	if j < 0 {
		return 0, fmt.Errorf("policy variable %s is not closed by '}' (write ${$} for a '$' taken as itself)", v)
	}
	return from + j, nil
}

// parseVariable parses what is between "${" and "}".
func parseVariable(inner string) (tmplPart, bool) {
	switch inner {
	case "*", "?", "$":
		return tmplPart{text: inner, literal: true}, true
	}
	name, def, hasDef := strings.Cut(inner, ",")
	name = strings.TrimSpace(name)
	k, ok := variableKeys[strings.ToLower(name)]
	if !ok {
		return tmplPart{}, false
	}
	p := tmplPart{key: k}
	if hasDef {
		def = strings.TrimSpace(def)
		if len(def) < 2 || def[0] != '\'' || def[len(def)-1] != '\'' || strings.Contains(def[1:len(def)-1], "'") {
			return tmplPart{}, false
		}
		p.def, p.hasDef = def[1:len(def)-1], true
	}
	return p, true
}

func compileAll(list []string) ([]template, error) {
	out := make([]template, len(list))
	for i, s := range list {
		t, err := compileTemplate(s)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", s, err)
		}
		out[i] = t
	}
	return out, nil
}

// compileVariables compiles the statement's Resource or NotResource
// patterns and condition values that use policy variables.
func (s *Statement) compileVariables() error {
	pats, elem := s.Resources, "Resource"
	if pats == nil {
		pats, elem = s.NotResources, "NotResource"
	}
	if hasVariable(pats) {
		var err error
		if s.res, err = compileAll(pats); err != nil {
			return fmt.Errorf("%s %w", elem, err)
		}
	}
	for i := range s.Conditions {
		c := &s.Conditions[i]
		if c.op.base != "Null" && hasVariable(c.Values) {
			var err error
			if c.vals, err = compileAll(c.Values); err != nil {
				return fmt.Errorf("condition %s %s: value %w", c.Operator, c.Key, err)
			}
		}
	}
	return nil
}

// expandAll replaces the variables of templates with the caller's values.
// It returns the patterns and, if some byte of them is literal, which (as
// matchLit takes them). A template whose variable has no value and no
// default is left out: it matches nothing.
func expandAll(ts []template, c *Caller) ([]string, [][]bool) {
	out := make([]string, 0, len(ts))
	var lits [][]bool
	for _, t := range ts {
		s, lit, ok := t.expand(c)
		if !ok {
			continue
		}
		if lit != nil && lits == nil {
			lits = make([][]bool, len(out), len(ts))
		}
		if lits != nil {
			lits = append(lits, lit)
		}
		out = append(out, s)
	}
	return out, lits
}

// expand returns the template with its variables replaced, and which of
// its bytes are literal (nil if none is a '*' or '?').
func (t template) expand(c *Caller) (string, []bool, bool) {
	var b strings.Builder
	var lit []bool
	for _, p := range t {
		text := p.text
		literal := p.literal
		if p.key != 0 {
			v, ok := c.value(p.key)
			if !ok || v == "" {
				if !p.hasDef {
					return "", nil, false
				}
				v = p.def
			}
			text, literal = v, true
		}
		if literal && strings.ContainsAny(text, "*?") {
			if lit == nil {
				lit = make([]bool, b.Len(), b.Len()+len(text))
			}
		}
		b.WriteString(text)
		if lit != nil {
			for range len(text) {
				lit = append(lit, literal)
			}
		}
	}
	return b.String(), lit, true
}
