package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/swfd/swfd/bench"
)

func init() {
	extraSpecs["bench"] = map[string]argKind{"workflows": kindValue, "activities": kindValue, "concurrency": kindValue, "starters": kindValue,
		"bench-domain": kindValue, "timeout": kindValue, "json": kindBool, "quiet": kindBool, "server-pid": kindValue, "rate": kindValue}
	extraRequired["bench"] = nil
	extraHelp["bench"] = `swf bench [--workflows N] [--activities K] [--concurrency C] [--starters S]
          [--bench-domain D] [--timeout 30m] [--server-pid PID[,PID...]] [--rate R] [--json] [--quiet]

Drives the endpoint with N workflows (default 1000), each a chain of K
activities (default 1) scheduled one after another by a decider that reads
the history it is given, then CompleteWorkflowExecution; C concurrent
deciders and C concurrent activity workers (default 8), and S concurrent
starters (default 4), all on task lists new to this run. It registers its
own domain (swf-bench) and types, so it runs against a fresh server, swfd or
any other SWF endpoint (e.g. moto_server). It reports workflows and API
calls per second, p50/p99/max latency per operation, errors, and the time
from a task being scheduled to a waiting poller receiving it.
--json prints the report as JSON. Several endpoints, comma-separated in
--endpoint-url, spread the load over the nodes of a cluster: each poller
keeps to one node, and the starts go to one node after the other.
--rate R starts at most R workflows a second (default: as fast as the
starters go), for a steady load below the endpoint's capacity (a soak);
R is a finite positive number, a fraction too (0.5: one every 2 s).
It also reports its own CPU time per workflow and, with --server-pid (Linux),
the CPU time and write system calls per workflow of the server processes
named (swfd, every node of a cluster, the database's processes): figures
that, unlike throughput, do not move with what else the machine runs.
`
}

func runBench(ctx context.Context, e *env, args []string) error {
	p, g, done, err := parseExtra(e, "bench", args)
	if err != nil || done {
		return err
	}
	// least is the smallest value a flag takes: 0 activities make a
	// workflow that completes at its first decision, but a run needs a
	// workflow, a decider and a starter.
	intFlag := func(name string, def, least int) (int, error) {
		if !p.has(name) {
			return def, nil
		}
		n, err := strconv.Atoi(p.get(name))
		if err != nil || n < least {
			what := "a non-negative whole number"
			if least > 0 {
				what = "a positive whole number"
			}
			return 0, &usageError{fmt.Sprintf("--%s: %s, not %q", name, what, p.get(name))}
		}
		return n, nil
	}
	cfg := bench.Config{Endpoint: g.endpoint, Region: g.region, Domain: p.get("bench-domain")}
	// The load is signed as every other command signs its calls: with
	// the configured credentials, with placeholder ones when none are
	// configured and the endpoint is local (a swfd without --auth accepts
	// them), and not at all with --no-sign-request or when none are
	// configured for another endpoint. https endpoints are verified as for
	// every other command (--ca-bundle or AWS_CA_BUNDLE, --no-verify-ssl).
	first := strings.TrimSpace(strings.Split(g.endpoint, ",")[0])
	one := *g
	one.endpoint = first
	c, err := newClient(ctx, &one)
	if err != nil {
		return err
	}
	if creds, err := c.credentials(ctx); err != nil {
		return err
	} else if creds != nil {
		cfg.AccessKey, cfg.SecretKey, cfg.SessionToken = creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken
	} else {
		cfg.Unsigned = true
	}
	if g.noVerifySSL {
		cfg.TLS = &tls.Config{InsecureSkipVerify: true}
	} else {
		pool := x509.NewCertPool()
		for _, ep := range strings.Split(g.endpoint, ",") {
			data, err := readCABundle(g, strings.TrimSpace(ep))
			if err != nil {
				return err
			}
			if data != nil {
				pool.AppendCertsFromPEM(data)
				cfg.TLS = &tls.Config{RootCAs: pool}
			}
		}
	}
	if cfg.Workflows, err = intFlag("workflows", 1000, 1); err != nil {
		return err
	}
	if cfg.Activities, err = intFlag("activities", 1, 0); err != nil {
		return err
	}
	if cfg.Concurrency, err = intFlag("concurrency", 8, 1); err != nil {
		return err
	}
	if cfg.Starters, err = intFlag("starters", 4, 1); err != nil {
		return err
	}
	if p.has("server-pid") {
		for _, f := range strings.Split(p.get("server-pid"), ",") {
			pid, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || pid <= 0 {
				return &usageError{fmt.Sprintf("--server-pid: process ids separated by commas, not %q", p.get("server-pid"))}
			}
			cfg.ServerPIDs = append(cfg.ServerPIDs, pid)
		}
	}
	if p.has("rate") {
		// NaN and the infinities parse as floats, but are no rate.
		if cfg.Rate, err = strconv.ParseFloat(p.get("rate"), 64); err != nil || !(cfg.Rate > 0) || math.IsInf(cfg.Rate, 1) {
			return &usageError{fmt.Sprintf("--rate: workflows a second, a finite positive number, not %q", p.get("rate"))}
		}
	}
	if p.has("timeout") {
		if cfg.Timeout, err = time.ParseDuration(p.get("timeout")); err != nil {
			return &usageError{fmt.Sprintf("--timeout: %v", err)}
		}
		// A run with no time at all would end before its first call.
		if cfg.Timeout <= 0 {
			return &usageError{fmt.Sprintf("--timeout: a positive duration such as 30m, not %q", p.get("timeout"))}
		}
	}
	// The load generator should leave the machine to the server it
	// measures: aws-sdk-go-v2 allocates a lot per call, and a lazier
	// collector takes a third off the client's CPU.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if !p.has("quiet") && !p.has("json") {
		cfg.Progress = func(done, total int) { fmt.Fprintf(e.stderr, "\r%d/%d workflows", done, total) }
	}
	rep, err := bench.Run(ctx, cfg)
	if cfg.Progress != nil {
		fmt.Fprintln(e.stderr)
	}
	if rep != nil {
		if p.has("json") {
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "    ")
			enc.Encode(rep)
		} else {
			printBenchReport(e, rep)
		}
	}
	return err
}

func printBenchReport(e *env, r *bench.Report) {
	fmt.Fprintf(e.stdout, "endpoint      %s\n", r.Endpoint)
	fmt.Fprintf(e.stdout, "workload      N=%d K=%d C=%d\n", r.Workflows, r.Activities, r.Concurrency)
	fmt.Fprintf(e.stdout, "completed     %d workflows in %.2fs\n", r.Completed, r.Seconds)
	fmt.Fprintf(e.stdout, "throughput    %.1f workflows/s, %.1f calls/s\n", r.WorkflowsPerSec, r.CallsPerSec)
	fmt.Fprintf(e.stdout, "errors        %d\n", r.Errors)
	fmt.Fprintf(e.stdout, "client CPU    %.3f ms/workflow\n", r.ClientCPUPerWorkflowMS)
	if r.ServerCPUPerWorkflowMS > 0 || r.ServerWritesPerWorkflow > 0 {
		fmt.Fprintf(e.stdout, "server CPU    %.3f ms/workflow, %.1f write system calls/workflow\n", r.ServerCPUPerWorkflowMS, r.ServerWritesPerWorkflow)
	}
	for _, s := range r.ErrorSamples {
		fmt.Fprintf(e.stdout, "  %s\n", s)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\toperation\tcalls\tp50 ms\tp99 ms\tmax ms\t")
	names := make([]string, 0, len(r.Operations))
	for op := range r.Operations {
		names = append(names, op)
	}
	sort.Strings(names)
	for _, op := range names {
		l := r.Operations[op]
		fmt.Fprintf(tw, "\t%s\t%d\t%.2f\t%.2f\t%.2f\t\n", op, l.Count, l.P50, l.P99, l.Max)
	}
	for _, k := range []string{"decision", "activity"} {
		if l, ok := r.ScheduledToPolled[k]; ok {
			fmt.Fprintf(tw, "\tscheduled→polled (%s)\t%d\t%.2f\t%.2f\t%.2f\t\n", k, l.Count, l.P50, l.P99, l.Max)
		}
	}
	tw.Flush()
}
