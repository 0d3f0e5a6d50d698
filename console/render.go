package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/swfd/swfd/api"
)

// page is what every page template gets.
type page struct {
	Title   string
	Domain  string // the domain the page is about, if any
	Tab     string // the domain tab shown (executions, types, …)
	Fault   *api.Fault
	Message string // a notice (an action's outcome)
	Next    string // sign-in: where to go after
	CSRF    string
	User    string // the signed-in principal
	Auth    bool   // sign-in is on
	Data    any
}

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	"time":     fmtTime,
	"iso":      isoTime,
	"ago":      ago,
	"between":  between,
	"domURL":   domURL,
	"execURL":  execURL,
	"wfURL":    wfURL,
	"trunc":    trunc,
	"pretty":   prettyJSON,
	"attrs":    eventAttrs,
	"category": eventCategory,
	"comma":    comma,
	"days":     retentionDays,
	"add":      func(a, b int) int { return a + b },
	"cli":      func(c *cliLine) string { return c.String() },
	"typeArg":  func(n, v string) string { return structArg("name", n, "version", v) },
	"qs":       func(v url.Values) string { return v.Encode() },
	"typ":      func(n, v string) string { return n + " " + v },
	"join":     strings.Join,
	"value":    api.Value,
	"static":   staticURL,
	"vis":      revealText, // for attributes a person reads: text is done by reveal
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m
	},
}

func (h *Handler) parseTemplates() {
	base := template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/_*.html"))
	h.fragment = base
	h.pages = map[string]*template.Template{}
	names, _ := fs.Glob(templateFS, "templates/*.html")
	for _, n := range names {
		name := strings.TrimSuffix(path.Base(n), ".html")
		if strings.HasPrefix(name, "_") {
			continue
		}
		t := template.Must(template.Must(base.Clone()).ParseFS(templateFS, n))
		h.pages[name] = t
	}
}

// render writes a whole page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	ri := infoOf(r.Context())
	p.CSRF = ri.csrf
	p.Auth = h.cfg.Keys != nil
	if ri.s != nil {
		p.User = ri.s.name
	}
	var buf bytes.Buffer
	if err := h.pages[name].ExecuteTemplate(&buf, "page", p); err != nil {
		h.log.Error("console: render", "page", name, "err", err)
		http.Error(w, "The page could not be shown; the error is in the server's log.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(reveal(buf.Bytes()))
}

// renderFragment writes one named template (a part of a page, fetched by
// the page's script).
func (h *Handler) renderFragment(w http.ResponseWriter, r *http.Request, name string, data any) {
	var buf bytes.Buffer
	if err := h.fragment.ExecuteTemplate(&buf, name, data); err != nil {
		h.log.Error("console: render", "fragment", name, "err", err)
		http.Error(w, "The page could not be shown; the error is in the server's log.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(reveal(buf.Bytes()))
}

const timeLayout = "2006-01-02 15:04:05.000"

func fmtTime(t any) string {
	tt := asTime(t)
	if tt.IsZero() {
		return "—"
	}
	return tt.UTC().Format(timeLayout)
}

func isoTime(t any) string {
	tt := asTime(t)
	if tt.IsZero() {
		return ""
	}
	return tt.UTC().Format(time.RFC3339Nano)
}

func asTime(t any) time.Time {
	switch t := t.(type) {
	case time.Time:
		return t
	case api.Time:
		return t.Time
	case *api.Time:
		if t != nil {
			return t.Time
		}
	}
	return time.Time{}
}

// ago is how long before now t was, shortly ("3m12s").
func ago(now, t any) string {
	a, b := asTime(now), asTime(t)
	if b.IsZero() {
		return "—"
	}
	return shortDur(a.Sub(b))
}

// between is the time from a to b.
func between(a, b any) string {
	x, y := asTime(a), asTime(b)
	if x.IsZero() || y.IsZero() {
		return "—"
	}
	return shortDur(y.Sub(x))
}

func shortDur(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	var s string
	switch {
	case d < time.Second:
		s = strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	case d < time.Minute:
		s = strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	case d < time.Hour:
		s = fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		s = fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	default:
		s = fmt.Sprintf("%dd%02dh", int(d.Hours())/24, int(d.Hours())%24)
	}
	if neg {
		return "in " + s
	}
	return s
}

func comma(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + comma(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func trunc(n int, s string) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// URLs of the console's pages. Each name is one path segment (see
// pathSegment): names may hold spaces and other characters SWF allows, and
// may be "." or "..".
func domURL(domain string) string { return Prefix + "d/" + pathSegment(domain) + "/" }

func wfURL(domain, wid string) string {
	return Prefix + "d/" + pathSegment(domain) + "/w/" + pathSegment(wid)
}

func execURL(domain, wid, rid string) string { return wfURL(domain, wid) + "/" + pathSegment(rid) }

// pathSegment is a name as a segment of a console URL. SWF allows a
// domain or workflow id named "." or "..", but a browser (and any client
// that follows the URL standard) resolves such a segment, escaped as %2E
// too, before it sends the request: /d/./executions would ask for
// /d/executions. So a name that is "." or "..", or that begins with '~',
// is written with a '~' before it ("~.", "~..", "~~x"), which no client
// resolves; the router takes one '~' off (nameOf). Every other name is
// path-escaped as it is.
func pathSegment(name string) string {
	if name == "." || name == ".." || strings.HasPrefix(name, "~") {
		name = "~" + name
	}
	return url.PathEscape(name)
}

// nameOf is the name a URL's path segment (unescaped) stands for: the
// segment without the '~' pathSegment put before it.
func nameOf(segment string) string { return strings.TrimPrefix(segment, "~") }

// prettyJSON is a value's JSON indented, with '<', '>' and '&' written as
// they are (the template escapes the text for HTML).
func prettyJSON(v any) string {
	var b []byte
	switch v := v.(type) {
	case []byte:
		var buf bytes.Buffer
		if json.Indent(&buf, v, "", "  ") != nil {
			return string(v)
		}
		b = buf.Bytes()
	default:
		b, _ = json.MarshalIndent(v, "", "  ")
	}
	return string(unescapeHTMLJSON(b))
}

// retentionDays is a domain's retention as a person reads it: "none",
// "1 day", "30 days".
func retentionDays(r string) string {
	if r == "NONE" {
		return "none"
	}
	if n, err := strconv.Atoi(r); err == nil && n == 1 {
		return r + " day" // "1", or "01" as it was registered
	}
	return r + " days"
}
