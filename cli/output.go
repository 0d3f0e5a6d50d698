package cli

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

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
// cased key it was found under), nested objects and lists after.
func formatText(w io.Writer, v any) {
	textItem(w, v, "", nil)
}

func textItem(w io.Writer, v any, ident string, scalarKeys []string) {
	switch v := v.(type) {
	case *omap:
		textDict(w, v, ident, scalarKeys)
	case []any:
		textList(w, v, ident)
	default:
		io.WriteString(w, pyStr(v)+"\n")
	}
}

func textList(w io.Writer, l []any, ident string) {
	if len(l) == 0 {
		return
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
			if o, ok := e.(*omap); ok {
				for _, k := range o.keys {
					if !isContainer(o.m[k]) {
						keys[k] = true
					}
				}
			}
		}
		all := make([]string, 0, len(keys))
		for k := range keys {
			all = append(all, k)
		}
		sort.Strings(all)
		for _, e := range l {
			textItem(w, e, ident, all)
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
			textItem(w, e, ident, nil)
		}
	default:
		textScalarList(w, l, ident)
	}
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

func textDict(w io.Writer, o *omap, ident string, scalarKeys []string) {
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
		textItem(w, o.m[k], k, nil)
	}
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

func (s *section) updateWidths(row []string) {
	if s.maxWidths == nil {
		s.maxWidths = make([]int, len(row))
		for i, e := range row {
			s.maxWidths[i] = textWidth(e)
		}
		return
	}
	for i, e := range row {
		if i < len(s.maxWidths) && textWidth(e) > s.maxWidths[i] {
			s.maxWidths[i] = textWidth(e)
		}
	}
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
	t.cur.updateWidths(h)
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
	t.cur.updateWidths(row)
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
	for _, e := range l {
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
		o, _ := e.(*omap)
		if o == nil {
			o = newOmap()
		}
		if i > 0 && len(more) > 0 {
			t.newSection(title, indent)
			t.addHeader(headers)
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
			if v, ok := o.m[k]; ok {
				t.build(k, v, indent+1, true)
			}
		}
	}
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func centerText(text string, length int, left, right string) string {
	tl := textWidth(text)
	start := length/2 - tl/2 - 1
	if start < 0 {
		start = 0
	}
	out := left + strings.Repeat(" ", start) + text
	sofar := textWidth(left) + start + tl
	rs := length - textWidth(right) - sofar
	if rs < 0 {
		rs = 0
	}
	return out + strings.Repeat(" ", rs) + right
}

func alignLeft(text string, length int, left, right string) string {
	tl := textWidth(text)
	pad := 2
	if length-(tl+2+textWidth(left)+textWidth(right)) < 0 {
		pad = 0
	}
	sofar := len(left) + pad + tl
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

func (t *table) render(w io.Writer, termWidth int) {
	max := t.maxWidth()
	if max > termWidth {
		for i, s := range t.sections {
			if len(s.rows) == 1 && len(s.headers) > 0 {
				ns := &section{title: s.title, indent: s.indent}
				for j, h := range s.headers {
					if j < len(s.rows[0]) {
						row := []string{h, s.rows[0][j]}
						ns.rows = append(ns.rows, row)
						ns.updateWidths(row)
					}
				}
				t.sections[i] = ns
			}
		}
		max = t.maxWidth()
	}
	var b bytes.Buffer
	b.WriteString(strings.Repeat("-", max) + "\n")
	for _, s := range t.sections {
		renderSection(&b, s, max)
	}
	w.Write(b.Bytes())
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

func renderSection(b *bytes.Buffer, s *section, max int) {
	bar := strings.Repeat("|", s.indent)
	line := func(text string) { b.WriteString(bar + text + bar + "\n") }
	max -= s.indent * 2
	if s.title != "" {
		line(centerText(s.title, max, "|", "|"))
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
				cur.WriteString(centerText(h, widths[i], left, "|"))
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
					cur.WriteString(alignLeft(e, widths[i], left, "|"))
				}
			}
			line(cur.String())
		}
		line(lineBreak(widths))
	}
}

// formatTable prints v as the AWS CLI's table output under title (the
// operation name).
func formatTable(w io.Writer, title string, v any, termWidth int) error {
	t := &table{}
	if t.build(title, v, 0, true) {
		if t.err != nil {
			return t.err
		}
		t.render(w, termWidth)
	}
	return nil
}

// isWide reports whether r takes two columns in the AWS CLI's tables:
// its East Asian width is wide, fullwidth or ambiguous (Python's
// unicodedata.east_asian_width W, F or A), so accented Latin letters such
// as é count as two, as they do there.
func isWide(r rune) bool {
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth, width.EastAsianAmbiguous:
		return true
	}
	return false
}
