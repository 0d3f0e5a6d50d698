package console

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Bidirectional control characters in names: a workflow id
// "rtl-\u202Etxt.exe" would show as "rtl-exe.txt", and reorder the text
// around it. The console shows each as its escape, \u202E, in the text of
// its pages and their titles, and as the escapes of its UTF-8 bytes in
// their command lines ($'…\xe2\x80\xae…', see shellQuote); form values
// and the attributes the script reads keep them, so that what is sent is
// what was named.

// isBidiControl reports whether r changes the direction of the text
// around it: the marks, embeddings, overrides and isolates.
func isBidiControl(r rune) bool {
	switch {
	case r == '\u061C', r == '\u200E', r == '\u200F':
		return true
	case r >= '\u202A' && r <= '\u202E', r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}

func hasBidiControl(s string) bool { return strings.IndexFunc(s, isBidiControl) >= 0 }

// revealBidiText writes each bidirectional control character of plain
// text as its escape.
func revealBidiText(s string) string {
	if !hasBidiControl(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isBidiControl(r) {
			fmt.Fprintf(&b, `\u%04X`, r)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// revealBidi writes each bidirectional control character in the text of
// a page (or part of one) that the templates rendered as its escape. Tags
// and their attributes are left as they are (a form's values, the
// script's data), and so is a textarea's text (a form's value). The
// templates escape every '<' of what they were given, so each '<' left
// starts a tag.
func revealBidi(page []byte) []byte {
	if bytes.IndexFunc(page, isBidiControl) < 0 {
		return page
	}
	var out bytes.Buffer
	out.Grow(len(page) + 64)
	for len(page) > 0 {
		switch c := page[0]; {
		case c == '<':
			end := bytes.IndexByte(page, '>')
			if end < 0 {
				end = len(page) - 1
			}
			if bytes.HasPrefix(page, []byte("<textarea")) {
				// The templates write their tags in lower case.
				if close := bytes.Index(page, []byte("</textarea")); close > 0 {
					end = close + len("</textarea") - 1
				}
			}
			out.Write(page[:end+1])
			page = page[end+1:]
		case c < utf8.RuneSelf:
			out.WriteByte(c)
			page = page[1:]
		default:
			r, n := utf8.DecodeRune(page)
			if isBidiControl(r) {
				fmt.Fprintf(&out, `\u%04X`, r)
			} else {
				out.Write(page[:n])
			}
			page = page[n:]
		}
	}
	return out.Bytes()
}
