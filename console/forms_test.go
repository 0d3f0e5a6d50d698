package console_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/swfd/swfd/api"
)

// events is a run's whole history, each event with its attributes.
func (f *fixture) events(domain string, ex api.WorkflowExecution) []api.HistoryEvent {
	f.t.Helper()
	out, err := f.svc.GetWorkflowExecutionHistory(f.ctx, &api.GetWorkflowExecutionHistoryInput{Domain: domain, Execution: ex, MaximumPageSize: 1000})
	f.check(err)
	evs := make([]api.HistoryEvent, len(out.Events))
	for i, e := range out.Events {
		evs[i], err = e.Full()
		f.check(err)
	}
	return evs
}

// openRun is the open run of a workflow id.
func (f *fixture) openRun(domain, wid string) api.WorkflowExecution {
	f.t.Helper()
	out, err := f.svc.ListOpenWorkflowExecutions(f.ctx, &api.ListOpenWorkflowExecutionsInput{Domain: domain,
		StartTimeFilter: api.ExecutionTimeFilter{OldestDate: api.Time{Time: time.Unix(0, 0)}}, ExecutionFilter: &api.WorkflowExecutionFilter{WorkflowID: wid}})
	f.check(err)
	if len(out.ExecutionInfos) != 1 {
		f.t.Fatalf("open runs of %q: %d, want 1", wid, len(out.ExecutionInfos))
	}
	return out.ExecutionInfos[0].Execution
}

// runOf is the execution a console redirect goes to.
func runOf(t *testing.T, location string) api.WorkflowExecution {
	t.Helper()
	u, err := url.Parse(location)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(strings.TrimPrefix(u.EscapedPath(), "/console/d/"), "/")
	if len(parts) != 4 || parts[1] != "w" {
		t.Fatalf("not an execution's page: %s", location)
	}
	wid, _ := url.PathUnescape(parts[2])
	rid, _ := url.PathUnescape(parts[3])
	return api.WorkflowExecution{WorkflowID: wid, RunID: rid}
}

// A browser sends a multi-line box's line breaks as CRLF; the operations
// get them as the box held them, "\n", as the shown swf line sends them. A
// lone CR is a line break too.
func TestFormLineBreaks(t *testing.T) {
	f := newFixture(t)
	f.register("orders")
	w := newWeb(t, f.srv.URL)
	w.get("/console/d/orders/start")
	code, body, hdr := w.post("/console/d/orders/start", url.Values{"workflowId": {"crlf"}, "type": {"process-order|1"}, "input": {"line1\r\n$HOME\rend\r\n"}})
	if code != http.StatusSeeOther {
		t.Fatalf("start: %d %s", code, trunc(body))
	}
	ex := runOf(t, hdr.Get("Location"))
	base := execPath("orders", ex)
	w.get(base)
	if code, body, _ := w.post(base+"/signal", url.Values{"signalName": {"s"}, "input": {"a\r\nb"}}); code != http.StatusSeeOther {
		t.Fatalf("signal: %d %s", code, trunc(body))
	}
	if code, body, _ := w.post(base+"/terminate", url.Values{"reason": {"r\r\n1"}, "details": {"x\r\n\r\ny"}}); code != http.StatusSeeOther {
		t.Fatalf("terminate: %d %s", code, trunc(body))
	}
	var got []string
	for _, e := range f.events("orders", ex) {
		switch {
		case e.WorkflowExecutionStartedEventAttributes != nil:
			got = append(got, api.Value(e.WorkflowExecutionStartedEventAttributes.Input))
		case e.WorkflowExecutionSignaledEventAttributes != nil:
			got = append(got, api.Value(e.WorkflowExecutionSignaledEventAttributes.Input))
		case e.WorkflowExecutionTerminatedEventAttributes != nil:
			a := e.WorkflowExecutionTerminatedEventAttributes
			got = append(got, api.Value(a.Reason), api.Value(a.Details))
		}
	}
	want := []string{"line1\n$HOME\nend\n", "a\nb", "r\n1", "x\n\ny"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("inputs the operations got: %q, want %q", got, want)
	}
}

// The start form's input, typed over two lines: the run the form starts
// and the run its shown command line starts (run in bash) get the same
// input.
func TestBrowserStartInputAsShown(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	f.register("orders")
	sh := swfShell(t, f.srv.URL)
	const input = "line1\n$HOME 'q' \"d\""
	form := `form[action$="/start"]`
	step(t, ctx, "start form", chromedp.Navigate(f.srv.URL+"/console/d/orders/start"), until(`!!document.querySelector('`+form+` [data-cli]')`),
		chromedp.SetValue(form+` input[name=workflowId]`, "shown"),
		chromedp.SetValue(form+` textarea[name=input]`, input),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('`+form+`').dispatchEvent(new Event("input"))`),
		until(`document.querySelector('`+form+` [data-cli]').textContent.includes("--input")`))
	line := eval[string](t, ctx, `document.querySelector('`+form+` [data-cli]').textContent`)
	step(t, ctx, "submit", chromedp.SetValue(form+` input[name=workflowId]`, "typed"), chromedp.Submit(form), until(`!!document.querySelector(".notice")`))
	sh.run(line)
	for _, wid := range []string{"typed", "shown"} {
		a := f.events("orders", f.openRun("orders", wid))[0].WorkflowExecutionStartedEventAttributes
		if got := api.Value(a.Input); got != input {
			t.Errorf("%s: input %q, want %q (the command line: %s)", wid, got, input, line)
		}
	}
}

var cliCodeRE = regexp.MustCompile(`(?s)<code (?:data-cli|class="cli-mini"[^>]*)>(.*?)</code>`)

// shownCLI is the command line a page shows (the first, or the one that
// holds contains).
func shownCLI(t *testing.T, body, contains string) string {
	t.Helper()
	for _, m := range cliCodeRE.FindAllStringSubmatch(body, -1) {
		if line := html.UnescapeString(m[1]); strings.Contains(line, contains) {
			return line
		}
	}
	t.Fatalf("no command line with %q on the page", contains)
	return ""
}

// batchIDs are workflow ids a shell splits wrongly at whitespace, or
// expands, or unescapes.
var batchIDs = []string{"two words", `it's "q" $HOME`, `back\slash  two spaces`, "plain"}

// The batch confirmation's shell loop, run in bash with swf, and with the
// AWS CLI as swf, acts on every execution the filter matches, whatever its
// workflow id holds.
func TestBatchLoopRuns(t *testing.T) {
	for _, cli := range []string{"swf", "aws"} {
		t.Run(cli, func(t *testing.T) {
			f := newFixture(t)
			f.register("orders")
			sh := swfShell(t, f.srv.URL)
			if cli == "aws" {
				sh = awsShell(t, f.srv.URL)
			}
			runs := map[string]api.WorkflowExecution{}
			for _, wid := range batchIDs {
				runs[wid] = f.startRun("orders", wid, "{}", "batch")
			}
			f.startRun("orders", "untagged", "{}")
			w := newWeb(t, f.srv.URL)
			w.get("/console/d/orders/executions?tag=batch")
			_, body, _ := w.post("/console/d/orders/batch", url.Values{"tag": {"batch"}, "action": {"signal"}, "signalName": {"poke"}, "input": {`a "b" $c`}})
			wantIn(t, "batch confirmation", body, "Signal 4 executions?")
			line := shownCLI(t, body, "while")
			sh.run(line)
			for wid, ex := range runs {
				n := 0
				for _, e := range f.events("orders", ex) {
					if a := e.WorkflowExecutionSignaledEventAttributes; a != nil {
						n++
						if a.SignalName != "poke" || api.Value(a.Input) != `a "b" $c` {
							t.Errorf("%q: signal %q input %q, want poke, %q", wid, a.SignalName, api.Value(a.Input), `a "b" $c`)
						}
					}
				}
				if n != 1 {
					t.Errorf("%q: %d signals, want 1\n%s", wid, n, line)
				}
			}
			if evs := f.events("orders", f.openRun("orders", "untagged")); len(evs) != 2 {
				t.Errorf("untagged: %d events, want 2 (started, decision task scheduled): the loop acted outside the filter", len(evs))
			}
		})
	}
}

// Names whose ',' or '=' the CLI's shorthand would read as its own.
const (
	payType, payVersion = "Pay,Flow", "v=1"
	payList             = "q=1,x"
	actType, actVersion = "a b,c", "=2"
)

func (f *fixture) registerPay() {
	f.t.Helper()
	f.check(f.svc.RegisterDomain(f.ctx, &api.RegisterDomainInput{Name: "pay", WorkflowExecutionRetentionPeriodInDays: "30"}))
	f.check(f.svc.RegisterWorkflowType(f.ctx, &api.RegisterWorkflowTypeInput{Domain: "pay", Name: payType, Version: payVersion,
		DefaultTaskList: &api.TaskList{Name: "deciders"}, DefaultExecutionStartToCloseTimeout: "3600", DefaultTaskStartToCloseTimeout: "60", DefaultChildPolicy: api.ChildPolicyTerminate}))
	f.check(f.svc.RegisterActivityType(f.ctx, &api.RegisterActivityTypeInput{Domain: "pay", Name: actType, Version: actVersion}))
}

func (f *fixture) typeStatus(kind string) api.RegistrationStatus {
	f.t.Helper()
	if kind == "workflow" {
		out, err := f.svc.DescribeWorkflowType(f.ctx, &api.DescribeWorkflowTypeInput{Domain: "pay", WorkflowType: api.WorkflowType{Name: payType, Version: payVersion}})
		f.check(err)
		return out.TypeInfo.Status
	}
	out, err := f.svc.DescribeActivityType(f.ctx, &api.DescribeActivityTypeInput{Domain: "pay", ActivityType: api.ActivityType{Name: actType, Version: actVersion}})
	f.check(err)
	return out.TypeInfo.Status
}

// The swf lines the console shows for types, task lists and filters whose
// names hold ',' or '=', run in bash with swf (the list also with the AWS
// CLI), do what the console does: deprecate and undeprecate the types,
// start a re-run of the same type on the same task list, and list the
// executions the filter shows.
func TestShownStructArgsRun(t *testing.T) {
	f := newFixture(t)
	f.registerPay()
	sh := swfShell(t, f.srv.URL)
	w := newWeb(t, f.srv.URL)

	for _, kind := range []string{"workflow", "activity"} {
		_, body := w.get("/console/d/pay/types")
		sh.run(shownCLI(t, body, "swf deprecate-"+kind+"-type"))
		if st := f.typeStatus(kind); st != api.RegistrationStatusDeprecated {
			t.Fatalf("%s type after the shown deprecate line: %s", kind, st)
		}
		_, body = w.get("/console/d/pay/types")
		sh.run(shownCLI(t, body, "swf undeprecate-"+kind+"-type"))
		if st := f.typeStatus(kind); st != api.RegistrationStatusRegistered {
			t.Fatalf("%s type after the shown undeprecate line: %s", kind, st)
		}
	}

	// A closed run's re-run line starts the same type on the same list.
	const wid, tag = "id=1,2 x", "k=v,w"
	run, err := f.svc.StartWorkflowExecution(f.ctx, &api.StartWorkflowExecutionInput{Domain: "pay", WorkflowID: wid,
		WorkflowType: api.WorkflowType{Name: payType, Version: payVersion}, TaskList: &api.TaskList{Name: payList}, TagList: []string{tag}})
	f.check(err)
	first := api.WorkflowExecution{WorkflowID: wid, RunID: run.RunID}
	f.check(f.svc.TerminateWorkflowExecution(f.ctx, &api.TerminateWorkflowExecutionInput{Domain: "pay", WorkflowID: wid}))
	_, body := w.get(execPath("pay", first))
	sh.run(shownCLI(t, body, "swf start-workflow-execution"))
	det, err := f.svc.DescribeWorkflowExecution(f.ctx, &api.DescribeWorkflowExecutionInput{Domain: "pay", Execution: f.openRun("pay", wid)})
	f.check(err)
	if typ, tl := det.ExecutionInfo.WorkflowType, det.ExecutionConfiguration.TaskList; typ.Name != payType || typ.Version != payVersion || tl.Name != payList {
		t.Errorf("the re-run line started %q %q on %q, want %q %q on %q", typ.Name, typ.Version, tl.Name, payType, payVersion, payList)
	}

	// The lists' lines list what the pages list, with swf and with the
	// AWS CLI if it is installed.
	shells := []*shell{sh}
	if _, err := exec.LookPath("aws"); err == nil {
		shells = append(shells, awsShell(t, f.srv.URL))
	}
	q := url.Values{"type": {payType}, "version": {payVersion}}
	for _, c := range []struct {
		query  url.Values
		status string
	}{
		{url.Values{"wid": {wid}}, "OPEN"},
		{q, "OPEN"},
		{url.Values{"tag": {tag}}, "OPEN"},
		{url.Values{"status": {"closed"}, "type": {payType}, "version": {payVersion}}, "CLOSED"},
	} {
		_, body := w.get("/console/d/pay/executions?" + c.query.Encode())
		wantIn(t, "executions "+c.query.Encode(), body, "wid")
		line := shownCLI(t, body, "swf list-")
		for _, sh := range shells {
			out := sh.run(line + " --query 'executionInfos[].[execution.workflowId,executionStatus]' --output text")
			if want := wid + "\t" + c.status + "\n"; out != want {
				t.Errorf("%s\nlisted %q, want %q", line, out, want)
			}
		}
	}
}

// The start form's line, kept in step by the page's script, names a type
// and a task list whose names hold ',' or '=' so that swf reads them back:
// run in bash, it starts that type on that list.
func TestBrowserStartStructArgs(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	f.registerPay()
	sh := swfShell(t, f.srv.URL)
	form := `form[action$="/start"]`
	step(t, ctx, "start form", chromedp.Navigate(f.srv.URL+"/console/d/pay/start"), until(`!!document.querySelector('`+form+` [data-cli]')`),
		chromedp.SetValue(form+` input[name=workflowId]`, "shown"),
		chromedp.SetValue(form+` input[name=taskList]`, payList),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('`+form+`').dispatchEvent(new Event("input"))`),
		until(`document.querySelector('`+form+` [data-cli]').textContent.includes("--task-list")`))
	line := eval[string](t, ctx, `document.querySelector('`+form+` [data-cli]').textContent`)
	sh.run(line)
	det, err := f.svc.DescribeWorkflowExecution(f.ctx, &api.DescribeWorkflowExecutionInput{Domain: "pay", Execution: f.openRun("pay", "shown")})
	f.check(err)
	if typ, tl := det.ExecutionInfo.WorkflowType, det.ExecutionConfiguration.TaskList; typ.Name != payType || typ.Version != payVersion || tl.Name != payList {
		t.Errorf("%s\nstarted %q %q on %q, want %q %q on %q", line, typ.Name, typ.Version, tl.Name, payType, payVersion, payList)
	}
}

// A page shows as its notice only a message the console set, after an
// action, for the browser that acted: never text from a link's ?msg=, nor
// a notice link made for another browser, nor one altered.
func TestNoticeOnlyFromConsole(t *testing.T) {
	f := newFixture(t)
	open := f.shop()
	w := newWeb(t, f.srv.URL)
	w.get("/console/")
	const phish = "Security notice: your session expired, sign in at https://evil.example"
	for _, p := range []string{"/console/", "/console/d/orders/types", "/console/d/orders/executions", execPath("orders", open)} {
		_, body := w.get(p + "?msg=" + url.QueryEscape(phish))
		wantNotIn(t, p+" with ?msg=", body, "Security notice", `class="notice"`)
		_, body = w.get(p + "?msg=" + url.QueryEscape(phish) + "&sig=AAAAAAAAAAAAAAAAAAAAAA")
		wantNotIn(t, p+" with ?msg= and a made-up sig", body, "Security notice", `class="notice"`)
	}

	// Every action's notice still shows, to the browser that acted.
	notices := []struct {
		path string
		form url.Values
		want string
	}{
		{"/console/domains", url.Values{"name": {"fresh"}, "retention": {"3"}}, "Domain registered."},
		{"/console/d/fresh/types", url.Values{"kind": {"activity"}, "name": {"act"}, "version": {"2"}}, "Type registered."},
		{"/console/d/fresh/types/status", url.Values{"kind": {"activity"}, "name": {"act"}, "version": {"2"}, "action": {"deprecate"}}, "Type act 2 deprecated."},
		{"/console/d/fresh/status", url.Values{"action": {"deprecate"}}, "Domain deprecated."},
		{"/console/d/orders/start", url.Values{"workflowId": {"n-1"}, "type": {"process-order|1"}}, "Execution started."},
		{execPath("orders", open) + "/signal", url.Values{"signalName": {"s"}}, "Signal sent."},
		{execPath("orders", open) + "/cancel", nil, "Cancellation requested."},
		{execPath("orders", open) + "/terminate", nil, "Execution terminated."},
		{execPath("orders", open) + "/rerun", nil, "Started again as a new run."},
	}
	other := newWeb(t, f.srv.URL)
	other.get("/console/")
	for _, n := range notices {
		code, body, hdr := w.post(n.path, n.form)
		if code != http.StatusSeeOther {
			t.Fatalf("%s: %d %s", n.path, code, trunc(body))
		}
		loc := hdr.Get("Location")
		_, body = w.get(loc)
		wantIn(t, n.path+" then "+loc, body, `class="notice" role="status">`+html.EscapeString(n.want)+"<")
		_, body = other.get(loc)
		wantNotIn(t, "another browser at "+loc, body, `class="notice"`)
		u, _ := url.Parse(loc)
		q := u.Query()
		q.Set("msg", phish)
		u.RawQuery = q.Encode()
		_, body = w.get(u.String())
		wantNotIn(t, "the notice altered at "+u.String(), body, "Security notice", `class="notice"`)
	}
}

// Bidirectional control characters typed into a form show in its command
// line as escapes ($'…\xe2\x80\xae…'), never raw, and the line, pasted into
// bash (in the C locale, as here, too), sends exactly what the form sent:
// the form's signal and the line's are the same signal, to the same
// execution, whose workflow id holds one as well.
func TestBrowserBidiCommandLine(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	f.register("orders")
	sh := swfShell(t, f.srv.URL)
	ex := f.startRun("orders", "rtl-\u202Etxt.exe", `{}`)
	const name = "sig-\u202Eexe.txt"
	const input = "pay \u2067to\u2069 'q' \\ $HOME\nline2 \u200F"
	form := `form[action$="/signal"]`
	step(t, ctx, "type into the signal form", chromedp.Navigate(f.srv.URL+execPath("orders", ex)),
		until(`!!document.querySelector('`+form+` [data-cli]')`),
		chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("details.action").forEach(d => d.open = true)`),
		typeInto(form+` input[name=signalName]`, name),
		typeInto(form+` textarea[name=input]`, input),
		until(`document.querySelector('`+form+` textarea[name=input]').value === `+js(input)),
		until(`document.querySelector('`+form+` [data-cli]').textContent.includes("--input")`))
	line := eval[string](t, ctx, `document.querySelector('`+form+` [data-cli]').textContent`)
	if i := strings.IndexFunc(line, isBidi); i >= 0 {
		t.Errorf("the shown command holds a raw bidirectional control character at %d: %q", i, line)
	}
	wantIn(t, "the shown command", line, `--workflow-id $'rtl-\xe2\x80\xaetxt.exe'`, `--signal-name $'sig-\xe2\x80\xaeexe.txt'`,
		`\xe2\x81\xa7to\xe2\x81\xa9`, `\x0aline2 \xe2\x80\x8f'`)
	step(t, ctx, "send the form", chromedp.Submit(form), until(`!!document.querySelector(".notice")`))
	sh.run(line)
	var got [][2]string
	for _, e := range f.events("orders", ex) {
		if a := e.WorkflowExecutionSignaledEventAttributes; a != nil {
			got = append(got, [2]string{a.SignalName, api.Value(a.Input)})
		}
	}
	want := [2]string{name, input}
	if len(got) != 2 || got[0] != want || got[1] != want {
		t.Errorf("signals %q, want two of %q: the form's and the shown line's (%s)", got, want, line)
	}
}

// bidiControls are the bidirectional control characters the console
// shows as escapes.
const bidiControls = "\u061C\u200E\u200F\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069"

func isBidi(r rune) bool { return strings.ContainsRune(bidiControls, r) }

// typeInto types text into a field as a person does: key presses, and
// each bidirectional control character (which no key types) inserted as an
// input method or a paste inserts it.
func typeInto(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := chromedp.Focus(sel)(ctx, tg); err != nil {
			return err
		}
		for text != "" {
			i := strings.IndexFunc(text, isBidi)
			if i < 0 {
				i = len(text)
			}
			if i > 0 {
				if _, err := chromedp.KeyEvent(text[:i])(ctx, tg); err != nil {
					return err
				}
				text = text[i:]
				continue
			}
			_, n := utf8.DecodeRuneInString(text)
			if _, err := cdp.Call(ctx, tg, input.InsertText, input.InsertTextParams{Text: text[:n]}); err != nil {
				return err
			}
			text = text[n:]
		}
		return nil
	})
}
