package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/swfd/swfd/api"
	"golang.org/x/text/width"
)

// modelOrder rebuilds a response value following the output shape, as
// botocore's parser does: members in model order, members the model does
// not know dropped, absent members absent.
func modelOrder(sh *api.Shape, v any) any {
	switch sh.Type {
	case "structure":
		o, ok := v.(*omap)
		if !ok {
			return v
		}
		out := newOmap()
		for _, m := range members(sh) {
			if mv, ok := o.get(m.Name); ok && mv != nil {
				out.set(m.Name, modelOrder(shape(m.Shape), mv))
			}
		}
		return out
	case "list":
		l, ok := v.([]any)
		if !ok {
			return v
		}
		elem := shape(sh.Member)
		out := make([]any, len(l))
		for i, e := range l {
			out[i] = modelOrder(elem, e)
		}
		return out
	}
	return v
}

// ---- json ----------------------------------------------------------------

// formatJSON prints as the AWS CLI's json output: nothing for an empty
// object (operations without output), else 4-space indented JSON.
func formatJSON(w io.Writer, v any) {
	if o, ok := v.(*omap); ok && o.len() == 0 {
		return
	}
	io.WriteString(w, pyJSON(v)+"\n")
}

// ---- text ----------------------------------------------------------------

func isContainer(v any) bool {
	switch v.(type) {
	case *omap, []any:
		return true
	}
	return false
}

// formatText prints v as the AWS CLI's text output: one line per object
// of scalar values (sorted by key, tab separated, prefixed by the upper-
// cased key it was found under), nested objects and lists after. A list
// that holds an object and something that is not one fails as it does in
// the AWS CLI, after what was printed before it, naming the Python type
// that is not an object.
func formatText(w io.Writer, v any) error {
	return textItem(w, v, "", nil)
}

func textItem(w io.Writer, v any, ident string, scalarKeys []string) error {
	switch v := v.(type) {
	case *omap:
		return textDict(w, v, ident, scalarKeys)
	case []any:
		return textList(w, v, ident)
	default:
		io.WriteString(w, pyStr(v)+"\n")
	}
	return nil
}

func textList(w io.Writer, l []any, ident string) error {
	if len(l) == 0 {
		return nil
	}
	hasDict, hasList := false, false
	for _, e := range l {
		switch e.(type) {
		case *omap:
			hasDict = true
		case []any:
			hasList = true
		}
	}
	switch {
	case hasDict:
		keys := map[string]bool{}
		for _, e := range l {
			o, ok := e.(*omap)
			if !ok {
				return fmt.Errorf("'%s' object has no attribute 'items'", pyType(e))
			}
			for _, k := range o.keys {
				if !isContainer(o.m[k]) {
					keys[k] = true
				}
			}
		}
		all := make([]string, 0, len(keys))
		for k := range keys {
			all = append(all, k)
		}
		sort.Strings(all)
		for _, e := range l {
			if err := textItem(w, e, ident, all); err != nil {
				return err
			}
		}
	case hasList:
		var scalars, others []any
		for _, e := range l {
			if isContainer(e) {
				others = append(others, e)
			} else {
				scalars = append(scalars, e)
			}
		}
		if len(scalars) > 0 {
			textScalarList(w, scalars, ident)
		}
		for _, e := range others {
			if err := textItem(w, e, ident, nil); err != nil {
				return err
			}
		}
	default:
		textScalarList(w, l, ident)
	}
	return nil
}

func textScalarList(w io.Writer, l []any, ident string) {
	if ident != "" {
		for _, e := range l {
			io.WriteString(w, strings.ToUpper(ident)+"\t"+pyStr(e)+"\n")
		}
		return
	}
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = pyStr(e)
	}
	io.WriteString(w, strings.Join(parts, "\t")+"\n")
}

func textDict(w io.Writer, o *omap, ident string, scalarKeys []string) error {
	var scalars []string
	var nested []string
	if scalarKeys == nil {
		for _, k := range o.sortedKeys() {
			if isContainer(o.m[k]) {
				nested = append(nested, k)
			} else {
				scalars = append(scalars, pyStr(o.m[k]))
			}
		}
	} else {
		in := map[string]bool{}
		for _, k := range scalarKeys {
			in[k] = true
			if v, ok := o.m[k]; ok {
				scalars = append(scalars, pyStr(v))
			} else {
				scalars = append(scalars, "")
			}
		}
		for _, k := range o.sortedKeys() {
			if !in[k] {
				nested = append(nested, k)
			}
		}
	}
	if len(scalars) > 0 {
		if ident != "" {
			scalars = append([]string{strings.ToUpper(ident)}, scalars...)
		}
		io.WriteString(w, strings.Join(scalars, "\t")+"\n")
	}
	for _, k := range nested {
		if err := textItem(w, o.m[k], k, nil); err != nil {
			return err
		}
	}
	return nil
}

// ---- table ---------------------------------------------------------------

// The AWS CLI's table output: sections (a title, optional column headers,
// rows) nested by indentation, drawn with | + and -, 80 columns wide when
// stdout is not a terminal; a table wider than that is redrawn with
// single-row sections turned vertical.

type section struct {
	title     string
	headers   []string
	rows      [][]string
	indent    int
	maxWidths []int
	// numCols is the number of columns, set (colsSet) by the first
	// header or row, even an empty one; every row must have as many.
	numCols int
	colsSet bool
}

// updateWidths widens the columns to fit row. As in the AWS CLI, the
// first row (or header) that is not empty sets the number of widths, and a
// later one that is longer fails ("list index out of range", the error
// Python's table raises), having widened the columns it has.
func (s *section) updateWidths(row []string) error {
	if len(s.maxWidths) == 0 {
		s.maxWidths = make([]int, len(row))
		for i, e := range row {
			s.maxWidths[i] = textWidth(e)
		}
		return nil
	}
	for i, e := range row {
		if i >= len(s.maxWidths) {
			return errors.New("list index out of range")
		}
		if textWidth(e) > s.maxWidths[i] {
			s.maxWidths[i] = textWidth(e)
		}
	}
	return nil
}

func (s *section) columnWidths(padding, maxWidth int) []int {
	un := make([]int, len(s.maxWidths))
	total := 0
	for i, w := range s.maxWidths {
		un[i] = w + padding
		total += un[i]
	}
	if maxWidth < 0 || len(un) == 0 {
		return un
	}
	scale := float64(maxWidth) / float64(total)
	scaled := make([]int, len(un))
	sum := 0
	for i, w := range un {
		scaled[i] = int(math.RoundToEven(scale * float64(w)))
		sum += scaled[i]
	}
	off := sum - maxWidth
	for off != 0 {
		if off > 0 {
			for i := 0; i < len(scaled) && off != 0; i++ {
				scaled[i]--
				off--
			}
		} else {
			for i := len(scaled) - 1; i >= 0 && off != 0; i-- {
				scaled[i]++
				off++
			}
		}
	}
	return scaled
}

func (s *section) totalWidth() int {
	total := 0
	for _, w := range s.columnWidths(0, -1) {
		total += w + 4
	}
	total += 2 + 2*s.indent
	if t := textWidth(s.title) + 2 + 2*s.indent; t > total {
		return t
	}
	return total
}

// textWidth counts wide (East Asian wide, fullwidth, ambiguous) runes as 2.
func textWidth(s string) int {
	n := 0
	for _, r := range s {
		if isWide(r) {
			n += 2
		} else {
			n++
		}
	}
	return n
}

type table struct {
	sections []*section
	cur      *section
	err      error // the first row that did not fit its section
}

func (t *table) newSection(title string, indent int) {
	t.cur = &section{title: title, indent: indent}
	t.sections = append(t.sections, t.cur)
}

func (t *table) addHeader(h []string) {
	t.fail(t.cur.updateWidths(h))
	if !t.cur.colsSet {
		t.cur.numCols, t.cur.colsSet = len(h), true
	}
	t.cur.headers = h
}

// addRow adds a row to the current section. A row whose length is not the
// section's is not drawn: the table fails with the first such (t.err), as
// the AWS CLI's does, rather than lose the values past its columns.
func (t *table) addRow(r []any) {
	if !t.cur.colsSet {
		t.cur.numCols, t.cur.colsSet = len(r), true
	}
	if len(r) != t.cur.numCols {
		if t.err == nil {
			t.err = fmt.Errorf("Row should have %d elements, instead it has %d", t.cur.numCols, len(r))
		}
		return
	}
	row := make([]string, len(r))
	for i, e := range r {
		row[i] = pyStr(e)
	}
	t.cur.rows = append(t.cur.rows, row)
	t.fail(t.cur.updateWidths(row))
}

// fail records err, when it is the table's first.
func (t *table) fail(err error) {
	if t.err == nil {
		t.err = err
	}
}

func scalarKeys(o *omap) (headers, more []string) {
	for _, k := range o.sortedKeys() {
		if isContainer(o.m[k]) {
			more = append(more, k)
		} else {
			headers = append(headers, k)
		}
	}
	return
}

func truthy(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case *omap:
		return v.len() > 0
	case []any:
		return len(v) > 0
	case string:
		return v != ""
	case bool:
		return v
	case float64:
		return v != 0
	case json.Number:
		return numFloat(v) != 0
	}
	return true
}

func (t *table) build(title string, v any, indent int, hasTitle bool) bool {
	if !truthy(v) {
		return false
	}
	if hasTitle {
		t.newSection(title, indent)
	}
	switch v := v.(type) {
	case []any:
		if _, ok := v[0].(*omap); ok {
			t.fromList(v, indent, title)
		} else {
			for _, e := range v {
				switch e := e.(type) {
				case []any:
					all := true
					for _, x := range e {
						if isContainer(x) {
							all = false
						}
					}
					if all {
						t.addRow(e)
					} else {
						t.build("", e, 0, false)
					}
				case *omap:
					// A map among scalars is a row of its keys, as
					// the AWS CLI takes it.
					keys := make([]any, len(e.keys))
					for i, k := range e.keys {
						keys[i] = k
					}
					t.addRow(keys)
				default:
					t.addRow([]any{e})
				}
			}
		}
	case *omap:
		t.fromDict(v, indent)
	}
	return true
}

func (t *table) fromDict(o *omap, indent int) {
	headers, more := scalarKeys(o)
	if len(headers) == 1 {
		t.addRow([]any{headers[0], o.m[headers[0]]})
	} else if len(headers) > 0 {
		t.addHeader(headers)
		row := make([]any, len(headers))
		for i, h := range headers {
			row[i] = o.m[h]
		}
		t.addRow(row)
	}
	for _, k := range more {
		t.build(k, o.m[k], indent+1, true)
	}
}

func (t *table) fromList(l []any, indent int, title string) {
	hs, ms := map[string]bool{}, map[string]bool{}
	// As in the AWS CLI, the keys of every element are taken first: an
	// element that is not an object fails the table here if Python cannot
	// take its keys (see keysError).
	for _, e := range l {
		if err := keysError(e); err != nil {
			t.fail(err)
			return
		}
		if o, ok := e.(*omap); ok {
			h, m := scalarKeys(o)
			for _, k := range h {
				hs[k] = true
			}
			for _, k := range m {
				ms[k] = true
			}
		}
	}
	headers, more := sortedSet(hs), sortedSet(ms)
	t.addHeader(headers)
	for i, e := range l {
		o, isObject := e.(*omap)
		if i > 0 && len(more) > 0 {
			t.newSection(title, indent)
			t.addHeader(headers)
		}
		if !isObject && len(headers) > 0 { // element.get(header) in Python
			t.fail(fmt.Errorf("'%s' object has no attribute 'get'", pyType(e)))
			return
		}
		row := make([]any, len(headers))
		for j, h := range headers {
			if v, ok := o.m[h]; ok {
				row[j] = v
			} else {
				row[j] = ""
			}
		}
		t.addRow(row)
		for _, k := range more {
			if isObject {
				if v, ok := o.m[k]; ok {
					t.build(k, v, indent+1, true)
				}
				continue
			}
			// Python asks whether k is in e, then takes e[k].
			if err := notAMember(e, k); err != nil {
				t.fail(err)
				return
			}
		}
	}
}

// notAMember is how the AWS CLI's table fails on `k in e` then e[k],
// for e not an object: nil when k is not in e.
func notAMember(e any, k string) error {
	switch e := e.(type) {
	case string:
		if strings.Contains(e, k) {
			return errors.New("string indices must be integers, not 'str'")
		}
	case []any:
		for _, x := range e {
			if s, ok := x.(string); ok && s == k { // only a string equals one
				return errors.New("list indices must be integers or slices, not str")
			}
		}
	default:
		return fmt.Errorf("argument of type '%s' is not iterable", pyType(e))
	}
	return nil
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// centerText centers text, of textLen columns (it may hold colour codes,
// which take none), between left and right in length columns.
func centerText(text string, textLen, length int, left, right string) string {
	start := length/2 - textLen/2 - 1
	if start < 0 {
		start = 0
	}
	out := left + strings.Repeat(" ", start) + text
	sofar := textWidth(left) + start + textLen
	rs := length - textWidth(right) - sofar
	if rs < 0 {
		rs = 0
	}
	return out + strings.Repeat(" ", rs) + right
}

// alignLeft puts text, of textLen columns, at the left of length columns
// between left and right.
func alignLeft(text string, textLen, length int, left, right string) string {
	pad := 2
	if length-(textLen+2+textWidth(left)+textWidth(right)) < 0 {
		pad = 0
	}
	sofar := len(left) + pad + textLen
	rs := length - sofar - len(right)
	if rs < 0 {
		rs = 0
	}
	return left + strings.Repeat(" ", pad) + text + strings.Repeat(" ", rs) + right
}

func (t *table) maxWidth() int {
	m := 0
	for _, s := range t.sections {
		if w := s.totalWidth(); w > m {
			m = w
		}
	}
	return m
}

// The colours of a coloured table, as the AWS CLI's colorama writes them.
const (
	ansiReset  = "\x1b[0m"
	ansiValue  = "\x1b[1m\x1b[34m" // bright blue: a row's values
	ansiIndent = "\x1b[2m\x1b[33m" // dim yellow: the bars of nesting
)

// tableOut writes a table as the AWS CLI does, plain or coloured. Coloured
// (--color on, or auto on a terminal), values are bright blue and the
// bars of nesting dim yellow, and, as colorama's autoreset does there,
// every write is followed by a reset code: a line goes out as its left
// bars, its text, its right bars and its line break, each then reset.
type tableOut struct {
	b     bytes.Buffer
	color bool
}

func (o *tableOut) write(s string) {
	o.b.WriteString(s)
	if o.color {
		o.b.WriteString(ansiReset)
	}
}

// line writes text between the bars of indent levels of nesting.
func (o *tableOut) line(indent int, text string) {
	bars := strings.Repeat("|", indent)
	if o.color {
		bars = strings.Repeat(ansiIndent+"|"+ansiReset, indent)
	}
	o.write(bars)
	o.write(text)
	o.write(bars)
	o.write("\n")
}

// value styles a row's value.
func (o *tableOut) value(s string) string {
	if o.color {
		return ansiValue + s + ansiReset
	}
	return s
}

func (t *table) render(w io.Writer, termWidth int, color bool) {
	max := t.maxWidth()
	if max > termWidth {
		for i, s := range t.sections {
			if len(s.rows) == 1 && len(s.headers) > 0 {
				ns := &section{title: s.title, indent: s.indent}
				for j, h := range s.headers {
					if j < len(s.rows[0]) {
						row := []string{h, s.rows[0][j]}
						ns.rows = append(ns.rows, row)
						ns.updateWidths(row) // rows of two: never fails
					}
				}
				t.sections[i] = ns
			}
		}
		max = t.maxWidth()
	}
	o := &tableOut{color: color}
	o.write(strings.Repeat("-", max) + "\n")
	for _, s := range t.sections {
		renderSection(o, s, max)
	}
	w.Write(o.b.Bytes())
}

func lineBreak(widths []int) string {
	var b strings.Builder
	for i, w := range widths {
		if i == 0 {
			b.WriteString("+" + strings.Repeat("-", maxInt(w-2, 0)) + "+")
		} else {
			b.WriteString(strings.Repeat("-", maxInt(w-1, 0)) + "+")
		}
	}
	return b.String()
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

func renderSection(o *tableOut, s *section, max int) {
	line := func(text string) { o.line(s.indent, text) }
	max -= s.indent * 2
	if s.title != "" {
		line(centerText(s.title, textWidth(s.title), max, "|", "|"))
		if len(s.headers) == 0 && len(s.rows) == 0 {
			line("+" + strings.Repeat("-", maxInt(max-2, 0)) + "+")
		}
	}
	if len(s.headers) > 0 {
		widths := s.columnWidths(4, max)
		var cur strings.Builder
		for i, h := range s.headers {
			left := ""
			if i == 0 {
				left = "|"
			}
			if i < len(widths) {
				cur.WriteString(centerText(h, textWidth(h), widths[i], left, "|"))
			}
		}
		line(lineBreak(widths))
		line(cur.String())
	}
	if len(s.rows) > 0 {
		widths := s.columnWidths(4, max)
		if len(widths) == 0 {
			return
		}
		line(lineBreak(widths))
		for _, r := range s.rows {
			var cur strings.Builder
			for i, e := range r {
				left := ""
				if i == 0 {
					left = "|"
				}
				if i < len(widths) {
					cur.WriteString(alignLeft(o.value(e), textWidth(e), widths[i], left, "|"))
				}
			}
			line(cur.String())
		}
		line(lineBreak(widths))
	}
}

// formatTable prints v as the AWS CLI's table output under title (the
// operation name), coloured or not.
func formatTable(w io.Writer, title string, v any, termWidth int, color bool) error {
	t := &table{}
	if t.build(title, v, 0, true) {
		if t.err != nil {
			return t.err
		}
		t.render(w, termWidth, color)
	}
	return nil
}

// isWide reports whether r takes two columns in the AWS CLI's tables:
// its East Asian width is wide, fullwidth or ambiguous (Python's
// unicodedata.east_asian_width W, F or A), so accented Latin letters such
// as é count as two, as they do there. A code point Unicode leaves
// unassigned (U+0378, U+10FFFF) counts as two as well: CPython's
// unicodedata gives every one of them the width F. (Python and Go may
// follow different versions of Unicode: a letter only the newer one
// assigns is wide to Python's older tables.)
func isWide(r rune) bool {
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth, width.EastAsianAmbiguous:
		return true
	}
	return !assigned(r)
}

// assigned reports whether Unicode (Go's version of it) assigns r: a
// letter, mark, number, punctuation, symbol, separator, control, format
// or private-use character.
func assigned(r rune) bool {
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs)
}

// keysError is how the AWS CLI's table fails taking the keys of e, an
// element of a list whose first element is an object, when e is not one:
// Python's error of iterating e and indexing e with each element, or nil
// (an empty string or list, a list of valid indexes).
func keysError(e any) error {
	switch e := e.(type) {
	case *omap:
		return nil
	case string:
		if e != "" {
			return errors.New("string indices must be integers, not 'str'")
		}
	case []any:
		for _, x := range e {
			if f, ok := x.(float64); ok { // a number out of a --query
				x = json.Number(floatNumber(f))
			}
			var i int
			switch x := x.(type) {
			case bool:
				if x {
					i = 1
				}
			case json.Number:
				if numIsFloat(x) {
					return errors.New("list indices must be integers or slices, not float")
				}
				n, err := strconv.Atoi(string(x))
				if err != nil {
					return errors.New("list index out of range")
				}
				i = n
			default:
				return fmt.Errorf("list indices must be integers or slices, not %s", pyType(x))
			}
			if i < -len(e) || i >= len(e) {
				return errors.New("list index out of range")
			}
		}
	default:
		return fmt.Errorf("'%s' object is not iterable", pyType(e))
	}
	return nil
}

// pyType names the Python type the AWS CLI holds v as, as its error
// messages name it: a number is an int or a float as it prints (a whole
// number out of a --query prints, and so counts, as an int).
func pyType(v any) string {
	switch v := v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case string:
		return "str"
	case json.Number:
		if numIsFloat(v) {
			return "float"
		}
		return "int"
	case float64:
		return pyType(json.Number(floatNumber(v)))
	case []any:
		return "list"
	case *omap:
		return "dict"
	}
	return fmt.Sprintf("%T", v)
}

// numIsFloat reports whether Python's json module reads n as a float.
func numIsFloat(n json.Number) bool { return strings.ContainsAny(string(n), ".eEnN") }

// numFloat is n's value as a float64 (0 if it is none).
func numFloat(n json.Number) float64 {
	f, _ := strconv.ParseFloat(string(n), 64)
	return f
}
