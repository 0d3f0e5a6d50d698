package cli

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// result is what a service command answered: one response, or the pages
// of a paginated one.
type result struct {
	single any // response value (nil: no output)

	paged        bool
	resultKey    string
	pages        []*omap // each page's response (result list truncated for --max-items)
	nonAggregate *omap   // the first page's non-aggregate members
	resumeToken  string  // NextToken for --max-items, "" when complete
}

// full merges the pages as the AWS CLI does for json and table output:
// the result list concatenated, the non-aggregate members of the first
// page, NextToken when --max-items stopped early.
func (r *result) full() any {
	if !r.paged {
		if r.single == nil {
			return newOmap()
		}
		return r.single
	}
	out := newOmap()
	for _, p := range r.pages {
		v, ok := p.get(r.resultKey)
		if !ok || v == nil {
			continue
		}
		cur, have := out.get(r.resultKey)
		if !have {
			l, _ := v.([]any)
			out.set(r.resultKey, append([]any{}, l...))
			continue
		}
		cl, _ := cur.([]any)
		l, _ := v.([]any)
		out.set(r.resultKey, append(cl, l...))
	}
	if r.nonAggregate != nil {
		for _, k := range r.nonAggregate.keys {
			out.set(k, r.nonAggregate.m[k])
		}
	}
	if r.resumeToken != "" {
		out.set("NextToken", r.resumeToken)
	}
	return out
}

// pageToken is the AWS CLI's --starting-token / NextToken: base64 of a JSON
// object holding the service token and how many items of that page were
// already returned.
type pageToken struct {
	next     any // string or nil
	truncate int
	hasTrunc bool
}

func (t pageToken) encode() string {
	nt := "null"
	if s, ok := t.next.(string); ok {
		b, _ := json.Marshal(s)
		nt = string(b)
	}
	s := `{"nextPageToken": ` + nt
	if t.hasTrunc {
		s += `, "boto_truncate_amount": ` + strconv.Itoa(t.truncate)
	}
	s += "}"
	return base64.StdEncoding.EncodeToString([]byte(s))
}

// decodePageToken reads a --starting-token as botocore does. A token this
// CLI (or the AWS CLI) printed as NextToken is base64 of a JSON object. Any
// other string is the older form: the service's own token, optionally
// followed by "___" and how many items of its page to skip, so that the
// nextPageToken of a --no-paginate answer can be passed on as it is. In
// either form the string "None" stands for no token (the first page).
func decodePageToken(s string) (pageToken, error) {
	if raw, err := base64.StdEncoding.DecodeString(s); err == nil {
		var v any
		if json.Unmarshal(raw, &v) == nil {
			m, ok := v.(map[string]any)
			if !ok {
				return pageToken{}, fmt.Errorf("Bad starting token: %s", s)
			}
			var t pageToken
			t.next = m["nextPageToken"]
			if n, ok := m["boto_truncate_amount"].(float64); ok {
				t.truncate, t.hasTrunc = int(n), true
			}
			if t.next == "None" {
				t.next = nil
			}
			return t, nil
		}
	}
	var t pageToken
	parts := strings.Split(s, "___")
	if len(parts) == 2 {
		if n, err := strconv.Atoi(strings.TrimSpace(parts[1])); err == nil {
			parts, t.truncate = parts[:1], n
		} else {
			parts = []string{s}
		}
	}
	if len(parts) > 1 {
		return pageToken{}, fmt.Errorf("Bad starting token: %s", s)
	}
	if parts[0] != "None" {
		t.next = parts[0]
	}
	return t, nil
}

func callCommand(ctx context.Context, cl *client, c *command, p *parsed, g *globals, body *omap, warnOut io.Writer) (*result, error) {
	paginate := c.pager != nil && !g.noPaginate && !p.has("next-page-token") && !p.has("maximum-page-size")
	if c.pager != nil && !paginate {
		var used []string
		for _, f := range []string{"starting-token", "page-size", "max-items"} {
			if p.has(f) {
				used = append(used, "--"+f)
			}
		}
		if len(used) > 0 {
			return nil, fmt.Errorf("Error during pagination: Cannot specify --no-paginate along with pagination arguments: %s", joinComma(used))
		}
	}
	if !paginate {
		v, err := cl.call(ctx, c.op.Name, body)
		if err != nil {
			return nil, err
		}
		if c.op.Output == "" || v == nil {
			return &result{}, nil
		}
		return &result{single: modelOrder(shape(c.op.Output), v)}, nil
	}
	return paginateCall(ctx, cl, c, p, body, warnOut)
}

func joinComma(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}

// intFlag reads a pagination flag as argparse's int does: surrounding
// white space allowed, and anything else not an integer a usage error.
func intFlag(p *parsed, flag string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(p.get(flag)))
	if err != nil {
		return 0, &usageError{fmt.Sprintf("argument --%s: invalid int value: '%s'", flag, p.get(flag))}
	}
	return n, nil
}

func paginateCall(ctx context.Context, cl *client, c *command, p *parsed, body *omap, warnOut io.Writer) (*result, error) {
	pg := c.pager
	r := &result{paged: true, resultKey: pg.resultKey}
	maxItems := -1
	if p.has("max-items") {
		n, err := intFlag(p, "max-items")
		if err != nil {
			return nil, err
		}
		maxItems = n
		if n <= 0 {
			fmt.Fprintln(warnOut, "warning: Non-positive values for --max-items may result in undefined behavior.")
		}
	}
	if p.has("page-size") {
		n, err := intFlag(p, "page-size")
		if err != nil {
			return nil, err
		}
		// Checked as the flag's own maximumPageSize is, before the call:
		// the model's least page size (0).
		for _, m := range shape(c.op.Input).Members {
			if sh := shape(m.Shape); m.Name == "maximumPageSize" && sh.HasMin && int64(n) < sh.Min {
				return nil, validationErrors{fmt.Sprintf("Invalid value for parameter %s, value: %d, valid min value: %d", m.Name, n, sh.Min)}
			}
		}
		body.set("maximumPageSize", json.Number(strconv.Itoa(n)))
	}
	var next any // token used to request the current page
	startTrunc := 0
	if p.has("starting-token") {
		t, err := decodePageToken(p.get("starting-token"))
		if err != nil {
			return nil, err
		}
		next, startTrunc = t.next, t.truncate
		if s, ok := next.(string); ok {
			body.set("nextPageToken", s)
		}
	}
	total := 0
	first := true
	var prev any
	for {
		v, err := cl.call(ctx, c.op.Name, body)
		if err != nil {
			return nil, err
		}
		page, _ := modelOrder(shape(c.op.Output), v).(*omap)
		if page == nil {
			page = newOmap()
		}
		items, _ := page.m[pg.resultKey].([]any)
		if first {
			if startTrunc > 0 {
				if startTrunc > len(items) {
					startTrunc = len(items)
				}
				items = items[startTrunc:]
				if _, ok := page.get(pg.resultKey); ok {
					page.set(pg.resultKey, items)
				}
			}
			r.nonAggregate = nil
			if len(pg.nonAggregate) > 0 {
				r.nonAggregate = newOmap()
				for _, k := range pg.nonAggregate {
					nv, _ := page.get(k)
					r.nonAggregate.set(k, nv)
				}
			}
			first = false
		} else {
			startTrunc = 0
		}
		if maxItems >= 0 && total+len(items)-maxItems > 0 {
			keep := maxItems - total
			page.set(pg.resultKey, items[:keep])
			r.pages = append(r.pages, page)
			r.resumeToken = pageToken{next: next, truncate: keep + startTrunc, hasTrunc: true}.encode()
			break
		}
		r.pages = append(r.pages, page)
		total += len(items)
		tok, _ := page.m["nextPageToken"].(string)
		if tok == "" {
			break
		}
		if maxItems >= 0 && total == maxItems {
			r.resumeToken = pageToken{next: tok}.encode()
			break
		}
		if prev != nil && prev == any(tok) {
			return nil, fmt.Errorf("The same next token was received twice: {'nextPageToken': '%s'}", tok)
		}
		body.set("nextPageToken", tok)
		next, prev = tok, tok
	}
	// Pages keep their result list only; the token is the pager's business.
	for _, pgv := range r.pages {
		pgv.del("nextPageToken")
	}
	return r, nil
}

// printResult writes a command's answer in the chosen output format.
func printResult(e *env, g *globals, title string, r *result) error {
	switch g.output {
	case "json", "table":
	case "text":
		if r.paged {
			for i, page := range r.pages {
				cur := newOmap()
				if i == 0 && r.nonAggregate != nil {
					for _, k := range r.nonAggregate.keys {
						cur.set(k, r.nonAggregate.m[k])
					}
				}
				v, _ := page.get(r.resultKey)
				cur.set(r.resultKey, v)
				if err := textOut(e.stdout, g, cur); err != nil {
					return err
				}
			}
			if r.resumeToken != "" {
				nt := newOmap()
				inner := newOmap()
				inner.set("NextToken", r.resumeToken)
				nt.set("NextToken", inner)
				return textOut(e.stdout, g, nt)
			}
			return nil
		}
		return textOut(e.stdout, g, r.full())
	default: // AWS_DEFAULT_OUTPUT or the profile's output
		return fmt.Errorf("Unknown output type: %s", g.output)
	}
	v := r.full()
	if g.query != "" {
		q, err := query(g.query, v)
		if err != nil {
			return err
		}
		v = q
	}
	if g.output == "table" {
		return formatTable(e.stdout, title, v, termWidth(e.stdout), g.color == "on" || (g.color == "auto" && isTerminal(e.stdout)))
	}
	formatJSON(e.stdout, v)
	return nil
}

func textOut(w io.Writer, g *globals, v any) error {
	if g.query != "" {
		q, err := query(g.query, v)
		if err != nil {
			return err
		}
		v = q
	}
	return formatText(w, v)
}
