package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/jmespath/go-jmespath"
)

// A response value, as printed, is one of: *omap, []any, string, bool, nil,
// json.Number (a number as it came off the wire) or float64 (a number that
// went through a --query). omap keeps key order: the AWS CLI prints objects
// in the order of the service model, and query results in the order of the
// expression.

// omap is a JSON object that remembers the order of its keys.
type omap struct {
	keys []string
	m    map[string]any
}

func newOmap() *omap { return &omap{m: map[string]any{}} }

// set adds or replaces key; a new key goes last.
func (o *omap) set(k string, v any) {
	if _, ok := o.m[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.m[k] = v
}

func (o *omap) get(k string) (any, bool) {
	v, ok := o.m[k]
	return v, ok
}

func (o *omap) del(k string) {
	if _, ok := o.m[k]; !ok {
		return
	}
	delete(o.m, k)
	for i, key := range o.keys {
		if key == k {
			o.keys = append(o.keys[:i:i], o.keys[i+1:]...)
			break
		}
	}
}

func (o *omap) len() int { return len(o.keys) }

// sortedKeys returns the keys in byte order (how Python sorts str keys for
// the ASCII names of this model).
func (o *omap) sortedKeys() []string {
	ks := append([]string(nil), o.keys...)
	sort.Strings(ks)
	return ks
}

// decodeJSON parses JSON into response values, keeping document key order
// and numbers as json.Number.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("extra data after JSON value")
	}
	if _, err := dec.Token(); err == nil {
		return nil, fmt.Errorf("extra data after JSON value")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder) (any, error) {
	t, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := t.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := newOmap()
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				o.set(kt.(string), v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return o, nil
		case '[':
			l := []any{}
			for dec.More() {
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				l = append(l, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return l, nil
		}
		return nil, fmt.Errorf("unexpected %v", t)
	default:
		return t, nil
	}
}

// ---- Python-compatible rendering -------------------------------------

// pyFloat renders f as Python's repr does.
func pyFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case math.IsNaN(f):
		return "NaN"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	if exp < -4 || exp >= 16 {
		return e
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

// pyNumber renders a number as Python prints the value json.loads made of
// it: integers as written, fractions as float repr.
func pyNumber(n json.Number) string {
	s := string(n)
	if !strings.ContainsAny(s, ".eE") {
		if s == "-0" {
			return "0"
		}
		return s
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	return pyFloat(f)
}

// floatNumber renders a float64 that went through a query: integral values
// print as integers (they were integers on the wire), others as Python.
func floatNumber(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return strconv.FormatInt(int64(f), 10)
	}
	return pyFloat(f)
}

// pyStr renders a scalar as Python's str() does (text and table output).
func pyStr(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case bool:
		if v {
			return "True"
		}
		return "False"
	case string:
		return v
	case json.Number:
		return pyNumber(v)
	case float64:
		return floatNumber(v)
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case []any, *omap:
		var b strings.Builder
		writePyRepr(&b, v)
		return b.String()
	}
	return fmt.Sprint(v)
}

// writePyRepr writes v as Python's repr() does: how str() shows a list or
// a dict, and so how the AWS CLI prints one in a text or table cell
// (['a', 'b'], {'k': None}).
func writePyRepr(b *strings.Builder, v any) {
	switch v := v.(type) {
	case string:
		writePyStringRepr(b, v)
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			writePyRepr(b, e)
		}
		b.WriteByte(']')
	case *omap:
		b.WriteByte('{')
		for i, k := range v.keys {
			if i > 0 {
				b.WriteString(", ")
			}
			writePyStringRepr(b, k)
			b.WriteString(": ")
			writePyRepr(b, v.m[k])
		}
		b.WriteByte('}')
	default:
		b.WriteString(pyStr(v))
	}
}

// writePyStringRepr quotes s as Python's repr() of a str does: in single
// quotes, or double quotes when s holds a single quote and no double one;
// backslash, the quote, \t, \n, \r and other unprintable characters
// escaped.
func writePyStringRepr(b *strings.Builder, s string) {
	q := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		q = '"'
	}
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == rune(q) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == ' ' || unicode.IsPrint(r):
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(b, `\x%02x`, r)
		case r < 0x10000:
			fmt.Fprintf(b, `\u%04x`, r)
		default:
			fmt.Fprintf(b, `\U%08x`, r)
		}
	}
	b.WriteByte(q)
}

// writeJSONString writes s quoted as json.dumps(ensure_ascii=False) does.
func writeJSONString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20:
			fmt.Fprintf(b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
}

// pyJSON renders v as json.dumps(v, indent=4, ensure_ascii=False).
func pyJSON(v any) string {
	var b bytes.Buffer
	writePyJSON(&b, v, 0)
	return b.String()
}

func writePyJSON(b *bytes.Buffer, v any, level int) {
	indent := func(l int) {
		b.WriteByte('\n')
		b.WriteString(strings.Repeat("    ", l))
	}
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if v {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case string:
		writeJSONString(b, v)
	case json.Number:
		b.WriteString(pyNumber(v))
	case float64:
		b.WriteString(floatNumber(v))
	case int:
		b.WriteString(strconv.Itoa(v))
	case int64:
		b.WriteString(strconv.FormatInt(v, 10))
	case *omap:
		if v.len() == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteByte('{')
		for i, k := range v.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			indent(level + 1)
			writeJSONString(b, k)
			b.WriteString(": ")
			writePyJSON(b, v.m[k], level+1)
		}
		indent(level)
		b.WriteByte('}')
	case []any:
		if len(v) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			indent(level + 1)
			writePyJSON(b, e, level+1)
		}
		indent(level)
		b.WriteByte(']')
	default:
		fmt.Fprintf(b, "%v", v)
	}
}

// plainJSON converts v to plain Go values for encoding/json (compact
// request bodies).
func plainJSON(v any) any {
	switch v := v.(type) {
	case *omap:
		m := make(map[string]any, v.len())
		for _, k := range v.keys {
			m[k] = plainJSON(v.m[k])
		}
		return m
	case []any:
		l := make([]any, len(v))
		for i, e := range v {
			l[i] = plainJSON(e)
		}
		return l
	}
	return v
}

// ---- JMESPath ------------------------------------------------------------

// query runs a compiled JMESPath expression over v. go-jmespath works on
// map[string]any and float64, so the value is converted, and key order is
// restored afterwards: objects that came from the response keep their
// order (found by map identity); objects the expression built are ordered
// as the expression names their keys.
//
// go-jmespath has one kind of number, where Python's json and jmespath, and
// so the AWS CLI, keep integers and floats apart and print a whole float
// as 2.0. A whole number of the result is printed as a float when the
// response or the expression's literals hold that value written as a float
// (1.7E9, `2.0`) and nowhere as an integer: a number a query passes on
// unchanged, such as a timestamp, prints as the AWS CLI prints it. A whole
// number a function makes (avg, sum, to_number) prints as an integer.
func query(expr string, v any) (any, error) {
	kinds := numKinds{}
	expr = scanLiterals(expr, func(raw string) (string, bool) {
		if lit, ok := legacyLiteral(raw); ok {
			return lit, true
		}
		d := json.NewDecoder(strings.NewReader(strings.ReplaceAll(raw, "\\`", "`")))
		d.UseNumber()
		var lv any
		if d.Decode(&lv) == nil {
			kinds.collect(lv)
		}
		return "", false
	})
	jp, err := compile(expr)
	if err != nil {
		return nil, err
	}
	orders := map[uintptr][]string{}
	in := toJMES(v, orders, kinds)
	out, err := search(jp, in)
	if err != nil {
		return nil, jmesRuntimeError(err)
	}
	keyRank := map[string]int{}
	collectHashKeys(expr, keyRank)
	return fromJMES(out, orders, keyRank, kinds), nil
}

// search runs jp over v. go-jmespath type-checks the arguments of every
// function but its variadic ones, and merge then takes each argument for
// an object: merge('a') or merge(nope) panics inside the library. The
// panic is recovered here as the error the AWS CLI gives for it, less the
// value (which the library does not tell); any other panic of the library
// is an error too, never a crash of swf.
func search(jp *jmespath.JMESPath, v any) (out any, err error) {
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		out = nil
		msg := fmt.Sprint(p)
		if m := mergePanic.FindStringSubmatch(msg); m != nil {
			err = fmt.Errorf(`In function merge(), invalid type for value, expected one of: ['object'], received: "%s"`, jmesGoType(m[1]))
			return
		}
		err = errors.New("the query could not be evaluated (the JMESPath library failed on it)")
	}()
	return jp.Search(v)
}

// mergePanic is the panic of go-jmespath's merge given an argument that is
// no object.
var mergePanic = regexp.MustCompile(`^interface conversion: interface \{\} is (.*), not map\[string\]interface \{\}$`)

// jmesGoType is the JMESPath name of the type of a library value, as Go
// names it.
func jmesGoType(goType string) string {
	switch goType {
	case "nil":
		return "null"
	case "string":
		return "string"
	case "float64", "int":
		return "number"
	case "bool":
		return "boolean"
	}
	if strings.HasPrefix(goType, "[]") {
		return "array"
	}
	return "expref"
}

// numKinds records, for each whole value among the numbers of a response
// and of an expression's literals, how it was written: as an integer
// (wholeInt), as a float (wholeFloat), or both.
type numKinds map[float64]uint8

const (
	wholeInt uint8 = 1 << iota
	wholeFloat
)

// note records a number as written.
func (k numKinds) note(n json.Number) {
	f, err := n.Float64()
	if err != nil || f != math.Trunc(f) || math.IsInf(f, 0) {
		return
	}
	if strings.ContainsAny(string(n), ".eE") {
		k[f] |= wholeFloat
	} else {
		k[f] |= wholeInt
	}
}

// collect notes every number of a decoded literal.
func (k numKinds) collect(v any) {
	switch v := v.(type) {
	case json.Number:
		k.note(v)
	case []any:
		for _, e := range v {
			k.collect(e)
		}
	case map[string]any:
		for _, e := range v {
			k.collect(e)
		}
	}
}

// isFloat reports whether a whole number of a result is a float to Python:
// written as a float, and never as an integer, where it came from.
func (k numKinds) isFloat(f float64) bool {
	return f == math.Trunc(f) && k[f] == wholeFloat
}

// jmesTypeError is go-jmespath's complaint about a function argument of
// the wrong type, which names the expected types as a Go value.
var jmesTypeError = regexp.MustCompile(`^Invalid type for: (.*), expected: \[\]jmespath\.jpType\{(.*)\}$`)

// jmesRuntimeError words go-jmespath's errors while evaluating as the AWS
// CLI's JMESPath does, as far as they tell (they do not name the
// function an argument was wrong for): no Go types in them.
func jmesRuntimeError(err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "unknown function: "); ok {
		return fmt.Errorf("Unknown function: %s()", name)
	}
	if m := jmesTypeError.FindStringSubmatch(msg); m != nil {
		var types []string
		for _, t := range strings.Split(m[2], ", ") {
			t = strings.Trim(t, `"`)
			if elem, ok := strings.CutPrefix(t, "array["); ok {
				t = "array-" + strings.TrimSuffix(elem, "]") // Python's name for it
			}
			types = append(types, "'"+t+"'")
		}
		value := m[1]
		if value == "<nil>" { // null: a member the data does not have, say
			value = "None" // as Python writes it
		}
		return fmt.Errorf("Invalid type for value: %s, expected one of: [%s]", value, strings.Join(types, ", "))
	}
	return err
}

func toJMES(v any, orders map[uintptr][]string, kinds numKinds) any {
	switch v := v.(type) {
	case *omap:
		m := make(map[string]any, v.len())
		for _, k := range v.keys {
			m[k] = toJMES(v.m[k], orders, kinds)
		}
		orders[reflect.ValueOf(m).Pointer()] = v.keys
		return m
	case []any:
		l := make([]any, len(v))
		for i, e := range v {
			l[i] = toJMES(e, orders, kinds)
		}
		return l
	case json.Number:
		kinds.note(v)
		f, _ := v.Float64()
		return f
	}
	return v
}

func fromJMES(v any, orders map[uintptr][]string, rank map[string]int, kinds numKinds) any {
	switch v := v.(type) {
	case map[string]any:
		o := newOmap()
		keys, ok := orders[reflect.ValueOf(v).Pointer()]
		if !ok || len(keys) != len(v) {
			keys = make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			sort.SliceStable(keys, func(i, j int) bool {
				ri, iok := rank[keys[i]]
				rj, jok := rank[keys[j]]
				if iok && jok && ri != rj {
					return ri < rj
				}
				if iok != jok {
					return iok
				}
				return keys[i] < keys[j]
			})
		}
		for _, k := range keys {
			o.set(k, fromJMES(v[k], orders, rank, kinds))
		}
		return o
	case []any:
		l := make([]any, len(v))
		for i, e := range v {
			l[i] = fromJMES(e, orders, rank, kinds)
		}
		return l
	case []string:
		l := make([]any, len(v))
		for i, e := range v {
			l[i] = e
		}
		return l
	case int:
		return float64(v)
	case float64:
		if kinds.isFloat(v) {
			return json.Number(pyFloat(v)) // printed as Python prints that float
		}
	}
	return v
}

// compileQuery checks a --query expression as query will run it.
func compileQuery(expr string) error {
	_, err := compile(legacyLiterals(expr))
	return err
}

// compile compiles a JMESPath expression. go-jmespath's lexer panics on
// some expressions it should refuse (an identifier followed by a byte past
// ASCII, "A\x80", indexes past the end of its input): the panic is
// recovered here as the syntax error the AWS CLI gives for such an
// expression ("Unknown token"), never a crash of swf.
func compile(expr string) (jp *jmespath.JMESPath, err error) {
	defer func() {
		if p := recover(); p != nil {
			jp, err = nil, errors.New("LexerError: Unknown token")
		}
	}()
	return jmespath.Compile(expr)
}

// legacyLiterals rewrites the backtick literals of a JMESPath expression
// that are not valid JSON (`d1`, `,`) as the JSON strings Python's
// jmespath, and so the AWS CLI, reads them as: the literal's text, its
// leading white space dropped, as the body of a JSON string (JEP 12's
// deprecated form, common in scripts). go-jmespath refuses them. Literals
// that are valid JSON, and everything outside literals, are left as they
// are; raw strings ('…') and quoted identifiers ("…") are skipped as the
// lexer skips them, a backslash escaping the next character.
func legacyLiterals(expr string) string {
	return scanLiterals(expr, legacyLiteral)
}

// scanLiterals calls lit with the content of each backtick literal of expr,
// as legacyLiterals finds them, and puts the literal it returns with true
// in the literal's place.
func scanLiterals(expr string, lit func(raw string) (string, bool)) string {
	var b strings.Builder
	for i := 0; i < len(expr); {
		c := expr[i]
		if c != '`' && c != '\'' && c != '"' {
			b.WriteByte(c)
			i++
			continue
		}
		j := i + 1
		for j < len(expr) && expr[j] != c {
			if expr[j] == '\\' && j+1 < len(expr) {
				j++
			}
			j++
		}
		if j >= len(expr) { // unclosed: the library reports it
			b.WriteString(expr[i:])
			break
		}
		tok := expr[i : j+1]
		i = j + 1
		if c == '`' {
			if l, ok := lit(tok[1 : len(tok)-1]); ok {
				tok = l
			}
		}
		b.WriteString(tok)
	}
	return b.String()
}

// legacyLiteral returns the JSON string literal for the content of a
// backtick literal that is not valid JSON, or false.
func legacyLiteral(raw string) (string, bool) {
	text := strings.ReplaceAll(raw, "\\`", "`")
	var v any
	if json.Unmarshal([]byte(text), &v) == nil {
		return "", false
	}
	var s string
	if json.Unmarshal([]byte(`"`+strings.TrimLeftFunc(text, unicode.IsSpace)+`"`), &s) != nil {
		return "", false // neither: the library reports it
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return "`" + strings.ReplaceAll(strings.TrimSuffix(buf.String(), "\n"), "`", "\\`") + "`", true
}

// hashKeyPattern finds the keys of multi-select hashes ({name: expr}) in
// a JMESPath expression, in the order written.
var hashKeyPattern = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_]*|"(?:[^"\\]|\\.)*")\s*:`)

func collectHashKeys(expr string, rank map[string]int) {
	for _, m := range hashKeyPattern.FindAllStringSubmatch(expr, -1) {
		k := m[1]
		if strings.HasPrefix(k, `"`) {
			if u, err := strconv.Unquote(k); err == nil {
				k = u
			}
		}
		if _, seen := rank[k]; !seen {
			rank[k] = len(rank)
		}
	}
}
