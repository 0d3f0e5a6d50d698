package cli

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd/internal/swfdtest"
)

// queryDomain fills one swfd with what the output comparisons read: two
// domains (one with tags, unicode and wide letters in its description,
// one with an empty description), workflow and activity types of several
// names and versions, executions open and closed with tags, nested JSON
// inputs, unicode and empty strings.
func queryDomain(t *testing.T, url string) {
	t.Helper()
	env := map[string]string{"AWS_ENDPOINT_URL_SWF": url, "AWS_DEFAULT_REGION": "us-east-1"}
	run := func(args ...string) awsRun {
		t.Helper()
		r := swfRun(env, args...)
		if r.RC != 0 {
			t.Fatalf("swf %q: rc=%d %s", args, r.RC, r.Stderr)
		}
		return r
	}
	run("register-domain", "--name", "qd", "--workflow-execution-retention-period-in-days", "3",
		"--description", "Ünïcödé 漢字 café °C", "--tags", "key=team,value=core", "key=wide,value=値", "key=empty,value=")
	run("register-domain", "--name", "qe", "--workflow-execution-retention-period-in-days", "1", "--description", "")
	for _, wt := range [][]string{{"wf", "1", "first"}, {"wf", "2", "second, with a , comma"}, {"旅行", "1", "wide 名前"}, {"zeta", "10", ""}} {
		run("register-workflow-type", "--domain", "qd", "--name", wt[0], "--workflow-version", wt[1], "--description", wt[2],
			"--default-task-list", "name=decisions", "--default-execution-start-to-close-timeout", "7200",
			"--default-task-start-to-close-timeout", "3600", "--default-child-policy", "TERMINATE")
	}
	for _, at := range [][]string{{"act", "1"}, {"act", "2"}, {"ételé", "1"}} {
		run("register-activity-type", "--domain", "qd", "--name", at[0], "--activity-version", at[1], "--default-task-list", "name=acts",
			"--default-task-start-to-close-timeout", "60", "--default-task-priority", "-5")
	}
	run("deprecate-activity-type", "--domain", "qd", "--activity-type", "name=act,version=1")
	starts := []struct {
		id, typ, input string
		tags           []string
	}{
		{"w1", "name=wf,version=1", `{"a": [1, 2.5, {"b": null}], "c": "é", "d": true, "e": ""}`, []string{"t1", "标签", "x y"}},
		{"w2", "name=wf,version=2", "plain", []string{"t2"}},
		{"w3", "name=旅行,version=1", "", nil},
		{"w4", "name=zeta,version=10", `[1.0, 2, 3e2]`, []string{"t1", "t2"}},
		{"w5", "name=wf,version=1", "{}", []string{"closed"}},
		{"w6", "name=wf,version=2", "line one\nline\ttwo 😀 e\u0301", []string{"😀"}},
	}
	for _, s := range starts {
		args := []string{"start-workflow-execution", "--domain", "qd", "--workflow-id", s.id, "--workflow-type", s.typ}
		if s.input != "" {
			args = append(args, "--input", s.input)
		}
		if len(s.tags) > 0 {
			args = append(args, append([]string{"--tag-list"}, s.tags...)...)
		}
		run(args...)
	}
	run("terminate-workflow-execution", "--domain", "qd", "--workflow-id", "w4", "--reason", "done ✓", "--details", `{"n": 1.50}`)
	run("terminate-workflow-execution", "--domain", "qd", "--workflow-id", "w5", "--reason", "")
	run("request-cancel-workflow-execution", "--domain", "qd", "--workflow-id", "w2")
	run("signal-workflow-execution", "--domain", "qd", "--workflow-id", "w1", "--signal-name", "sig", "--input", `{"deep": {"list": [[1, 2], [3]]}}`)
}

// TestOutputMatchesAWS runs the same command lines through swf and the
// real `aws swf` against one populated swfd and compares what they print,
// byte for byte (stdout, stderr, exit status): every output format, many
// --query expressions (functions, numbers as integers and floats, nulls,
// booleans, nested lists and maps, empty results), unicode and wide
// letters in tables, and pagination.
func TestOutputMatchesAWS(t *testing.T) {
	setCreds(t)
	if awsPython() == "" {
		t.Skip("aws (AWS CLI v1) not installed")
	}
	srv := swfdtest.Start(t, swfdtest.Options{PollTimeout: 500 * time.Millisecond})
	queryDomain(t, srv.URL)

	now := "oldestDate=0"
	lo := []string{"list-open-workflow-executions", "--domain", "qd", "--start-time-filter", now}
	lc := []string{"list-closed-workflow-executions", "--domain", "qd", "--start-time-filter", now}
	lwt := []string{"list-workflow-types", "--domain", "qd", "--registration-status", "REGISTERED"}
	lat := []string{"list-activity-types", "--domain", "qd", "--registration-status", "REGISTERED"}
	dd := []string{"describe-domain", "--name", "qd"}
	ld := []string{"list-domains", "--registration-status", "REGISTERED"}
	hist := []string{"get-workflow-execution-history", "--domain", "qd", "--execution", "workflowId=w1,runId=RUN1"}
	with := func(base []string, extra ...string) []string { return append(append([]string{}, base...), extra...) }

	var cases [][]string
	add := func(args ...string) { cases = append(cases, args) }
	formats := func(base []string, extra ...string) {
		for _, o := range []string{"json", "text", "table"} {
			add(with(base, append(append([]string{}, extra...), "--output", o)...)...)
		}
	}
	// Whole responses.
	for _, base := range [][]string{lo, lc, lwt, lat, dd, ld, hist,
		{"describe-workflow-type", "--domain", "qd", "--workflow-type", "name=旅行,version=1"},
		{"list-tags-for-resource", "--resource-arn", "arn:aws:swf:us-east-1:123456789012:/domain/qd"},
		{"count-open-workflow-executions", "--domain", "qd", "--start-time-filter", now},
		{"list-activity-types", "--domain", "qe", "--registration-status", "REGISTERED"},
		{"describe-activity-type", "--domain", "qd", "--activity-type", "name=ételé,version=1"},
		{"describe-workflow-execution", "--domain", "qd", "--execution", "workflowId=w1,runId=RUN1"},
		{"get-workflow-execution-history", "--domain", "qd", "--execution", "workflowId=w1,runId=RUN1", "--reverse-order"},
		{"list-closed-workflow-executions", "--domain", "qd", "--start-time-filter", now, "--close-status-filter", "status=TERMINATED"},
		{"list-open-workflow-executions", "--domain", "qd", "--start-time-filter", now, "--tag-filter", "tag=标签"},
		{"count-closed-workflow-executions", "--domain", "qd", "--start-time-filter", now},
		{"count-pending-decision-tasks", "--domain", "qd", "--task-list", "name=decisions"},
		{"describe-domain", "--name", "nope"},
	} {
		formats(base)
	}
	for _, c := range []string{"off", "on"} {
		add(with(dd, "--output", "table", "--color", c)...)
		add(with(lwt, "--output", "table", "--color", c)...)
	}
	// Queries, each in every format.
	queries := []struct {
		base []string
		q    string
	}{
		{dd, "avg(`[2,2]`)"},
		{dd, "avg(`[1,2]`)"},
		{dd, "sum(`[1,2]`)"},
		{dd, "sum(`[1.5,2.5]`)"},
		{dd, "sum(`[]`)"},
		{dd, "max(`[1,3,2]`)"},
		{dd, "min(`[1.0,3,2]`)"},
		{dd, "max(`[\"b\",\"a\"]`)"},
		{dd, "to_number('3')"},
		{dd, "to_number('3.0')"},
		{dd, "to_number('1e3')"},
		{dd, "to_number('x')"},
		{dd, "to_string(`1.0`)"},
		{dd, "to_string(`[1,2.5,\"x\",null,true]`)"},
		{dd, "to_string(domainInfo)"},
		{dd, "to_string('é')"},
		{dd, "keys(domainInfo)"},
		{dd, "values(domainInfo)"},
		{dd, "keys(@)"},
		{dd, "merge(domainInfo, configuration, `{\"name\": \"over\"}`)"},
		{dd, "type(domainInfo)"},
		{dd, "[type(`1`), type(`1.5`), type('a'), type(`null`), type(`true`), type(`[]`)]"},
		{dd, "length(domainInfo.description)"},
		{dd, "reverse(domainInfo.description)"},
		{dd, "reverse(keys(domainInfo))"},
		{dd, "contains(domainInfo.description, '漢')"},
		{dd, "starts_with(domainInfo.name, 'q')"},
		{dd, "not_null(domainInfo.nope, `null`, domainInfo.name)"},
		{dd, "not_null(domainInfo.nope)"},
		{dd, "`[1.0, 2.50, 1e-7, 1e16, 1e22, -0.0, 0.1, 100]`"},
		{dd, "`[null, true, false, \"\", 0]`"},
		{dd, "{a: `null`, b: `true`, c: `\"\"`, d: `1.5`, e: `[]`, f: `{}`}"},
		{dd, "`[[1, [2, 3]], {\"a\": [1, {\"b\": null}]}, \"s\"]`"},
		{dd, "{n: domainInfo.name, nested: {list: `[1, [2]]`, map: configuration}}"},
		{dd, "`[]`"},
		{dd, "`{}`"},
		{dd, "''"},
		{dd, "domainInfo.nope"},
		{dd, "abs(`-1.5`)"},
		{dd, "[ceil(`1.2`), floor(`1.8`), abs(`-2`)]"},
		{dd, "ends_with(domainInfo.name, 'd')"},
		{dd, "map(&length(@), `[\"ab\", \"c\"]`)"},
		{dd, "to_array(domainInfo.name)"},
		{lwt, "sort_by(typeInfos, &workflowType.name)[].workflowType"},
		{lwt, "sort_by(typeInfos, &workflowType.version)[].[workflowType.name, workflowType.version]"},
		{lwt, "max_by(typeInfos, &to_number(workflowType.version)).workflowType"},
		{lwt, "min_by(typeInfos, &creationDate).workflowType.name"},
		{lwt, "avg(typeInfos[].to_number(workflowType.version))"},
		{lwt, "sum(typeInfos[].to_number(workflowType.version))"},
		{lwt, "join(', ', typeInfos[].workflowType.name)"},
		{lwt, "typeInfos[].description"},
		{lwt, "typeInfos[?description == ''].workflowType"},
		{lwt, "typeInfos[].{name: workflowType.name, d: description, s: status}"},
		{lwt, "length(typeInfos)"},
		{lat, "typeInfos[].activityType"},
		{lo, "executionInfos[].tagList"},
		{lo, "executionInfos[].{id: execution.workflowId, tags: tagList, cancel: cancelRequested}"},
		{lo, "executionInfos[?contains(tagList || `[]`, 't1')].execution.workflowId"},
		{lo, "sort_by(executionInfos, &execution.workflowId)[].[execution.workflowId, join(',', tagList || `[]`)]"},
		{lo, "executionInfos[].startTimestamp | [0] | type(@)"},
		{lc, "executionInfos[].{id: execution.workflowId, status: closeStatus, type: workflowType}"},
		{lc, "executionInfos[?closeStatus == 'CANCELED']"},
		{hist, "events[].eventType"},
		{hist, "events[0].workflowExecutionStartedEventAttributes.input"},
		{hist, "events[?eventType == 'WorkflowExecutionSignaled'] | [0].workflowExecutionSignaledEventAttributes"},
		{hist, "{ids: events[].eventId, total: sum(events[].eventId), mean: avg(events[].eventId), last: max(events[].eventId), first: min(events[].eventId)}"},
		{hist, "events[].[eventId, eventType]"},
		{hist, "reverse(events)[0].eventId"},
		{hist, "length(events[?eventId > `1`])"},
		{hist, "to_string(events[0].eventId)"},
		{hist, "events[*].keys(@)"},
		{ld, "domainInfos[].[name, description]"},
		{ld, "domainInfos[].description"},
		{ld, "domainInfos[?name == 'none']"},
		{dd, "[`12345678901234567890`, sum(`[12345678901234567890, 1]`), to_number('98765432109876543210'), `1e400`]"},
		{dd, "[ceil(`1e20`), floor(`-2.5`), abs(`-12345678901234567890`), avg(`[1, 2.5]`), max(`[1, 1.0]`), min(`[2.0, 2]`)]"},
		{dd, "[to_number(' 1_000 '), to_number('+5'), to_number('1.5e3'), to_number('0x10'), to_number(''), to_number(`true`)]"},
		{dd, "to_string(`{\"k\": [\"\\u00e9\\ud83d\\ude00\\u007f\\t\", 1.50, -0.0]}`)"},
		{dd, "`[\"😀 emoji\", \"e\\u0301\", \"zero\\u200bwidth\", \"tab\\there\", \"new\\nline\", \"ｱｲｳ\", \"Ω≈ç√\", \"\\u0000\\u001f\\u007f\\u0085\"]`"},
		{dd, "{\"😀\": 'a', \"ｱ\": `1.5`, \"e\\u0301\": `null`, \"k\": `[\"x\\ty\", \"é\"]`}"},
		{dd, "[domainInfo.description, to_string(domainInfo.description), length(domainInfo.description)]"},
		{dd, "`[\"\\u0378 unassigned\", \"\\udbff\\udfff end\", \"\\ue000 private\", \"\\ufffe no\"]`"},
		{dd, "{k: `[\"\\u0378\\u00ad\\u2028\\u3000\\u00a0\\u200b\\ud83d\\ude00'\\\"\\\\\", {\"é\": [1.5, null, true]}]`}"},
		// Tables the AWS CLI draws, or fails on, in ways that follow its
		// Python code: a row longer than the section's first, elements
		// that are not objects in a list of objects.
		{dd, "`[\"\\u0378\", 1.5, [{}, {}, {\"k k\": true, \"b\": \"\", \"c\": 1}]]`"},
		{dd, "`[{\"name\": {\"Z\": 1}}, {\"a\": 1}, \"\", \"it's\"]`"},
		{dd, "`[{\"name\": []}, []]`"},
		{dd, "`[{}, \"\"]`"},
		{dd, "`{\"é\": [{}, [], \"\", \"\"]}`"},
		{dd, "`[{\"n\": [1]}, \"a n b\"]`"},
		{dd, "`[{\"n\": [1]}, [\"n\"]]`"},
		{dd, "`[{\"n\": [1]}, null]`"},
		{dd, "`0`"},
		{dd, "`0.0`"},
		{dd, "`false`"},
		{dd, "`[{\"a\": 1}, [1, 2]]`"},
		{dd, "`[{\"a\": 1}, \"s\"]`"},
		{dd, "{a: domainInfo.name, l: `[{\"x\": 1}, null]`}"},
		{dd, "[`1` == `1.0`, `1` == `true`, `[1]` == `[true]`, `{\"a\": 1, \"b\": 2}` == `{\"b\": 2, \"a\": 1}`, 'a' < 'b', `1` < `null`]"},
		{dd, "[!`0`, !'', !`[]`, !`1`, `0` || 'x', `null` && 'x', '' || `[]`]"},
		{dd, "`[1, 2, 3, 4, 5]`[::-2]"},
		{dd, "`[1, 2, 3, 4, 5]`[-2:]"},
		{dd, "*"},
		{dd, "domainInfo.*"},
		{dd, "[domainInfo.name, configuration.*][]"},
		// Errors as the expression runs.
		{dd, "sum(`[\"a\"]`)"},
		{dd, "length(`1`)"},
		{dd, "abs(`1`, `2`)"},
		{dd, "not_null()"},
		{dd, "sort_by(`[1, \"a\"]`, &@)"},
		{dd, "min_by(`[1, \"a\"]`, &@)"},
		{dd, "`1` < 'a'"},
		{dd, "`[1, 2]`[::0]"},
		{dd, "contains('abc', `1`)"},
		{dd, "nope(`1`)"},
		{dd, "length(nope)"},
		{dd, "merge('a')"},
		{dd, "merge(domainInfo, `[1]`)"},
		// Expressions that do not parse.
		{dd, "a["},
		{dd, "[1:2:3:4]"},
		{dd, "a.1"},
		{dd, "\"a\"(b)"},
		{dd, "`x"},
		{dd, "a ~ b"},
		{dd, "a = b"},
		{dd, "{a: b"},
		{dd, "foo[?a == `1`"},
		{dd, "a.`1`"},
	}
	for _, q := range queries {
		formats(q.base, "--query", q.q)
	}
	// Pagination.
	for _, base := range [][]string{ld, lwt, hist} {
		for _, p := range [][]string{{"--max-items", "1"}, {"--max-items", "2", "--page-size", "1"}, {"--page-size", "1"}, {"--no-paginate", "--maximum-page-size", "1"}} {
			formats(base, p...)
		}
	}
	formats(lwt, "--max-items", "1", "--query", "typeInfos[].workflowType.name")
	formats(lwt, "--page-size", "1", "--query", "typeInfos[0]")
	formats(lwt, "--page-size", "2", "--query", "length(typeInfos)")
	formats(hist, "--max-items", "3", "--page-size", "2", "--query", "events[].[eventId, eventType]")
	formats(ld, "--no-paginate", "--maximum-page-size", "1", "--query", "[domainInfos[0].name, type(nextPageToken)]")
	formats(lc, "--close-status-filter", "status=COMPLETED")
	formats(lc, "--close-status-filter", "status=COMPLETED", "--max-items", "1")
	formats(lo, "--query", "executionInfos[?execution.workflowId=='w6'].{id: execution.workflowId, tags: tagList, t: startTimestamp}")
	formats(dd, "--query", "{blank: ' ', tabs: '\t', list: [' ', ''], n: `-0`}")
	add(with(dd, "--output", "yaml")...)

	// The history's run id.
	r := swfRun(map[string]string{"AWS_ENDPOINT_URL_SWF": srv.URL}, with(lo, "--query", "executionInfos[?execution.workflowId=='w1'].execution.runId | [0]", "--output", "text")...)
	run1 := strings.TrimSpace(r.Stdout)
	for i, c := range cases {
		for j, a := range c {
			cases[i][j] = strings.ReplaceAll(a, "RUN1", run1)
		}
	}
	// Continue from a --max-items answer's token (the CLI's, which holds
	// the service's), in every format.
	for _, base := range [][]string{ld, lwt, hist} {
		base := append([]string{}, base...)
		for j, a := range base {
			base[j] = strings.ReplaceAll(a, "RUN1", run1)
		}
		r := swfRun(map[string]string{"AWS_ENDPOINT_URL_SWF": srv.URL}, with(base, "--max-items", "1", "--query", "NextToken", "--output", "text")...)
		token := strings.TrimSpace(r.Stdout)
		if r.RC != 0 || token == "" || token == "None" {
			t.Fatalf("no NextToken for %q: rc=%d %q %q", base, r.RC, r.Stdout, r.Stderr)
		}
		formats(base, "--starting-token", token)
		formats(base, "--starting-token", token, "--max-items", "1")
	}
	compare(t, srv.URL, cases, knownQueryDifferences)
}

// A queryDifference is how swf's answer to a --query is known to differ
// from the AWS CLI's, in every output format, because swf evaluates
// queries with go-jmespath where the AWS CLI uses Python's jmespath. The
// comparison checks that each listed query still differs the way its
// kind says (and fails when one no longer differs at all, so that the
// list stays true); every query not listed must match byte for byte.
type queryDifference int

const (
	// numberKind: the same numbers, printed apart. go-jmespath has one
	// number type, float64: a whole float a function computes (avg,
	// sum, to_number) prints 2 where Python prints 2.0, and an integer
	// beyond 2^53 loses digits (1.2345678901234567e+19). Checked: both
	// succeed, and the outputs are equal once every number is read as a
	// float64 and the table's padding is set aside.
	numberKind queryDifference = iota
	// orderKind: the same members, in another order. go-jmespath holds
	// objects as Go maps, which keep no order: keys(), values(), an
	// object's wildcard (x.*) and merge() give them in Go's map order
	// (random) or sorted, where Python gives them in the response's
	// order. Checked: both succeed with the same words, in any order (so
	// such a query may match by chance).
	orderKind
	// toStringKind: to_string() writes the same JSON differently
	// (members in another order, non-ASCII letters unescaped, 1.0 as 1).
	// Checked: both succeed, and the strings decode to equal JSON values.
	toStringKind
	// messageKind: both fail alike, in other words. go-jmespath's error
	// messages (parse errors, wrong arguments) are its own, and do not
	// name the function or point at the column. Checked: the same exit
	// status and stdout, another stderr, still saying "Bad value for
	// --query" for an expression that does not parse.
	messageKind
	// resultKind: go-jmespath computes another result, where the two
	// libraries read the JMESPath specification apart (ordering strings,
	// comparing a number with a string, Python's 1 == True, int()'s
	// '1_000', a literal beyond float64). Checked: swf's json output is
	// the one recorded, and differs from the AWS CLI's.
	resultKind
)

// A knownDifference is one listed query: its kind, and for resultKind the
// json output swf gives.
type knownDifference struct {
	kind queryDifference
	swf  string
}

// knownQueryDifferences lists the --query expressions of
// TestOutputMatchesAWS whose answer go-jmespath cannot make the AWS CLI's
// (docs/cli.md says which results differ and why).
var knownQueryDifferences = map[string]knownDifference{
	"avg(`[2,2]`)":     {kind: numberKind},
	"sum(`[1.5,2.5]`)": {kind: numberKind},
	"to_number('3.0')": {kind: numberKind},
	"to_number('1e3')": {kind: numberKind},
	"{ids: events[].eventId, total: sum(events[].eventId), mean: avg(events[].eventId), last: max(events[].eventId), first: min(events[].eventId)}": {kind: numberKind},
	"[ceil(`1e20`), floor(`-2.5`), abs(`-12345678901234567890`), avg(`[1, 2.5]`), max(`[1, 1.0]`), min(`[2.0, 2]`)]":                                {kind: numberKind},

	"*":                         {kind: orderKind},
	"keys(@)":                   {kind: orderKind},
	"keys(domainInfo)":          {kind: orderKind},
	"values(domainInfo)":        {kind: orderKind},
	"reverse(keys(domainInfo))": {kind: orderKind},
	"events[*].keys(@)":         {kind: orderKind},
	"domainInfo.*":              {kind: orderKind},
	"merge(domainInfo, configuration, `{\"name\": \"over\"}`)": {kind: orderKind},

	"to_string(`1.0`)":      {kind: toStringKind},
	"to_string(domainInfo)": {kind: toStringKind},
	"to_string(`{\"k\": [\"\\u00e9\\ud83d\\ude00\\u007f\\t\", 1.50, -0.0]}`)": {kind: toStringKind},

	"sum(`[\"a\"]`)":            {kind: messageKind},
	"length(`1`)":               {kind: messageKind},
	"length(nope)":              {kind: messageKind},
	"abs(`1`, `2`)":             {kind: messageKind},
	"not_null()":                {kind: messageKind},
	"sort_by(`[1, \"a\"]`, &@)": {kind: messageKind},
	"min_by(`[1, \"a\"]`, &@)":  {kind: messageKind},
	"`[1, 2]`[::0]":             {kind: messageKind},
	"merge('a')":                {kind: messageKind},
	"merge(domainInfo, `[1]`)":  {kind: messageKind},
	"a[":                        {kind: messageKind},
	"[1:2:3:4]":                 {kind: messageKind},
	"a.1":                       {kind: messageKind},
	"\"a\"(b)":                  {kind: messageKind},
	"`x":                        {kind: messageKind},
	"a ~ b":                     {kind: messageKind},
	"a = b":                     {kind: messageKind},
	"{a: b":                     {kind: messageKind},
	"foo[?a == `1`":             {kind: messageKind},
	"a.`1`":                     {kind: messageKind},

	// Python fails comparing a number with a string; go-jmespath gives null.
	"`1` < 'a'": {kind: resultKind, swf: "null\n"},
	// Python asks whether 1 is in 'abc' and fails; go-jmespath gives false.
	"contains('abc', `1`)": {kind: resultKind, swf: "false\n"},
	// Python: [1] == [True] and 'a' < 'b'; go-jmespath: neither.
	"[`1` == `1.0`, `1` == `true`, `[1]` == `[true]`, `{\"a\": 1, \"b\": 2}` == `{\"b\": 2, \"a\": 1}`, 'a' < 'b', `1` < `null`]": {
		kind: resultKind, swf: "[\n    true,\n    false,\n    false,\n    true,\n    null,\n    null\n]\n"},
	// Python's int() reads ' 1_000 ', and 1.5e3 is 1500.0 to it.
	"[to_number(' 1_000 '), to_number('+5'), to_number('1.5e3'), to_number('0x10'), to_number(''), to_number(`true`)]": {
		kind: resultKind, swf: "[\n    null,\n    5,\n    1500,\n    null,\n    null,\n    null\n]\n"},
	// Integers past 2^53 lose digits; 1e400, beyond a float64, is read
	// as the legacy literal string where Python makes it Infinity.
	"[`12345678901234567890`, sum(`[12345678901234567890, 1]`), to_number('98765432109876543210'), `1e400`]": {
		kind: resultKind, swf: "[\n    1.2345678901234567e+19,\n    1.2345678901234567e+19,\n    9.876543210987654e+19,\n    \"1e400\"\n]\n"},
}

// numberPattern finds the numbers in what the CLI prints.
var numberPattern = regexp.MustCompile(`-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?`)

// sameNumbers reports whether a and b print the same values once every
// number is read as a float64 and runs of spaces and of dashes (a
// table's padding and borders) count as one.
func sameNumbers(a, b string) bool {
	norm := func(s string) string {
		s = numberPattern.ReplaceAllStringFunc(s, func(n string) string {
			f, err := strconv.ParseFloat(n, 64)
			if err != nil {
				return n
			}
			return strconv.FormatFloat(f, 'g', -1, 64)
		})
		s = regexp.MustCompile(` +`).ReplaceAllString(s, " ")
		return regexp.MustCompile(`-+`).ReplaceAllString(s, "-")
	}
	return norm(a) == norm(b)
}

// sameWords reports whether a and b print the same words (split at white
// space and a table's bars, JSON's commas and a table's borders set
// aside) in any order.
func sameWords(a, b string) bool {
	words := func(s string) []string {
		var w []string
		for _, f := range strings.Fields(strings.NewReplacer(",\n", "\n", "|", " ").Replace(s)) {
			if strings.Trim(f, "+-") != "" { // a table's borders, whose widths follow the order
				w = append(w, f)
			}
		}
		sort.Strings(w)
		return w
	}
	return reflect.DeepEqual(words(a), words(b))
}

// sameJSONString reports whether a and b, what json or text output
// prints for a string that holds JSON, hold equal JSON values.
func sameJSONString(a, b string) bool {
	decode := func(s string) (any, bool) {
		s = strings.TrimSuffix(s, "\n")
		var inner string
		if json.Unmarshal([]byte(s), &inner) == nil {
			s = inner
		}
		var v any
		return v, json.Unmarshal([]byte(s), &v) == nil
	}
	x, okx := decode(a)
	y, oky := decode(b)
	return okx && oky && reflect.DeepEqual(x, y)
}

// differsAsKnown reports why swf's run m of a listed query, in the given
// output format, does not differ from the AWS CLI's run a the way d says,
// or "".
func (d knownDifference) differsAsKnown(format string, a, m awsRun) string {
	switch d.kind {
	case numberKind:
		if a.RC != 0 || m.RC != 0 || a.Stderr != m.Stderr || !sameNumbers(a.Stdout, m.Stdout) {
			return "not the same numbers printed apart"
		}
	case orderKind:
		if a.RC != 0 || m.RC != 0 || a.Stderr != m.Stderr || !sameWords(a.Stdout, m.Stdout) {
			return "not the same words in another order"
		}
	case toStringKind:
		if a.RC != 0 || m.RC != 0 || a.Stderr != m.Stderr || !sameJSONString(a.Stdout, m.Stdout) {
			return "not the same JSON written apart"
		}
	case messageKind:
		if a.RC == 0 || a.RC != m.RC || a.Stdout != m.Stdout {
			return "not the same failure"
		}
		if strings.HasPrefix(a.Stderr, "\nBad value for --query ") != strings.HasPrefix(m.Stderr, "\nBad value for --query ") {
			return "a parse error on one side only"
		}
	case resultKind:
		if format == "json" && m.Stdout != d.swf {
			return fmt.Sprintf("swf no longer prints %q", d.swf)
		}
	}
	return ""
}

// compare runs each command line through swf and aws and reports every
// difference but the known ones of a --query listed in known, which it
// checks still differ as listed.
func compare(t *testing.T, url string, cases [][]string, known map[string]knownDifference) {
	t.Helper()
	env := map[string]string{"AWS_ENDPOINT_URL_SWF": url, "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret"}
	argss := make([][]string, len(cases))
	for i, c := range cases {
		argss[i] = append([]string{"swf"}, c...)
	}
	start := time.Now()
	runs := awsBatchN(t, env, argss, 2)
	t.Logf("%d aws command lines in %v", len(cases), time.Since(start))
	n := 0
	seen, differs := map[string]bool{}, map[string]bool{}
	for i, c := range cases {
		a, m := runs[i], swfRun(env, c...)
		a.Stdout, m.Stdout = maskPageTokens(a.Stdout), maskPageTokens(m.Stdout)
		if a.RC == 2 && m.RC == 2 { // a usage error: the last line, without the program's name
			a.Stderr, m.Stderr = usageMessage(a.Stderr), usageMessage(m.Stderr)
		}
		q, format := argValue(c, "--query"), argValue(c, "--output")
		if d, ok := known[q]; ok && q != "" {
			seen[q] = true
			if a == m {
				continue
			}
			differs[q] = true
			if why := d.differsAsKnown(format, a, m); why != "" {
				t.Errorf("%q: a known difference, but %s\naws rc=%d stdout:\n%s\nstderr: %q\nswf rc=%d stdout:\n%s\nstderr: %q", c, why, a.RC, a.Stdout, a.Stderr, m.RC, m.Stdout, m.Stderr)
			}
			continue
		}
		if a != m {
			n++
			t.Errorf("%s\naws rc=%d stdout:\n%s\nstderr: %q\nswf rc=%d stdout:\n%s\nstderr: %q", fmt.Sprintf("%q", c), a.RC, a.Stdout, a.Stderr, m.RC, m.Stdout, m.Stderr)
		}
	}
	if n > 0 {
		t.Logf("%d of %d differ", n, len(cases))
	}
	for q, d := range known {
		switch {
		case !seen[q]:
			t.Errorf("--query %s is listed as a known difference but never run", q)
		case !differs[q] && d.kind != orderKind: // Go's map order may match by chance
			t.Errorf("--query %s now matches the AWS CLI in every format: take it off the known differences", q)
		}
	}
}

// argValue is the value that follows flag in args, or "".
func argValue(args []string, flag string) string {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == flag {
			return args[i+1]
		}
	}
	return ""
}

// pageTokenPattern finds the service's page tokens, and the CLI's
// NextToken (base64 of JSON holding one), in what the CLI prints.
var pageTokenPattern = regexp.MustCompile(`[A-Za-z0-9+/=]{48,}`)

// maskPageTokens replaces the service's page tokens, which swfd seals
// anew at every call, with one text, and the CLI's NextToken with the JSON
// it encodes, its service token replaced alike. Tokens of the same length
// stay of the same length, so that tables keep their layout.
func maskPageTokens(s string) string {
	return pageTokenPattern.ReplaceAllStringFunc(s, func(tok string) string {
		if data, err := base64.StdEncoding.DecodeString(tok); err == nil {
			var pt map[string]any
			if json.Unmarshal(data, &pt) == nil {
				if _, ok := pt["nextPageToken"].(string); ok {
					pt["nextPageToken"] = "SERVICE"
					out, _ := json.Marshal(pt)
					return fmt.Sprintf("CLI%d%s", len(tok), out)
				}
			}
		}
		return fmt.Sprintf("SERVICE%d", len(tok))
	})
}

// usageMessage is the message of a usage error (after "error: ").
func usageMessage(stderr string) string {
	_, msg, _ := strings.Cut(stderr, ": error: ")
	return msg
}
