package seed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"

	"github.com/swfd/swfd/internal/sdkhttp"
	"github.com/swfd/swfd/server"
)

// BenchConfig configures the visibility benchmark.
type BenchConfig struct {
	DB          string        // seeded SQLite database file (made by Run)
	Domain      string        // default "bench"
	Iterations  int           // measured calls per query; default 200
	Warmup      int           // unmeasured calls per query first; default 10
	Throughput  time.Duration // length of each start/close throughput run; default 15s
	Writers     int           // concurrent start→decide→complete loops; default 8
	Readers     int           // concurrent query loops during the loaded run; default 2
	SkipQueries bool
	SkipWrites  bool
	Out         io.Writer
}

func (c *BenchConfig) defaults() {
	if c.Domain == "" {
		c.Domain = "bench"
	}
	if c.Iterations <= 0 {
		c.Iterations = 200
	}
	if c.Warmup <= 0 {
		c.Warmup = 10
	}
	if c.Throughput <= 0 {
		c.Throughput = 15 * time.Second
	}
	if c.Writers <= 0 {
		c.Writers = 8
	}
	if c.Readers <= 0 {
		c.Readers = 2
	}
	if c.Out == nil {
		c.Out = os.Stdout
	}
}

// benchServer is a whole swfd on a loopback port.
type benchServer struct {
	srv    *server.Server
	client *swf.Client
	cancel context.CancelFunc
	done   chan error
}

func startServer(ctx context.Context, dsn string) (*benchServer, error) {
	srv, err := server.Open(ctx, server.Config{DB: dsn, PollTimeout: 5 * time.Second, BodyTimeout: benchBodyTimeout,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Close()
		return nil, err
	}
	srv.Start()
	sctx, cancel := context.WithCancel(ctx)
	b := &benchServer{srv: srv, cancel: cancel, done: make(chan error, 1)}
	go func() { b.done <- srv.Serve(sctx, ln) }()
	b.client = swf.New(swf.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String("http://" + ln.Addr().String()),
		Credentials: aws.NewCredentialsCache(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDBENCH", SecretAccessKey: "secret", Source: "swfd-seed"}, nil
		})),
		Retryer:    aws.NopRetryer{},
		HTTPClient: sdkhttp.Client{Client: &http.Client{Timeout: 60 * time.Second, Transport: transport()}},
	})
	return b, nil
}

func transport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return t
}

func (b *benchServer) stop() {
	b.cancel()
	<-b.done
	b.srv.Close()
}

// query is one benchmarked visibility call.
type query struct {
	name string
	call func(ctx context.Context, c *swf.Client, r *rand.Rand) error
}

// queries builds the benchmark's query mix over the seeded data: for each
// single filter, a list page of 100 and a count.
func queries(domain string, end time.Time) []query {
	dom := aws.String(domain)
	all := func() *types.ExecutionTimeFilter {
		return &types.ExecutionTimeFilter{OldestDate: aws.Time(time.Unix(0, 0))}
	}
	// A random 7-day window within the last year.
	window := func(r *rand.Rand) *types.ExecutionTimeFilter {
		hi := end.Add(-time.Duration(r.Int64N(int64(358 * 24 * time.Hour))))
		return &types.ExecutionTimeFilter{OldestDate: aws.Time(hi.Add(-7 * 24 * time.Hour)), LatestDate: aws.Time(hi)}
	}
	// A recurring workflowId: about 2,000 closed runs and one open run each.
	wfID := func(r *rand.Rand) *types.WorkflowExecutionFilter {
		return &types.WorkflowExecutionFilter{WorkflowId: aws.String("cron-" + strconv.Itoa(r.IntN(CronWorkflows)))}
	}
	typeName := func(r *rand.Rand) *types.WorkflowTypeFilter {
		t := Types[r.IntN(len(Types))]
		return &types.WorkflowTypeFilter{Name: aws.String(t.Name)}
	}
	typeVersion := func(r *rand.Rand) *types.WorkflowTypeFilter {
		t := Types[r.IntN(len(Types))]
		return &types.WorkflowTypeFilter{Name: aws.String(t.Name), Version: aws.String(t.Version)}
	}
	tag := func(r *rand.Rand) *types.TagFilter {
		return &types.TagFilter{Tag: aws.String(TagVocabulary[r.IntN(len(TagVocabulary))])}
	}
	status := func(r *rand.Rand) *types.CloseStatusFilter {
		return &types.CloseStatusFilter{Status: types.CloseStatus(CloseStatuses[r.IntN(len(CloseStatuses))])}
	}
	size := int32(100)

	type openF func(r *rand.Rand, in *swf.ListOpenWorkflowExecutionsInput)
	type closedF func(r *rand.Rand, in *swf.ListClosedWorkflowExecutionsInput)
	openFilters := []struct {
		name string
		f    openF
	}{
		{"none", func(r *rand.Rand, in *swf.ListOpenWorkflowExecutionsInput) {}},
		{"workflowId", func(r *rand.Rand, in *swf.ListOpenWorkflowExecutionsInput) { in.ExecutionFilter = wfID(r) }},
		{"type name", func(r *rand.Rand, in *swf.ListOpenWorkflowExecutionsInput) { in.TypeFilter = typeName(r) }},
		{"type name+version", func(r *rand.Rand, in *swf.ListOpenWorkflowExecutionsInput) { in.TypeFilter = typeVersion(r) }},
		{"tag", func(r *rand.Rand, in *swf.ListOpenWorkflowExecutionsInput) { in.TagFilter = tag(r) }},
		{"start time range (7 days)", func(r *rand.Rand, in *swf.ListOpenWorkflowExecutionsInput) { in.StartTimeFilter = window(r) }},
	}
	closedFilters := []struct {
		name string
		f    closedF
	}{
		{"none", func(r *rand.Rand, in *swf.ListClosedWorkflowExecutionsInput) {}},
		{"workflowId", func(r *rand.Rand, in *swf.ListClosedWorkflowExecutionsInput) { in.ExecutionFilter = wfID(r) }},
		{"type name", func(r *rand.Rand, in *swf.ListClosedWorkflowExecutionsInput) { in.TypeFilter = typeName(r) }},
		{"type name+version", func(r *rand.Rand, in *swf.ListClosedWorkflowExecutionsInput) { in.TypeFilter = typeVersion(r) }},
		{"tag", func(r *rand.Rand, in *swf.ListClosedWorkflowExecutionsInput) { in.TagFilter = tag(r) }},
		{"close status", func(r *rand.Rand, in *swf.ListClosedWorkflowExecutionsInput) { in.CloseStatusFilter = status(r) }},
	}

	var qs []query
	for _, f := range openFilters {
		mk := func(r *rand.Rand) *swf.ListOpenWorkflowExecutionsInput {
			in := &swf.ListOpenWorkflowExecutionsInput{Domain: dom, StartTimeFilter: all(), MaximumPageSize: size}
			f.f(r, in)
			return in
		}
		qs = append(qs, query{"list open: " + f.name, func(ctx context.Context, c *swf.Client, r *rand.Rand) error {
			_, err := c.ListOpenWorkflowExecutions(ctx, mk(r))
			return err
		}}, query{"count open: " + f.name, func(ctx context.Context, c *swf.Client, r *rand.Rand) error {
			in := mk(r)
			_, err := c.CountOpenWorkflowExecutions(ctx, &swf.CountOpenWorkflowExecutionsInput{Domain: in.Domain, StartTimeFilter: in.StartTimeFilter,
				ExecutionFilter: in.ExecutionFilter, TypeFilter: in.TypeFilter, TagFilter: in.TagFilter})
			return err
		}})
	}
	for _, byClose := range []bool{false, true} {
		tf := "start"
		if byClose {
			tf = "close"
		}
		for _, f := range closedFilters {
			mk := func(r *rand.Rand) *swf.ListClosedWorkflowExecutionsInput {
				in := &swf.ListClosedWorkflowExecutionsInput{Domain: dom, MaximumPageSize: size}
				if byClose {
					in.CloseTimeFilter = all()
				} else {
					in.StartTimeFilter = all()
				}
				f.f(r, in)
				return in
			}
			name := f.name + " (by " + tf + " time)"
			qs = append(qs, query{"list closed: " + name, func(ctx context.Context, c *swf.Client, r *rand.Rand) error {
				_, err := c.ListClosedWorkflowExecutions(ctx, mk(r))
				return err
			}}, query{"count closed: " + name, func(ctx context.Context, c *swf.Client, r *rand.Rand) error {
				in := mk(r)
				_, err := c.CountClosedWorkflowExecutions(ctx, &swf.CountClosedWorkflowExecutionsInput{Domain: in.Domain,
					StartTimeFilter: in.StartTimeFilter, CloseTimeFilter: in.CloseTimeFilter, ExecutionFilter: in.ExecutionFilter,
					TypeFilter: in.TypeFilter, TagFilter: in.TagFilter, CloseStatusFilter: in.CloseStatusFilter})
				return err
			}})
		}
		name := tf + " time range (7 days)"
		mk := func(r *rand.Rand) *swf.ListClosedWorkflowExecutionsInput {
			in := &swf.ListClosedWorkflowExecutionsInput{Domain: dom, MaximumPageSize: size}
			if byClose {
				in.CloseTimeFilter = window(r)
			} else {
				in.StartTimeFilter = window(r)
			}
			return in
		}
		qs = append(qs, query{"list closed: " + name, func(ctx context.Context, c *swf.Client, r *rand.Rand) error {
			_, err := c.ListClosedWorkflowExecutions(ctx, mk(r))
			return err
		}}, query{"count closed: " + name, func(ctx context.Context, c *swf.Client, r *rand.Rand) error {
			in := mk(r)
			_, err := c.CountClosedWorkflowExecutions(ctx, &swf.CountClosedWorkflowExecutionsInput{Domain: in.Domain,
				StartTimeFilter: in.StartTimeFilter, CloseTimeFilter: in.CloseTimeFilter})
			return err
		}})
	}
	// A page further in: the second page of an unfiltered closed list.
	qs = append(qs, query{"list closed: none, page 2 (by close time)", func(ctx context.Context, c *swf.Client, r *rand.Rand) error {
		in := &swf.ListClosedWorkflowExecutionsInput{Domain: dom, CloseTimeFilter: all(), MaximumPageSize: size}
		out, err := c.ListClosedWorkflowExecutions(ctx, in)
		if err != nil || out.NextPageToken == nil {
			return err
		}
		in.NextPageToken = out.NextPageToken
		start := time.Now()
		_, err = c.ListClosedWorkflowExecutions(ctx, in)
		pageTwo.Store(int64(time.Since(start)))
		return err
	}})
	return qs
}

// transportErrors counts calls that failed reading the answer and were
// retried.
var transportErrors atomic.Int64

// pageTwo passes the latency of the second page out of the page-2 query.
var pageTwo atomic.Int64

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

func ms(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 1, 64) }

// Bench runs the visibility benchmark on a seeded database and prints a
// Markdown report.
func Bench(ctx context.Context, cfg BenchConfig) error {
	cfg.defaults()
	if _, err := os.Stat(cfg.DB); err != nil {
		return fmt.Errorf("bench: seeded database: %w", err)
	}
	out := cfg.Out
	if !cfg.SkipQueries {
		if err := benchQueries(ctx, cfg); err != nil {
			return err
		}
	}
	if cfg.SkipWrites {
		return nil
	}
	// Throughput of start+close: empty database, seeded database, seeded
	// database under query load.
	tmp, err := os.MkdirTemp("", "swfd-bench-empty-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	emptyDB := filepath.Join(tmp, "empty.db")
	if err := seedEmpty(ctx, emptyDB, cfg.Domain); err != nil {
		return err
	}
	fmt.Fprintf(out, "\n| start→complete throughput (%d writers, %s each) | workflows/s | p50 ms | p99 ms |\n|---|---|---|---|\n", cfg.Writers, cfg.Throughput)
	runs := []struct {
		name    string
		db      string
		readers int
	}{
		{"empty database", emptyDB, 0},
		{fmt.Sprintf("empty database, %d query loops", cfg.Readers), emptyDB, cfg.Readers},
		{"seeded database", cfg.DB, 0},
		{fmt.Sprintf("seeded database, %d query loops", cfg.Readers), cfg.DB, cfg.Readers},
	}
	for _, r := range runs {
		rate, lat, qn, err := throughput(ctx, cfg, r.db, r.readers)
		if err != nil {
			return fmt.Errorf("bench: throughput on %s: %w", r.name, err)
		}
		extra := ""
		if r.readers > 0 {
			extra = fmt.Sprintf(" (%d queries answered)", qn)
		}
		fmt.Fprintf(out, "| %s%s | %.0f | %s | %s |\n", r.name, extra, rate, ms(percentile(lat, 0.5)), ms(percentile(lat, 0.99)))
	}
	return nil
}

func seedEmpty(ctx context.Context, path, domain string) error {
	st, err := server.OpenStore(ctx, "sqlite:"+path, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	_, err = Run(ctx, st, Config{Domain: domain})
	return err
}

func benchQueries(ctx context.Context, cfg BenchConfig) error {
	b, err := startServer(ctx, "sqlite:"+cfg.DB)
	if err != nil {
		return err
	}
	defer b.stop()
	out := cfg.Out
	cnt, err := b.client.CountClosedWorkflowExecutions(ctx, &swf.CountClosedWorkflowExecutionsInput{Domain: aws.String(cfg.Domain),
		StartTimeFilter: &types.ExecutionTimeFilter{OldestDate: aws.Time(time.Unix(0, 0))}})
	if err != nil {
		return fmt.Errorf("bench: count closed: %w", err)
	}
	open, err := b.client.CountOpenWorkflowExecutions(ctx, &swf.CountOpenWorkflowExecutionsInput{Domain: aws.String(cfg.Domain),
		StartTimeFilter: &types.ExecutionTimeFilter{OldestDate: aws.Time(time.Unix(0, 0))}})
	if err != nil {
		return fmt.Errorf("bench: count open: %w", err)
	}
	end, err := latestClose(ctx, b.client, cfg.Domain)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "domain %q: closed count %d (truncated %v), open count %d (truncated %v); %d calls per query after %d warm-up calls\n\n",
		cfg.Domain, cnt.Count, cnt.Truncated, open.Count, open.Truncated, cfg.Iterations, cfg.Warmup)
	fmt.Fprintf(out, "| query (page of 100 / count) | p50 ms | p99 ms | max ms |\n|---|---|---|---|\n")
	r := rand.New(rand.NewPCG(1, 2))
	for _, q := range queries(cfg.Domain, end) {
		lat := make([]time.Duration, 0, cfg.Iterations)
		for i := range cfg.Warmup + cfg.Iterations {
			t0 := time.Now()
			pageTwo.Store(-1)
			if err := q.call(ctx, b.client, r); err != nil {
				// A transport error on reading the answer (see
				// BENCHMARKS.md) is retried (twice at most) and counted.
				for attempt := 1; err != nil; attempt++ {
					transportErrors.Add(1)
					fmt.Fprintf(os.Stderr, "bench: %s: %v (retrying)\n", q.name, err)
					if attempt == 3 {
						return fmt.Errorf("bench: %s: %w", q.name, err)
					}
					t0 = time.Now()
					err = q.call(ctx, b.client, r)
				}
			}
			d := time.Since(t0)
			if p := pageTwo.Load(); p >= 0 {
				d = time.Duration(p)
			}
			if i >= cfg.Warmup {
				lat = append(lat, d)
			}
		}
		fmt.Fprintf(out, "| %s | %s | %s | %s |\n", q.name, ms(percentile(lat, 0.5)), ms(percentile(lat, 0.99)), ms(slices.Max(lat)))
	}
	fmt.Fprintf(out, "\n%d calls failed reading the answer and were retried\n", transportErrors.Load())
	return nil
}

// latestClose finds the newest close time of the domain (the seed's end).
func latestClose(ctx context.Context, c *swf.Client, domain string) (time.Time, error) {
	out, err := c.ListClosedWorkflowExecutions(ctx, &swf.ListClosedWorkflowExecutionsInput{Domain: aws.String(domain),
		CloseTimeFilter: &types.ExecutionTimeFilter{OldestDate: aws.Time(time.Unix(0, 0))}, MaximumPageSize: 1})
	if err != nil {
		return time.Time{}, fmt.Errorf("bench: latest close: %w", err)
	}
	if len(out.ExecutionInfos) == 0 {
		return time.Now(), nil
	}
	return *out.ExecutionInfos[0].CloseTimestamp, nil
}

// throughput runs cfg.Writers loops of start → poll decision → complete for
// cfg.Throughput, with readers query loops alongside, and returns
// workflows per second, each workflow's start-to-closed latency and how
// many queries the readers answered.
func throughput(ctx context.Context, cfg BenchConfig, db string, readers int) (float64, []time.Duration, int64, error) {
	b, err := startServer(ctx, "sqlite:"+db)
	if err != nil {
		return 0, nil, 0, err
	}
	defer b.stop()
	end, err := latestClose(ctx, b.client, cfg.Domain)
	if err != nil {
		return 0, nil, 0, err
	}
	rctx, cancel := context.WithTimeout(ctx, cfg.Throughput)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	var queriesDone atomic.Int64
	fail := func(err error) {
		if rctx.Err() != nil {
			return
		}
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
		cancel()
	}
	dom := aws.String(cfg.Domain)
	wt := &types.WorkflowType{Name: aws.String(Types[0].Name), Version: aws.String(Types[0].Version)}
	prefix := "bench-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	began := time.Now()
	for w := range cfg.Writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			list := &types.TaskList{Name: aws.String(prefix + "-" + strconv.Itoa(w))}
			for i := 0; rctx.Err() == nil; i++ {
				t0 := time.Now()
				_, err := b.client.StartWorkflowExecution(rctx, &swf.StartWorkflowExecutionInput{Domain: dom, WorkflowType: wt,
					WorkflowId: aws.String(fmt.Sprintf("%s-%d-%d", prefix, w, i)), TaskList: list,
					TagList: []string{"bench", TagVocabulary[i%len(TagVocabulary)]}, Input: aws.String("x")})
				if err != nil {
					fail(fmt.Errorf("start: %w", err))
					return
				}
				var task *swf.PollForDecisionTaskOutput
				for task == nil || task.TaskToken == nil {
					task, err = b.client.PollForDecisionTask(rctx, &swf.PollForDecisionTaskInput{Domain: dom, TaskList: list, Identity: aws.String("bench")})
					if err != nil {
						fail(fmt.Errorf("poll: %w", err))
						return
					}
				}
				_, err = b.client.RespondDecisionTaskCompleted(rctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: task.TaskToken,
					Decisions: []types.Decision{{DecisionType: types.DecisionTypeCompleteWorkflowExecution,
						CompleteWorkflowExecutionDecisionAttributes: &types.CompleteWorkflowExecutionDecisionAttributes{Result: aws.String("ok")}}}})
				if err != nil {
					fail(fmt.Errorf("complete: %w", err))
					return
				}
				if rctx.Err() == nil {
					mu.Lock()
					lat = append(lat, time.Since(t0))
					mu.Unlock()
				}
			}
		}()
	}
	qs := queries(cfg.Domain, end)
	for rd := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(rd), 7))
			for i := rd; rctx.Err() == nil; i++ {
				if err := qs[i%len(qs)].call(rctx, b.client, r); err != nil {
					fail(fmt.Errorf("%s: %w", qs[i%len(qs)].name, err))
					return
				}
				queriesDone.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(began)
	if firstErr != nil && !errors.Is(firstErr, context.DeadlineExceeded) && !errors.Is(firstErr, context.Canceled) {
		return 0, nil, 0, firstErr
	}
	return float64(len(lat)) / elapsed.Seconds(), lat, queriesDone.Load(), nil
}

// benchBodyTimeout is the server's request-body deadline in the benchmark.
var benchBodyTimeout = time.Hour
