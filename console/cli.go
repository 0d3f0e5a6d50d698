package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
)

// cliLine is an swf command line: the command and its flags in order. Each
// action form shows the line that does the same from a shell, and the
// page's script keeps it in step with what is typed (data-flag attributes):
// it starts from Base, the line without the flags the form's fields give
// (already quoted by the server), and appends each field's flag with its
// value quoted as shellQuote does. The script never reads shell text back.
type cliLine struct {
	Command string
	Flags   []cliFlag
	// Loop, if set, wraps the command for a batch: Loop lists the
	// executions, a workflow id and a run id a line separated by a tab
	// (text output), and the command runs once for each ("$w" and "$r").
	// The lines are split at the tab alone: a workflow id may hold spaces,
	// quotes, '$' or a backslash, never a tab or a line break (SWF refuses
	// control characters in names), and a run id none of these.
	Loop string
	// Fields is set on the line of a form whose fields the script appends
	// to Base as they are typed.
	Fields bool
}

type cliFlag struct {
	Name, Value string
	Raw         bool // Value is already shell syntax ("$w")
	Form        bool // a field of the form gives it (left out of Base)
}

func cli(command string) *cliLine { return &cliLine{Command: command} }

// add appends a flag unless its value is empty.
func (c *cliLine) add(name, value string) *cliLine {
	if value != "" {
		c.Flags = append(c.Flags, cliFlag{Name: name, Value: value})
	}
	return c
}

// form appends a flag that a field of the form gives, with the value shown
// without the script (the field's default), unless it is empty.
func (c *cliLine) form(name, value string) *cliLine {
	c.Fields = true
	if value != "" {
		c.Flags = append(c.Flags, cliFlag{Name: name, Value: value, Form: true})
	}
	return c
}

// fields marks the line as a form's, which the script rebuilds from Base,
// when no field of the form has a default to show (form marks it too).
func (c *cliLine) fields() *cliLine {
	c.Fields = true
	return c
}

func (c *cliLine) raw(name, value string) *cliLine {
	c.Flags = append(c.Flags, cliFlag{Name: name, Value: value, Raw: true})
	return c
}

// String is the line as a POSIX shell reads it.
func (c *cliLine) String() string { return c.line(true) }

// Base is the line without the flags the form's fields give, to which the
// page's script appends them as they are typed.
func (c *cliLine) Base() string { return c.line(false) }

func (c *cliLine) line(form bool) string {
	var b strings.Builder
	b.WriteString("swf ")
	b.WriteString(c.Command)
	for _, f := range c.Flags {
		if f.Form && !form {
			continue
		}
		b.WriteString(" ")
		b.WriteString(f.Name)
		b.WriteString(" ")
		if f.Raw {
			b.WriteString(f.Value)
		} else {
			b.WriteString(shellQuote(f.Value))
		}
	}
	if c.Loop == "" {
		return b.String()
	}
	return c.Loop + " |\n  while IFS=\"$(printf '\\t')\" read -r w r; do " + b.String() + "; done"
}

// structArg is the value of a flag that takes a structure, from its
// members' names and values in order (those with empty values left out):
// the shorthand (name=order,version=1) when every value is plain, else
// JSON ({"name":"Pay,Flow","version":"v=1"}), which the CLI reads whatever
// the values hold; in the shorthand a ',' or '=' of a value, a quote, a
// bracket or a space at either end would change what it means. The
// page's script makes the same choice (console.js, structArg).
func structArg(kv ...string) string {
	plain := true
	var short []string
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			continue
		}
		short = append(short, kv[i]+"="+kv[i+1])
		plain = plain && plainValue(kv[i+1])
	}
	if plain {
		return strings.Join(short, ",")
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	b.WriteString("{")
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			continue
		}
		if b.Len() > 1 {
			b.WriteString(",")
		}
		enc.Encode(kv[i])
		b.Truncate(b.Len() - 1) // Encode's newline
		b.WriteString(":")
		enc.Encode(kv[i+1])
		b.Truncate(b.Len() - 1)
	}
	b.WriteString("}")
	return b.String()
}

// plainValue reports whether a structure member's value reads the same in
// the shorthand: letters, digits and -_.+@: only.
func plainValue(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.+@:", r)) {
			return false
		}
	}
	return s != ""
}

// shellQuote quotes s for a POSIX shell, only when it needs it. A value
// with an invisible character (isInvisible: a bidirectional control, a
// zero-width space, …), or a control character other than a line feed or
// a tab, is written $'…' with each such character as the escapes of its
// UTF-8 bytes (U+202E as \xe2\x80\xae, a line feed as \x0a), so that the
// line shows what it holds and the shell reads the character back
// whatever its locale: a \u202E escape would be read back only in a UTF-8
// locale, and sent as those six characters in any other. Any other value
// that needs quoting is put in single quotes, each single quote of it
// written as a quote that ends the quoted text, a backslash and a quote,
// and a quote that begins it again. The page's script quotes the values
// typed into a form by the same rules (console.js, quote).
func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	if strings.IndexFunc(s, needsEscape) >= 0 {
		var b strings.Builder
		b.WriteString("$'")
		for _, r := range s {
			switch {
			case isInvisible(r) || unicode.IsControl(r):
				for _, c := range []byte(string(r)) {
					fmt.Fprintf(&b, `\x%02x`, c)
				}
			case r == '\\' || r == '\'':
				b.WriteByte('\\')
				b.WriteRune(r)
			default:
				b.WriteRune(r)
			}
		}
		b.WriteString("'")
		return b.String()
	}
	safe := true
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,@%+", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// needsEscape reports whether a value holding r is written $'…': r is
// invisible, or a control character other than a line feed or a tab
// (which read plainly inside single quotes).
func needsEscape(r rune) bool {
	return isInvisible(r) || unicode.IsControl(r) && r != '\n' && r != '\t'
}
