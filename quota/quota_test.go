package quota

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/clock"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func parse(t *testing.T, s string) *Config {
	t.Helper()
	cfg, err := Parse([]byte(s))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return cfg
}

// allowed counts how many of n calls c are allowed now.
func allowed(l *Limiter, c Call, n int) int {
	ok := 0
	for range n {
		if l.Allow(c) {
			ok++
		}
	}
	return ok
}

// A bucket allows its size at once, then one call per 1/rate seconds as
// the clock moves, and never holds more than its size.
func TestBucketOnManualClock(t *testing.T) {
	clk := clock.NewManual(t0)
	l := New(parse(t, `{"base": "off", "operations": {"StartWorkflowExecution": {"bucketSize": 3, "refillPerSecond": 0.5}}}`), clk)
	start := Call{Operation: "StartWorkflowExecution", Domain: "d"}
	if n := allowed(l, start, 5); n != 3 {
		t.Fatalf("a full bucket of 3 allowed %d of 5 calls", n)
	}
	clk.MoveTo(t0.Add(1999 * time.Millisecond))
	if l.Allow(start) {
		t.Fatal("allowed before a whole token was refilled (0.5 a second)")
	}
	clk.MoveTo(t0.Add(2 * time.Second))
	if n := allowed(l, start, 3); n != 1 {
		t.Fatalf("2 s at 0.5 a second allowed %d calls, want 1", n)
	}
	clk.MoveTo(t0.Add(time.Hour))
	if n := allowed(l, start, 10); n != 3 {
		t.Fatalf("an hour later the bucket allowed %d calls, want its size 3", n)
	}
	// Other operations have no bucket with base "off".
	if n := allowed(l, Call{Operation: "ListDomains"}, 100); n != 100 {
		t.Fatalf("an operation without a bucket allowed %d of 100", n)
	}
}

// A per-execution bucket limits each execution apart, and a call refused by
// one of its buckets takes nothing from the other.
func TestExecutionBuckets(t *testing.T) {
	clk := clock.NewManual(t0)
	l := New(parse(t, `{"base": "off",
		"operations": {"SignalWorkflowExecution": {"bucketSize": 5, "refillPerSecond": 1}},
		"executions": {"SignalWorkflowExecution": {"bucketSize": 2, "refillPerSecond": 1}}}`), clk)
	a := Call{Operation: "SignalWorkflowExecution", Domain: "d", Execution: "wf-a"}
	b := Call{Operation: "SignalWorkflowExecution", Domain: "d", Execution: "wf-b"}
	if n := allowed(l, a, 4); n != 2 {
		t.Fatalf("execution a: %d of 4 allowed, want its bucket's 2", n)
	}
	// The two refused calls on a took nothing from the account's bucket:
	// 3 tokens are left there, 2 of them for b (its own bucket's size).
	if n := allowed(l, b, 2); n != 2 {
		t.Fatalf("execution b: %d of 2 allowed", n)
	}
	c := Call{Operation: "SignalWorkflowExecution", Domain: "d", Execution: "wf-c"}
	if n := allowed(l, c, 2); n != 1 {
		t.Fatalf("execution c: %d of 2 allowed, want the account bucket's last 1", n)
	}
	// The same workflow id in another domain is another execution.
	clk.MoveTo(t0.Add(2 * time.Second))
	if !l.Allow(Call{Operation: "SignalWorkflowExecution", Domain: "e", Execution: "wf-a"}) {
		t.Fatal("wf-a in domain e shares wf-a's bucket of domain d")
	}
}

// A domain's or a principal's override gives it a bucket of its own; a
// principal's wins over a domain's; unlimited lifts a limit.
func TestScopes(t *testing.T) {
	clk := clock.NewManual(t0)
	l := New(parse(t, `{"base": "off",
		"operations": {"DescribeDomain": {"bucketSize": 2, "refillPerSecond": 1}},
		"domains": {"big": {"operations": {"DescribeDomain": {"bucketSize": 5, "refillPerSecond": 1}}},
		            "free": {"operations": {"DescribeDomain": {"unlimited": true}}}},
		"principals": {"ci": {"operations": {"DescribeDomain": {"bucketSize": 1, "refillPerSecond": 1}}}}}`), clk)
	op := "DescribeDomain"
	if n := allowed(l, Call{Operation: op, Domain: "small"}, 10); n != 2 {
		t.Fatalf("account bucket: %d allowed, want 2", n)
	}
	if n := allowed(l, Call{Operation: op, Domain: "other"}, 10); n != 0 {
		t.Fatalf("another domain without an override shares the account's bucket, yet %d allowed", n)
	}
	if n := allowed(l, Call{Operation: op, Domain: "big"}, 10); n != 5 {
		t.Fatalf("domain big's own bucket: %d allowed, want 5", n)
	}
	if n := allowed(l, Call{Operation: op, Domain: "free"}, 100); n != 100 {
		t.Fatalf("unlimited domain: %d of 100 allowed", n)
	}
	if n := allowed(l, Call{Operation: op, Domain: "free", Principal: "ci"}, 10); n != 1 {
		t.Fatalf("principal ci in domain free: %d allowed, want its own bucket's 1", n)
	}
	if n := allowed(l, Call{Operation: op, Domain: "small", Principal: "ci"}, 10); n != 0 {
		t.Fatalf("principal ci's bucket is one for all its domains, yet %d more allowed", n)
	}
	if n := allowed(l, Call{Operation: op, Domain: "big", Principal: "alice"}, 10); n != 0 {
		t.Fatalf("a principal without an override uses the domain's bucket (spent), yet %d allowed", n)
	}
}

// A batch's tokens go back when it is released and stay spent when kept;
// a decision refused by its task list's bucket takes nothing from its
// type's bucket.
func TestBatch(t *testing.T) {
	clk := clock.NewManual(t0)
	l := New(parse(t, `{"base": "off",
		"decisions": {"ScheduleActivityTask": {"bucketSize": 3, "refillPerSecond": 1},
		              "StartTimer": {"bucketSize": 1, "refillPerSecond": 1}},
		"activityTaskList": {"bucketSize": 2, "refillPerSecond": 1}}`), clk)
	b := l.Batch("d", "")
	if !b.Allow(api.DecisionTypeScheduleActivityTask, "q1") || !b.Allow(api.DecisionTypeScheduleActivityTask, "q1") {
		t.Fatal("the first two activities on q1 refused")
	}
	if b.Allow(api.DecisionTypeScheduleActivityTask, "q1") {
		t.Fatal("a third activity on q1 allowed past the task list's bucket of 2")
	}
	if !b.Allow(api.DecisionTypeStartTimer, "") || b.Allow(api.DecisionTypeStartTimer, "") {
		t.Fatal("StartTimer's bucket of 1 not applied")
	}
	b.Release()
	// Everything is back: 3 for the type, 2 per task list, 1 timer.
	b = l.Batch("d", "")
	got := 0
	for _, list := range []string{"q1", "q1", "q2", "q2"} {
		if b.Allow(api.DecisionTypeScheduleActivityTask, list) {
			got++
		}
	}
	if got != 3 {
		t.Fatalf("after a release, %d of 4 activities allowed, want the type's 3", got)
	}
	if !b.Allow(api.DecisionTypeStartTimer, "") {
		t.Fatal("the released timer token is not back")
	}
	b.Keep()
	b.Release() // nothing left to give back
	b = l.Batch("d", "")
	if b.Allow(api.DecisionTypeScheduleActivityTask, "q3") || b.Allow(api.DecisionTypeStartTimer, "") {
		t.Fatal("kept tokens came back")
	}
	// Decisions without a bucket are always allowed.
	if !b.Allow(api.DecisionTypeStartChildWorkflowExecution, "") {
		t.Fatal("a decision with no bucket refused")
	}
	clk.MoveTo(t0.Add(time.Second))
	if !b.Allow(api.DecisionTypeStartTimer, "") {
		t.Fatal("no timer token after a second at 1 a second")
	}
}

// A reload keeps what buckets hold, within their new size.
func TestSetConfigKeepsTokens(t *testing.T) {
	clk := clock.NewManual(t0)
	l := New(parse(t, `{"base": "off", "operations": {"ListDomains": {"bucketSize": 10, "refillPerSecond": 1}}}`), clk)
	c := Call{Operation: "ListDomains"}
	if n := allowed(l, c, 8); n != 8 {
		t.Fatalf("%d of 8 allowed", n)
	}
	l.SetConfig(parse(t, `{"base": "off", "operations": {"ListDomains": {"bucketSize": 100, "refillPerSecond": 1}}}`))
	if n := allowed(l, c, 10); n != 2 {
		t.Fatalf("after growing the bucket, %d allowed, want the 2 it held", n)
	}
	clk.MoveTo(t0.Add(50 * time.Second))
	l.SetConfig(parse(t, `{"base": "off", "operations": {"ListDomains": {"bucketSize": 5, "refillPerSecond": 1}}}`))
	if n := allowed(l, c, 10); n != 5 {
		t.Fatalf("after shrinking the bucket, %d allowed, want its new size 5", n)
	}
	l.SetConfig(parse(t, `{"base": "off"}`))
	if n := allowed(l, c, 10); n != 10 {
		t.Fatalf("after lifting the limit, %d of 10 allowed", n)
	}
}

// Buckets per execution do not pile up: full ones are dropped.
func TestBucketsAreSwept(t *testing.T) {
	clk := clock.NewManual(t0)
	l := New(parse(t, `{"base": "off", "executions": {"SignalWorkflowExecution": {"bucketSize": 10, "refillPerSecond": 10}}}`), clk)
	for i := range 20000 {
		if i%1000 == 0 {
			clk.MoveTo(clk.Now().Add(time.Second))
		}
		if !l.Allow(Call{Operation: "SignalWorkflowExecution", Domain: "d", Execution: fmt.Sprint("wf-", i)}) {
			t.Fatalf("call %d refused", i)
		}
	}
	if n := l.Buckets(); n > 2*minSweep+1000 {
		t.Fatalf("%d buckets kept for 20000 executions", n)
	}
}

// aws has a bucket for every operation, the real service's four per
// execution, and its five decision buckets.
func TestAWSDefaults(t *testing.T) {
	cfg := AWS()
	for name := range api.Operations {
		if lim, ok := cfg.Operations[name]; !ok || lim.Size < 1 || lim.Rate <= 0 {
			t.Errorf("operation %s: %v", name, lim)
		}
	}
	if len(cfg.Operations) != len(api.Operations) {
		t.Errorf("%d operation buckets for %d operations", len(cfg.Operations), len(api.Operations))
	}
	if len(cfg.Executions) != 4 || cfg.Executions["SignalWorkflowExecution"] != (Limit{Size: 1000, Rate: 1000}) {
		t.Errorf("per execution: %v", cfg.Executions)
	}
	if cfg.Decisions[api.DecisionTypeStartChildWorkflowExecution] != (Limit{Size: 500, Rate: 12}) || len(cfg.Decisions) != 5 {
		t.Errorf("decisions: %v", cfg.Decisions)
	}
	if *cfg.ActivityTaskList != (Limit{Size: 2000, Rate: 2000}) {
		t.Errorf("task list: %v", cfg.ActivityTaskList)
	}
	// The file's base "aws" is the same, with its overrides on top.
	f := parse(t, `{"operations": {"ListDomains": {"bucketSize": 1, "refillPerSecond": 1}}}`)
	if f.Operations["ListDomains"] != (Limit{Size: 1, Rate: 1}) || f.Operations["RegisterDomain"] != (Limit{Size: 100, Rate: 6}) {
		t.Errorf("base aws with an override: %v %v", f.Operations["ListDomains"], f.Operations["RegisterDomain"])
	}
	l := New(cfg, clock.NewManual(t0))
	if n := allowed(l, Call{Operation: "ListTagsForResource", Domain: "d"}, 60); n != 50 {
		t.Errorf("ListTagsForResource: %d of 60 allowed at once, want 50", n)
	}
}

// A bad file is refused with an error that names what is wrong and where.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{``, "empty"},
		{`{"operations": {`, "line 1"},
		{"{\n\"operations\": {\"ListDomains\": {\"bucketSize\": \"ten\", \"refillPerSecond\": 1}}}", "line 2: operations.bucketSize: a string is not allowed here (want a number)"},
		{`{"base": "gcp"}`, `base: "gcp"`},
		{`{"operation": {}}`, `unknown field "operation"`},
		{`{"operations": {"StartWorkflow": {"bucketSize": 1, "refillPerSecond": 1}}}`, `operations: "StartWorkflow" is not an SWF operation`},
		{`{"operations": {"ListDomains": {"refillPerSecond": 1}}}`, "operations.ListDomains: bucketSize is missing"},
		{`{"operations": {"ListDomains": {"bucketSize": 1}}}`, "operations.ListDomains: refillPerSecond is missing"},
		{`{"operations": {"ListDomains": {"bucketSize": 0, "refillPerSecond": 1}}}`, "operations.ListDomains: bucketSize 0 must be a whole number"},
		{`{"operations": {"ListDomains": {"bucketSize": 1.5, "refillPerSecond": 1}}}`, "bucketSize 1.5"},
		{`{"operations": {"ListDomains": {"bucketSize": 1, "refillPerSecond": 0}}}`, "operations.ListDomains: refillPerSecond 0 must be more than 0"},
		{`{"operations": {"ListDomains": {"bucketSize": 1, "refillPerSecond": 1, "unlimited": true}}}`, "either unlimited or"},
		{`{"executions": {"StartWorkflowExecution": {"unlimited": true}}}`, `executions: "StartWorkflowExecution" has no bucket per execution`},
		{`{"decisions": {"RecordMarker": {"unlimited": true}}}`, `decisions: "RecordMarker" is not a rate-limited decision`},
		{`{"domains": {"d": {"decisions": {"StartTimer": {"bucketSize": -1, "refillPerSecond": 1}}}}}`, "domains.d.decisions.StartTimer: bucketSize -1"},
		{`{"principals": {"ci": {"activityTaskList": {"bucketSize": 1}}}}`, "principals.ci.activityTaskList: refillPerSecond is missing"},
		{`{"principals": {"": {}}}`, "principal's name is empty"},
		{`{"domains": {"d": {"base": "off"}}}`, `unknown field "base"`},
		{`{} {}`, "after the JSON object"},
	} {
		_, err := Parse([]byte(tc.file))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%s) = %v, want an error with %q", tc.file, err, tc.want)
		}
	}
	path := filepath.Join(t.TempDir(), "q.json")
	os.WriteFile(path, []byte(`{"base": "none"}`), 0o600)
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "quota file "+path+": base") {
		t.Errorf("Load: %v", err)
	}
	if _, err := Load(path + ".missing"); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("Load of a missing file: %v", err)
	}
}

// The quota files the repository shows (the README's example, the boto3
// client's) are valid.
func TestDocumentedFilesParse(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "### Throttling")
	_, block, ok2 := strings.Cut(section, "```json\n")
	block, _, ok3 := strings.Cut(block, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("README has no quota file example under ### Throttling")
	}
	cfg, err := Parse([]byte(block))
	if err != nil {
		t.Fatalf("README's example: %v", err)
	}
	if cfg.Domains["load-test"].Operations["StartWorkflowExecution"] != (Limit{Unlimited: true}) {
		t.Errorf("README's example read as %+v", cfg.Domains["load-test"])
	}
	if _, err := Load("../clients/boto3/quotas.json"); err != nil {
		t.Errorf("boto3's quota file: %v", err)
	}
}

// The cost of one call's admission with the real defaults (a bucket per
// operation and one per execution).
func BenchmarkAllow(b *testing.B) {
	l := New(AWS(), nil)
	c := Call{Operation: "SignalWorkflowExecution", Domain: "d", Execution: "w:1"}
	b.ReportAllocs()
	for b.Loop() {
		l.Allow(c)
	}
}

// A quota file may give ScheduleLambdaFunction a bucket, which the real
// defaults do not.
func TestLambdaDecisionBucket(t *testing.T) {
	if _, ok := AWS().Decisions[api.DecisionTypeScheduleLambdaFunction]; ok {
		t.Error("the real defaults have a ScheduleLambdaFunction bucket")
	}
	cfg := parse(t, `{"decisions": {"ScheduleLambdaFunction": {"bucketSize": 2, "refillPerSecond": 1}}}`)
	if lim := cfg.Decisions[api.DecisionTypeScheduleLambdaFunction]; lim != (Limit{Size: 2, Rate: 1}) {
		t.Fatalf("ScheduleLambdaFunction: %v", lim)
	}
	b := New(cfg, clock.NewManual(t0)).Batch("d", "")
	for i, want := range []bool{true, true, false} {
		if got := b.Allow(api.DecisionTypeScheduleLambdaFunction, ""); got != want {
			t.Errorf("function %d: allowed %v, want %v", i+1, got, want)
		}
	}
}

// A member given twice in one object, at any level of the file, is refused
// with its place: decoding would keep only the last, so a limit (or a
// whole domain's or principal's overrides) would be dropped without a
// word. Members of the file's own objects are read whatever their case, so
// two spellings of one ("Operations" beside "operations") are the same
// member; the names of operations, domains and principals are taken as
// written, so "Batch" and "batch" are two domains.
func TestParseRefusesAMemberGivenTwice(t *testing.T) {
	lim := `{"bucketSize": 1, "refillPerSecond": 1}`
	for _, tc := range []struct{ file, want string }{
		{`{"base": "off", "base": "aws"}`, `the document gives the member "base" twice`},
		{`{"operations": {}, "Operations": {"ListDomains": ` + lim + `}}`, `the document gives the member "Operations" twice (as "operations" and as "Operations"`},
		{`{"operations": {"ListDomains": ` + lim + `, "ListDomains": {"unlimited": true}}}`, `operations gives the member "ListDomains" twice`},
		{`{"operations": {"ListDomains": {"bucketSize": 1, "refillPerSecond": 1, "bucketSize": 5}}}`, `operations.ListDomains gives the member "bucketSize" twice`},
		{`{"operations": {"ListDomains": {"bucketSize": 1, "refillPerSecond": 1, "BUCKETSIZE": 5}}}`, `operations.ListDomains gives the member "BUCKETSIZE" twice`},
		{`{"executions": {"SignalWorkflowExecution": ` + lim + `, "SignalWorkflowExecution": ` + lim + `}}`, `executions gives the member "SignalWorkflowExecution" twice`},
		{`{"decisions": {"StartTimer": ` + lim + `, "StartTimer": ` + lim + `}}`, `decisions gives the member "StartTimer" twice`},
		{`{"activityTaskList": ` + lim + `, "activitytasklist": ` + lim + `}`, `the document gives the member "activitytasklist" twice`},
		{`{"activityTaskList": {"unlimited": true, "unlimited": false}}`, `activityTaskList gives the member "unlimited" twice`},
		{`{"domains": {"batch": {}, "batch": {"operations": {"ListDomains": ` + lim + `}}}}`, `domains gives the member "batch" twice`},
		{`{"domains": {"batch": {"operations": {}, "operations": {}}}}`, `domains.batch gives the member "operations" twice`},
		{`{"domains": {"batch": {"decisions": {"StartTimer": {"bucketSize": 1, "refillPerSecond": 1, "refillPerSecond": 2}}}}}`, `domains.batch.decisions.StartTimer gives the member "refillPerSecond" twice`},
		{`{"principals": {"ci": {}, "ci": {}}}`, `principals gives the member "ci" twice`},
		{`{"principals": {"ci": {"activityTaskList": ` + lim + `, "ActivityTaskList": ` + lim + `}}}`, `principals.ci gives the member "ActivityTaskList" twice`},
		// "ſ" (long s) is read as "s" when a member is matched to a field.
		{`{"domains": {}, "domainſ": {}}`, `the document gives the member "domainſ" twice`},
		{"{\n\"principals\": {\n\"ci\": {},\n\"ci\": {}}}", `line 4: principals gives the member "ci" twice`},
	} {
		_, err := Parse([]byte(tc.file))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%s) = %v, want an error with %q", tc.file, err, tc.want)
		}
	}
	// Names that differ only in case are different domains and
	// principals, as they are for the service and the auth file.
	cfg := parse(t, `{"domains": {"batch": {}, "Batch": {}}, "principals": {"ci": {}, "CI": {}}}`)
	if len(cfg.Domains) != 2 || len(cfg.Principals) != 2 {
		t.Errorf("domains %v, principals %v: want two of each", cfg.Domains, cfg.Principals)
	}
	path := filepath.Join(t.TempDir(), "q.json")
	os.WriteFile(path, []byte(`{"base": "off", "base": "aws"}`), 0o600)
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "quota file "+path+": line 1: the document gives the member \"base\" twice") {
		t.Errorf("Load: %v", err)
	}
}
