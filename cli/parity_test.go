package cli

import (
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// parityCase is a command line with what the AWS CLI v1 prints for it
// (recorded from `aws swf …` against the same fake server).
type parityCase struct {
	args           []string
	stdout, stderr string
	rc             int
}

// checkParity runs each case with swf and compares with the recorded
// output; when the AWS CLI is installed, a subtest checks that aws still
// prints exactly that.
func checkParity(t *testing.T, f *fakeSWF, cases []parityCase) {
	t.Helper()
	env := map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL}
	for _, c := range cases {
		r := swfRun(env, c.args...)
		if r.RC != c.rc || r.Stdout != c.stdout || r.Stderr != c.stderr {
			t.Errorf("swf %q:\nrc=%d, want %d\nstdout %q\nwant   %q\nstderr %q\nwant   %q", c.args, r.RC, c.rc, r.Stdout, c.stdout, r.Stderr, c.stderr)
		}
	}
	t.Run("aws", func(t *testing.T) {
		var argss [][]string
		for _, c := range cases {
			argss = append(argss, append([]string{"swf"}, c.args...))
		}
		runs := awsBatch(t, map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL, "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s", "AWS_DEFAULT_REGION": "us-east-1"}, argss)
		for i, c := range cases {
			if r := runs[i]; r.RC != c.rc || r.Stdout != c.stdout || r.Stderr != c.stderr {
				t.Errorf("aws %q:\nrc=%d, want %d\nstdout %q\nwant   %q\nstderr %q\nwant   %q", c.args, r.RC, c.rc, r.Stdout, c.stdout, r.Stderr, c.stderr)
			}
		}
	})
}

// A --starting-token that is not one the CLI printed is, as in botocore,
// the service's own nextPageToken (say, from a --no-paginate answer),
// optionally followed by ___N, the items of that page to skip.
func TestStartingTokenOfTheService(t *testing.T) {
	setCreds(t)
	f := pagedFake(t)
	ld := []string{"list-domains", "--registration-status", "REGISTERED", "--query", "domainInfos[].name", "--output", "text"}
	with := func(extra ...string) []string { return append(append([]string{}, ld...), extra...) }
	checkParity(t, f, []parityCase{
		{args: with("--starting-token", "p2"), stdout: "c\td\ne\n"},
		{args: with("--starting-token", "p2___1"), stdout: "d\ne\n"},
		{args: with("--starting-token", "None"), stdout: "a\tb\nc\td\ne\n"},
		{args: with("--starting-token", "p2", "--max-items", "1", "--query", "NextToken"), stdout: "None\neyJuZXh0UGFnZVRva2VuIjogInAyIiwgImJvdG9fdHJ1bmNhdGVfYW1vdW50IjogMX0=\n"},
		{args: with("--starting-token", "a___b___c"), stderr: "\nBad starting token: a___b___c\n", rc: 255},
	})
}

// A list flag given no values is an empty list, as in the AWS CLI.
func TestEmptyListFlag(t *testing.T) {
	setCreds(t)
	f := newFake(t, func(string, map[string]any) (int, string) { return 200, "" })
	arn := "arn:aws:swf:us-east-1:123456789012:/domain/d"
	checkParity(t, f, []parityCase{
		{args: []string{"untag-resource", "--resource-arn", arn, "--tag-keys"}},
		{args: []string{"tag-resource", "--tags", "--resource-arn", arn}},
	})
	for i, r := range f.requests {
		member := []string{"tagKeys", "tags"}[i%2]
		if v, ok := r.body[member]; !ok || !reflect.DeepEqual(v, []any{}) {
			t.Errorf("request %d (%s): %s = %#v, want []", i, r.op, member, v)
		}
	}
}

// A list inside a text cell (here: the rows take their columns from the
// first, where tagList is null) or a parameter validation message is
// printed as Python prints it.
func TestCellsAsPythonPrintsThem(t *testing.T) {
	setCreds(t)
	f := newFake(t, func(string, map[string]any) (int, string) {
		return 200, `{"executionInfos":[{"execution":{"workflowId":"w0","runId":"r0"},"workflowType":{"name":"n","version":"1"},"startTimestamp":1,"executionStatus":"OPEN"},{"execution":{"workflowId":"w1","runId":"r"},"workflowType":{"name":"n","version":"1"},"startTimestamp":1,"executionStatus":"OPEN","tagList":["t1","it's","a\tb"]}]}`
	})
	lo := []string{"list-open-workflow-executions", "--domain", "d", "--start-time-filter", "oldestDate=0", "--query", "executionInfos[].{id: execution.workflowId, t: tagList, e: execution}"}
	checkParity(t, f, []parityCase{
		{args: append(lo, "--output", "text"), stdout: "w0\tNone\nE\tr0\tw0\nw1\t['t1', \"it's\", 'a\\tb']\nE\tr\tw1\n"},
		{args: []string{"register-workflow-type", "--domain", "d", "--name", "n", "--workflow-version", "1", "--default-task-list", "name=a,b"}, rc: 255,
			stderr: "\nParameter validation failed:\nInvalid type for parameter defaultTaskList.name, value: ['a', 'b'], type: <class 'list'>, valid types: <class 'str'>\n"},
	})
}

// In a table, letters of ambiguous East Asian width (é, °) take two
// columns, as East Asian wide ones do.
func TestTableWidthOfAmbiguousLetters(t *testing.T) {
	setCreds(t)
	f := newFake(t, func(string, map[string]any) (int, string) {
		return 200, `{"configuration":{"workflowExecutionRetentionPeriodInDays":"1"},"domainInfo":{"arn":"a","description":"héllo 漢字 °","name":"d1","status":"REGISTERED"}}`
	})
	checkParity(t, f, []parityCase{
		{args: []string{"describe-domain", "--name", "d1", "--output", "table", "--query", "domainInfo"}, stdout: "-------------------------------------------------\n|                DescribeDomain                 |\n+-----+------------------+-------+--------------+\n| arn |   description    | name  |   status     |\n+-----+------------------+-------+--------------+\n|  a  |  héllo 漢字 °  |  d1   |  REGISTERED  |\n+-----+------------------+-------+--------------+\n"},
	})
}

// As with argparse in the AWS CLI, a long option may be abbreviated to
// any prefix that only it starts; global options are matched first.
func TestAbbreviatedFlags(t *testing.T) {
	setCreds(t)
	f := newFake(t, func(string, map[string]any) (int, string) { return 200, describeDomainWire })
	checkParity(t, f, []parityCase{
		{args: []string{"describe-domain", "--nam", "d1", "--out", "text", "--qu", "domainInfo.name"}, stdout: "d1\n"},
		{args: []string{"--ou=text", "describe-domain", "--na=d1", "--query", "domainInfo.status"}, stdout: "REGISTERED\n"},
		{args: []string{"describe-domain", "--name", "d1", "--no-p", "--query", "domainInfo.name"}, stdout: "\"d1\"\n"},
	})
	if r := swfRun(map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL}, "describe-domain", "--name", "d1", "--ver"); r.RC != 0 || r.Stdout != versionString()+"\n" {
		t.Errorf("--ver after the command: rc=%d %q %q", r.RC, r.Stdout, r.Stderr)
	}
	// An ambiguous prefix is a usage error naming the candidates, in the
	// AWS CLI's order.
	ambiguous := []struct {
		args []string
		msg  string
	}{
		{[]string{"describe-domain", "--name", "d1", "--no"}, "ambiguous option: --no could match --no-verify-ssl, --no-paginate, --no-sign-request"},
		{[]string{"describe-domain", "--name", "d1", "--v"}, "ambiguous option: --v could match --v2-debug, --version"},
		{[]string{"register-workflow-type", "--domain", "d", "--name", "n", "--workflow-version", "1", "--default-task=x"},
			"ambiguous option: --default-task=x could match --default-task-start-to-close-timeout, --default-task-list, --default-task-priority"},
		{[]string{"list-domains", "--registration-status", "REGISTERED", "--ma", "1"}, "ambiguous option: --ma could match --maximum-page-size, --max-items"},
	}
	lastError := func(stderr string) string {
		lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
		_, msg, _ := strings.Cut(lines[len(lines)-1], "error: ")
		return msg
	}
	var argss [][]string
	for _, c := range ambiguous {
		r := swfRun(map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL}, c.args...)
		if r.RC != 2 || lastError(r.Stderr) != c.msg {
			t.Errorf("swf %q: rc=%d, want 2 and %q:\n%s", c.args, r.RC, c.msg, r.Stderr)
		}
		argss = append(argss, append([]string{"swf"}, c.args...))
	}
	t.Run("aws", func(t *testing.T) {
		runs := awsBatch(t, map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL, "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s", "AWS_DEFAULT_REGION": "us-east-1"}, argss)
		for i, c := range ambiguous {
			if runs[i].RC != 2 || lastError(runs[i].Stderr) != c.msg {
				t.Errorf("aws %q: rc=%d, want 2 and %q:\n%s", c.args, runs[i].RC, c.msg, runs[i].Stderr)
			}
		}
	})
}

func TestPyRepr(t *testing.T) {
	o := newOmap()
	o.set("k", []any{})
	v := []any{"a'b\"", "\x00é\u200b\u00a0\\", nil, true, json.Number("1.5"), o}
	// What Python's str() of that list prints.
	want := `['a\'b"', '\x00é\u200b\xa0\\', None, True, 1.5, {'k': []}]`
	if got := pyStr(v); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// A CA bundle that cannot be read matters only to an https endpoint, as
// with the AWS CLI: an http one works, an https one fails naming the
// endpoint and the reason as Python words it.
func TestCABundleOnlyForHTTPS(t *testing.T) {
	setCreds(t)
	plain := newFake(t, func(string, map[string]any) (int, string) { return 200, describeDomainWire })
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, describeDomainWire) }))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	dir := t.TempDir()
	missing, notPEM := filepath.Join(dir, "missing.pem"), filepath.Join(dir, "key.txt")
	os.WriteFile(notPEM, []byte("not a certificate\n"), 0o644)
	cases := []struct {
		bundle, endpoint string
		rc               int
		stderr           string // for aws, the start of it (Python adds where in _ssl.c)
	}{
		{missing, plain.URL, 0, ""},
		{missing, tlsSrv.URL, 255, "\nSSL validation failed for " + tlsSrv.URL + "/ [Errno 2] No such file or directory"},
		{dir, tlsSrv.URL, 255, "\nSSL validation failed for " + tlsSrv.URL + "/ [Errno 21] Is a directory"},
		{notPEM, tlsSrv.URL, 255, "\nSSL validation failed for " + tlsSrv.URL + "/ [X509: NO_CERTIFICATE_OR_CRL_FOUND] no certificate or crl found"},
		{caFile(t, tlsSrv), tlsSrv.URL, 0, ""},
	}
	for _, c := range cases {
		t.Setenv("AWS_CA_BUNDLE", c.bundle)
		r := swfRun(nil, "describe-domain", "--name", "d1", "--endpoint-url", c.endpoint)
		want := ""
		if c.stderr != "" {
			want = c.stderr + "\n"
		}
		if r.RC != c.rc || r.Stderr != want {
			t.Errorf("AWS_CA_BUNDLE=%s %s: rc=%d %q, want %d %q", c.bundle, c.endpoint, r.RC, r.Stderr, c.rc, want)
		}
		// The flag the same way.
		t.Setenv("AWS_CA_BUNDLE", "")
		if r2 := swfRun(nil, "describe-domain", "--name", "d1", "--endpoint-url", c.endpoint, "--ca-bundle", c.bundle); r2.RC != r.RC || r2.Stderr != r.Stderr {
			t.Errorf("--ca-bundle %s %s: rc=%d %q, want %d %q", c.bundle, c.endpoint, r2.RC, r2.Stderr, r.RC, r.Stderr)
		}
	}
	t.Run("aws", func(t *testing.T) {
		var jobs []awsJob
		for _, c := range cases {
			jobs = append(jobs, awsJob{Args: []string{"swf", "describe-domain", "--name", "d1", "--endpoint-url", c.endpoint},
				Env: map[string]string{"AWS_CA_BUNDLE": c.bundle, "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s", "AWS_DEFAULT_REGION": "us-east-1", awsMaxAttempts: "1"}})
		}
		for i, r := range awsBatchJobs(t, jobs, 1) {
			c := cases[i]
			if r.RC != c.rc || !strings.HasPrefix(r.Stderr, c.stderr) || (c.stderr == "") != (r.Stderr == "") {
				t.Errorf("aws AWS_CA_BUNDLE=%s %s: rc=%d %q, want %d %q", c.bundle, c.endpoint, r.RC, r.Stderr, c.rc, c.stderr)
			}
		}
	})
}

// AWS_DEFAULT_OUTPUT set to "" is, as in the AWS CLI, an output format
// (an unknown one, reported after the call), not a variable left unset.
func TestEmptyDefaultOutput(t *testing.T) {
	setCreds(t)
	f := newFake(t, func(string, map[string]any) (int, string) { return 200, describeDomainWire })
	args := []string{"describe-domain", "--name", "d1", "--query", "domainInfo.name"}
	env := map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL, "AWS_DEFAULT_OUTPUT": ""}
	n := len(f.requests)
	if r := swfRun(env, args...); r.RC != 255 || r.Stdout != "" || r.Stderr != "\nUnknown output type: \n" || len(f.requests) != n+1 {
		t.Errorf("rc=%d %q %q, %d calls", r.RC, r.Stdout, r.Stderr, len(f.requests)-n)
	}
	if r := swfRun(env, append(args, "--output", "text")...); r.RC != 0 || r.Stdout != "d1\n" {
		t.Errorf("--output text: rc=%d %q %q", r.RC, r.Stdout, r.Stderr)
	}
	t.Run("aws", func(t *testing.T) {
		runs := awsBatch(t, map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL, "AWS_DEFAULT_OUTPUT": "", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s", "AWS_DEFAULT_REGION": "us-east-1"},
			[][]string{append([]string{"swf"}, args...)})
		if r := runs[0]; r.RC != 255 || r.Stdout != "" || r.Stderr != "\nUnknown output type: \n" {
			t.Errorf("aws: rc=%d %q %q", r.RC, r.Stdout, r.Stderr)
		}
	})
}

// A --query that fails as it runs says so as the AWS CLI does, without Go
// types in the message (go-jmespath does not tell which function an
// argument was wrong for, so that part is left out).
func TestQueryRuntimeErrors(t *testing.T) {
	setCreds(t)
	f := newFake(t, func(string, map[string]any) (int, string) { return 200, describeDomainWire })
	env := map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL}
	for q, want := range map[string]string{
		"foo(`1`)":       "\nUnknown function: foo()\n",
		"length(`1`)":    "\nInvalid type for value: 1, expected one of: ['string', 'array', 'object']\n",
		"sum(`[\"a\"]`)": "\nInvalid type for value: [a], expected one of: ['array-number']\n",
		// null as Python writes it (a member the data does not have), not Go's <nil>
		"length(nope)": "\nInvalid type for value: None, expected one of: ['string', 'array', 'object']\n",
		// merge's arguments, which go-jmespath does not check, panicked
		// inside the library
		"merge('a')":      "\nIn function merge(), invalid type for value, expected one of: ['object'], received: \"string\"\n",
		"merge(nope)":     "\nIn function merge(), invalid type for value, expected one of: ['object'], received: \"null\"\n",
		"merge(@, `[1]`)": "\nIn function merge(), invalid type for value, expected one of: ['object'], received: \"array\"\n",
		"merge(@, `1`)":   "\nIn function merge(), invalid type for value, expected one of: ['object'], received: \"number\"\n",
	} {
		if r := swfRun(env, "describe-domain", "--name", "d1", "--query", q); r.RC != 255 || r.Stderr != want {
			t.Errorf("--query %s: rc=%d %q, want %q", q, r.RC, r.Stderr, want)
		}
	}
	checkParity(t, f, []parityCase{{args: []string{"describe-domain", "--name", "d1", "--query", "foo(`1`)"}, stderr: "\nUnknown function: foo()\n", rc: 255}})
}

// An expression go-jmespath's lexer panics on (an identifier followed by a
// byte past ASCII; found by FuzzQuery) is a bad --query, refused before
// the call as any syntax error is, where swf crashed with the library's
// panic.
func TestQueryLexerPanicIsABadQuery(t *testing.T) {
	setCreds(t)
	f := newFake(t, func(string, map[string]any) (int, string) { return 200, describeDomainWire })
	env := map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL}
	for _, q := range []string{"A\u0080", "a.b\u0080"} {
		r := swfRun(env, "describe-domain", "--name", "d1", "--query", q)
		if want := "\nBad value for --query " + q + ": Invalid jmespath expression: LexerError: Unknown token\n"; r.RC != 255 || r.Stderr != want {
			t.Errorf("--query %q: rc=%d %q, want %q", q, r.RC, r.Stderr, want)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := len(f.requests); n != 0 {
		t.Errorf("%d calls made for a bad --query", n)
	}
}

// A whole number the response writes as a float (a timestamp of 1.7E9 seconds)
// is a float to the AWS CLI, printed 1700000000.0, also when a --query
// passes it on: go-jmespath, which has one kind of number, made it
// 1700000000. So is a whole float literal of the expression. An integer
// (a count) stays an integer.
func TestQueryKeepsWholeFloats(t *testing.T) {
	setCreds(t)
	f := newFake(t, func(string, map[string]any) (int, string) {
		return 200, `{"executionInfo":{"execution":{"workflowId":"w","runId":"r"},"workflowType":{"name":"n","version":"1"},"startTimestamp":1.7E9,"executionStatus":"OPEN"},` +
			`"openCounts":{"openActivityTasks":2,"openDecisionTasks":1,"openTimers":0,"openChildWorkflowExecutions":0,"openLambdaFunctions":0},` +
			`"executionConfiguration":{"taskStartToCloseTimeout":"1","executionStartToCloseTimeout":"2","taskList":{"name":"t"},"childPolicy":"TERMINATE"},"latestActivityTaskTimestamp":1700000001.000}`
	})
	dwe := func(output, q string) []string {
		return []string{"describe-workflow-execution", "--domain", "d", "--execution", "workflowId=w,runId=r", "--output", output, "--query", q}
	}
	const pick = "{start: executionInfo.startTimestamp, open: openCounts.openActivityTasks, latest: latestActivityTaskTimestamp}"
	checkParity(t, f, []parityCase{
		{args: dwe("json", "executionInfo.startTimestamp"), stdout: "1700000000.0\n"},
		{args: dwe("json", pick), stdout: "{\n    \"start\": 1700000000.0,\n    \"open\": 2,\n    \"latest\": 1700000001.0\n}\n"},
		{args: dwe("text", pick), stdout: "1700000001.0\t2\t1700000000.0\n"},
		{args: dwe("table", pick), stdout: "------------------------------------------\n|        DescribeWorkflowExecution       |\n+---------------+-------+----------------+\n|    latest     | open  |     start      |\n+---------------+-------+----------------+\n|  1700000001.0 |  2    |  1700000000.0  |\n+---------------+-------+----------------+\n"},
		{args: dwe("text", "[openCounts.openTimers, `1e2`, `3`]"), stdout: "0\t100.0\t3\n"},
	})
}

// A negative --cli-read-timeout or --cli-connect-timeout is refused before
// any call, as the AWS CLI refuses it: before, a negative connect timeout
// failed every call with "Read timeout on endpoint URL", and a negative read
// timeout was taken as none.
func TestNegativeTimeouts(t *testing.T) {
	setCreds(t)
	f := newFake(t, func(string, map[string]any) (int, string) { return 200, describeDomainWire })
	checkParity(t, f, []parityCase{
		{args: []string{"describe-domain", "--name", "d1", "--cli-read-timeout", "-1"}, rc: 255,
			stderr: "\nAttempted to set read timeout to -1, but the timeout cannot be set to a value less than or equal to 0.\n"},
		{args: []string{"describe-domain", "--name", "d1", "--cli-connect-timeout", "-5"}, rc: 255,
			stderr: "\nAttempted to set connect timeout to -5, but the timeout cannot be set to a value less than or equal to 0.\n"},
		{args: []string{"describe-domain", "--name", "d1", "--cli-connect-timeout", "0", "--cli-read-timeout", "0", "--query", "domainInfo.name"}, stdout: "\"d1\"\n"},
	})
}

// An unknown command is refused as argparse in the AWS CLI refuses an
// unknown operation: the choices two to a line after a blank line, the
// last one alone when their number is odd, and the close matches
// (difflib's, ratio 0.8 or more, best first) offered after them.
func TestInvalidCommandAsAWS(t *testing.T) {
	cases := []struct{ name, tail string }{
		{"list-domain", "\n\nInvalid choice: 'list-domain', maybe you meant:\n\n  * list-domains\n"},
		{"describe-workflow-executions", "\n\nInvalid choice: 'describe-workflow-executions', maybe you meant:\n\n  * describe-workflow-execution\n  * terminate-workflow-execution\n  * start-workflow-execution\n"},
		{"respond-activity-task-complete", "\n\nInvalid choice: 'respond-activity-task-complete', maybe you meant:\n\n  * respond-activity-task-completed\n  * respond-activity-task-canceled\n  * respond-activity-task-failed\n"},
		{"nope", ""},
	}
	suggestions := func(stderr string) string {
		if i := strings.Index(stderr, "\n\nInvalid choice: "); i >= 0 {
			return stderr[i:]
		}
		return ""
	}
	for _, c := range cases {
		r := swfRun(nil, c.name)
		if r.RC != 2 || !strings.Contains(r.Stderr, "Invalid choice, valid choices are:\n\ncount-closed-workflow-executions ") || suggestions(r.Stderr) != c.tail {
			t.Errorf("swf %s: rc=%d\n%s\nwant the choices after a blank line, then %q", c.name, r.RC, r.Stderr, c.tail)
		}
		if strings.Contains(r.Stderr, "| \n") || strings.HasSuffix(strings.TrimSuffix(r.Stderr, c.tail), "| ") {
			t.Errorf("swf %s: a line of one choice ends in \"| \":\n%s", c.name, r.Stderr)
		}
	}
	t.Run("aws", func(t *testing.T) {
		var argss [][]string
		for _, c := range cases {
			argss = append(argss, []string{"swf", c.name})
		}
		for i, r := range awsBatch(t, map[string]string{"AWS_DEFAULT_REGION": "us-east-1"}, argss) {
			if c := cases[i]; r.RC != 2 || !strings.Contains(r.Stderr, "Invalid choice, valid choices are:\n\ncount-closed-workflow-executions ") || suggestions(r.Stderr) != c.tail {
				t.Errorf("aws swf %s: rc=%d\n%s\nwant %q", c.name, r.RC, r.Stderr, c.tail)
			}
		}
	})
}

// A fileb:// value is bytes to the AWS CLI, and SWF has no binary
// parameter: given to a string parameter it is refused before any call,
// the bytes written as Python writes them; swf sent them as text.
func TestFilebIsBytes(t *testing.T) {
	setCreds(t)
	f := newFake(t, func(string, map[string]any) (int, string) { return 200, `{"runId":"r"}` })
	dir := t.TempDir()
	bin := filepath.Join(dir, "in.bin")
	os.WriteFile(bin, []byte("{\"a\": 'x'}\n\x00\xff\\"), 0o644)
	checkParity(t, f, []parityCase{
		{args: []string{"signal-workflow-execution", "--domain", "d", "--workflow-id", "w", "--signal-name", "s", "--input", "fileb://" + bin}, rc: 255,
			stderr: "\nParameter validation failed:\nInvalid type for parameter input, value: b'{\"a\": \\'x\\'}\\n\\x00\\xff\\\\', type: <class 'bytes'>, valid types: <class 'str'>\n"},
	})
	if len(f.requests) != 0 {
		t.Errorf("%d calls made; want none", len(f.requests))
	}
}
