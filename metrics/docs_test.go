package metrics

import (
	"encoding/json"
	"os"
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
