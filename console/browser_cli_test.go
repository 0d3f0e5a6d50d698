package console_test

import (
	"bytes"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// argsOf runs a shown command line in bash with swf replaced by a function
// that prints its arguments, and returns them: what swf would be given.
// Nothing else may run: a file the line makes fails the test.
func argsOf(t *testing.T, line string) []string {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash on PATH")
	}
	dir := t.TempDir()
	cmd := exec.Command("bash", "-c", "swf() { printf '%s\\0' \"$@\"; }\n"+line)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if files, _ := filepath.Glob(filepath.Join(dir, "*")); len(files) > 0 {
		t.Errorf("the line made files %q: it ran commands of its own\n%s", files, line)
	}
	if err != nil || e.Len() > 0 {
		t.Fatalf("bash: %v\n%s\nstderr:\n%s", err, line, e.String())
	}
	return strings.Split(strings.TrimSuffix(o.String(), "\x00"), "\x00")
}

// The command lines the page's script rebuilds as a form is typed in give
// swf exactly the execution's, the domain's and the typed values, each as
// one argument, whatever they hold: flags of the form written inside a
// workflow id or a domain name (quoted by the server), quotes, ';', '#',
// '$', and values typed into the form. A field the server trims (a
// workflow id, a signal name) is trimmed in the line too.
func TestBrowserHostileCommandLines(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	const dom = `d --name ';touch PWNED-d;# --input 'x' $HOME`
	const wid = `a --signal-name ';touch PWNED-s;# --reason ';touch PWNED-r;# --input '\'' "$(touch PWNED-q)"`
	const typed = `s --input ';touch PWNED-t;# 'it''s' \ $HOME`
	f.register(dom)
	ex := f.startRun(dom, wid, "{}")
	line := func(form string) string {
		return eval[string](t, ctx, `document.querySelector('`+form+` [data-cli]').textContent`)
	}
	set := func(form string, kv ...string) chromedp.Action[chromedp.Void] {
		code := ""
		for i := 0; i+1 < len(kv); i += 2 {
			code += `document.querySelector('` + form + ` [name=` + kv[i] + `]').value = ` + js(kv[i+1]) + `;`
		}
		return chromedp.Evaluate[chromedp.Void](code + `document.querySelector('` + form + `').dispatchEvent(new Event("input"))`)
	}
	check := func(what, line string, want ...string) {
		t.Helper()
		if got := argsOf(t, line); !slices.Equal(got, want) {
			t.Errorf("%s: swf gets\n%q\nwant\n%q\nfrom the line\n%s", what, got, want, line)
		}
	}

	step(t, ctx, "execution", chromedp.Navigate(f.srv.URL+execPath(dom, ex)), until(`!!document.querySelector('form[action$="/signal"] [data-cli]')`))
	run := []string{"--domain", dom, "--workflow-id", wid, "--run-id", ex.RunID}
	signal, terminate := `form[action$="/signal"]`, `form[action$="/terminate"]`
	check("signal, as loaded", line(signal), append([]string{"signal-workflow-execution"}, run...)...)
	check("terminate, as loaded", line(terminate), append([]string{"terminate-workflow-execution"}, run...)...)
	step(t, ctx, "type", set(signal, "signalName", " "+typed+" ", "input", typed), set(terminate, "reason", typed, "details", "d\x01\u202Ee\u200B"),
		until(`document.querySelector('`+terminate+` [data-cli]').textContent.includes("--details")`))
	check("signal, typed", line(signal), append(append([]string{"signal-workflow-execution"}, run...), "--signal-name", typed, "--input", typed)...)
	if l := line(terminate); strings.ContainsAny(l, "\x01\u202E\u200B") {
		t.Errorf("terminate: the line shows a control or invisible character as it is: %q", l)
	}
	check("terminate, typed", line(terminate), append(append([]string{"terminate-workflow-execution"}, run...), "--reason", typed, "--details", "d\x01\u202Ee\u200B")...)

	start := `form[action$="/start"]`
	step(t, ctx, "start", chromedp.Navigate(f.srv.URL+domPath(dom)+"start"), until(`!!document.querySelector('`+start+` [data-cli]')`),
		set(start, "workflowId", " \u00A0"+typed+"\t ", "input", typed), until(`document.querySelector('`+start+` [data-cli]').textContent.includes("--input")`))
	check("start", line(start), "start-workflow-execution", "--domain", dom, "--workflow-id", typed, "--workflow-type", "name=process-order,version=1", "--input", typed)
	// Tags are one a line, and a tag may hold a comma: "net, gross" is one.
	step(t, ctx, "start tags", set(start, "tags", "net, gross\n  eu \n\n"+typed+"\n"), until(`document.querySelector('`+start+` [data-cli]').textContent.includes("--tag-list")`))
	check("start tags", line(start), "start-workflow-execution", "--domain", dom, "--workflow-id", typed, "--workflow-type", "name=process-order,version=1",
		"--tag-list", "net, gross", "eu", typed, "--input", typed)

	wf := `form[data-cli-form]:has(input[name=kind][value=workflow])`
	step(t, ctx, "types", chromedp.Navigate(f.srv.URL+domPath(dom)+"types"), until(`!!document.querySelector('`+wf+` [data-cli]')`))
	check("register-workflow-type, as loaded", line(wf), "register-workflow-type", "--domain", dom)
	step(t, ctx, "type a type", set(wf, "name", typed, "version", "1"), until(`document.querySelector('`+wf+` [data-cli]').textContent.includes("--workflow-version")`))
	check("register-workflow-type, typed", line(wf), "register-workflow-type", "--domain", dom, "--name", typed, "--workflow-version", "1")
}

func domPath(domain string) string { return "/console/d/" + url.PathEscape(domain) + "/" }
