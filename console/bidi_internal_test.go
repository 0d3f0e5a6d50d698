package console

import "testing"

// Bidirectional control characters and other invisible characters become
// escapes in a page's text, not in its tags nor in a textarea; in a
// command line they are written $'…'.
func TestReveal(t *testing.T) {
	for in, want := range map[string]string{
		"plain":           "plain",
		"<b>a\u202Eb</b>": `<b>a\u202Eb</b>`,
		`<input value="a` + "\u202E" + `b">x` + "\u200F":                                     `<input value="a` + "\u202E" + `b">x\u200F`,
		"<textarea>a\u2066</textarea>\u2069":                                                 "<textarea>a\u2066</textarea>\\u2069",
		"<title>\u061C é</title>":                                                            `<title>\u061C é</title>`,
		"order\u200B-1 a\u200Cb\u200Dc\u2060d\uFEFFe\u00ADf\u034Fg\u3164h\uFE0Fi\U000E0041j": `order\u200B-1 a\u200Cb\u200Dc\u2060d\uFEFFe\u00ADf\u034Fg\u3164h\uFE0Fi\U000E0041j`,
	} {
		if got := string(reveal([]byte(in))); got != want {
			t.Errorf("reveal(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"rtl-\u202Etxt.exe": `$'rtl-\xe2\x80\xaetxt.exe'`,
		"it's \\\u202E\n":   `$'it\'s \\\xe2\x80\xae\x0a'`,
		"it's":              `'it'\''s'`,
		"order\u200B-1":     `$'order\xe2\x80\x8b-1'`,
		"a\x01b":            `$'a\x01b'`,
		"plain-id":          "plain-id",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
