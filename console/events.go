package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/swfd/swfd/api"
)

// kv is one attribute of an event as a row shows it.
type kv struct {
	Key, Value string
	Long       bool // the value was shortened
	// The execution the value names, for a link to it: a child's, a
	// parent's or another execution's (workflow id and run id), or a run
	// of the event's own workflow id (run id alone: the run it continued
	// from or as).
	WorkflowID, RunID string
}

// attrOrder ranks the attributes that matter first; others follow by name.
var attrOrder = map[string]int{
	"activityId": 1, "activityType": 2, "workflowType": 2, "timerId": 1, "signalName": 1, "markerName": 1,
	"workflowExecution": 3, "workflowId": 3, "newExecutionRunId": 3,
	"cause": 4, "reason": 5, "timeoutType": 5, "result": 6, "input": 6, "details": 7, "control": 8,
	"taskList": 9, "identity": 9, "startToFireTimeout": 9, "tagList": 10,
	"scheduledEventId": 11, "startedEventId": 12, "initiatedEventId": 12, "decisionTaskCompletedEventId": 13,
}

// maxAttr is how much of an attribute's value a row shows.
const maxAttr = 160

// decoded returns an event's attributes object as generic JSON.
func decoded(ev api.HistoryEvent) map[string]any {
	raw := ev.Raw
	if len(raw) == 0 {
		raw, _ = json.Marshal(ev)
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	for k, v := range m {
		if strings.HasSuffix(k, "EventAttributes") {
			a, _ := v.(map[string]any)
			return a
		}
	}
	return nil
}

// eventAttrs is an event's attributes in the order that matters, values
// flattened (a type as "name version", a task list as its name) and cut
// short.
func eventAttrs(ev api.HistoryEvent) []kv {
	a := decoded(ev)
	keys := make([]string, 0, len(a))
	for k := range a {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		oi, oj := attrOrder[keys[i]], attrOrder[keys[j]]
		if oi == 0 {
			oi = 50
		}
		if oj == 0 {
			oj = 50
		}
		if oi != oj {
			return oi < oj
		}
		return keys[i] < keys[j]
	})
	out := make([]kv, 0, len(keys))
	for _, k := range keys {
		v := flat(a[k])
		short := trunc(maxAttr, v)
		x := kv{Key: k, Value: short, Long: short != v}
		switch val := a[k].(type) {
		case map[string]any:
			wid, _ := val["workflowId"].(string)
			rid, _ := val["runId"].(string)
			if wid != "" && rid != "" {
				x.WorkflowID, x.RunID = wid, rid
			}
		case string:
			if k == "newExecutionRunId" || k == "continuedExecutionRunId" {
				x.RunID = val
			}
		}
		out = append(out, x)
	}
	return out
}

// flat renders an attribute value on one line.
func flat(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return fmt.Sprint(int64(v))
	case bool:
		return fmt.Sprint(v)
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = flat(x)
		}
		return strings.Join(parts, ", ")
	case map[string]any:
		if n, ok := v["name"].(string); ok {
			if ver, ok := v["version"].(string); ok {
				return n + " " + ver
			}
			if len(v) == 1 {
				return n
			}
		}
		if w, ok := v["workflowId"].(string); ok {
			r, _ := v["runId"].(string)
			return w + " " + r
		}
		b, _ := json.Marshal(v)
		return string(b)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// eventCategory is the class a row is coloured by.
func eventCategory(t api.EventType) string {
	s := string(t)
	switch {
	case strings.HasSuffix(s, "Failed"), strings.HasSuffix(s, "TimedOut"), s == "WorkflowExecutionTerminated":
		return "bad"
	case strings.HasPrefix(s, "DecisionTask"):
		return "decision"
	case strings.HasPrefix(s, "ActivityTask"):
		return "activity"
	case strings.HasPrefix(s, "Timer") || s == "StartTimerFailed":
		return "timer"
	case strings.Contains(s, "Child"):
		return "child"
	case strings.Contains(s, "Signal"):
		return "signal"
	case strings.Contains(s, "Cancel"):
		return "cancel"
	case s == "MarkerRecorded":
		return "marker"
	case s == "WorkflowExecutionCompleted":
		return "good"
	}
	return "workflow"
}

// eventRow is what the event row template gets.
type eventRow struct {
	Ev     api.HistoryEvent
	Domain string
	Exec   api.WorkflowExecution
	Mark   bool // the event jumped to
}

// matches reports whether an event passes a history filter: its type is
// one of types (any, if none) and its JSON, as the page shows it (with
// '<', '>' and '&' as they are, see unescapeHTMLJSON), holds text
// (case-insensitive, see containsFold).
func matches(ev api.HistoryEvent, types map[string]bool, text string) bool {
	if len(types) > 0 && !types[string(ev.EventType)] {
		return false
	}
	if text == "" {
		return true
	}
	raw := ev.Raw
	if len(raw) == 0 {
		raw, _ = json.Marshal(ev)
	}
	shown := unescapeHTMLJSON(raw)
	if containsFold(shown, text) {
		return true
	}
	if line := compactLine(text); line != text {
		return containsFold(shown, line)
	}
	return false
}

// compactLine is text copied from a line of an event's JSON as a row
// shows it, indented ("    \"signalName\": \"poke\","), as the event's
// compact JSON, which the filter searches, writes it: without the
// indentation, and without the space after a key's colon (a quote that
// ends a key: not escaped, as a quote inside a string is). The text as
// typed is tried first (matches), so this only adds matches.
func compactLine(text string) string {
	text = strings.TrimLeft(text, " ")
	var b strings.Builder
	for {
		i := strings.Index(text, `": `)
		if i < 0 {
			b.WriteString(text)
			return b.String()
		}
		slashes := 0
		for j := i - 1; j >= 0 && text[j] == '\\'; j-- {
			slashes++
		}
		b.WriteString(text[:i+2])
		if slashes%2 == 1 {
			b.WriteByte(' ')
		}
		text = text[i+3:]
	}
}

// unescapeHTMLJSON writes the \u003c, \u003e and \u0026 escapes of JSON
// text as the characters '<', '>' and '&'. Go's encoder writes them so
// that JSON is safe inside HTML; the console's templates escape what they
// show anyway, and a person reads and searches for the characters. A
// backslash starts an escape only inside a string, so every other escape
// (\\u003c among them, a backslash then "u003c") is copied as it is.
func unescapeHTMLJSON(b []byte) []byte {
	if !bytes.Contains(b, []byte(`\u00`)) {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 == len(b) {
			out = append(out, b[i])
			continue
		}
		if b[i+1] == 'u' && i+6 <= len(b) {
			switch strings.ToLower(string(b[i+2 : i+6])) {
			case "003c":
				out = append(out, '<')
				i += 5
				continue
			case "003e":
				out = append(out, '>')
				i += 5
				continue
			case "0026":
				out = append(out, '&')
				i += 5
				continue
			}
		}
		out = append(out, b[i], b[i+1])
		i++
	}
	return out
}

// containsFold reports whether b holds needle, letters compared without
// their case as strings.EqualFold compares them (Unicode simple case
// folding): "été" finds "Été", "заказ" finds "ЗАКАЗ", and text typed as
// the row shows it finds it whatever its letters.
func containsFold(b []byte, needle string) bool {
	if needle == "" {
		return true
	}
	// The bytes a match may begin with: the first byte of each form of
	// the needle's first character (a UTF-8 continuation byte is never
	// one, so every byte of b can be tried without decoding).
	var begins [256]bool
	begins[needle[0]] = true
	if r, n := utf8.DecodeRuneInString(needle); n > 1 || r != utf8.RuneError {
		var enc [utf8.UTFMax]byte
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			utf8.EncodeRune(enc[:], f)
			begins[enc[0]] = true
		}
	}
	for i, c := range b {
		if begins[c] && hasPrefixFold(b[i:], needle) {
			return true
		}
	}
	return false
}

// hasPrefixFold reports whether b begins with s, compared as
// containsFold compares.
func hasPrefixFold(b []byte, s string) bool {
	for s != "" {
		if len(b) == 0 {
			return false
		}
		if c, d := b[0], s[0]; c < utf8.RuneSelf && d < utf8.RuneSelf {
			if lowerASCII(c) != lowerASCII(d) {
				return false
			}
			b, s = b[1:], s[1:]
			continue
		}
		q, m := utf8.DecodeRuneInString(s)
		if q == utf8.RuneError && m == 1 {
			// A byte that is not UTF-8 matches only itself.
			if b[0] != s[0] {
				return false
			}
			b, s = b[1:], s[1:]
			continue
		}
		r, n := utf8.DecodeRune(b)
		if !sameFold(r, q) {
			return false
		}
		b, s = b[n:], s[m:]
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// sameFold reports whether r and q are the same letter but for case:
// equal, or in one orbit of unicode.SimpleFold (k, K and the Kelvin sign
// among them).
func sameFold(r, q rune) bool {
	if r == q {
		return true
	}
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f == q {
			return true
		}
	}
	return false
}

// decodedMap is a value's JSON as a generic object.
func decodedMap(v any) map[string]any {
	b, _ := json.Marshal(v)
	var m map[string]any
	json.Unmarshal(b, &m)
	return m
}

func sortKV(kvs []kv) {
	sort.Slice(kvs, func(i, j int) bool { return kvs[i].Key < kvs[j].Key })
}
