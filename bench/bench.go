// Package bench is the load generator behind `swf bench`: it drives any SWF
// endpoint with aws-sdk-go-v2 — what real users run — through N workflows,
// each a chain of K activities scheduled one after another by a decider
// that reads the history it is given, with C concurrent deciders, C
// concurrent activity workers and concurrent starters, and reports
// throughput, per-operation latency, errors, and how long a scheduled task
// took to reach a waiting poller.
package bench

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"
	"github.com/aws/smithy-go"

	"github.com/swfd/swfd/internal/sdkhttp"
)

// Config describes one benchmark run.
type Config struct {
	// Endpoint is the SWF endpoint URL; several, comma-separated, spread
	// the pollers and starters over the nodes of a cluster.
	Endpoint    string
	Region      string
	Workflows   int // N
	Activities  int // K, per workflow
	Concurrency int // C deciders and C workers
	Starters    int // concurrent starters
	// Rate, if positive, paces the starts: workflow n starts no earlier
	// than (n-1)/Rate seconds after the first (a steady load). Zero starts
	// as fast as the starters go; NaN, an infinity or a negative rate is
	// refused. A start due after the run's Timeout is not made.
	Rate   float64
	Domain string
	// RunTag makes task lists and workflow ids unique to this run.
	RunTag string
	// Timeout bounds the whole run (0: 30 minutes; a negative one is
	// refused).
	Timeout time.Duration
	// Credentials for signing; any value works against swfd without --auth.
	// Without an AccessKey, placeholder keys sign the calls.
	AccessKey, SecretKey, SessionToken string
	// Unsigned sends every call without a signature (the credentials
	// above are then not used).
	Unsigned bool
	// TLS, if set, is the TLS configuration of https endpoints (their
	// CA certificates, or no verification).
	TLS *tls.Config
	// Progress, if set, is called about once a second.
	Progress func(completed, total int)
	// ServerPIDs, if set, are the processes serving the endpoint (swfd, or
	// the nodes of a cluster and their database): the report then gives
	// their CPU time and write system calls per workflow, read from /proc
	// (Linux only) at the start and the end of the run.
	ServerPIDs []int
}

// Report is the outcome of a run. Calls, Errors and Operations count the
// calls the endpoint answered or failed; a call the run's own end cut
// short (every workflow done, the Timeout, or the context given to Run
// ended, as by Ctrl-C) is none of them.
type Report struct {
	Endpoint          string             `json:"endpoint"`
	Workflows         int                `json:"workflows"`
	Activities        int                `json:"activitiesPerWorkflow"`
	Concurrency       int                `json:"concurrency"`
	Completed         int                `json:"completed"`
	Seconds           float64            `json:"seconds"`
	WorkflowsPerSec   float64            `json:"workflowsPerSecond"`
	CallsPerSec       float64            `json:"callsPerSecond"`
	Calls             int64              `json:"calls"`
	Errors            int64              `json:"errors"`
	ErrorSamples      []string           `json:"errorSamples,omitempty"`
	Operations        map[string]Latency `json:"operations"`
	ScheduledToPolled map[string]Latency `json:"scheduledToPolled"`
	// Costs per completed workflow over the run: the CPU time (user and
	// system) of this client process and, with Config.ServerPIDs, of the
	// server processes, and the servers' write system calls (syscw in
	// /proc/PID/io: network writes included). Unlike throughput these do
	// not move with the load others put on the machine.
	ClientCPUPerWorkflowMS  float64 `json:"clientCpuPerWorkflowMs"`
	ServerCPUPerWorkflowMS  float64 `json:"serverCpuPerWorkflowMs,omitempty"`
	ServerWritesPerWorkflow float64 `json:"serverWriteCallsPerWorkflow,omitempty"`
}

// Latency summarizes a set of durations in milliseconds.
type Latency struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50ms"`
	P99   float64 `json:"p99ms"`
	Max   float64 `json:"maxms"`
}

func summarize(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	ms := func(d time.Duration) float64 { return math.Round(float64(d.Microseconds())/10) / 100 }
	pick := func(q float64) time.Duration {
		i := int(math.Ceil(q*float64(len(ds)))) - 1
		if i < 0 {
			i = 0
		}
		return ds[i]
	}
	return Latency{Count: len(ds), P50: ms(pick(0.50)), P99: ms(pick(0.99)), Max: ms(ds[len(ds)-1])}
}

// recorder collects latencies from many goroutines.
type recorder struct {
	mu      sync.Mutex
	ops     map[string][]time.Duration
	lag     map[string][]time.Duration
	calls   atomic.Int64
	errs    atomic.Int64
	samples []string
}

// call records a call that started at start and ended with err, made
// with ctx. A call cut short by the run's own end (all done, the timeout,
// or the caller's ctx, as on Ctrl-C) is not the endpoint's doing: it is
// neither counted nor timed, and it is no error.
func (r *recorder) call(ctx context.Context, op string, start time.Time, err error) {
	if err != nil && ctx.Err() != nil {
		return
	}
	d := time.Since(start)
	r.calls.Add(1)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ops[op] = append(r.ops[op], d)
	if err != nil {
		r.errs.Add(1)
		if len(r.samples) < 10 {
			r.samples = append(r.samples, op+": "+err.Error())
		}
	}
}

func (r *recorder) lagged(kind string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lag[kind] = append(r.lag[kind], d)
}

// NewClient returns an SWF client for an endpoint with a connection pool
// sized for the benchmark and a timeout above the 60 s long poll.
func NewClient(cfg Config) *swf.Client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 1024,
		IdleConnTimeout:     90 * time.Second,
	}
	if cfg.TLS != nil {
		tr.TLSClientConfig = cfg.TLS.Clone()
	}
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	ak, sk, tok := cfg.AccessKey, cfg.SecretKey, cfg.SessionToken
	if ak == "" {
		ak, sk, tok = "bench", "bench", ""
	}
	var creds aws.CredentialsProvider = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: ak, SecretAccessKey: sk, SessionToken: tok}, nil
	})
	if cfg.Unsigned {
		creds = aws.AnonymousCredentials{} // the SDK signs nothing with these
	}
	return swf.New(swf.Options{
		Region:       region,
		BaseEndpoint: aws.String(cfg.Endpoint),
		Credentials:  creds,
		Retryer:      aws.NopRetryer{},
		HTTPClient:   sdkhttp.Client{Client: &http.Client{Transport: tr, Timeout: 75 * time.Second}},
	})
}

func isCode(err error, code string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == code
}

// Run executes the benchmark.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Workflows <= 0 || cfg.Activities < 0 || cfg.Concurrency <= 0 {
		return nil, errors.New("bench: workflows and concurrency must be positive, activities not negative")
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("bench: the timeout must not be negative, not %v", cfg.Timeout)
	}
	if math.IsNaN(cfg.Rate) || math.IsInf(cfg.Rate, 0) || cfg.Rate < 0 {
		return nil, fmt.Errorf("bench: the rate must be a finite number of workflows a second, not %v", cfg.Rate)
	}
	if cfg.Starters <= 0 {
		cfg.Starters = 4
	}
	if cfg.Domain == "" {
		cfg.Domain = "swf-bench"
	}
	if cfg.RunTag == "" {
		cfg.RunTag = strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Minute
	}
	// Several endpoints (comma-separated: the nodes of a cluster) share
	// the load: each poller keeps to one of them, and the starts go to
	// one after the other.
	var clients []*swf.Client
	for _, ep := range strings.Split(cfg.Endpoint, ",") {
		one := cfg
		one.Endpoint = strings.TrimSpace(ep)
		clients = append(clients, NewClient(one))
	}
	clientFor := func(i int) *swf.Client { return clients[i%len(clients)] }
	c := clients[0]
	if err := setup(ctx, c, cfg); err != nil {
		return nil, err
	}
	decisionList := "bench-deciders-" + cfg.RunTag
	activityList := "bench-workers-" + cfg.RunTag
	rec := &recorder{ops: map[string][]time.Duration{}, lag: map[string][]time.Duration{}}

	runCtx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	pollCtx, stopPolling := context.WithCancel(runCtx)
	defer stopPolling()

	var completed atomic.Int64
	allDone := make(chan struct{})
	// scheduledAt remembers when each activity was scheduled (the decider's
	// respond returned), to time its way to a waiting worker.
	var scheduledAt sync.Map
	var wg sync.WaitGroup
	cost0, err := sampleCosts(cfg.ServerPIDs)
	if err != nil {
		return nil, err
	}
	begin := time.Now()

	for i := 0; i < cfg.Concurrency; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			decider(pollCtx, clientFor(i), cfg, decisionList, activityList, rec, &scheduledAt, func() {
				if int(completed.Add(1)) == cfg.Workflows {
					close(allDone)
				}
			})
		}()
		go func() {
			defer wg.Done()
			worker(pollCtx, clientFor(i+1), cfg, activityList, rec, &scheduledAt)
		}()
	}
	var next atomic.Int64
	var swg sync.WaitGroup
	paceFrom := time.Now()
	for i := 0; i < cfg.Starters; i++ {
		swg.Add(1)
		go func() {
			defer swg.Done()
			for runCtx.Err() == nil {
				n := next.Add(1)
				if int(n) > cfg.Workflows {
					return
				}
				if cfg.Rate > 0 {
					// A start due after the run ends waits for the end:
					// the delay of a tiny rate would overflow a
					// time.Duration (to a negative one: no wait at all).
					wait := runCtx.Done()
					if secs := float64(n-1) / cfg.Rate; secs <= cfg.Timeout.Seconds() {
						due := paceFrom.Add(time.Duration(secs * float64(time.Second)))
						select {
						case <-time.After(time.Until(due)):
						case <-wait:
							return
						}
					} else {
						<-wait
						return
					}
				}
				// Starts go round the nodes one by one, as a load
				// balancer would spread them.
				c := clientFor(int(n))
				start := time.Now()
				_, err := c.StartWorkflowExecution(runCtx, &swf.StartWorkflowExecutionInput{
					Domain: aws.String(cfg.Domain), WorkflowId: aws.String(fmt.Sprintf("bench-%s-%d", cfg.RunTag, n)),
					WorkflowType: &types.WorkflowType{Name: aws.String("bench-workflow"), Version: aws.String("1")},
					TaskList:     &types.TaskList{Name: aws.String(decisionList)}, Input: aws.String(strconv.FormatInt(n, 10)),
				})
				rec.call(runCtx, "StartWorkflowExecution", start, err)
			}
		}()
	}
	if cfg.Progress != nil {
		go func() {
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-allDone:
					return
				case <-runCtx.Done():
					return
				case <-t.C:
					cfg.Progress(int(completed.Load()), cfg.Workflows)
				}
			}
		}()
	}
	var runErr error
	select {
	case <-allDone:
	case <-runCtx.Done():
		runErr = fmt.Errorf("bench: %d of %d workflows completed before the run ended: %w", completed.Load(), cfg.Workflows, runCtx.Err())
	}
	elapsed := time.Since(begin)
	cost1, costErr := sampleCosts(cfg.ServerPIDs)
	stopPolling()
	swg.Wait()
	wg.Wait()

	rep := &Report{
		Endpoint: cfg.Endpoint, Workflows: cfg.Workflows, Activities: cfg.Activities, Concurrency: cfg.Concurrency,
		Completed: int(completed.Load()), Seconds: math.Round(elapsed.Seconds()*1000) / 1000,
		Calls: rec.calls.Load(), Errors: rec.errs.Load(), ErrorSamples: rec.samples,
		Operations: map[string]Latency{}, ScheduledToPolled: map[string]Latency{},
	}
	rep.WorkflowsPerSec = math.Round(float64(rep.Completed)/elapsed.Seconds()*10) / 10
	rep.CallsPerSec = math.Round(float64(rep.Calls)/elapsed.Seconds()*10) / 10
	for op, ds := range rec.ops {
		rep.Operations[op] = summarize(ds)
	}
	for k, ds := range rec.lag {
		rep.ScheduledToPolled[k] = summarize(ds)
	}
	if n := float64(rep.Completed); n > 0 && costErr == nil {
		ms := func(d time.Duration) float64 { return math.Round(float64(d.Microseconds())/n) / 1000 }
		rep.ClientCPUPerWorkflowMS = ms(cost1.client - cost0.client)
		if len(cfg.ServerPIDs) > 0 {
			rep.ServerCPUPerWorkflowMS = ms(cost1.server.cpu - cost0.server.cpu)
			rep.ServerWritesPerWorkflow = math.Round(float64(cost1.server.writes-cost0.server.writes)/n*10) / 10
		}
	}
	if runErr == nil && costErr != nil {
		runErr = costErr
	}
	return rep, runErr
}

// costs is the CPU used so far by this process and the servers'.
type costs struct {
	client time.Duration
	server procSample // summed over the server processes
}

func sampleCosts(pids []int) (costs, error) {
	c := costs{client: selfCPU()}
	for _, pid := range pids {
		s, err := sampleProc(pid)
		if err != nil {
			return c, fmt.Errorf("bench: server process %d: %w", pid, err)
		}
		c.server.cpu += s.cpu
		c.server.writes += s.writes
	}
	return c, nil
}

func setup(ctx context.Context, c *swf.Client, cfg Config) error {
	_, err := c.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String(cfg.Domain), WorkflowExecutionRetentionPeriodInDays: aws.String("1")})
	if err != nil && !isCode(err, "DomainAlreadyExistsFault") {
		return fmt.Errorf("bench: register domain: %w", err)
	}
	_, err = c.RegisterWorkflowType(ctx, &swf.RegisterWorkflowTypeInput{
		Domain: aws.String(cfg.Domain), Name: aws.String("bench-workflow"), Version: aws.String("1"),
		DefaultTaskList: &types.TaskList{Name: aws.String("bench-default")}, DefaultChildPolicy: types.ChildPolicyTerminate,
		DefaultExecutionStartToCloseTimeout: aws.String("3600"), DefaultTaskStartToCloseTimeout: aws.String("300"),
	})
	if err != nil && !isCode(err, "TypeAlreadyExistsFault") {
		return fmt.Errorf("bench: register workflow type: %w", err)
	}
	_, err = c.RegisterActivityType(ctx, &swf.RegisterActivityTypeInput{
		Domain: aws.String(cfg.Domain), Name: aws.String("bench-activity"), Version: aws.String("1"),
		DefaultTaskList: &types.TaskList{Name: aws.String("bench-default")}, DefaultTaskHeartbeatTimeout: aws.String("NONE"),
		DefaultTaskScheduleToStartTimeout: aws.String("NONE"), DefaultTaskScheduleToCloseTimeout: aws.String("NONE"),
		DefaultTaskStartToCloseTimeout: aws.String("300"),
	})
	if err != nil && !isCode(err, "TypeAlreadyExistsFault") {
		return fmt.Errorf("bench: register activity type: %w", err)
	}
	return nil
}

func decider(ctx context.Context, c *swf.Client, cfg Config, decisionList, activityList string, rec *recorder, scheduledAt *sync.Map, completedOne func()) {
	for ctx.Err() == nil {
		start := time.Now()
		d, err := c.PollForDecisionTask(ctx, &swf.PollForDecisionTaskInput{Domain: aws.String(cfg.Domain), TaskList: &types.TaskList{Name: aws.String(decisionList)}, Identity: aws.String("bench-decider")})
		if ctx.Err() != nil {
			return
		}
		received := time.Now()
		rec.call(ctx, "PollForDecisionTask", start, err)
		if err != nil {
			pause(ctx) // the endpoint is failing: don't spin
			continue
		}
		if d.TaskToken == nil {
			continue
		}
		// Read the history we were given (all pages) and decide from it.
		events := d.Events
		for tok := d.NextPageToken; tok != nil; {
			ps := time.Now()
			p, err := c.PollForDecisionTask(ctx, &swf.PollForDecisionTaskInput{Domain: aws.String(cfg.Domain), TaskList: &types.TaskList{Name: aws.String(decisionList)}, NextPageToken: tok})
			rec.call(ctx, "PollForDecisionTask(page)", ps, err)
			if err != nil {
				break
			}
			events = append(events, p.Events...)
			tok = p.NextPageToken
		}
		if ctx.Err() != nil {
			return // the run ended while the history was read
		}
		done := 0
		var lastScheduled time.Time
		for _, e := range events {
			switch e.EventType {
			case types.EventTypeActivityTaskCompleted:
				done++
			case types.EventTypeDecisionTaskScheduled:
				if e.EventTimestamp != nil {
					lastScheduled = *e.EventTimestamp
				}
			}
		}
		if !lastScheduled.IsZero() && start.Before(lastScheduled) {
			// The poller was already waiting when the task was scheduled.
			rec.lagged("decision", received.Sub(lastScheduled))
		}
		var decision types.Decision
		finished := done >= cfg.Activities
		if finished {
			decision = types.Decision{DecisionType: types.DecisionTypeCompleteWorkflowExecution,
				CompleteWorkflowExecutionDecisionAttributes: &types.CompleteWorkflowExecutionDecisionAttributes{Result: aws.String("ok")}}
		} else {
			decision = types.Decision{DecisionType: types.DecisionTypeScheduleActivityTask,
				ScheduleActivityTaskDecisionAttributes: &types.ScheduleActivityTaskDecisionAttributes{
					ActivityId:   aws.String("a" + strconv.Itoa(done)),
					ActivityType: &types.ActivityType{Name: aws.String("bench-activity"), Version: aws.String("1")},
					TaskList:     &types.TaskList{Name: aws.String(activityList)},
					Input:        aws.String(strconv.Itoa(done)),
				}}
		}
		rs := time.Now()
		key := *d.WorkflowExecution.RunId + "/a" + strconv.Itoa(done)
		if !finished {
			// The activity is scheduled while this call runs; timing from
			// its start overstates the lag by the call's own duration.
			scheduledAt.Store(key, rs)
		}
		_, err = c.RespondDecisionTaskCompleted(ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: d.TaskToken, Decisions: []types.Decision{decision}})
		rec.call(ctx, "RespondDecisionTaskCompleted", rs, err)
		if err != nil {
			scheduledAt.Delete(key)
			continue
		}
		if finished {
			completedOne()
		}
	}
}

func worker(ctx context.Context, c *swf.Client, cfg Config, activityList string, rec *recorder, scheduledAt *sync.Map) {
	for ctx.Err() == nil {
		start := time.Now()
		a, err := c.PollForActivityTask(ctx, &swf.PollForActivityTaskInput{Domain: aws.String(cfg.Domain), TaskList: &types.TaskList{Name: aws.String(activityList)}, Identity: aws.String("bench-worker")})
		if ctx.Err() != nil {
			return
		}
		received := time.Now()
		rec.call(ctx, "PollForActivityTask", start, err)
		if err != nil {
			pause(ctx)
			continue
		}
		if a.TaskToken == nil {
			continue
		}
		key := *a.WorkflowExecution.RunId + "/" + *a.ActivityId
		if v, ok := scheduledAt.LoadAndDelete(key); ok {
			if at := v.(time.Time); start.Before(at) {
				rec.lagged("activity", received.Sub(at))
			}
		}
		rs := time.Now()
		_, err = c.RespondActivityTaskCompleted(ctx, &swf.RespondActivityTaskCompletedInput{TaskToken: a.TaskToken, Result: aws.String("done")})
		rec.call(ctx, "RespondActivityTaskCompleted", rs, err)
	}
}

// pause waits a little after a failed call, so that a benchmark against a
// failing endpoint does not spin.
func pause(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-time.After(100 * time.Millisecond):
	}
}
