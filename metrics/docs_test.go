package metrics

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// metricName finds metric names in PromQL and in prose.
var metricName = regexp.MustCompile(`\b(?:swfd|go|process)_[a-z0-9_]+\b`)

// exported returns every metric name a server with every option on
// exports, the series names of histograms (_bucket, _sum, _count) included.
func exported(t *testing.T) map[string]bool {
	m := New(Options{TaskLists: true, Runtime: true})
	names := map[string]bool{}
	for _, d := range m.Describe() {
		names[d.Name] = true
		if d.Type == "histogram" {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				names[d.Name+s] = true
			}
		}
	}
	fams, err := m.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if n := f.GetName(); !strings.HasPrefix(n, "swfd_") {
			names[n] = true // the Go runtime's and the process's
		}
	}
	return names
}

// Every query of the Grafana dashboard names only metrics swfd exports,
// and the dashboard covers every part the operator watches.
func TestDashboardQueriesExportedMetrics(t *testing.T) {
	raw, err := os.ReadFile("../docs/grafana/swfd.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID    string `json:"uid"`
		Panels []struct {
			Type    string `json:"type"`
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("docs/grafana/swfd.json: %v", err)
	}
	if dash.UID == "" {
		t.Error("the dashboard has no uid")
	}
	names := exported(t)
	queried := map[string]bool{}
	var rows []string
	for _, p := range dash.Panels {
		if p.Type == "row" {
			rows = append(rows, p.Title)
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q queries nothing", p.Title)
		}
		for _, tg := range p.Targets {
			if strings.Count(tg.Expr, "(") != strings.Count(tg.Expr, ")") || strings.Count(tg.Expr, "{") != strings.Count(tg.Expr, "}") {
				t.Errorf("panel %q: unbalanced query %s", p.Title, tg.Expr)
			}
			found := metricName.FindAllString(tg.Expr, -1)
			if len(found) == 0 {
				t.Errorf("panel %q: query names no metric: %s", p.Title, tg.Expr)
			}
			for _, n := range found {
				queried[n] = true
				if !names[n] {
					t.Errorf("panel %q queries %s, which swfd does not export", p.Title, n)
				}
			}
		}
	}
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			if err := sharedStateAggregated(tg.Expr); err != "" {
				t.Errorf("panel %q: %s: %s", p.Title, err, tg.Expr)
			}
			if countsClientClosed(tg.Expr) {
				t.Errorf("panel %q counts ClientClosed among the faults: %s", p.Title, tg.Expr)
			}
		}
	}
	for _, want := range []string{"Throughput", "Latency", "Task lists and backlogs", "Store", "Cluster"} {
		if !slices.Contains(rows, want) {
			t.Errorf("the dashboard has no %q row (rows: %v)", want, rows)
		}
	}
	for _, n := range []string{"swfd_api_calls_total", "swfd_api_call_duration_seconds_bucket", "swfd_pending_tasks",
		"swfd_task_schedule_to_start_seconds_bucket", "swfd_store_commit_duration_seconds_bucket", "swfd_cluster_live_nodes"} {
		if !queried[n] {
			t.Errorf("the dashboard does not show %s", n)
		}
	}
}

// sharedState are the gauges that are each node's view of state the nodes
// of a cluster share: summed over nodes they count it once per node.
var sharedState = []string{"swfd_open_executions", "swfd_pending_tasks", "swfd_pending_task_oldest_age_seconds", "swfd_task_list_pending_tasks"}

// sharedStateAggregated says what is wrong with how expr aggregates a
// gauge of sharedState across nodes ("" if nothing): it must be max.
func sharedStateAggregated(expr string) string {
	for _, n := range sharedState {
		if !regexp.MustCompile(`\b` + n + `\b`).MatchString(expr) {
			continue
		}
		agg := regexp.MustCompile(`\b(sum|avg|count|min|max)\s*(?:by\s*\([^)]*\)\s*)?\(\s*` + n + `\b`).FindStringSubmatch(expr)
		switch {
		case agg == nil:
			return n + " is not aggregated across nodes (use max by (...))"
		case agg[1] != "max":
			return n + " is aggregated with " + agg[1] + " across nodes, which counts shared state once per node (use max)"
		}
	}
	return ""
}

func TestSharedStateAggregated(t *testing.T) {
	for expr, bad := range map[string]bool{
		`max by (domain) (swfd_open_executions{instance=~"$instance"})`: false,
		`max(swfd_pending_tasks)`: false,
		`sum by (domain) (swfd_open_executions{instance=~"$instance"})`: true,
		`sum by (kind, domain) (swfd_pending_tasks{domain=~"$domain"})`: true,
		`swfd_pending_tasks`:                                                   true,
		`sum by (kind) (swfd_pollers_waiting)`:                                 false,
		`avg(swfd_pending_task_oldest_age_seconds)`:                            true,
		`sum by (kind) (rate(swfd_task_schedule_to_start_seconds_bucket[5m]))`: false,
	} {
		if got := sharedStateAggregated(expr) != ""; got != bad {
			t.Errorf("sharedStateAggregated(%s) finds fault: %v, want %v", expr, got, bad)
		}
	}
}

// countsClientClosed says whether expr counts the calls that are not
// successes, ClientClosed among them: a client that went away (each long
// poll of a worker being redeployed) is not a fault.
func countsClientClosed(expr string) bool {
	return strings.Contains(expr, "swfd_api_calls_total") && strings.Contains(expr, `outcome!="success"`)
}

// The queries docs/operations.md suggests for alerts leave ClientClosed
// out of the failures, and the page says what it is.
func TestOperationsDocFailuresLeaveOutClientClosed(t *testing.T) {
	raw, err := os.ReadFile("../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	if countsClientClosed(doc) || !strings.Contains(doc, `outcome!~"success\|ClientClosed"`) {
		t.Error("docs/operations.md: the query of failing calls must leave out outcome ClientClosed")
	}
	if !strings.Contains(doc, `"status":499`) {
		t.Error("docs/operations.md does not say the access log's status of ClientClosed")
	}
}

// docs/operations.md lists every metric swfd exports, and names none that
// it does not.
func TestOperationsDocListsEveryMetric(t *testing.T) {
	raw, err := os.ReadFile("../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	for _, d := range New(Options{TaskLists: true}).Describe() {
		if !strings.Contains(doc, "| `"+d.Name+"` |") {
			t.Errorf("docs/operations.md has no row for %s", d.Name)
		}
	}
	names := exported(t)
	for _, n := range metricName.FindAllString(doc, -1) {
		if !names[n] {
			t.Errorf("docs/operations.md names %s, which swfd does not export", n)
		}
	}
}

// rateOfEvents finds, outside histogram_quantile, the rate of a counter of
// events (a _total that is not of seconds, or a histogram's _count): a
// series in events a second, whatever the panel's unit.
var rateOfEvents = regexp.MustCompile(`^\s*(?:sum(?: by \([a-z_, ]+\))? ?\()?\s*rate\((?:swfd|go|process)_[a-z0-9_]+?(?:_count|(?:[^s]|[^d]s)_total)\b`)

// Every series of the dashboard is drawn in its own unit: a panel in
// seconds that also plots a rate of events ("50 syncs a second") gives
// that series a unit of its own, else it reads as "50 s".
func TestDashboardUnits(t *testing.T) {
	raw, err := os.ReadFile("../docs/grafana/swfd.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title       string `json:"title"`
			FieldConfig struct {
				Defaults struct {
					Unit string `json:"unit"`
				} `json:"defaults"`
				Overrides []struct {
					Matcher struct {
						ID      string `json:"id"`
						Options string `json:"options"`
					} `json:"matcher"`
					Properties []struct {
						ID    string `json:"id"`
						Value any    `json:"value"`
					} `json:"properties"`
				} `json:"overrides"`
			} `json:"fieldConfig"`
			Targets []struct {
				Expr  string `json:"expr"`
				RefID string `json:"refId"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatal(err)
	}
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			unit := p.FieldConfig.Defaults.Unit
			for _, o := range p.FieldConfig.Overrides {
				if o.Matcher.ID == "byFrameRefID" && o.Matcher.Options == tg.RefID {
					for _, pr := range o.Properties {
						if u, ok := pr.Value.(string); ok && pr.ID == "unit" {
							unit = u
						}
					}
				}
			}
			if unit == "s" && rateOfEvents.MatchString(tg.Expr) {
				t.Errorf("panel %q draws a rate of events in seconds: %s", p.Title, tg.Expr)
			}
		}
	}
}

// Each metric's row in docs/operations.md says what its help text says,
// so that the two cannot drift apart.
func TestOperationsDocMeaningsAreTheHelp(t *testing.T) {
	raw, err := os.ReadFile("../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		cells := strings.Split(line, " | ")
		if len(cells) >= 4 && strings.HasPrefix(cells[0], "| `swfd_") {
			rows[strings.Trim(cells[0], "| `")] = strings.TrimSuffix(strings.Join(cells[3:], " | "), " |")
		}
	}
	for _, d := range New(Options{TaskLists: true}).Describe() {
		if got, ok := rows[d.Name]; ok && got != d.Help {
			t.Errorf("docs/operations.md says of %s:\n\t%s\nits help text:\n\t%s", d.Name, got, d.Help)
		}
	}
}

// The dashboard's panels and variables take their data source from its
// Data source variable, which works however the dashboard is loaded
// (imported, or provisioned from a file). An import input (__inputs) is
// asked for only by Grafana's import page, which puts the choice where
// the dashboard writes ${NAME}: one the dashboard never uses asks the user
// to pick a data source and then ignores the pick.
func TestDashboardInputsAreUsed(t *testing.T) {
	raw, err := os.ReadFile("../docs/grafana/swfd.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Inputs []struct {
			Name string `json:"name"`
		} `json:"__inputs"`
		Templating struct {
			List []struct {
				Name, Type string
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatal(err)
	}
	for _, in := range dash.Inputs {
		if !strings.Contains(string(raw), "${"+in.Name+"}") {
			t.Errorf("the dashboard asks for the import input %s and never uses it: the data source picked on import would be ignored", in.Name)
		}
	}
	if !slices.ContainsFunc(dash.Templating.List, func(v struct{ Name, Type string }) bool { return v.Name == "datasource" && v.Type == "datasource" }) {
		t.Error("the dashboard has no Data source variable")
	}
	if n := strings.Count(string(raw), `"uid": "${datasource}"`); n == 0 {
		t.Error("no panel takes its data source from the Data source variable")
	}
}

// notMetrics are the names of the form swfd_… that the documents use for
// things other than metrics: the web console's cookies, and the prefix of
// the databases the PostgreSQL tests make.
var notMetrics = map[string]bool{"swfd_session": true, "swfd_csrf": true, "swfd_test_": true}

// Every metric the other documents name (the README's Limits and
// Observability, the console's, PostgreSQL's and the testing guide's
// pages) is one swfd exports, as docs/operations.md's are.
func TestDocumentsNameExportedMetrics(t *testing.T) {
	docs, err := filepath.Glob("../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	docs = append(docs, "../README.md", "../CONTRIBUTING.md", "../clients/README.md")
	names := exported(t)
	labels := map[string][]string{}
	for _, d := range New(Options{TaskLists: true}).Describe() {
		labels[d.Name] = d.Labels
		if d.Type == "histogram" {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				labels[d.Name+s] = d.Labels
			}
			labels[d.Name+"_bucket"] = append(slices.Clone(d.Labels), "le")
		}
	}
	withLabels := regexp.MustCompile(`\b(swfd_[a-z0-9_]+)\{([^}]*)\}`)
	labelName := regexp.MustCompile(`^\s*([a-z_]+)\s*(?:[=!]|$)`)
	for _, doc := range docs {
		raw, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(doc, "../")
		seen := map[string]bool{}
		for _, n := range metricName.FindAllString(string(raw), -1) {
			if !names[n] && !notMetrics[n] && !seen[n] {
				seen[n] = true
				t.Errorf("%s names %s, which swfd does not export", name, n)
			}
		}
		// A metric written with labels (swfd_decisions_total{type, outcome},
		// or in a query) names only labels the metric has.
		for _, m := range withLabels.FindAllStringSubmatch(string(raw), -1) {
			for _, part := range strings.Split(m[2], ",") {
				l := labelName.FindStringSubmatch(part)
				if has, ok := labels[m[1]]; ok && l != nil && !slices.Contains(has, l[1]) {
					t.Errorf("%s gives %s the label %s; its labels are %v", name, m[1], l[1], has)
				}
			}
		}
	}
}
