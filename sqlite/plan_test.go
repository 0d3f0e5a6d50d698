package sqlite

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd"
)

// planQueries are the visibility query shapes the service issues: every
// single selector with each time filter, with and without a cursor.
func planQueries() map[string]swfd.VisibilityQuery {
	t0 := time.UnixMilli(1_700_000_000_000)
	base := map[string]swfd.VisibilityQuery{
		"none":         {},
		"workflowId":   {WorkflowID: "wf"},
		"type":         {TypeName: "t"},
		"type+version": {TypeName: "t", TypeVersion: "1"},
		"tag":          {Tag: "x"},
		"empty tag":    {EmptyTag: true},
		"close status": {CloseStatus: "FAILED"},
	}
	out := map[string]swfd.VisibilityQuery{}
	for name, q := range base {
		q.Domain = "d"
		for _, kind := range []string{"open", "closed by start", "closed by close"} {
			if kind == "open" && q.CloseStatus != "" {
				continue
			}
			k := q
			k.Open = kind == "open"
			k.ByCloseTime = kind == "closed by close"
			k.Oldest, k.Latest = t0, t0.Add(time.Hour)
			out[kind+" "+name] = k
			k.AfterTime, k.AfterRunID = t0.Add(time.Minute), "r"
			out[kind+" "+name+" after"] = k
			k.Reverse = true
			out[kind+" "+name+" after reversed"] = k
		}
	}
	return out
}

func explain(t *testing.T, db *DB, query string, args []any) string {
	t.Helper()
	rows, err := db.wconn.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatalf("explain %s: %v", query, err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, detail)
	}
	return strings.Join(lines, "; ")
}

// TestVisibilityPlans checks that every visibility query reads one index
// range in result order: no full scan, no sort of the matching rows, and no
// table access for counts.
func TestVisibilityPlans(t *testing.T) {
	db, _ := openTemp(t)
	for name, q := range planQueries() {
		q.Limit = 101
		lq, largs := listSQL(q)
		plan := explain(t, db, lq, largs)
		want := visibilityIndex(q)
		if _, ok := q.TagFilter(); ok {
			want = "PRIMARY KEY"
			if q.ByCloseTime {
				want = "execution_tag_index_close"
			}
		}
		if !strings.Contains(plan, want+" ") {
			t.Errorf("list %s does not read %s: %s", name, want, plan)
		}
		if strings.Contains(plan, "TEMP B-TREE") && !(q.WorkflowID != "" && !q.ByCloseTime) {
			t.Errorf("list %s sorts: %s", name, plan)
		}
		if strings.Contains(plan, "SCAN") {
			t.Errorf("list %s scans: %s", name, plan)
		}
		cq, cargs := countSQL(q, 1001)
		plan = explain(t, db, cq, cargs)
		if !strings.Contains(plan, want+" ") {
			t.Errorf("count %s does not read %s: %s", name, want, plan)
		}
		if !strings.Contains(plan, "COVERING INDEX") && !strings.Contains(plan, "PRIMARY KEY") {
			t.Errorf("count %s reads the table: %s", name, plan)
		}
		if strings.Contains(plan, "SCAN e") || strings.Contains(plan, "SCAN t") || strings.Contains(plan, "SCAN executions") {
			t.Errorf("count %s scans: %s", name, plan)
		}
		if testing.Verbose() {
			fmt.Printf("%-40s list: %s\n%-40s count: %s\n", name, explain(t, db, lq, largs), "", plan)
		}
	}
}
