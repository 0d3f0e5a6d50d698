package console

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Invisible characters in names. A bidirectional control character would
// reorder the text around it: a workflow id "rtl-\u202Etxt.exe" would show
// as "rtl-exe.txt". A zero-width or other default-ignorable character
// would show as nothing: "order\u200B-1" would look like "order-1", and an
// operator could open, signal or terminate the look-alike. The console
// shows each as its escape, \u202E or \u200B (\U000E0041 beyond the
// Basic Multilingual Plane), in the text of its pages and their titles,
// and as the escapes of its UTF-8 bytes in their command lines
// ($'…\xe2\x80\xae…', see shellQuote); form values and the attributes
// the script reads keep them, so that what is sent is what was named.

// isInvisible reports whether r is shown as its escape: a format
// character (general category Cf: the bidirectional marks, embeddings,
// overrides and isolates, zero-width spaces and joiners, the word joiner,
// the byte order mark, the soft hyphen, tag characters, …), or another
// default-ignorable code point (variation selectors, Hangul fillers, the
// combining grapheme joiner, …). The page's script has the same set
// (console.js, invisible).
func isInvisible(r rune) bool {
	return r >= 0x80 && (unicode.In(r, unicode.Cf, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector))
}

func hasInvisible(s string) bool { return strings.IndexFunc(s, isInvisible) >= 0 }

// escapeRune writes r as \uXXXX, or \UXXXXXXXX beyond U+FFFF.
func escapeRune(w io.Writer, r rune) {
	if r > 0xFFFF {
		fmt.Fprintf(w, `\U%08X`, r)
	} else {
		fmt.Fprintf(w, `\u%04X`, r)
	}
}

// revealText writes each invisible character of plain text as its
// escape.
func revealText(s string) string {
	if !hasInvisible(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isInvisible(r) {
			escapeRune(&b, r)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// reveal writes each invisible character in the text of a page (or part
// of one) that the templates rendered as its escape. Tags
// and their attributes are left as they are (a form's values, the
// script's data), and so is a textarea's text (a form's value). The
// templates escape every '<' of what they were given, so each '<' left
// starts a tag.
func reveal(page []byte) []byte {
	if bytes.IndexFunc(page, isInvisible) < 0 {
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
			if isInvisible(r) {
				escapeRune(&out, r)
			} else {
				out.Write(page[:n])
			}
			page = page[n:]
		}
	}
	return out.Bytes()
}
