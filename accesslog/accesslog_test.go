package accesslog_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
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
	l.Call(&frontend.Call{Time: at, RequestID: "r3", Status: 400, Fault: "UnknownOperationException"})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 3 {
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
	// A request that named no operation is "unknown", as in the metrics.
	var third map[string]any
	if err := json.Unmarshal([]byte(lines[2]), &third); err != nil || third["operation"] != "unknown" {
		t.Errorf("line 3 = %v (%v), want operation unknown", third, err)
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

// flaky is a writer that fails while told to, after taking part of what it
// is given (as a write to a full disk may).
type flaky struct {
	mu   sync.Mutex
	fail bool
	got  bytes.Buffer
}

func (f *flaky) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		n := min(len(p), 7)
		f.got.Write(p[:n])
		return n, syscall.ENOSPC
	}
	return f.got.Write(p)
}

func (f *flaky) set(fail bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = fail
}

func (f *flaky) lines(t *testing.T) []string {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	// Whole lines only: a failed write may have left the start of one.
	b := f.got.Bytes()
	b = b[:bytes.LastIndexByte(b, '\n')+1]
	var ids []string
	for s := bufio.NewScanner(bytes.NewReader(b)); s.Scan(); {
		var line struct {
			RequestID string `json:"request_id"`
		}
		if err := json.Unmarshal(s.Bytes(), &line); err != nil {
			t.Fatalf("not a line: %q (%v)", s.Text(), err)
		}
		ids = append(ids, line.RequestID)
	}
	return ids
}

// A failed write is reported, and the log carries on once writes succeed
// again: the lines it could not write are written then, whole, without a
// Flush or a Reopen (the probe found it silent and stopped for good).
func TestWriteFailsThenRecovers(t *testing.T) {
	w := &flaky{}
	l := accesslog.New(w)
	defer l.Close()
	var mu sync.Mutex
	var failures []error
	l.OnError(func(err error, dropped int64) {
		mu.Lock()
		defer mu.Unlock()
		failures = append(failures, err)
	})
	l.Call(&frontend.Call{RequestID: "1", Status: 200})
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	w.set(true)
	l.Call(&frontend.Call{RequestID: "2", Status: 200})
	if err := l.Flush(); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Flush onto a full disk: %v", err)
	}
	l.Call(&frontend.Call{RequestID: "3", Status: 200})
	mu.Lock()
	if len(failures) == 0 || !errors.Is(failures[0], syscall.ENOSPC) {
		t.Errorf("OnError was told %v", failures)
	}
	mu.Unlock()
	w.set(false)
	// The retry is the log's own, within a few FlushEvery.
	deadline := time.Now().Add(10 * time.Second)
	for len(w.lines(t)) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("lines after the disk had room again: %q", w.lines(t))
		}
		time.Sleep(10 * time.Millisecond)
	}
	l.Call(&frontend.Call{RequestID: "4", Status: 200})
	if err := l.Flush(); err != nil {
		t.Fatalf("Flush after recovery: %v", err)
	}
	if !bytes.HasSuffix(w.got.Bytes(), []byte("}\n")) {
		t.Errorf("the output ends with part of a line: %q", w.got.String())
	}
	if got := strings.Join(w.lines(t), ","); got != "1,2,3,4" {
		t.Errorf("lines %s, want 1,2,3,4", got)
	}
	if l.Dropped() != 0 {
		t.Errorf("%d lines dropped", l.Dropped())
	}
}

// While writes fail, the buffer keeps what it can hold and drops later
// lines whole: once writes succeed the output is still whole lines, the
// first ones, in order.
func TestFullBufferDropsWholeLines(t *testing.T) {
	w := &flaky{fail: true}
	l := accesslog.New(w)
	defer l.Close()
	const n = 2000 // about 300 KiB of lines, far more than the buffer
	for i := range n {
		l.Call(&frontend.Call{RequestID: strconv.Itoa(i), Operation: "PollForActivityTask", Domain: strings.Repeat("d", 100), Status: 200})
	}
	if l.Dropped() == 0 {
		t.Fatal("nothing dropped")
	}
	w.set(false)
	if err := l.Flush(); err == nil || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Flush reports %v, want the failure met before it", err)
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	ids := w.lines(t)
	if len(ids) == 0 || int64(len(ids))+l.Dropped() != n {
		t.Fatalf("%d lines written and %d dropped, of %d", len(ids), l.Dropped(), n)
	}
	for i, id := range ids {
		if id != strconv.Itoa(i) {
			t.Fatalf("line %d is %s", i, id)
		}
	}
}
