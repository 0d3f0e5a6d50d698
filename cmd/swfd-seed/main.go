// Command swfd-seed fills an swfd SQLite database with synthetic executions
// and runs the visibility benchmark against it:
//
//	swfd-seed -db ./bench.db -closed 1000000 -open 10000
//	swfd-seed bench -db ./bench.db
//
// The seeding writes through the store directly (the server must not be
// running on the database). See internal/seed and BENCHMARKS.md.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/swfd/swfd/internal/seed"
	"github.com/swfd/swfd/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := command(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// command runs what args say and returns the exit status: 0, or 2 when
// the arguments are wrong or the seeding or the benchmark failed.
func command(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	err := run(ctx, args, stdout, stderr)
	if err == nil {
		return 0
	}
	if !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(stderr, "swfd-seed:", err)
	}
	return 2
}

// need is what the value given to a number flag must be, and why.
type need struct {
	flag string
	ok   bool   // whether the value given meets it
	why  string // what the value must be, and why, for the error
	def  string // the default to name when the flag's own (0) only stands for it
}

// check refuses the first value of fs's flags that does not meet its need:
// swfd-seed, like swfd, never replaces a value that means nothing with a
// default.
func check(fs *flag.FlagSet, needs ...need) error {
	for _, n := range needs {
		if n.ok {
			continue
		}
		f := fs.Lookup(n.flag)
		return fmt.Errorf("-%s %s: %s; leave the flag out for the default, %s", n.flag, f.Value, n.why, cmp.Or(n.def, f.DefValue))
	}
	return nil
}

// isRetention reports whether s is a retention swfd reads: NONE, or whole
// days written in decimal digits.
func isRetention(s string) bool {
	if s == "NONE" {
		return true
	}
	return s != "" && len(s) <= 9 && strings.Trim(s, "0123456789") == ""
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "bench" {
		return bench(ctx, args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("swfd-seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "", "SQLite database file to fill (created if missing)")
	var cfg seed.Config
	fs.StringVar(&cfg.Domain, "domain", "bench", "domain to fill (registered if missing)")
	fs.StringVar(&cfg.Retention, "retention", "365", "the domain's retention in days, as stored (beyond SWF's 90 so that a year of history is kept)")
	fs.IntVar(&cfg.Closed, "closed", 1000000, "closed executions to write")
	fs.IntVar(&cfg.Open, "open", 10000, "open executions to write")
	fs.DurationVar(&cfg.Span, "span", 365*24*time.Hour, "start and close times spread over this period before now")
	fs.IntVar(&cfg.Batch, "batch", 2000, "executions per store commit")
	fs.IntVar(&cfg.Workers, "workers", 0, "goroutines building executions (default GOMAXPROCS)")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "random seed")
	fs.BoolVar(&cfg.NoEvents, "no-events", false, "store no history events")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if err := check(fs,
		need{flag: "closed", ok: cfg.Closed >= 0, why: "a number of executions to write is 0 or more"},
		need{flag: "open", ok: cfg.Open >= 0, why: "a number of executions to write is 0 or more"},
		need{flag: "span", ok: cfg.Span > 0, why: "start and close times need a period to spread over: give a duration above zero, such as 720h"},
		// swfd reads a retention it cannot parse as none, and would purge
		// every closed execution seeded at its first pass.
		need{flag: "retention", ok: isRetention(cfg.Retention), why: "a retention is a whole number of days, 0 or more, or NONE"},
		need{flag: "batch", ok: cfg.Batch >= 1, why: "a commit must hold at least 1 execution"},
		// -workers' default, 0, stands for GOMAXPROCS; given, it is a count.
		need{flag: "workers", ok: !given["workers"] || cfg.Workers >= 1, why: "at least 1 goroutine must build executions",
			def: fmt.Sprintf("GOMAXPROCS (%d)", runtime.GOMAXPROCS(0))},
	); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *db == "" {
		return errors.New("-db is required")
	}
	cfg.Progress = stderr
	st, err := server.OpenStore(ctx, "sqlite:"+*db, nil)
	if err != nil {
		return err
	}
	stats, err := seed.Run(ctx, st, cfg)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "seeded %d closed and %d open executions (%d events) into domain %q of %s in %s\n",
		stats.Closed, stats.Open, stats.Events, cfg.Domain, *db, stats.Elapsed.Round(time.Millisecond))
	return nil
}

func bench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("swfd-seed bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg seed.BenchConfig
	fs.StringVar(&cfg.DB, "db", "", "seeded SQLite database file")
	fs.StringVar(&cfg.Domain, "domain", "bench", "seeded domain")
	fs.IntVar(&cfg.Iterations, "n", 200, "measured calls per query")
	fs.IntVar(&cfg.Warmup, "warmup", 10, "unmeasured calls per query first")
	fs.DurationVar(&cfg.Throughput, "duration", 15*time.Second, "length of each start/close throughput run")
	fs.IntVar(&cfg.Writers, "writers", 8, "concurrent start→decide→complete loops")
	fs.IntVar(&cfg.Readers, "readers", 2, "concurrent query loops during the loaded throughput runs")
	fs.BoolVar(&cfg.SkipQueries, "skip-queries", false, "skip the query latencies")
	fs.BoolVar(&cfg.SkipWrites, "skip-writes", false, "skip the start/close throughput runs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := check(fs,
		need{flag: "n", ok: cfg.Iterations >= 1, why: "at least 1 call per query must be measured"},
		need{flag: "warmup", ok: cfg.Warmup >= 1, why: "the warm-up is at least 1 call per query"},
		need{flag: "duration", ok: cfg.Throughput > 0, why: "a throughput run must last: give a duration above zero, such as 5s"},
		need{flag: "writers", ok: cfg.Writers >= 1, why: "at least 1 loop must start and close workflows"},
		need{flag: "readers", ok: cfg.Readers >= 1, why: "at least 1 loop must query during the loaded runs"},
	); err != nil {
		return err
	}
	if cfg.DB == "" {
		return errors.New("-db is required")
	}
	cfg.Out = stdout
	return seed.Bench(ctx, cfg)
}
