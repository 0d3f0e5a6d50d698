package cli

import (
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// ---- shorthand -------------------------------------------------------------

func TestShorthandParse(t *testing.T) {
	cases := []struct {
		in   string
		want string // compact JSON
	}{
		{"name=order,version=1", `{"name":"order","version":"1"}`},
		{"a=b,c", `{"a":["b","c"]}`},
		{"a=b,c,d=e", `{"a":["b","c"],"d":"e"}`},
		{"a=[x,y],b={c=d,e=[1,2]}", `{"a":["x","y"],"b":{"c":"d","e":["1","2"]}}`},
		{"a='x, y=z',b=\"q\\\"r\"", `{"a":"x, y=z","b":"q\"r"}`},
		{"a=x\\,y", `{"a":"x,y"}`},
		{"a=b=c", `{"a":"b=c"}`},
		{"a=", `{"a":""}`},
		{"a = b , c = d", `{"a":"b","c":"d"}`},
		{"key=k1,value=v1", `{"key":"k1","value":"v1"}`},
		{"oldestDate=2024-01-01T10:00:00Z", `{"oldestDate":"2024-01-01T10:00:00Z"}`},
	}
	for _, c := range cases {
		got, err := parseShorthand(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		b, _ := json.Marshal(plainJSON(got))
		if !jsonEqual(string(b), c.want) {
			t.Errorf("%q: got %s want %s", c.in, b, c.want)
		}
	}
	for _, bad := range []string{"novalue", "a=b,c=d,a=e", "a=[x", "a='open"} {
		if _, err := parseShorthand(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	_, err := parseShorthand("a")
	if err == nil || err.Error() != "Expected: '=', received: 'EOF' for input:\na\n ^" {
		t.Errorf("error text: %v", err)
	}
}

func jsonEqual(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// ---- flags to request bodies -------------------------------------------------

// fakeSWF is an httptest server recording requests and answering with
// canned bodies by operation.
type fakeSWF struct {
	*httptest.Server
	mu       sync.Mutex
	requests []fakeReq
	answer   func(op string, body map[string]any) (int, string)
}

type fakeReq struct {
	op     string
	body   map[string]any
	header http.Header
}

func newFake(t *testing.T, answer func(op string, body map[string]any) (int, string)) *fakeSWF {
	f := &fakeSWF{answer: answer}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		var body map[string]any
		json.Unmarshal(data, &body)
		op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "SimpleWorkflowService.")
		f.mu.Lock()
		f.requests = append(f.requests, fakeReq{op, body, r.Header.Clone()})
		f.mu.Unlock()
		status, resp := 200, ""
		if f.answer != nil {
			status, resp = f.answer(op, body)
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(status)
		io.WriteString(w, resp)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeSWF) last() fakeReq {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[len(f.requests)-1]
}

func setCreds(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func TestFlagsToRequest(t *testing.T) {
	setCreds(t)
	f := newFake(t, func(op string, _ map[string]any) (int, string) { return 200, "" })
	dir := t.TempDir()
	decisions := filepath.Join(dir, "d.json")
	os.WriteFile(decisions, []byte(`[{"decisionType":"CompleteWorkflowExecution","completeWorkflowExecutionDecisionAttributes":{"result":"ok"}}]`), 0o644)
	input := filepath.Join(dir, "in.txt")
	os.WriteFile(input, []byte("from file"), 0o644)
	env := map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL, "AWS_REGION": "eu-west-1"}
	cases := []struct {
		args []string
		op   string
		want string
	}{
		{[]string{"register-domain", "--name", "d", "--workflow-execution-retention-period-in-days", "7", "--tags", "key=k1,value=v1", "key=k2,value=v2"},
			"RegisterDomain", `{"name":"d","workflowExecutionRetentionPeriodInDays":"7","tags":[{"key":"k1","value":"v1"},{"key":"k2","value":"v2"}]}`},
		{[]string{"start-workflow-execution", "--domain", "d", "--workflow-id", "w", "--workflow-type", "name=order,version=1", "--task-list", "name=x", "--tag-list", "a", "b", "--input", "file://" + input},
			"StartWorkflowExecution", `{"domain":"d","workflowId":"w","workflowType":{"name":"order","version":"1"},"taskList":{"name":"x"},"tagList":["a","b"],"input":"from file"}`},
		{[]string{"start-workflow-execution", "--domain", "d", "--workflow-id", "w", "--workflow-type", `{"name":"o","version":"2"}`, "--tag-list", `["x"]`},
			"StartWorkflowExecution", `{"domain":"d","workflowId":"w","workflowType":{"name":"o","version":"2"},"tagList":["x"]}`},
		{[]string{"respond-decision-task-completed", "--task-token", "tt", "--decisions", "file://" + decisions},
			"RespondDecisionTaskCompleted", `{"taskToken":"tt","decisions":[{"decisionType":"CompleteWorkflowExecution","completeWorkflowExecutionDecisionAttributes":{"result":"ok"}}]}`},
		{[]string{"respond-decision-task-completed", "--task-token", "tt", "--decisions", "decisionType=StartTimer,startTimerDecisionAttributes={timerId=t1,startToFireTimeout=5}"},
			"RespondDecisionTaskCompleted", `{"taskToken":"tt","decisions":[{"decisionType":"StartTimer","startTimerDecisionAttributes":{"timerId":"t1","startToFireTimeout":"5"}}]}`},
		{[]string{"list-domains", "--registration-status", "REGISTERED", "--reverse-order", "--maximum-page-size", "5"},
			"ListDomains", `{"registrationStatus":"REGISTERED","reverseOrder":true,"maximumPageSize":5}`},
		{[]string{"list-domains", "--registration-status=DEPRECATED", "--no-reverse-order", "--no-paginate"},
			"ListDomains", `{"registrationStatus":"DEPRECATED","reverseOrder":false}`},
		{[]string{"list-open-workflow-executions", "--domain", "d", "--start-time-filter", "oldestDate=2024-01-01T10:00:00+02:00,latestDate=1700000000.7", "--no-paginate"},
			"ListOpenWorkflowExecutions", `{"domain":"d","startTimeFilter":{"oldestDate":1704096000,"latestDate":1700000000}}`},
		{[]string{"count-closed-workflow-executions", "--domain", "d", "--close-time-filter", `{"oldestDate":"2024-01-01"}`, "--close-status-filter", "status=FAILED"},
			"CountClosedWorkflowExecutions", `{"domain":"d","closeTimeFilter":{"oldestDate":1704067200},"closeStatusFilter":{"status":"FAILED"}}`},
		{[]string{"register-activity-type", "--domain", "d", "--name", "a", "--activity-version", "1", "--default-task-list", "name=tl"},
			"RegisterActivityType", `{"domain":"d","name":"a","version":"1","defaultTaskList":{"name":"tl"}}`},
		{[]string{"describe-domain", "--cli-input-json", `{"name":"from-json"}`},
			"DescribeDomain", `{"name":"from-json"}`},
		{[]string{"describe-domain", "--cli-input-json", `{"name":"from-json"}`, "--name", "from-flag"},
			"DescribeDomain", `{"name":"from-flag"}`},
		{[]string{"untag-resource", "--resource-arn", "arn:x", "--tag-keys", "a", "b"},
			"UntagResource", `{"resourceArn":"arn:x","tagKeys":["a","b"]}`},
	}
	for _, c := range cases {
		r := swfRun(env, c.args...)
		if r.RC != 0 {
			t.Errorf("%v: rc=%d %s", c.args, r.RC, r.Stderr)
			continue
		}
		req := f.last()
		b, _ := json.Marshal(req.body)
		if req.op != c.op || !jsonEqual(string(b), c.want) {
			t.Errorf("%v: sent %s %s, want %s %s", c.args, req.op, b, c.op, c.want)
		}
	}
	// Wire protocol and signing.
	h := f.last().header
	if h.Get("Content-Type") != "application/x-amz-json-1.0" || h.Get("X-Amz-Target") != "SimpleWorkflowService.UntagResource" {
		t.Errorf("headers: %v", h)
	}
	if a := h.Get("Authorization"); !strings.Contains(a, "Credential=AKIDTEST/") || !strings.Contains(a, "/eu-west-1/swf/aws4_request") {
		t.Errorf("authorization: %q", a)
	}
	// --cli-input-json from a file.
	in := filepath.Join(dir, "in.json")
	os.WriteFile(in, []byte(`{"name":"filed"}`), 0o644)
	if r := swfRun(env, "describe-domain", "--cli-input-json", "file://"+in); r.RC != 0 || f.last().body["name"] != "filed" {
		t.Errorf("cli-input-json file: %+v %v", r, f.last().body)
	}
}

func TestKebabNames(t *testing.T) {
	for in, want := range map[string]string{
		"RequestCancelWorkflowExecution":         "request-cancel-workflow-execution",
		"workflowExecutionRetentionPeriodInDays": "workflow-execution-retention-period-in-days",
		"resourceArn":                            "resource-arn",
		"PollForDecisionTask":                    "poll-for-decision-task",
	} {
		if got := kebab(in); got != want {
			t.Errorf("%s: %s", in, got)
		}
	}
	c := commands["list-open-workflow-executions"]
	var flags []string
	for _, p := range c.params {
		flags = append(flags, p.flag)
	}
	want := []string{"domain", "start-time-filter", "type-filter", "tag-filter", "next-page-token", "maximum-page-size", "reverse-order", "execution-filter"}
	if !reflect.DeepEqual(flags, want) {
		t.Errorf("flags in model order: %v", flags)
	}
}

// ---- errors and exit statuses ------------------------------------------

func TestErrorsAndExitStatus(t *testing.T) {
	setCreds(t)
	f := newFake(t, func(op string, _ map[string]any) (int, string) {
		switch op {
		case "DescribeDomain":
			return 400, `{"__type":"com.amazonaws.swf.base.model#UnknownResourceFault","message":"Unknown domain: nope"}`
		case "StartWorkflowExecution":
			return 400, `{"__type":"com.amazonaws.swf.base.model#WorkflowExecutionAlreadyStartedFault"}`
		}
		return 200, ""
	})
	env := map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL}
	cases := []struct {
		args   []string
		rc     int
		stderr string // exact, or a prefix when it ends in "…"
	}{
		{[]string{"describe-domain", "--name", "nope"}, 255, "\nAn error occurred (UnknownResourceFault) when calling the DescribeDomain operation: Unknown domain: nope\n"},
		{[]string{"start-workflow-execution", "--domain", "d", "--workflow-id", "w", "--workflow-type", "name=a,version=1"}, 255,
			"\nAn error occurred (WorkflowExecutionAlreadyStartedFault) when calling the StartWorkflowExecution operation: Unknown\n"},
		{[]string{"describe-domain"}, 2, usageText + "swf: error: the following arguments are required: --name\n"},
		{[]string{"register-domain"}, 2, usageText + "swf: error: the following arguments are required: --name, --workflow-execution-retention-period-in-days\n"},
		{[]string{"describe-domain", "--name"}, 2, usageText + "swf: error: argument --name: expected one argument\n"},
		{[]string{"no-such-command"}, 2, usageText + "swf: error: argument command: Invalid choice, valid choices are:\n…"},
		{[]string{}, 2, usageText + "swf: error: the following arguments are required: command\n"},
		{[]string{"describe-domain", "--name", "x", "--bogus", "1"}, 255, usageText + "\nUnknown options: --bogus, 1\n"},
		{[]string{"describe-domain", "--name", ""}, 255, "\nParameter validation failed:\nInvalid length for parameter name, value: 0, valid min length: 1\n"},
		{[]string{"start-workflow-execution", "--domain", "d", "--workflow-id", "w", "--workflow-type", "name=a,bogus=3"}, 255,
			"\nParameter validation failed:\nMissing required parameter in workflowType: \"version\"\nUnknown parameter in workflowType: \"bogus\", must be one of: name, version\n"},
		{[]string{"list-domains", "--registration-status", "REGISTERED", "--maximum-page-size", "abc"}, 255, "\ninvalid literal for int() with base 10: 'abc'\n"},
		{[]string{"list-domains", "--registration-status", "REGISTERED", "--max-items", "abc"}, 2, usageText + "swf: error: argument --max-items: invalid int value: 'abc'\n"},
		{[]string{"list-domains", "--page-size", "1.5"}, 2, usageText + "swf: error: argument --page-size: invalid int value: '1.5'\n"},
		{[]string{"list-domains", "--registration-status", "REGISTERED", "--maximum-page-size", "-1"}, 255,
			"\nParameter validation failed:\nInvalid value for parameter maximumPageSize, value: -1, valid min value: 0\n"},
		{[]string{"start-workflow-execution", "--domain", "d", "--workflow-id", "w", "--workflow-type", "{bad"}, 255, "\nError parsing parameter '--workflow-type': Invalid JSON: …"},
		{[]string{"describe-domain", "--name", "x", "--query", "a["}, 255, "\nBad value for --query a[: Invalid jmespath expression: …"},
		{[]string{"describe-domain", "--name", "x", "--output", "yaml"}, 2, usageText + "swf: error: argument --output: Invalid choice, valid choices are:\n…"},
		{[]string{"list-domains", "--registration-status", "REGISTERED", "--no-paginate", "--max-items", "1"}, 255,
			"\nError during pagination: Cannot specify --no-paginate along with pagination arguments: --max-items\n"},
		{[]string{"describe-domain", "--name", "x", "--endpoint-url", "http://127.0.0.1:1"}, 255, "\nCould not connect to the endpoint URL: \"http://127.0.0.1:1/\"\n"},
		// An endpoint URL with no host, or a host no URL can have, is
		// refused before any call, as by the AWS CLI: it was sent, and
		// answered "Connection was closed before we received a valid
		// response", or a Go parse error.
		{[]string{"describe-domain", "--name", "x", "--endpoint-url", "http://"}, 255, "\nInvalid endpoint: http://\n"},
		{[]string{"describe-domain", "--name", "x", "--endpoint-url", "http://a b"}, 255, "\nInvalid endpoint: http://a b\n"},
		{[]string{"describe-domain", "--name", "x", "--endpoint-url", "http://-x:7733"}, 255, "\nInvalid endpoint: http://-x:7733\n"},
		{[]string{"describe-domain", "--name", "x", "--endpoint-url", "https://[::1"}, 255, "\nInvalid IPv6 URL\n"},
		{[]string{"describe-domain", "--name", "x", "--endpoint-url", "ftp://127.0.0.1:1"}, 255, "\nAn HTTP Client raised an unhandled exception: Not supported URL scheme ftp\n"},
		{[]string{"describe-domain", "--name", "x", "--decisions", "file:///nonexistent"}, 255, usageText + "\nUnknown options: --decisions, file:///nonexistent\n"},
		{[]string{"describe-domain", "--name", "file:///nonexistent/x"}, 255, "\nError parsing parameter '--name': Unable to load paramfile file:///nonexistent/x: …"},
	}
	for _, c := range cases {
		r := swfRun(env, c.args...)
		ok := r.Stderr == c.stderr
		if p, cut := strings.CutSuffix(c.stderr, "…"); cut {
			ok = strings.HasPrefix(r.Stderr, p)
		}
		if r.RC != c.rc || !ok {
			t.Errorf("%v: rc=%d (want %d)\nstderr %q\nwant   %q", c.args, r.RC, c.rc, r.Stderr, c.stderr)
		}
		if r.Stdout != "" {
			t.Errorf("%v: stdout %q", c.args, r.Stdout)
		}
	}
}

// ---- output formats ------------------------------------------------------------

// Responses and what the AWS CLI 1.45 printed for them (captured by
// running it against swfd; the e2e test compares live).
const describeDomainWire = `{"configuration":{"workflowExecutionRetentionPeriodInDays":"1"},"domainInfo":{"arn":"arn:aws:swf:us-east-1:123456789012:/domain/d1","description":"hello","name":"d1","status":"REGISTERED"}}`

const describeDomainJSON = `{
    "domainInfo": {
        "name": "d1",
        "status": "REGISTERED",
        "description": "hello",
        "arn": "arn:aws:swf:us-east-1:123456789012:/domain/d1"
    },
    "configuration": {
        "workflowExecutionRetentionPeriodInDays": "1"
    }
}
`

const describeDomainText = "CONFIGURATION\t1\nDOMAININFO\tarn:aws:swf:us-east-1:123456789012:/domain/d1\thello\td1\tREGISTERED\n"

const describeDomainTable = `--------------------------------------------------------------------
|                          DescribeDomain                          |
+------------------------------------------------------------------+
||                          configuration                         ||
|+---------------------------------------------------------+------+|
||  workflowExecutionRetentionPeriodInDays                 |  1   ||
|+---------------------------------------------------------+------+|
||                           domainInfo                           ||
|+-------------+--------------------------------------------------+|
||  arn        |  arn:aws:swf:us-east-1:123456789012:/domain/d1   ||
||  description|  hello                                           ||
||  name       |  d1                                              ||
||  status     |  REGISTERED                                      ||
|+-------------+--------------------------------------------------+|
`

const listActivityTypesWire = `{"typeInfos":[{"activityType":{"name":"act","version":"1"},"creationDate":1795677290.426,"status":"REGISTERED"}]}`

const listActivityTypesJSON = `{
    "typeInfos": [
        {
            "activityType": {
                "name": "act",
                "version": "1"
            },
            "status": "REGISTERED",
            "creationDate": 1795677290.426
        }
    ]
}
`

const listActivityTypesText = "TYPEINFOS\t1795677290.426\tREGISTERED\nACTIVITYTYPE\tact\t1\n"

const listActivityTypesTable = `------------------------------------
|         ListActivityTypes        |
+----------------------------------+
||            typeInfos           ||
|+-----------------+--------------+|
||  creationDate   |   status     ||
|+-----------------+--------------+|
||  1795677290.426 |  REGISTERED  ||
|+-----------------+--------------+|
|||         activityType         |||
||+-----------+------------------+||
|||   name    |     version      |||
||+-----------+------------------+||
|||  act      |  1               |||
||+-----------+------------------+||
`

func TestOutputFormats(t *testing.T) {
	setCreds(t)
	f := newFake(t, func(op string, _ map[string]any) (int, string) {
		switch op {
		case "DescribeDomain":
			return 200, describeDomainWire
		case "ListActivityTypes":
			return 200, listActivityTypesWire
		case "ListOpenWorkflowExecutions":
			return 200, `{"executionInfos":[]}`
		}
		return 200, ""
	})
	env := map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL}
	dd := []string{"describe-domain", "--name", "d1"}
	lt := []string{"list-activity-types", "--domain", "d1", "--registration-status", "REGISTERED"}
	lo := []string{"list-open-workflow-executions", "--domain", "d1", "--start-time-filter", "oldestDate=0"}
	cases := []struct {
		args []string
		want string
	}{
		{dd, describeDomainJSON},
		{append(dd, "--output", "text"), describeDomainText},
		{append(dd, "--output", "table"), describeDomainTable},
		{lt, listActivityTypesJSON},
		{append(lt, "--output", "text"), listActivityTypesText},
		{append(lt, "--output", "table"), listActivityTypesTable},
		{lo, "{\n    \"executionInfos\": []\n}\n"},
		{append(lo, "--output", "text"), ""},
		{append(lo, "--output", "table"), "----------------------------\n|ListOpenWorkflowExecutions|\n+--------------------------+\n"},
		{[]string{"register-domain", "--name", "x", "--workflow-execution-retention-period-in-days", "1"}, ""},
		// --query
		{append(dd, "--query", "domainInfo.name"), "\"d1\"\n"},
		{append(dd, "--query", "domainInfo.name", "--output", "text"), "d1\n"},
		{append(dd, "--query", "{b: domainInfo.status, a: configuration}"), "{\n    \"b\": \"REGISTERED\",\n    \"a\": {\n        \"workflowExecutionRetentionPeriodInDays\": \"1\"\n    }\n}\n"},
		{append(lt, "--query", "typeInfos[0]"), "{\n    \"activityType\": {\n        \"name\": \"act\",\n        \"version\": \"1\"\n    },\n    \"status\": \"REGISTERED\",\n    \"creationDate\": 1795677290.426\n}\n"},
		{append(lt, "--query", "typeInfos[].activityType.name", "--output", "text"), "act\n"},
		{append(lt, "--query", "length(typeInfos)"), "1\n"},
		{append(dd, "--query", "nothing"), "null\n"},
		{append(dd, "--query", "nothing", "--output", "text"), "None\n"},
		{append([]string{"--output", "text"}, dd...), describeDomainText},
		// `swf swf COMMAND` is `swf COMMAND`, global options before or after the first swf.
		{append([]string{"swf"}, dd...), describeDomainJSON},
		{append([]string{"--output", "text", "swf"}, dd...), describeDomainText},
		{append([]string{"--output=table", "swf", "--query", "domainInfo.name"}, dd...), "----------------\n|DescribeDomain|\n+--------------+\n"}, // as aws prints it
	}
	for _, c := range cases {
		r := swfRun(env, c.args...)
		if r.RC != 0 || r.Stdout != c.want {
			t.Errorf("%v: rc=%d %s\ngot:\n%s\nwant:\n%s", c.args, r.RC, r.Stderr, r.Stdout, c.want)
		}
	}
	t.Setenv("AWS_DEFAULT_OUTPUT", "")
	if r := swfRun(map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL, "AWS_DEFAULT_OUTPUT": "text"}, dd...); r.Stdout != describeDomainText {
		t.Errorf("AWS_DEFAULT_OUTPUT=text: %q", r.Stdout)
	}
}

func TestPythonNumbersAndStrings(t *testing.T) {
	v, err := decodeJSON([]byte(`{"a":1.492443961284E9,"b":1326592619,"c":1.0,"d":0.00001,"e":1e16,"f":"é\u0001\"/<"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := "{\n    \"a\": 1492443961.284,\n    \"b\": 1326592619,\n    \"c\": 1.0,\n    \"d\": 1e-05,\n    \"e\": 1e+16,\n    \"f\": \"é\\u0001\\\"/<\"\n}"
	if got := pyJSON(v); got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
	if pyStr(true) != "True" || pyStr(nil) != "None" || pyStr(json.Number("2.50")) != "2.5" {
		t.Error("pyStr")
	}
}

// ---- pagination ------------------------------------------------------------------

// pagedFake serves ListDomains in pages of two over five domains, and
// PollForDecisionTask in two pages of events.
func pagedFake(t *testing.T) *fakeSWF {
	return newFake(t, func(op string, body map[string]any) (int, string) {
		tok, _ := body["nextPageToken"].(string)
		switch op {
		case "ListDomains":
			names := []string{"a", "b", "c", "d", "e"}
			start := 0
			if tok != "" {
				start = int(tok[1] - '0')
			}
			size := 2
			if n, ok := body["maximumPageSize"].(float64); ok && n > 0 {
				size = int(n)
			}
			end := min(start+size, len(names))
			var infos []string
			for _, n := range names[start:end] {
				infos = append(infos, `{"status":"REGISTERED","name":"`+n+`"}`)
			}
			resp := `{"domainInfos":[` + strings.Join(infos, ",") + `]`
			if end < len(names) {
				resp += `,"nextPageToken":"p` + string(rune('0'+end)) + `"`
			}
			return 200, resp + "}"
		case "PollForDecisionTask":
			if tok == "" {
				return 200, `{"taskToken":"tt","startedEventId":3,"previousStartedEventId":0,"workflowExecution":{"workflowId":"w","runId":"r"},"workflowType":{"name":"n","version":"1"},"events":[{"eventId":1,"eventType":"WorkflowExecutionStarted","eventTimestamp":1.5}],"nextPageToken":"more"}`
			}
			return 200, `{"taskToken":"tt","startedEventId":3,"previousStartedEventId":0,"workflowExecution":{"workflowId":"w","runId":"r"},"workflowType":{"name":"n","version":"1"},"events":[{"eventId":2,"eventType":"DecisionTaskScheduled","eventTimestamp":1.5},{"eventId":3,"eventType":"DecisionTaskStarted","eventTimestamp":2}]}`
		}
		return 200, ""
	})
}

func TestPagination(t *testing.T) {
	setCreds(t)
	f := pagedFake(t)
	env := map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL}
	ld := []string{"list-domains", "--registration-status", "REGISTERED", "--query", "domainInfos[].name", "--output", "text"}
	run := func(extra ...string) awsRun { return swfRun(env, append(append([]string{}, ld...), extra...)...) }
	if r := run(); r.Stdout != "a\tb\nc\td\ne\n" {
		t.Errorf("all pages (text prints page by page): %q %s", r.Stdout, r.Stderr)
	}
	if r := swfRun(env, "list-domains", "--registration-status", "REGISTERED", "--query", "domainInfos[].name"); r.Stdout != "[\n    \"a\",\n    \"b\",\n    \"c\",\n    \"d\",\n    \"e\"\n]\n" {
		t.Errorf("merged json: %q", r.Stdout)
	}
	if r := run("--no-paginate"); r.Stdout != "a\tb\n" {
		t.Errorf("--no-paginate: %q", r.Stdout)
	}
	if r := run("--next-page-token", "p2"); r.Stdout != "c\td\n" {
		t.Errorf("--next-page-token turns pagination off: %q", r.Stdout)
	}
	if r := run("--page-size", "3"); r.Stdout != "a\tb\tc\nd\te\n" {
		t.Errorf("--page-size: %q", r.Stdout)
	}
	// --max-items stops inside a page: NextToken says where to resume.
	r := swfRun(env, "list-domains", "--registration-status", "REGISTERED", "--max-items", "3")
	var out struct {
		DomainInfos []struct{ Name string }
		NextToken   string
	}
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil || len(out.DomainInfos) != 3 || out.NextToken == "" {
		t.Fatalf("--max-items 3: %v %s", err, r.Stdout)
	}
	tok, _ := decodePageToken(out.NextToken)
	if tok.next != "p2" || tok.truncate != 1 {
		t.Errorf("resume token %+v", tok)
	}
	if r := run("--starting-token", out.NextToken); r.Stdout != "d\ne\n" {
		t.Errorf("--starting-token: %q", r.Stdout)
	}
	// Same encoding as the AWS CLI's: base64 of {"nextPageToken": …, "boto_truncate_amount": …}.
	if got := (pageToken{next: nil, truncate: 0, hasTrunc: true}).encode(); got != "eyJuZXh0UGFnZVRva2VuIjogbnVsbCwgImJvdG9fdHJ1bmNhdGVfYW1vdW50IjogMH0=" {
		t.Errorf("token encoding %s", got)
	}
	// poll-for-decision-task: events merged, the other members from the first page.
	r = swfRun(env, "poll-for-decision-task", "--domain", "d", "--task-list", "name=t")
	want := `{
    "events": [
        {
            "eventTimestamp": 1.5,
            "eventType": "WorkflowExecutionStarted",
            "eventId": 1
        },
        {
            "eventTimestamp": 1.5,
            "eventType": "DecisionTaskScheduled",
            "eventId": 2
        },
        {
            "eventTimestamp": 2,
            "eventType": "DecisionTaskStarted",
            "eventId": 3
        }
    ],
    "taskToken": "tt",
    "startedEventId": 3,
    "workflowExecution": {
        "workflowId": "w",
        "runId": "r"
    },
    "workflowType": {
        "name": "n",
        "version": "1"
    },
    "previousStartedEventId": 0
}
`
	if r.Stdout != want {
		t.Errorf("poll merged:\n%s", r.Stdout)
	}
}

// ---- configuration ------------------------------------------------------------

func TestCABundleAndProfiles(t *testing.T) {
	setCreds(t)
	f := newFake(t, func(string, map[string]any) (int, string) { return 200, describeDomainWire })
	bundle := os.Getenv("AWS_CA_BUNDLE")
	if bundle == "" {
		bundle = "/etc/ssl/certs/ca-certificates.crt"
	}
	if _, err := os.Stat(bundle); err != nil {
		t.Skip("no CA bundle on this machine")
	}
	t.Setenv("AWS_CA_BUNDLE", bundle)
	if r := swfRun(map[string]string{"AWS_ENDPOINT_URL": f.URL}, "describe-domain", "--name", "d1"); r.RC != 0 || r.Stdout != describeDomainJSON {
		t.Fatalf("with AWS_CA_BUNDLE: rc=%d %s", r.RC, r.Stderr)
	}
	// A profile from the shared files gives region and keys.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "config"), []byte("[profile p1]\nregion = ap-south-1\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "credentials"), []byte("[p1]\naws_access_key_id = AKIDP1\naws_secret_access_key = s\n"), 0o644)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	if r := swfRun(map[string]string{}, "describe-domain", "--name", "d1", "--profile", "p1", "--endpoint-url", f.URL); r.RC != 0 {
		t.Fatalf("profile: %s", r.Stderr)
	}
	a := f.last().header.Get("Authorization")
	if !strings.Contains(a, "AKIDP1/") || !strings.Contains(a, "/ap-south-1/swf/") {
		t.Errorf("profile credentials/region not used: %s", a)
	}
	if r := swfRun(map[string]string{}, "describe-domain", "--name", "d1", "--profile", "nope", "--endpoint-url", f.URL); r.RC != 255 || !strings.Contains(r.Stderr, "The config profile (nope) could not be found") {
		t.Errorf("missing profile: rc=%d %s", r.RC, r.Stderr)
	}
}

func TestHelpAndCompletion(t *testing.T) {
	r := swfRun(nil, "help")
	if r.RC != 0 || !strings.Contains(r.Stdout, "request-cancel-workflow-execution") || !strings.Contains(r.Stdout, "history") {
		t.Errorf("help: %s", r.Stdout)
	}
	for _, name := range []string{"history", "executions", "describe", "bench", "clock", "dev", "completion"} {
		if !strings.Contains(r.Stdout, "\n  "+name+" ") {
			t.Errorf("help does not list %s", name)
		}
	}
	// Every global option the AWS CLI has and swf takes is in the help's
	// list (--color was missing); --v2-debug, which only prints advice on
	// moving to the AWS CLI v2, is accepted and left out.
	for _, name := range awsGlobalOrder {
		if name != "v2-debug" && !strings.Contains(r.Stdout, "\n  --"+name+" ") {
			t.Errorf("help does not list the global option --%s", name)
		}
	}
	r = swfRun(nil, "start-workflow-execution", "help")
	for _, s := range []string{"--workflow-type <value>", "[--tag-list <value>]", "Shorthand: name=string,version=string", "--child-policy (string) -> childPolicy", "one of: TERMINATE, REQUEST_CANCEL, ABANDON"} {
		if !strings.Contains(r.Stdout, s) {
			t.Errorf("command help lacks %q:\n%s", s, r.Stdout)
		}
	}
	r = swfRun(nil, "completion", "bash")
	if r.RC != 0 || !strings.Contains(r.Stdout, "complete -o default -F _swf swf") || !strings.Contains(r.Stdout, "--workflow-execution-retention-period-in-days") {
		t.Errorf("bash completion: %s", r.Stderr)
	}
	if r := swfRun(nil, "completion", "zsh"); r.RC != 0 || !strings.HasPrefix(r.Stdout, "#compdef swf") {
		t.Error("zsh completion")
	}
	if r := swfRun(nil, "history", "help"); r.RC != 0 || !strings.Contains(r.Stdout, "--follow") {
		t.Error("history help")
	}
}

// ---- --query ----------------------------------------------------------------------

// Backtick literals that are not JSON are strings of their text, as
// Python's jmespath (and so the AWS CLI) reads them; JSON ones stay JSON.
func TestQueryLegacyLiterals(t *testing.T) {
	setCreds(t)
	f := pagedFake(t)
	env := map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL}
	cases := []struct{ query, want string }{
		{"domainInfos[?name==`b`].name", "b\n"},
		{"join(`,`, domainInfos[].name)", "a,b,c,d,e\n"},
		{"domainInfos[?contains(name, `d`)].name", "d\n"},
		{"domainInfos[?name==`\"c\"`].name", "c\n"},           // JSON string
		{"length(domainInfos[?status==`REGISTERED`])", "5\n"}, // bare word
		{"`[1, 2]` | length(@)", "2\n"},                       // JSON array
		{"`  x y` | length(@)", "3\n"},                        // leading space dropped
		{"join(`\\``, domainInfos[:2].name)", "a`b\n"},        // escaped backtick
		{"join(`a\\tb`, domainInfos[:2].name)", "aa\tbb\n"},   // JSON escapes apply
		{"'`' | length(@)", "1\n"},                            // raw strings untouched
	}
	for _, c := range cases {
		r := swfRun(env, "list-domains", "--registration-status", "REGISTERED", "--page-size", "5", "--output", "text", "--query", c.query)
		if r.RC != 0 || r.Stdout != c.want {
			t.Errorf("%s: rc=%d %q (want %q) %s", c.query, r.RC, r.Stdout, c.want, r.Stderr)
		}
	}
	if r := swfRun(env, "list-domains", "--registration-status", "REGISTERED", "--query", "`a\"b`"); r.RC != 255 || !strings.Contains(r.Stderr, "Bad value for --query") {
		t.Errorf("a literal that is neither JSON nor a string body is refused: rc=%d %s", r.RC, r.Stderr)
	}
	t.Run("aws", func(t *testing.T) {
		var argss [][]string
		for _, c := range cases {
			argss = append(argss, []string{"swf", "list-domains", "--endpoint-url", f.URL, "--registration-status", "REGISTERED", "--page-size", "5", "--output", "text", "--query", c.query})
		}
		runs := awsBatch(t, map[string]string{"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "s", "AWS_DEFAULT_REGION": "us-east-1"}, argss)
		for i, c := range cases {
			if runs[i].RC != 0 || runs[i].Stdout != c.want {
				t.Errorf("aws %s: rc=%d %q %s", c.query, runs[i].RC, runs[i].Stdout, runs[i].Stderr)
			}
		}
	})
}

// ---- the shared config file ---------------------------------------------------------

// A profile's output and endpoint (endpoint_url, or its services
// section) are used as the AWS CLI uses them, and keys in the environment
// come before those of a profile named by AWS_PROFILE (not --profile).
func TestSharedConfigSettings(t *testing.T) {
	setCreds(t)
	f1 := newFake(t, func(string, map[string]any) (int, string) { return 200, describeDomainWire })
	f2 := newFake(t, func(string, map[string]any) (int, string) { return 200, describeDomainWire })
	home := t.TempDir()
	t.Setenv("HOME", home)
	// The SDK takes ~ from HOME when it starts, so the files are named.
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(home, ".aws", "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, ".aws", "credentials"))
	os.MkdirAll(filepath.Join(home, ".aws"), 0o755)
	os.WriteFile(filepath.Join(home, ".aws", "config"), []byte("[default]\noutput = text\nregion = us-east-1\n\n"+
		"[profile tab]\noutput = table\nregion = us-east-1\n\n"+
		"[profile ep]\nregion = us-east-1\nendpoint_url = "+f1.URL+"\n\n"+
		"# services section\n[profile svc]\nregion = us-east-1\nendpoint_url = http://127.0.0.1:1\nservices = s1\n\n"+
		"[services s1]\nswf =\n  endpoint_url = "+f2.URL+"\n\n[profile yaml]\noutput = yaml\n"), 0o644)
	os.WriteFile(filepath.Join(home, ".aws", "credentials"), []byte("[ep]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = s\n"), 0o644)
	keys := map[string]string{"HOME": home, "AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret",
		"AWS_CONFIG_FILE": os.Getenv("AWS_CONFIG_FILE"), "AWS_SHARED_CREDENTIALS_FILE": os.Getenv("AWS_SHARED_CREDENTIALS_FILE")}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range keys {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	dd := []string{"describe-domain", "--name", "d1"}
	cases := []struct {
		env    map[string]string
		args   []string
		fake   *fakeSWF
		stdout string
		akid   string
	}{
		{with("AWS_ENDPOINT_URL_SWF", f1.URL), nil, f1, describeDomainText, "AKIDTEST"},
		{with("AWS_ENDPOINT_URL_SWF", f1.URL), []string{"--profile", "tab"}, f1, describeDomainTable, "SWFLOCALPLACEHOLDER"}, // no keys: placeholder
		{with("AWS_ENDPOINT_URL_SWF", f1.URL, "AWS_PROFILE", "tab"), nil, f1, describeDomainTable, "AKIDTEST"},
		{with("AWS_ENDPOINT_URL_SWF", f1.URL, "AWS_PROFILE", "tab", "AWS_DEFAULT_OUTPUT", "json"), nil, f1, describeDomainJSON, "AKIDTEST"},
		{with("AWS_ENDPOINT_URL_SWF", f1.URL, "AWS_DEFAULT_OUTPUT", "table"), []string{"--profile", "tab", "--output", "json"}, f1, describeDomainJSON, "SWFLOCALPLACEHOLDER"},
		{with(), []string{"--profile", "ep"}, f1, describeDomainJSON, "AKIDPROFILE"},
		{with("AWS_PROFILE", "ep"), nil, f1, describeDomainJSON, "AKIDTEST"},
		{with("AWS_PROFILE", "svc"), nil, f2, describeDomainJSON, "AKIDTEST"},
		{with("AWS_PROFILE", "svc", "AWS_ENDPOINT_URL", f1.URL), nil, f1, describeDomainJSON, "AKIDTEST"},
		{with("AWS_PROFILE", "svc", "AWS_ENDPOINT_URL", f2.URL, "AWS_ENDPOINT_URL_SWF", f1.URL), nil, f1, describeDomainJSON, "AKIDTEST"},
		{with("AWS_PROFILE", "svc", "AWS_ENDPOINT_URL", f2.URL), []string{"--endpoint-url", f1.URL}, f1, describeDomainJSON, "AKIDTEST"},
	}
	for i, c := range cases {
		for k, v := range c.env { // the SDK reads the process's environment
			t.Setenv(k, v)
		}
		n1, n2 := len(f1.requests), len(f2.requests)
		r := swfRun(c.env, append(append([]string{}, dd...), c.args...)...)
		for k := range c.env {
			t.Setenv(k, keys[k])
		}
		if r.RC != 0 || r.Stdout != c.stdout {
			t.Errorf("%d %v: rc=%d %s\n%s", i, c.args, r.RC, r.Stderr, r.Stdout)
			continue
		}
		if got := len(f1.requests) - n1 + len(f2.requests) - n2; got != 1 || len(c.fake.requests) == map[*fakeSWF]int{f1: n1, f2: n2}[c.fake] {
			t.Errorf("%d %v: the call went to the wrong endpoint", i, c.args)
			continue
		}
		if a := c.fake.last().header.Get("Authorization"); !strings.Contains(a, "Credential="+c.akid+"/") {
			t.Errorf("%d %v: signed with %s, want %s", i, c.args, a, c.akid)
		}
	}
	// An output the AWS CLI does not know, from the profile or the
	// environment (not --output): the call is made, then refused.
	for _, env := range []map[string]string{with("AWS_ENDPOINT_URL_SWF", f1.URL, "AWS_PROFILE", "yaml"), with("AWS_ENDPOINT_URL_SWF", f1.URL, "AWS_DEFAULT_OUTPUT", "yaml")} {
		n := len(f1.requests)
		if r := swfRun(env, dd...); r.RC != 255 || r.Stderr != "\nUnknown output type: yaml\n" || r.Stdout != "" || len(f1.requests) != n+1 {
			t.Errorf("output yaml: rc=%d %q", r.RC, r.Stderr)
		}
	}
	t.Run("aws", func(t *testing.T) {
		// A few (each costs a Python process). The batch's warm session
		// signs --profile calls with the environment's keys, which aws
		// itself does not, so those are left out.
		for _, i := range []int{2, 6, 7} {
			c := cases[i]
			runs := awsBatch(t, c.env, [][]string{append(append([]string{"swf"}, dd...), c.args...)})
			if runs[0].RC != 0 || runs[0].Stdout != c.stdout {
				t.Errorf("aws %d %v: rc=%d %s\n%s", i, c.args, runs[0].RC, runs[0].Stderr, runs[0].Stdout)
			}
			if a := c.fake.last().header.Get("Authorization"); !strings.Contains(a, "Credential="+c.akid+"/") {
				t.Errorf("aws %d %v: signed with %s, want %s", i, c.args, a, c.akid)
			}
		}
	})
}

// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS, or the profile's
// ignore_configured_endpoint_urls, makes swf ignore every endpoint
// configured outside the command line (AWS_ENDPOINT_URL_SWF,
// AWS_ENDPOINT_URL, the services section, endpoint_url), as it makes the
// AWS CLI: --endpoint-url still wins, the variable, when set (even to ""),
// comes before the profile's setting, and only "true", in any case, says
// to ignore them. Side by side with aws, which tells in its debug log where
// it would send the call (without credentials it sends nothing).
func TestIgnoreConfiguredEndpointURLs(t *testing.T) {
	setCreds(t)
	conf := newFake(t, func(string, map[string]any) (int, string) { return 200, describeDomainWire })
	flag := newFake(t, func(string, map[string]any) (int, string) { return 200, describeDomainWire })
	dir := t.TempDir()
	config := filepath.Join(dir, "config")
	os.WriteFile(config, []byte("[default]\nregion = us-east-1\nendpoint_url = "+conf.URL+"\n\n"+
		"[profile ign]\nregion = us-east-1\nendpoint_url = "+conf.URL+"\nignore_configured_endpoint_urls = true\n\n"+
		"[profile ignsvc]\nregion = us-east-1\nservices = s1\nignore_configured_endpoint_urls = TRUE\n\n"+
		"[services s1]\nswf =\n  endpoint_url = "+conf.URL+"\n\n"+
		"[profile yes]\nregion = us-east-1\nendpoint_url = "+conf.URL+"\nignore_configured_endpoint_urls = yes\n\n"+
		"[profile bare]\nregion = us-east-1\nignore_configured_endpoint_urls = true\n"), 0o644)
	const ignore = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"
	type vars = map[string]string
	cases := []struct {
		env  vars
		args []string
		want *fakeSWF // nil: the default endpoint
	}{
		{nil, nil, conf},
		{vars{"AWS_PROFILE": "ign"}, nil, nil},
		{nil, []string{"--profile", "ign"}, nil},
		{vars{"AWS_PROFILE": "ign"}, []string{"--endpoint-url", flag.URL}, flag},
		{vars{"AWS_PROFILE": "ign", "AWS_ENDPOINT_URL_SWF": conf.URL}, nil, nil},
		{vars{"AWS_PROFILE": "ign", "AWS_ENDPOINT_URL": conf.URL}, nil, nil},
		{vars{"AWS_PROFILE": "ignsvc"}, nil, nil},
		{vars{"AWS_PROFILE": "bare", "AWS_ENDPOINT_URL_SWF": conf.URL}, nil, nil},
		{vars{"AWS_PROFILE": "yes"}, nil, conf},
		{vars{ignore: "true"}, nil, nil},
		{vars{ignore: "TRUE", "AWS_ENDPOINT_URL_SWF": conf.URL}, nil, nil},
		{vars{ignore: "True", "AWS_ENDPOINT_URL": conf.URL}, []string{"--endpoint-url", flag.URL}, flag},
		{vars{ignore: "true", "AWS_PROFILE": "ignsvc"}, []string{"--endpoint-url", flag.URL}, flag},
		{vars{ignore: "false", "AWS_PROFILE": "ign"}, nil, conf},
		{vars{ignore: "", "AWS_PROFILE": "ign"}, nil, conf},
		{vars{ignore: "1", "AWS_PROFILE": "ign"}, nil, conf},
		{vars{ignore: " true", "AWS_ENDPOINT_URL_SWF": conf.URL}, nil, conf},
		{vars{ignore: "yes", "AWS_ENDPOINT_URL": conf.URL}, nil, conf},
	}
	envOf := func(c vars) vars {
		m := vars{"AWS_CONFIG_FILE": config, "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials")}
		for k, v := range c {
			m[k] = v
		}
		return m
	}
	dd := []string{"describe-domain", "--name", "d1"}
	for i, c := range cases {
		vs := envOf(c.env)
		p, err := parseArgs(c.args, globalSpecs)
		if err != nil {
			t.Fatal(err)
		}
		g, err := resolveGlobals(&env{lookupenv: func(k string) (string, bool) { v, ok := vs[k]; return v, ok }}, p)
		want := defaultEndpoint
		if c.want != nil {
			want = c.want.URL
		}
		if err != nil || g.endpoint != want {
			t.Errorf("%d %v %v: endpoint %q (%v), want %q", i, c.env, c.args, g.endpoint, err, want)
			continue
		}
		if c.want == nil {
			continue // the default endpoint: a local swfd, not here
		}
		vs["AWS_ACCESS_KEY_ID"], vs["AWS_SECRET_ACCESS_KEY"] = "AKIDTEST", "secret"
		for k, v := range vs { // the SDK reads the process's environment
			t.Setenv(k, v)
		}
		nConf, nFlag := len(conf.requests), len(flag.requests)
		r := swfRun(vs, append(append([]string{}, dd...), c.args...)...)
		if v, set := c.env[ignore]; set && os.Getenv(ignore) != v {
			t.Errorf("%d: %s=%q was not given back to the environment", i, ignore, v)
		}
		for k := range c.env {
			os.Unsetenv(k)
		}
		if r.RC != 0 || r.Stdout != describeDomainJSON {
			t.Errorf("%d %v %v: rc=%d %s", i, c.env, c.args, r.RC, r.Stderr)
		} else if got := map[*fakeSWF]int{conf: len(conf.requests) - nConf, flag: len(flag.requests) - nFlag}; got[c.want] != 1 || got[conf]+got[flag] != 1 {
			t.Errorf("%d %v %v: the call went to the wrong endpoint", i, c.env, c.args)
		}
	}
	t.Run("aws", func(t *testing.T) {
		jobs := make([]awsJob, len(cases))
		for i, c := range cases {
			jobs[i] = awsJob{Args: append(append([]string{"swf"}, dd...), append(c.args, "--debug")...), Env: envOf(c.env)}
		}
		url := regexp.MustCompile(`'url': '([^']*)'`)
		for i, r := range awsBatchJobs(t, jobs, 2) {
			c := cases[i]
			want := "https://swf.us-east-1.amazonaws.com/" // the AWS CLI's default
			if c.want != nil {
				want = c.want.URL + "/"
			}
			m := url.FindStringSubmatch(r.Stderr)
			if m == nil || m[1] != want || !strings.Contains(r.Stderr, "Unable to locate credentials") {
				t.Errorf("aws %d %v %v: request to %q, want %q (rc=%d)\n%.2000s", i, c.env, c.args, m, want, r.RC, r.Stderr)
			}
		}
	})
}

// An untrusted certificate is reported as the AWS CLI reports it.
func TestUntrustedCertificate(t *testing.T) {
	setCreds(t)
	t.Setenv("AWS_CA_BUNDLE", "")
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "{}") }))
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	ts.StartTLS()
	defer ts.Close()
	want := "\nSSL validation failed for " + ts.URL + "/ [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate"
	r := swfRun(nil, "describe-domain", "--name", "d1", "--endpoint-url", ts.URL)
	if r.RC != 255 || r.Stderr != want+"\n" || r.Stdout != "" {
		t.Errorf("rc=%d %q\nwant %q", r.RC, r.Stderr, want)
	}
	localhost := strings.Replace(ts.URL, "127.0.0.1", "localhost", 1) // the certificate names 127.0.0.1 and example.com
	if r := swfRun(nil, "describe-domain", "--name", "d1", "--endpoint-url", localhost, "--ca-bundle", caFile(t, ts)); r.RC != 255 ||
		r.Stderr != "\nSSL validation failed for "+localhost+"/ [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: Hostname mismatch, certificate is not valid for 'localhost'.\n" {
		t.Errorf("hostname: rc=%d %q", r.RC, r.Stderr)
	}
	if r := swfRun(nil, "describe-domain", "--name", "d1", "--endpoint-url", ts.URL, "--no-verify-ssl"); r.RC != 0 {
		t.Errorf("--no-verify-ssl: rc=%d %s", r.RC, r.Stderr)
	}
	t.Run("aws", func(t *testing.T) {
		runs := awsBatch(t, map[string]string{"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s", "AWS_DEFAULT_REGION": "us-east-1", awsMaxAttempts: "1"},
			[][]string{{"swf", "describe-domain", "--name", "d1", "--endpoint-url", ts.URL}})
		if runs[0].RC != 255 || !strings.HasPrefix(runs[0].Stderr, want+" (_ssl.c") {
			t.Errorf("aws: rc=%d %q", runs[0].RC, runs[0].Stderr)
		}
	})
}

// caFile writes a TLS test server's certificate as a CA bundle.
func caFile(t *testing.T, ts *httptest.Server) string {
	path := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw}), 0o644)
	return path
}

// file:// is read as text, as the AWS CLI reads it: UTF-8 or an error,
// with universal newlines.
func TestParamFileText(t *testing.T) {
	setCreds(t)
	f := newFake(t, func(string, map[string]any) (int, string) { return 200, describeDomainWire })
	dir := t.TempDir()
	bad, crlf := filepath.Join(dir, "bad.txt"), filepath.Join(dir, "crlf.txt")
	os.WriteFile(bad, []byte("ab\xff\xfecd"), 0o644)
	os.WriteFile(crlf, []byte("a\r\nb\rc\n"), 0o644)
	env := map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL}
	want := "\nError parsing parameter '--name': Unable to load paramfile (" + bad + "), text contents could not be decoded.  If this is a binary file, please use the fileb:// prefix instead of the file:// prefix.\n"
	if r := swfRun(env, "describe-domain", "--name", "file://"+bad); r.RC != 255 || r.Stderr != want {
		t.Errorf("invalid UTF-8: rc=%d %q", r.RC, r.Stderr)
	}
	if r := swfRun(env, "describe-domain", "--name", "file://"+crlf); r.RC != 0 || f.last().body["name"] != "a\nb\nc\n" {
		t.Errorf("CRLF: rc=%d %q %s", r.RC, f.last().body["name"], r.Stderr)
	}
	t.Run("aws", func(t *testing.T) {
		runs := awsBatch(t, map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL, "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s", "AWS_DEFAULT_REGION": "us-east-1"},
			[][]string{{"swf", "describe-domain", "--name", "file://" + bad}, {"swf", "describe-domain", "--name", "file://" + crlf}})
		if runs[0].RC != 255 || runs[0].Stderr != want {
			t.Errorf("aws invalid UTF-8: rc=%d %q", runs[0].RC, runs[0].Stderr)
		}
		if runs[1].RC != 0 || f.last().body["name"] != "a\nb\nc\n" {
			t.Errorf("aws CRLF: rc=%d %q", runs[1].RC, f.last().body["name"])
		}
	})
}

// Timestamps in the forms dateutil reads for the AWS CLI, besides ISO 8601.
func TestTimestampForms(t *testing.T) {
	setCreds(t)
	f := newFake(t, func(string, map[string]any) (int, string) { return 200, `{"executionInfos":[]}` })
	cases := []struct {
		in   string
		want float64
	}{
		{"2020/01/01", 1577836800},
		{"2020-1-1", 1577836800},
		{"Jan 1 2020", 1577836800},
		{"01/02/2020", 1577923200}, // month first
		{"2020-01-01T00:00:00 UTC", 1577836800},
		{"2020-01-01 00:00:00 GMT", 1577836800},
		{"January 2 2020 10:00", 1577959200},
		{"2 Jan 2020 10:00:00 +01:00", 1577955600},
		{"2020/1/2 10:00:00Z", 1577959200},
		{"2020-01-02T10:00:00+0100", 1577955600},
		{"2020-01-02T10:00:00.5Z", 1577959200},
	}
	sent := func() any {
		return f.last().body["startTimeFilter"].(map[string]any)["oldestDate"]
	}
	for _, c := range cases {
		r := swfRun(map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL}, "list-open-workflow-executions", "--domain", "d", "--start-time-filter", "oldestDate="+c.in)
		if r.RC != 0 {
			t.Errorf("%q: rc=%d %s", c.in, r.RC, r.Stderr)
		} else if sent() != c.want {
			t.Errorf("%q: sent %v, want %v", c.in, sent(), c.want)
		}
	}
	t.Run("aws", func(t *testing.T) {
		var argss [][]string
		for _, c := range cases {
			argss = append(argss, []string{"swf", "list-open-workflow-executions", "--domain", "d", "--start-time-filter", "oldestDate=" + c.in})
		}
		n := len(f.requests)
		runs := awsBatch(t, map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL, "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s", "AWS_DEFAULT_REGION": "us-east-1"}, argss)
		for i, c := range cases { // one at a time, so in order
			if runs[i].RC != 0 || len(f.requests) != n+len(cases) || f.requests[n+i].body["startTimeFilter"].(map[string]any)["oldestDate"] != c.want {
				t.Errorf("aws %q: rc=%d %s", c.in, runs[i].RC, runs[i].Stderr)
			}
		}
	})
}

// Every command swf has beside aws swf's answers `swf COMMAND help` with its
// usage, exit status 0, as the SWF API commands do. The issue: `swf
// completion help` was refused ("Invalid choice: 'help'"), exit status 2.
func TestEveryCommandAnswersHelp(t *testing.T) {
	// swf's own commands are not the AWS CLI's, and answer -h and --help
	// as well as help, anywhere on their command line (they answered
	// "Unknown options: -h").
	for _, c := range extraCommands {
		for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}, {"--output", "json", "-h"}, {"--help", "--domain", "d"}} {
			args = append([]string{c.name}, args...)
			r := swfRun(nil, args...)
			if r.RC != 0 || !strings.HasPrefix(r.Stdout, "swf "+c.name) || r.Stderr != "" {
				t.Errorf("swf %s: exit status %d, stdout %q, stderr %q; want its usage", strings.Join(args, " "), r.RC, r.Stdout, r.Stderr)
			}
		}
	}
	// The SWF API's commands take them as the AWS CLI does: unknown.
	r := swfRun(nil, "list-domains", "--registration-status", "REGISTERED", "-h")
	if r.RC != 255 || !strings.HasSuffix(r.Stderr, "\nUnknown options: -h\n") {
		t.Errorf("swf list-domains -h: exit status %d, stderr %q; want Unknown options: -h", r.RC, r.Stderr)
	}
}

// TestEmptyEndpointAndQueryRefused: an --endpoint-url or --query given
// empty is refused before any call, in the AWS CLI's words, by the SWF
// commands and by swf's own alike. An empty --endpoint-url was taken as not
// given (the configured endpoint, else the default, was called), and an
// empty --query as no query.
func TestEmptyEndpointAndQueryRefused(t *testing.T) {
	setCreds(t)
	f := newFake(t, func(string, map[string]any) (int, string) { return 200, describeDomainWire })
	env := map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL}
	const badEndpoint = "\nBad value for --endpoint-url \"\": scheme is missing.  Must be of the form http://<hostname>/ or https://<hostname>/\n"
	const badQuery = "\nBad value for --query : Invalid JMESPath expression: cannot be empty.\n"
	cmds := [][]string{
		{"describe-domain", "--name", "d1"},
		{"list-domains", "--registration-status", "REGISTERED"},
		{"executions", "--domain", "d1"},
		{"describe", "--domain", "d1", "--workflow-id", "w"},
		{"clock"},
		{"dev", "reset"},
	}
	for _, cmd := range cmds {
		for _, c := range []struct {
			flags  []string
			stderr string
		}{
			{[]string{"--endpoint-url", ""}, badEndpoint},
			{[]string{"--endpoint-url="}, badEndpoint},
			{[]string{"--query", ""}, badQuery},
			{[]string{"--query="}, badQuery},
		} {
			args := append(append([]string{}, cmd...), c.flags...)
			r := swfRun(env, args...)
			if r.RC != 255 || r.Stderr != c.stderr || r.Stdout != "" {
				t.Errorf("swf %q: rc=%d stdout %q stderr %q; want 255, %q", args, r.RC, r.Stdout, r.Stderr, c.stderr)
			}
		}
	}
	f.mu.Lock()
	n := len(f.requests)
	f.mu.Unlock()
	if n != 0 {
		t.Errorf("%d calls made; want none", n)
	}
}

// TestTableRowsOfUnevenLength: a --query whose table output would put rows
// of different lengths in one section is refused after the call, nothing
// printed, as the AWS CLI refuses it ("Row should have 1 elements, instead
// it has 2", exit status 255); the rows were drawn cut to the first one's
// columns, the values past them lost. A map among scalars is a row of its
// keys, as there.
func TestTableRowsOfUnevenLength(t *testing.T) {
	setCreds(t)
	f := newFake(t, func(string, map[string]any) (int, string) { return 200, describeDomainWire })
	env := map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL}
	for _, c := range []struct{ query, stdout, stderr string }{
		{"[domainInfo.name, `[1, 2]`]", "", "\nRow should have 1 elements, instead it has 2\n"},
		{"[[domainInfo.name, `[1, 2]`]]", "", "\nRow should have 1 elements, instead it has 2\n"},
		{"[`1`, `{\"a\": 2, \"b\": 3}`]", "", "\nRow should have 1 elements, instead it has 2\n"},
		{"[`[1, 2]`, `[3]`]", "", "\nRow should have 2 elements, instead it has 1\n"},
		{"[`1`, `{\"a\": 2}`]", "----------------\n|DescribeDomain|\n+--------------+\n|  1           |\n|  a           |\n+--------------+\n", ""},
	} {
		r := swfRun(env, "describe-domain", "--name", "d1", "--output", "table", "--query", c.query)
		rc := 0
		if c.stderr != "" {
			rc = 255
		}
		if r.RC != rc || r.Stdout != c.stdout || r.Stderr != c.stderr {
			t.Errorf("--query %s: rc=%d stdout %q stderr %q; want %d, %q, %q", c.query, r.RC, r.Stdout, r.Stderr, rc, c.stdout, c.stderr)
		}
	}
}

// TestParamFileErrors: a file:// value that cannot be read is reported as
// the AWS CLI reports it, Python's words for the system's error
// ("[Errno 2] No such file or directory: 'PATH'") and the flag with its
// dashes, --cli-input-json too; they were Go's ("open PATH: no such file or
// directory") and --cli-input-json's flag was named without them.
func TestParamFileErrors(t *testing.T) {
	setCreds(t)
	f := newFake(t, nil)
	env := map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL}
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope.json")
	for _, c := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"describe-domain", "--name", "file://" + missing},
			"\nError parsing parameter '--name': Unable to load paramfile file://" + missing + ": [Errno 2] No such file or directory: '" + missing + "'\n"},
		{[]string{"describe-domain", "--name", "file://" + dir},
			"\nError parsing parameter '--name': Unable to load paramfile file://" + dir + ": [Errno 21] Is a directory: '" + dir + "'\n"},
		{[]string{"describe-domain", "--cli-input-json", "file://" + missing},
			"\nError parsing parameter '--cli-input-json': Unable to load paramfile file://" + missing + ": [Errno 2] No such file or directory: '" + missing + "'\n"},
		{[]string{"describe-domain", "--cli-input-json", "fileb://" + dir},
			"\nError parsing parameter '--cli-input-json': Unable to load paramfile fileb://" + dir + ": [Errno 21] Is a directory: '" + dir + "'\n"},
	} {
		r := swfRun(env, c.args...)
		if r.RC != 255 || r.Stderr != c.stderr || r.Stdout != "" {
			t.Errorf("swf %q: rc=%d stdout %q stderr %q; want 255, %q", c.args, r.RC, r.Stdout, r.Stderr, c.stderr)
		}
	}
}

// TestConfigFileThatDoesNotParse: a config file the AWS CLI cannot parse
// (a line before any section, a line that is no "key = value", a key or a
// section given twice) stops every command before any call, "Unable to
// parse config file: PATH", exit status 255; swf skipped such lines and
// went on with what it could read, so a typo could send calls elsewhere.
// Files it can parse are still read.
func TestConfigFileThatDoesNotParse(t *testing.T) {
	setCreds(t)
	f := newFake(t, func(string, map[string]any) (int, string) { return 200, describeDomainWire })
	config := filepath.Join(t.TempDir(), "config")
	env := map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL, "AWS_CONFIG_FILE": config}
	for _, c := range []struct {
		text string
		ok   bool
	}{
		{"[default\noutput = text\n", false},
		{"output = text\n[default]\n", false},
		{"[default]\njunk\n", false},
		{"[default]\n= text\n", false},
		{"[default]\noutput = text\nOUTPUT = json\n", false},
		{"[default]\n[profile x]\n[default]\n", false},
		{"# comment\n; comment\n\n[default]\n  region = us-east-1\nx = 1\n  more\noutput = text\n[profile x]\noutput: json\n", true},
	} {
		if err := os.WriteFile(config, []byte(c.text), 0o600); err != nil {
			t.Fatal(err)
		}
		r := swfRun(env, "describe-domain", "--name", "d1")
		if c.ok {
			if r.RC != 0 || !strings.Contains(r.Stdout, "\nDOMAININFO\t") {
				t.Errorf("%q: rc=%d stdout %q stderr %q; want text output", c.text, r.RC, r.Stdout, r.Stderr)
			}
			continue
		}
		if want := "\nUnable to parse config file: " + config + "\n"; r.RC != 255 || r.Stderr != want || r.Stdout != "" {
			t.Errorf("%q: rc=%d stdout %q stderr %q; want 255, %q", c.text, r.RC, r.Stdout, r.Stderr, want)
		}
	}
}

// TestNegativePageSizeRefused: --page-size goes into the call's
// maximumPageSize, which is checked before the call as the AWS CLI checks
// it; a negative one was sent, and answered with swfd's
// ValidationException.
func TestNegativePageSizeRefused(t *testing.T) {
	setCreds(t)
	f := newFake(t, nil)
	env := map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL}
	want := "\nParameter validation failed:\nInvalid value for parameter maximumPageSize, value: -1, valid min value: 0\n"
	for _, args := range [][]string{
		{"list-domains", "--registration-status", "REGISTERED", "--page-size", "-1"},
		{"list-domains", "--registration-status", "REGISTERED", "--page-size", "-1", "--max-items", "1"},
		{"get-workflow-execution-history", "--domain", "d", "--execution", "workflowId=w,runId=r", "--page-size", "-1"},
	} {
		r := swfRun(env, args...)
		if r.RC != 255 || r.Stderr != want || r.Stdout != "" {
			t.Errorf("swf %q: rc=%d stdout %q stderr %q; want 255, %q", args, r.RC, r.Stdout, r.Stderr, want)
		}
	}
	f.mu.Lock()
	n := len(f.requests)
	f.mu.Unlock()
	if n != 0 {
		t.Errorf("%d calls made; want none", n)
	}
}

// TestInvalidRegionRefused: a region that is no host label (a space, an
// underscore, a slash, a hyphen at an end, all digits, past 63
// characters) is refused before any call in the AWS CLI's words, exit
// status 255, from --region or the environment; it was used to sign the
// call.
func TestInvalidRegionRefused(t *testing.T) {
	setCreds(t)
	f := newFake(t, func(string, map[string]any) (int, string) { return 200, describeDomainWire })
	env := map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL}
	for _, region := range []string{"us east", "a_b", "a/b", "a-", "123", strings.Repeat("a", 64)} {
		want := "\nProvided region_name '" + region + "' doesn't match a supported format.\n"
		r := swfRun(env, "describe-domain", "--name", "d1", "--region", region)
		if r.RC != 255 || r.Stderr != want || r.Stdout != "" {
			t.Errorf("--region %q: rc=%d stdout %q stderr %q; want 255, %q", region, r.RC, r.Stdout, r.Stderr, want)
		}
	}
	r := swfRun(map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL, "AWS_DEFAULT_REGION": "a_b"}, "describe-domain", "--name", "d1")
	if want := "\nProvided region_name 'a_b' doesn't match a supported format.\n"; r.RC != 255 || r.Stderr != want {
		t.Errorf("AWS_DEFAULT_REGION=a_b: rc=%d stderr %q; want 255, %q", r.RC, r.Stderr, want)
	}
	f.mu.Lock()
	n := len(f.requests)
	f.mu.Unlock()
	if n != 0 {
		t.Errorf("%d calls made; want none", n)
	}
	for _, region := range []string{"us-east-1", "eu-west-2", "local", strings.Repeat("a", 63), "1a"} {
		if r := swfRun(env, "describe-domain", "--name", "d1", "--region", region); r.RC != 0 {
			t.Errorf("--region %q: rc=%d stderr %q; want it taken", region, r.RC, r.Stderr)
		}
	}
}

// TestDashValuesAreOptions: as argparse reads the AWS CLI's command line,
// an argument that starts with one dash and is no negative number ("-a",
// "-a=b", "--") is an option, not a flag's value: "--name -a" wants a
// value (exit status 2), and a list stops before it ("--tag-list a -b c":
// unknown options -b, c). Such an argument was taken as the value. A
// negative number, a lone dash or one with a space is still a value.
func TestDashValuesAreOptions(t *testing.T) {
	setCreds(t)
	f := newFake(t, func(string, map[string]any) (int, string) { return 200, describeDomainWire })
	env := map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL}
	for _, c := range []struct {
		args   []string
		rc     int
		stderr string
	}{
		{[]string{"describe-domain", "--name", "-a"}, 2, usageText + "swf: error: argument --name: expected one argument\n"},
		{[]string{"describe-domain", "--name", "-a=b"}, 2, usageText + "swf: error: argument --name: expected one argument\n"},
		{[]string{"describe-domain", "--name", "--"}, 2, usageText + "swf: error: argument --name: expected one argument\n"},
		{[]string{"start-workflow-execution", "--domain", "d", "--workflow-id", "w", "--workflow-type", "name=a,version=1", "--tag-list", "a", "-b", "c"}, 255,
			usageText + "\nUnknown options: -b, c\n"},
	} {
		r := swfRun(env, c.args...)
		if r.RC != c.rc || r.Stderr != c.stderr || r.Stdout != "" {
			t.Errorf("swf %q: rc=%d stdout %q stderr %q; want %d, %q", c.args, r.RC, r.Stdout, r.Stderr, c.rc, c.stderr)
		}
	}
	f.mu.Lock()
	n := len(f.requests)
	f.mu.Unlock()
	if n != 0 {
		t.Errorf("%d calls made; want none", n)
	}
	for _, v := range []string{"-1", "-1.5", "-", "-a b"} {
		if r := swfRun(env, "describe-domain", "--name", v); r.RC != 0 || f.last().body["name"] != v {
			t.Errorf("--name %q: rc=%d stderr %q, sent %v; want the value sent", v, r.RC, r.Stderr, f.last().body["name"])
		}
	}
}

// TestCompletionTakesGlobalOptions: the global options may stand before
// `completion` (and after it), as before any other command: `swf
// --endpoint-url URL completion bash`, the way a shell alias that names
// the endpoint runs it, printed the script. It was refused with "Unknown
// options: --endpoint-url" (exit status 255), every global option alike.
func TestCompletionTakesGlobalOptions(t *testing.T) {
	want := swfRun(nil, "completion", "bash")
	if want.RC != 0 || want.Stdout == "" {
		t.Fatalf("swf completion bash: exit status %d, stderr %q", want.RC, want.Stderr)
	}
	for _, args := range [][]string{
		{"--endpoint-url", "http://127.0.0.1:1", "completion", "bash"},
		{"--endpoint-url=http://127.0.0.1:1", "--region", "eu-west-1", "--output", "text", "completion", "bash"},
		{"--endp", "http://127.0.0.1:1", "completion", "bash"},
		{"--debug", "--no-verify-ssl", "--no-sign-request", "completion", "bash"},
		{"swf", "--profile", "p", "completion", "bash"},
		{"completion", "bash", "--endpoint-url", "http://127.0.0.1:1"},
	} {
		r := swfRun(nil, args...)
		if r.RC != 0 || r.Stdout != want.Stdout || r.Stderr != "" {
			t.Errorf("swf %s: exit status %d, stderr %q; want the script of swf completion bash", strings.Join(args, " "), r.RC, r.Stderr)
		}
	}
	if r := swfRun(nil, "--region", "eu-west-1", "completion", "zsh"); r.RC != 0 || !strings.HasPrefix(r.Stdout, "#compdef swf") {
		t.Errorf("swf --region eu-west-1 completion zsh: exit status %d, stderr %q", r.RC, r.Stderr)
	}
	if r := swfRun(nil, "--endpoint-url", "http://127.0.0.1:1", "completion", "help"); r.RC != 0 || !strings.HasPrefix(r.Stdout, "swf completion") {
		t.Errorf("swf --endpoint-url URL completion help: exit status %d, stderr %q", r.RC, r.Stderr)
	}
	if r := swfRun(nil, "--version", "completion", "bash"); r.RC != 0 || r.Stdout != versionString()+"\n" {
		t.Errorf("swf --version completion bash: exit status %d, stdout %q", r.RC, r.Stdout)
	}
	// What is not a global option is still refused.
	if r := swfRun(nil, "--endpoint-url", "http://127.0.0.1:1", "completion", "bash", "--domain", "d"); r.RC != 255 || !strings.HasSuffix(r.Stderr, "\nUnknown options: --domain\n") {
		t.Errorf("swf completion bash --domain d: exit status %d, stderr %q", r.RC, r.Stderr)
	}
}
