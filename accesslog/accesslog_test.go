package accesslog_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd/accesslog"
	"github.com/swfd/swfd/frontend"
)

func TestLineHasTheFieldsAndOnlyThem(t *testing.T) {
	var buf bytes.Buffer
	l := accesslog.New(&buf)
	at := time.Date(2026, 12, 5, 4, 10, 0, 123456000, time.FixedZone("X", 3600))
	l.Call(&frontend.Call{Time: at, RequestID: "5f0c0000-0000-0000-0000-000000000001", Principal: "orders-decider",
		Operation: "PollForDecisionTask", Domain: "orders", Status: 200, Duration: 1843200 * time.Microsecond, BytesIn: 93, BytesOut: 2311})
	l.Call(&frontend.Call{Time: at, RequestID: "r2", Operation: "DescribeDomain", Domain: "we\"ird\n\xff", Status: 400, Fault: "UnknownResourceFault",
		Duration: 250 * time.Microsecond, BytesIn: 10, BytesOut: 80})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("lines: %q", buf.String())
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatalf("line %q: %v", lines[0], err)
	}
	want := map[string]any{
		"time": "2026-12-05T03:10:00.123456Z", "request_id": "5f0c0000-0000-0000-0000-000000000001", "principal": "orders-decider",
		"operation": "PollForDecisionTask", "domain": "orders", "status": 200.0, "fault": "", "latency_ms": 1843.2,
		"bytes_in": 93.0, "bytes_out": 2311.0,
	}
	if !reflect.DeepEqual(first, want) {
		t.Errorf("line 1 = %v\nwant     %v", first, want)
	}
	var second map[string]any
	if err := json.Unmarshal([]byte(lines[1]), &second); err != nil {
		t.Fatalf("line %q: %v", lines[1], err)
	}
	if second["domain"] != "we\"ird\n\ufffd" || second["fault"] != "UnknownResourceFault" || second["latency_ms"] != 0.25 || second["principal"] != "" {
		t.Errorf("line 2 = %v", second)
	}
	var keys []string
	for k := range second {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if got := strings.Join(keys, ","); got != "bytes_in,bytes_out,domain,fault,latency_ms,operation,principal,request_id,status,time" {
		t.Errorf("fields %s", got)
	}
}

// Lines reach the file within FlushEvery without a Close, and Reopen
// follows a rotation: lines after it go to a new file at the path.
func TestFlushAndReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	l, err := accesslog.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Call(&frontend.Call{RequestID: "before", Status: 200})
	deadline := time.Now().Add(10 * time.Second)
	for countLines(t, path) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the line never reached the file")
		}
		time.Sleep(10 * time.Millisecond)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, %v", st.Mode(), err)
	}
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	l.Call(&frontend.Call{RequestID: "rotated-out", Status: 200})
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	l.Call(&frontend.Call{RequestID: "after", Status: 200})
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	if n := countLines(t, path+".1"); n != 2 {
		t.Errorf("rotated file has %d lines, want 2", n)
	}
	if n := countLines(t, path); n != 1 {
		t.Errorf("new file has %d lines, want 1", n)
	}
}

func countLines(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	for s := bufio.NewScanner(f); s.Scan(); n++ {
		if !json.Valid(s.Bytes()) {
			t.Errorf("not JSON: %q", s.Text())
		}
	}
	return n
}
