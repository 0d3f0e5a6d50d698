package console_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/server"
)

// percentiles reports p50, p99 and max of durations, in milliseconds.
func percentiles(b *testing.B, name string, ds []time.Duration) {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	at := func(q float64) float64 { return float64(ds[min(len(ds)-1, int(q*float64(len(ds))))]) / 1e6 }
	b.ReportMetric(at(0.5), name+"-p50-ms")
	b.ReportMetric(at(0.99), name+"-p99-ms")
	b.ReportMetric(float64(ds[len(ds)-1])/1e6, name+"-max-ms")
}

// serve times one request to the handler, in process: the server's time,
// without the network's.
func serve(b *testing.B, h http.Handler, path string) (time.Duration, int) {
	req := httptest.NewRequest("GET", path, nil)
	req.Host = "127.0.0.1"
	req.Header.Set("X-Console-Fragment", "1") // for the fragments; pages ignore it
	rec := httptest.NewRecorder()
	t0 := time.Now()
	h.ServeHTTP(rec, req)
	d := time.Since(t0)
	if rec.Code != 200 {
		b.Fatalf("GET %s: %d %s", path, rec.Code, trunc(rec.Body.String()))
	}
	return d, rec.Body.Len()
}

// BenchmarkListPage measures the executions page over a seeded database
// (SWFD_CONSOLE_BENCH_DB=FILE, made by swfd-seed: domain "bench" with
// 1,000,000 closed executions). Each view is asked for 200 times.
func BenchmarkListPage(b *testing.B) {
	db := os.Getenv("SWFD_CONSOLE_BENCH_DB")
	if db == "" {
		b.Skip("set SWFD_CONSOLE_BENCH_DB to a database seeded by swfd-seed")
	}
	srv, err := server.Open(context.Background(), server.Config{DB: "sqlite:" + db})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	views := []string{
		"/console/d/bench/executions?status=closed",
		"/console/d/bench/executions?status=closed&size=200",
		"/console/d/bench/executions?status=closed&close=FAILED",
		"/console/d/bench/executions?status=closed&type=order&version=1",
		"/console/d/bench/executions?status=closed&from=2026-06-01&to=2026-06-02",
		"/console/d/bench/executions?status=closed&order=oldest",
		"/console/d/bench/executions?status=closed&tag=tenant:acme",
		"/console/d/bench/executions?status=closed&wid=bench-00500000",
		"/console/d/bench/executions",
	}
	for range b.N {
		for _, v := range views {
			var ds []time.Duration
			for range 10 { // warm up
				serve(b, srv.Handler, v)
			}
			for range 200 {
				d, _ := serve(b, srv.Handler, v)
				ds = append(ds, d)
			}
			sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
			fmt.Fprintf(os.Stderr, "%-70s p50 %6.1f ms  p99 %6.1f ms  max %6.1f ms\n", v, ms(ds[100]), ms(ds[197]), ms(ds[199]))
		}
	}
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// BenchmarkLongHistory measures the first screen of an execution whose
// history has 25,000 events (SWF's most), and a filtered screen, which
// reads the whole history on the server.
func BenchmarkLongHistory(b *testing.B) {
	f := newFixture(b)
	f.register("orders")
	ex := f.longHistory("orders", "long", 24997)
	path := execPath("orders", ex)
	h := f.srv.Server.Handler
	for range b.N {
		var first, filtered, bytes []time.Duration
		size := 0
		for range 50 {
			d, n := serve(b, h, path)
			first, size = append(first, d), n
			d, _ = serve(b, h, path+"/events?q=tick-24990")
			filtered = append(filtered, d)
			d, _ = serve(b, h, path+"/pending")
			bytes = append(bytes, d)
		}
		percentiles(b, "first-screen", first)
		percentiles(b, "filtered-25000", filtered)
		percentiles(b, "pending", bytes)
		b.ReportMetric(float64(size)/1024, "first-screen-KB")
	}
}

// BenchmarkLiveLatency measures how long a committed event takes to reach
// an open page's stream: from the signal's answer to the event's arrival.
func BenchmarkLiveLatency(b *testing.B) {
	f := newFixture(b)
	open := f.shop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hist, err := f.svc.GetWorkflowExecutionHistory(f.ctx, &api.GetWorkflowExecutionHistoryInput{Domain: "orders", Execution: open, ReverseOrder: true, MaximumPageSize: 1})
	f.check(err)
	req, _ := http.NewRequestWithContext(ctx, "GET", f.srv.URL+execPath("orders", open)+"/live?after="+itoa(hist.Events[0].EventID), nil)
	resp, err := http.DefaultClient.Do(req)
	f.check(err)
	defer resp.Body.Close()
	got := make(chan time.Time, 1024)
	go func() {
		r := bufio.NewReader(resp.Body)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if strings.HasPrefix(line, "event: events") {
				got <- time.Now()
			}
		}
	}()
	var ds []time.Duration
	for range b.N {
		for i := range 200 {
			t0 := time.Now()
			f.check(f.svc.SignalWorkflowExecution(f.ctx, &api.SignalWorkflowExecutionInput{Domain: "orders", WorkflowID: open.WorkflowID, SignalName: fmt.Sprint("s", i)}))
			select {
			case at := <-got:
				ds = append(ds, at.Sub(t0))
			case <-time.After(30 * time.Second):
				b.Fatal("no event in 30 s")
			}
		}
	}
	percentiles(b, "event-to-page", ds)
}

// One page load of an execution with a 25,000-event history — its HTML,
// its pending work, the script and the style sheet — weighs under 200 KB.
func TestPageWeight(t *testing.T) {
	f := newFixture(t)
	f.register("orders")
	ex := f.longHistory("orders", "long", 2000)
	total := 0
	for _, p := range []string{execPath("orders", ex), execPath("orders", ex) + "/pending", "/console/static/console.js", "/console/static/console.css",
		"/console/d/orders/executions", "/console/"} {
		resp, err := http.Get(f.srv.URL + p)
		f.check(err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", p, resp.StatusCode)
		}
		t.Logf("%-60s %6d bytes", trunc(p), len(b))
		if !strings.HasPrefix(p, "/console/d/orders/executions") && p != "/console/" {
			total += len(b)
		}
	}
	t.Logf("one execution page load: %d bytes", total)
	if total > 200<<10 {
		t.Errorf("an execution page load is %d bytes, over 200 KB", total)
	}
}
