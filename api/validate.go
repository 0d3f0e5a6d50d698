package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// noNUL names the string shapes whose values may not hold U+0000. They are
// what names something (a domain, a type, an execution, a task list, an
// activity, a timer, a Lambda task, an ARN, a resource tag) and the
// descriptions and execution tags that are kept, listed and matched as
// text: PostgreSQL's text cannot hold the character at all, so with that
// store such a value failed the call as an internal error (HTTP 500, which
// SDKs send again and again), and, in a decision, it stopped the delivery
// of every message between executions. No such name can exist (names are
// refused control characters where they are made), and a description or
// tag that holds the character is kept by no store alike, so it is refused
// here for every store, naming the member. Free-form data (inputs,
// results, details, reasons, signal and marker names, identities) is kept
// as JSON and may hold it.
var noNUL = map[string]bool{
	"DomainName": true, "Name": true, "Version": true, "VersionOptional": true,
	"WorkflowId": true, "WorkflowRunId": true, "WorkflowRunIdOptional": true,
	"ActivityId": true, "TimerId": true, "FunctionId": true, "FunctionName": true,
	"Arn": true, "ResourceTagKey": true, "ResourceTagValue": true,
	"Tag": true, "Description": true,
}

// utf8BOM is U+FEFF in UTF-8, which some writers put before a text.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// loneSurrogateRule is the constraint a string breaks when it holds a \u
// escape of half a surrogate pair (U+D800 to U+DFFF) without the other
// half ("\ud83d" alone, as a UTF-16 string cut in the middle of an emoji
// is written). JSON's grammar allows the escape, but it stands for no
// character: encoding/json, and swfd before, read it as U+FFFD, so the
// value kept, and shown to every later reader (a decider's input, a
// result, a name), was not the one sent, and nobody was told. Java's and
// Python's parsers keep the half in their UTF-16 strings, which swfd's
// stores, all UTF-8, cannot hold; refusing the value, naming its member,
// tells the caller at once instead.
const loneSurrogateRule = "Member must not contain a lone UTF-16 surrogate (a \\uD800 to \\uDFFF escape without the other half of its pair)"

// maxNesting bounds how deep request JSON may nest; the deepest SWF input is
// far shallower, so anything deeper is hostile.
const maxNesting = 32

// Validate checks a request body against an input shape the way the AWS
// framework does before an operation runs: JSON well-formedness and types
// (SerializationException), then required members, lengths, ranges and
// enums (ValidationException; see Violations for how many are listed). The
// check stops at the first type error, or once MaxViolations violations are
// found, so a type error past that many violations goes unreported. Unknown
// members are ignored.
func Validate(shapeName string, body []byte) error {
	_, err := validate(shapeName, body)
	return err
}

// validate is Validate that also returns the request reduced to the
// members of the model, spelled exactly as the model spells them, with
// null members dropped (parseRequest decodes it so: structures are
// *object values). Decoding that reduced value (instead of the raw body)
// keeps encoding/json's case-insensitive key matching from letting a
// member such as "NAME" overwrite the validated "name".
func validate(shapeName string, body []byte) (any, error) {
	// A byte order mark at the start is read past, as Java's and
	// Python's JSON parsers read past it in bytes they decode; it is
	// counted in where a bad byte is said to be.
	bom := 0
	if after, ok := bytes.CutPrefix(body, utf8BOM); ok {
		body, bom = after, len(utf8BOM)
	}
	lead := bom + len(body) - len(bytes.TrimLeftFunc(body, unicode.IsSpace))
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		body = []byte("{}")
	}
	if !utf8.Valid(body) {
		return nil, NewFault(SerializationException, "Request body is not valid UTF-8%s", whereNotUTF8(body, lead))
	}
	if depth(body) > maxNesting {
		return nil, NewFault(SerializationException, "Request body nests too deeply")
	}
	v, ok, overAt, over := parseRequest(body, shapeName, decodeBudget(len(body)))
	if over {
		if overAt == "" {
			overAt = "request"
		}
		return nil, NewFault(SerializationException,
			"Request body holds too many values for its size at '%s': decoding it would take more than %d bytes of memory per byte of body", overAt, MaxDecodeRatio)
	}
	if !ok {
		// Not JSON: encoding/json's decoder says what is wrong. It checks
		// the whole value before decoding any of it, and decodes into
		// nothing but the raw bytes, so it allocates no more than the body.
		var raw json.RawMessage
		dec := json.NewDecoder(bytes.NewReader(body))
		if err := dec.Decode(&raw); err != nil {
			return nil, NewFault(SerializationException, "Malformed request body: %s", syntaxProblem(err))
		}
		if rest := bytes.TrimSpace(body[dec.InputOffset():]); len(rest) > 0 {
			// Decoder.More misses a stray '}' or ']', so look at the bytes.
			return nil, NewFault(SerializationException, "Malformed request body: trailing data after the JSON object")
		}
		// The decoder took what parseRequest did not: they disagree on
		// what JSON is, which the tests hold them to never do.
		return nil, NewFault(SerializationException, "Malformed request body: not valid JSON")
	}
	if _, ok := v.(*object); !ok {
		return nil, NewFault(SerializationException, "Request body must be a JSON object")
	}
	w := walker{}
	w.walk(shapeName, v)
	if w.serr != "" {
		return nil, NewFault(SerializationException, "%s", w.serr)
	}
	if err := w.errs.Err(); err != nil {
		return nil, err
	}
	return v, nil
}

// whereNotUTF8 says where the first byte of body that is not UTF-8 is: its
// position (from 1, counting the lead bytes of white space trimmed before
// body) and, when it is inside a string, the member whose value or name
// holds it, named as a violation names a member (a name inside the body's
// own object is in the name of a member of 'request'). It only scans the
// bytes before that one, keeping the path to where it is: the body need
// not be JSON past it, and nothing is decoded.
func whereNotUTF8(body []byte, lead int) string {
	bad := 0
	for bad < len(body) {
		r, size := utf8.DecodeRune(body[bad:])
		if r == utf8.RuneError && size <= 1 {
			break
		}
		bad += size
	}
	at := fmt.Sprintf(" at byte %d", lead+bad+1)
	// Each open object or array, outermost first: an object's step is the
	// name of its member being read; an array's, its element's index.
	var steps []step
	wantName := false // the next string in the innermost object is a name
	for i := 0; i < bad; i++ {
		switch body[i] {
		case '{', '[':
			if len(steps) == maxNesting {
				// Deeper than any request may nest: named by its
				// position only, and the path kept stays small.
				return at
			}
			steps = append(steps, step{})
			if body[i] == '[' {
				steps[len(steps)-1].index = 1
			}
			wantName = body[i] == '{'
		case '}', ']':
			if len(steps) > 0 {
				steps = steps[:len(steps)-1]
			}
			wantName = false
		case ',':
			if n := len(steps); n > 0 {
				if steps[n-1].index > 0 {
					steps[n-1].index++
				} else {
					wantName = true
				}
			}
		case '"':
			start := i + 1
			end := start
			for end < bad && body[end] != '"' {
				if body[end] == '\\' {
					end++
				}
				end++
			}
			isName := wantName && len(steps) > 0 && steps[len(steps)-1].index == 0
			if end >= bad { // the bad byte is inside this string
				w := walker{at: steps}
				what := ", in the value at "
				if isName {
					w.at, what = steps[:len(steps)-1], ", in the name of a member of "
				}
				p := w.path()
				if p == "" {
					p = "request"
				}
				return at + what + Quote(p)
			}
			if isName {
				steps[len(steps)-1].name = string(body[start:end])
				wantName = false
			}
			i = end
		}
	}
	return at
}

// syntaxProblem says where a body that is not JSON goes wrong, in the
// service's words rather than the decoder's.
func syntaxProblem(err error) string {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("not valid JSON at byte %d", se.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "the JSON ends before it is complete"
	}
	return "not valid JSON"
}

// depth returns the maximum nesting of objects and arrays in a JSON text,
// ignoring brackets inside strings.
func depth(b []byte) int {
	d, maxD, inStr, esc := 0, 0, false, false
	for _, c := range b {
		switch {
		case esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{' || c == '[':
			d++
			if d > maxD {
				maxD = d
			}
		case c == '}' || c == ']':
			d--
		}
	}
	return maxD
}

type walker struct {
	errs Violations
	serr string // first serialization (type) error
	at   []step // where the value being checked is
}

func (w *walker) fail(val any, constraint string) {
	if w.errs.Full() {
		return
	}
	w.errs.Add(render(val), w.path(), constraint)
}

// done reports whether the walk can stop: a type error was found (it is the
// answer whatever else is wrong) or enough violations to answer with.
func (w *walker) done() bool { return w.serr != "" || w.errs.Full() }

// render quotes a value as a violation names it, in at most about 1 KB
// whatever the value holds.
func render(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return Quote(x)
	case json.Number:
		return Quote(x.String())
	case []any:
		var b strings.Builder
		b.WriteString("[")
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			if b.Len() > maxRendered {
				break // Quote cuts it and marks the cut
			}
			b.WriteString(strings.Trim(render(e), "'"))
		}
		b.WriteString("]")
		return Quote(b.String())
	case *object:
		return "'{...}'"
	case wrongType:
		return "'...'"
	}
	return Quote(fmt.Sprintf("%v", v))
}

func (w *walker) typeErr(want string) {
	if w.serr == "" {
		p := w.path()
		if p == "" {
			p = "request"
		}
		w.serr = fmt.Sprintf("Expected %s at '%s'", want, p)
	}
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// step is one step of the path to a value in the request: a member of a
// structure, or the index-th (from 1) element of a list.
type step struct {
	name  string
	index int
}

// path writes the path to the value being checked as violations name it:
// members joined by dots, an element as its index and "member"
// ("decisions.2.member.decisionType"). It is written only for a
// violation: the walk keeps its steps on a stack.
func (w *walker) path() string {
	var b strings.Builder
	for i, s := range w.at {
		if i > 0 {
			b.WriteByte('.')
		}
		if s.index > 0 {
			b.WriteString(strconv.Itoa(s.index) + ".member")
		} else {
			b.WriteString(s.name)
		}
	}
	return b.String()
}

// walk checks v against the shape.
func (w *walker) walk(shapeName string, v any) {
	s := shapes[shapeName]
	switch s.Type {
	case "structure":
		obj, ok := v.(*object)
		if !ok {
			w.typeErr("a JSON object")
			return
		}
		for _, m := range s.Members {
			if w.done() {
				return
			}
			mv, present := obj.get(m.Name)
			if (!present || mv == nil) && !m.Required {
				continue
			}
			w.at = append(w.at, step{name: m.Name})
			if !present || mv == nil {
				w.fail(nil, "Member must not be null")
			} else {
				w.walk(m.Shape, mv)
			}
			w.at = w.at[:len(w.at)-1]
		}
	case "list":
		arr, ok := v.([]any)
		if !ok {
			w.typeErr("a JSON array")
			return
		}
		if s.HasMin && int64(len(arr)) < s.Min {
			w.fail(v, fmt.Sprintf("Member must have length greater than or equal to %d", s.Min))
		}
		if s.HasMax && int64(len(arr)) > s.Max {
			w.fail(v, fmt.Sprintf("Member must have length less than or equal to %d", s.Max))
		}
		for i, e := range arr {
			if w.done() {
				return
			}
			w.at = append(w.at, step{index: i + 1})
			if e == nil {
				w.fail(nil, "Member must not be null")
			} else {
				w.walk(s.Member, e)
			}
			w.at = w.at[:len(w.at)-1]
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			w.typeErr("a string")
			return
		}
		n := int64(Length(str))
		if s.HasMin && n < s.Min {
			w.fail(v, fmt.Sprintf("Member must have length greater than or equal to %d", s.Min))
		}
		if s.HasMax && n > s.Max {
			w.fail(v, fmt.Sprintf("Member must have length less than or equal to %d", s.Max))
		}
		if len(s.Enum) > 0 && !contains(s.Enum, str) {
			w.fail(v, "Member must satisfy enum value set: ["+strings.Join(s.Enum, ", ")+"]")
		}
		if noNUL[shapeName] && strings.IndexByte(str, 0) >= 0 {
			w.fail(v, "Member must not contain the character U+0000")
		}
		if !utf8.ValidString(str) { // the body is UTF-8: a lone surrogate
			w.fail(showSurrogates(str), loneSurrogateRule)
		}
	case "integer", "long":
		num, ok := v.(json.Number)
		if !ok {
			w.typeErr("a number")
			return
		}
		i, err := strconv.ParseInt(num.String(), 10, 64)
		if err != nil || (s.Type == "integer" && (i > 1<<31-1 || i < -1<<31)) {
			w.typeErr("an integer")
			return
		}
		if s.HasMin && i < s.Min {
			w.fail(v, fmt.Sprintf("Member must have value greater than or equal to %d", s.Min))
		}
		if s.HasMax && i > s.Max {
			w.fail(v, fmt.Sprintf("Member must have value less than or equal to %d", s.Max))
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			w.typeErr("a boolean")
			return
		}
	case "timestamp":
		num, ok := v.(json.Number)
		if !ok {
			w.typeErr("a timestamp (epoch seconds)")
			return
		}
		if f, err := num.Float64(); err != nil || f < -MaxEpochSeconds || f > MaxEpochSeconds {
			w.typeErr("a timestamp (epoch seconds)")
			return
		}
	default:
		// A shape the table does not know: keep nothing of it.
		w.typeErr("a known member")
		return
	}
}

// Length is the length of s as the model's length constraints count it:
// in UTF-16 code units, so that a character outside the Basic Multilingual
// Plane (an emoji, a musical symbol, U+10000 and above, four bytes in
// UTF-8) counts two and every other character one. The service's strings
// are Java's, whose length is so counted; the model's documentation says
// "characters" without saying which. Where the count is not known, the
// larger one is the safe one: a value swfd accepts fits the limit whether
// the service counts code units or code points, so a workflow tested
// against swfd is not refused by SWF for a name's length (swfd refuses
// 129 to 256 such characters where a service counting code points would
// take them). s is valid UTF-8 (a request body is checked for it), but for
// an escaped lone surrogate, which the parser keeps as its three bytes
// (ED A0 80 to ED BF BF) for the check that refuses it, and which counts
// one, as in UTF-16.
func Length(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c&0xC0 != 0x80 { // the first byte of a character
			n++
			if c >= 0xF0 { // of four bytes: a surrogate pair in UTF-16
				n++
			}
		}
	}
	return n
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
