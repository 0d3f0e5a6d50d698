// Package cli is the swf command line: a drop-in for `aws swf` against
// swfd or Amazon SWF, plus a few commands for daily work.
//
// It owns everything the binary cmd/swf does: the 39 service commands and
// their flags (generated from the service model in package api, named and
// parsed as the AWS CLI v1 names and parses them, shorthand syntax and
// file:// values included), --cli-input-json and --generate-cli-skeleton,
// the global options (--endpoint-url, --region, --profile, --output
// json|text|table, --query, pagination, --debug, timeouts), request
// signing with the standard AWS credential chain, the AWS CLI's output
// formats, error messages and exit statuses, help and shell completion,
// and the extra commands history, executions and describe; clock and dev
// drive swfd's own API (the clock of a test server, and its reset), and bench
// runs the load generator of package bench.
//
// What it prints is what the AWS CLI v1 prints, byte for byte: the json,
// text and table formats (Python's str and repr of values, the table's
// East Asian widths and colours, the same failures on shapes the AWS CLI
// cannot draw), and pagination. --query is evaluated by go-jmespath, with
// the response's key order and its numbers' integer or float kind kept
// around it (values.go); where that library's results or messages cannot
// be the AWS CLI's (a number it computes, the order of keys() and
// values(), its error messages), they differ. TestOutputMatchesAWS
// compares the two over a populated swfd, and lists and checks the
// differences; docs/cli.md says what it covers.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Exit statuses, as the AWS CLI v1 (1.45) returns them.
const (
	exitOK      = 0
	exitUsage   = 2   // command-line syntax (argparse) errors
	exitFailure = 255 // everything else: service faults, bad values, connection errors
	exitSignal  = 130
)

// usageError is an argparse-style error: printed after the usage lines
// with "swf: error: ", exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// unknownOptionsError lists arguments no option took (exit status 255).
type unknownOptionsError struct{ args []string }

func (e *unknownOptionsError) Error() string {
	return "Unknown options: " + strings.Join(e.args, ", ")
}

const usageText = `usage: swf [options] <command> [parameters]
To see help text, you can run:

  swf help
  swf <command> help
`

// env is what Main reads from the environment.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	lookupenv      func(string) (string, bool)
}

// getenv returns an environment variable's value, "" when it is not set.
func (e *env) getenv(name string) string {
	v, _ := e.lookupenv(name)
	return v
}

// globals are the options every command accepts.
type globals struct {
	endpoint    string
	region      string
	profile     string
	profileFlag bool             // profile came from --profile, not the environment
	envCreds    *aws.Credentials // AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY
	output      string
	query       string
	color       string
	caBundle    string
	// profileCABundle is the profile's ca_bundle, used when neither
	// --ca-bundle nor AWS_CA_BUNDLE is given.
	profileCABundle string
	debug           bool
	noVerifySSL     bool
	noPaginate      bool
	noSign          bool
	readTimeout     *time.Duration
	connectTimeout  *time.Duration
	debugOut        io.Writer
}

type argKind int

const (
	kindValue    argKind = iota // exactly one value
	kindBool                    // no value
	kindList                    // zero or more values
	kindOptional                // zero or one value
)

var globalSpecs = map[string]argKind{
	"endpoint-url": kindValue, "region": kindValue, "profile": kindValue, "output": kindValue,
	"query": kindValue, "color": kindValue, "ca-bundle": kindValue, "cli-read-timeout": kindValue,
	"cli-connect-timeout": kindValue, "debug": kindBool, "no-verify-ssl": kindBool,
	"no-paginate": kindBool, "no-sign-request": kindBool, "version": kindBool,
	// AWS CLI v2 options, accepted so v2 scripts run.
	"no-cli-pager": kindBool, "cli-binary-format": kindValue, "v2-debug": kindBool,
}

// awsGlobalOrder lists the AWS CLI v1's own global options in the order its
// parser knows them: the order it names them in when an abbreviation is
// ambiguous. (--no-cli-pager and --cli-binary-format are swf's additions
// from v2, which no abbreviation reaches.)
var awsGlobalOrder = []string{"debug", "endpoint-url", "no-verify-ssl", "no-paginate", "output", "query", "profile",
	"region", "color", "no-sign-request", "ca-bundle", "cli-read-timeout", "cli-connect-timeout", "v2-debug", "version"}

// expandAbbrev finds the flag an abbreviated one (--nam for --name)
// stands for, as argparse does for the AWS CLI: its global options are
// matched first, across the whole command line, and only a prefix that
// starts none of them is matched against the command's own flags
// (order: theirs, for the message). arg is the whole argument as given
// (--nam=x). It returns "" when nothing matches, and a usage error when
// several do.
func expandAbbrev(prefix, arg string, specs map[string]argKind, order []string) (string, error) {
	pick := func(names []string) (string, error) {
		var found []string
		for _, n := range names {
			if _, ok := specs[n]; ok && strings.HasPrefix(n, prefix) {
				found = append(found, "--"+n)
			}
		}
		switch len(found) {
		case 0:
			return "", nil
		case 1:
			return found[0][2:], nil
		}
		return "", &usageError{fmt.Sprintf("ambiguous option: %s could match %s", arg, strings.Join(found, ", "))}
	}
	if full, err := pick(awsGlobalOrder); full != "" || err != nil {
		return full, err
	}
	own := append([]string{}, order...)
	var rest []string
	for n := range specs {
		if _, isGlobal := globalSpecs[n]; !isGlobal && !slices.Contains(own, n) {
			rest = append(rest, n)
		}
	}
	sort.Strings(rest)
	return pick(append(own, rest...))
}

// dashOption reports whether an argument starting with a single dash (or
// "--" alone) reads as an option to argparse, which parses the AWS CLI's
// command line: it then is no flag's value, and is an unknown option where
// it stands alone. A negative number ("-1", "-1.5"), a lone "-" and one
// holding a space ("-a b") are values.
func dashOption(s string) bool {
	if len(s) < 2 || s[0] != '-' || strings.Contains(s, " ") {
		return false
	}
	if s == "--" {
		return true
	}
	if s[1] == '-' {
		return false // --name: an option in its own right
	}
	whole, frac, dot := strings.Cut(s[1:], ".")
	digits := func(x string) bool { return strings.Trim(x, "0123456789") == "" }
	negative := !dot && whole != "" && digits(whole) || dot && frac != "" && digits(whole) && digits(frac)
	return !negative
}

// parsed is the result of parsing one command line.
type parsed struct {
	values      map[string][]string // by flag name (without dashes)
	order       []string            // flags in the order given
	positionals []string
	unknown     []string
}

func (p *parsed) has(flag string) bool { _, ok := p.values[flag]; return ok }

func (p *parsed) get(flag string) string {
	if v := p.values[flag]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// parseArgs parses args against specs the way argparse does for the AWS
// CLI: --flag value, --flag=value, repeated flags (the last wins), lists
// taking every following value up to the next option.
func parseArgs(args []string, specs map[string]argKind) (*parsed, error) {
	return parseArgsInOrder(args, specs, nil, false)
}

// parseArgsInOrder is parseArgs with the order of the command's own flags,
// for the message about an ambiguous abbreviation. With dashes (the SWF
// API's commands, which are the AWS CLI's), an argument with a single
// leading dash that argparse reads as an option (dashOption) is one: no
// flag's value, and unknown where it stands alone. swf's own commands
// take such arguments as values (--since -5h is refused for what it says),
// and a lone "--" ends their options, as in most commands: every argument
// after it is positional.
func parseArgsInOrder(args []string, specs map[string]argKind, order []string, dashes bool) (*parsed, error) {
	p := &parsed{values: map[string][]string{}}
	isOpt := func(s string) bool { return strings.HasPrefix(s, "--") && len(s) > 2 }
	// takes reports whether a flag may take s as its value.
	takes := func(s string) bool { return !isOpt(s) && !(dashes && dashOption(s)) }
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" && !dashes {
			// The end of the options: what follows is positional, a
			// negative duration ("swf clock advance -- -1h") too.
			p.positionals = append(p.positionals, args[i+1:]...)
			break
		}
		if !isOpt(a) {
			if dashes && dashOption(a) && a != "--" {
				p.unknown = append(p.unknown, a)
			} else {
				p.positionals = append(p.positionals, a)
			}
			continue
		}
		name, val, hasVal := strings.Cut(a[2:], "=")
		kind, ok := specs[name]
		if !ok {
			full, err := expandAbbrev(name, a, specs, order)
			if err != nil {
				return nil, err
			}
			if full == "" {
				p.unknown = append(p.unknown, a)
				continue
			}
			name, kind = full, specs[full]
		}
		if _, seen := p.values[name]; !seen {
			p.order = append(p.order, name)
		}
		switch kind {
		case kindBool:
			if hasVal {
				return nil, &usageError{fmt.Sprintf("argument --%s: ignored explicit argument '%s'", name, val)}
			}
			p.values[name] = []string{}
		case kindValue:
			if !hasVal {
				if i+1 >= len(args) || !takes(args[i+1]) {
					return nil, &usageError{fmt.Sprintf("argument --%s: expected one argument", name)}
				}
				i++
				val = args[i]
			}
			p.values[name] = []string{val}
		case kindOptional:
			if !hasVal && i+1 < len(args) && takes(args[i+1]) {
				i++
				val, hasVal = args[i], true
			}
			if hasVal {
				p.values[name] = []string{val}
			} else {
				p.values[name] = []string{}
			}
		case kindList:
			var vals []string
			if hasVal {
				vals = append(vals, val)
			} else {
				for i+1 < len(args) && takes(args[i+1]) {
					i++
					vals = append(vals, args[i])
				}
			}
			// As in the AWS CLI (argparse's nargs='*'), a list flag may be
			// given no values at all: the list is then empty.
			if vals == nil {
				vals = []string{}
			}
			p.values[name] = vals
		}
	}
	return p, nil
}

// Main runs the swf command line and returns its exit status. lookupEnv
// reads the environment as os.LookupEnv does: a few settings, as in the
// AWS CLI, tell a variable set to "" from one that is not set.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) int {
	if lookupEnv == nil {
		lookupEnv = func(string) (string, bool) { return "", false }
	}
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, lookupenv: lookupEnv}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := run(ctx, e, args)
	return report(e, err)
}

// report prints err as the AWS CLI would and returns the exit status.
func report(e *env, err error) int {
	if err == nil {
		return exitOK
	}
	var ue *usageError
	var uo *unknownOptionsError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "%sswf: error: %s\n", usageText, ue.msg)
		return exitUsage
	case errors.As(err, &uo):
		fmt.Fprintf(e.stderr, "%s\n%s\n", usageText, uo.Error())
		return exitFailure
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(e.stdout) // as the AWS CLI does on KeyboardInterrupt
		return exitSignal
	}
	fmt.Fprintf(e.stderr, "\n%s\n", err)
	return exitFailure
}

func run(ctx context.Context, e *env, args []string) error {
	// Global options may come before the command, and before or after
	// "swf": `swf [--output text] swf describe-domain …` reads like
	// `aws [--output text] swf describe-domain …`.
	var pre []string
	i, sawSwf := 0, false
	for i < len(args) {
		if args[i] == "swf" && !sawSwf {
			sawSwf = true
			i++
			continue
		}
		if !strings.HasPrefix(args[i], "--") {
			break
		}
		name, _, hasVal := strings.Cut(args[i][2:], "=")
		kind, ok := globalSpecs[name]
		if !ok {
			full, err := expandAbbrev(name, args[i], globalSpecs, nil)
			if err != nil {
				return err
			}
			if full == "" {
				break
			}
			kind = globalSpecs[full]
		}
		j := i + 1
		if kind == kindValue && !hasVal {
			j = min(j+1, len(args))
		}
		pre = append(pre, args[i:j]...)
		i = j
	}
	rest := args[i:]
	if len(rest) == 0 {
		gp, err := parseArgs(pre, globalSpecs)
		if err != nil {
			return err
		}
		if gp.has("version") {
			fmt.Fprintln(e.stdout, versionString())
			return nil
		}
		return &usageError{"the following arguments are required: command"}
	}
	name := rest[0]
	rest = append(append([]string{}, pre...), rest[1:]...)
	switch name {
	case "help":
		printTopHelp(e.stdout)
		return nil
	case "completion":
		return runCompletion(e, rest)
	case "history":
		return runHistory(ctx, e, rest)
	case "executions":
		return runExecutions(ctx, e, rest)
	case "describe":
		return runDescribe(ctx, e, rest)
	case "bench":
		return runBench(ctx, e, rest)
	case "clock":
		return runClock(ctx, e, rest)
	case "dev":
		return runDev(ctx, e, rest)
	}
	cmd, ok := commands[name]
	if !ok {
		return &usageError{invalidChoice(name)}
	}
	return runService(ctx, e, cmd, rest)
}

func versionString() string { return "swf/1 (swfd; SWF API 2012-01-25)" }

// invalidChoice lists the commands in two columns after a blank line (a
// last one alone when their number is odd), then those close to name, as
// the AWS CLI's argument parser does for an unknown operation.
func invalidChoice(name string) string {
	choices := append(append([]string{}, commandNames...), "history", "executions", "describe", "bench", "clock", "dev", "completion", "help")
	var b strings.Builder
	b.WriteString("argument command: Invalid choice, valid choices are:\n")
	for i := 0; i < len(choices); i += 2 {
		b.WriteString(fmt.Sprintf("\n%-40s", choices[i]))
		if i+1 < len(choices) {
			b.WriteString(fmt.Sprintf(" | %-40s", choices[i+1]))
		}
	}
	if close := closeMatches(name, choices); len(close) > 0 {
		b.WriteString("\n\nInvalid choice: ")
		writePyStringRepr(&b, name)
		b.WriteString(", maybe you meant:\n")
		for _, c := range close {
			b.WriteString("\n  * " + c)
		}
	}
	return b.String()
}

// closeMatches is Python's difflib.get_close_matches(word, choices): the
// (up to) three choices whose similarity to word is 0.8 or more, the most
// similar first (ties: the greater string first).
func closeMatches(word string, choices []string) []string {
	type scored struct {
		s     string
		ratio float64
	}
	var found []scored
	for _, c := range choices {
		if r := similarity(c, word); r >= 0.8 {
			found = append(found, scored{c, r})
		}
	}
	sort.SliceStable(found, func(i, j int) bool {
		if found[i].ratio != found[j].ratio {
			return found[i].ratio > found[j].ratio
		}
		return found[i].s > found[j].s
	})
	var out []string
	for i := 0; i < len(found) && i < 3; i++ {
		out = append(out, found[i].s)
	}
	return out
}

// similarity is difflib's SequenceMatcher(None, a, b).ratio(): twice the
// characters of the matching blocks (the longest common run, earliest in
// a then in b, and so on either side of it) over both lengths.
func similarity(a, b string) float64 {
	ra, rb := []rune(a), []rune(b)
	if len(ra)+len(rb) == 0 {
		return 1
	}
	var matched func(alo, ahi, blo, bhi int) int
	matched = func(alo, ahi, blo, bhi int) int {
		besti, bestj, bestk := alo, blo, 0
		for i := alo; i < ahi; i++ {
			for j := blo; j < bhi; j++ {
				k := 0
				for i+k < ahi && j+k < bhi && ra[i+k] == rb[j+k] {
					k++
				}
				if k > bestk {
					besti, bestj, bestk = i, j, k
				}
			}
		}
		if bestk == 0 {
			return 0
		}
		return bestk + matched(alo, besti, blo, bestj) + matched(besti+bestk, ahi, bestj+bestk, bhi)
	}
	return 2 * float64(matched(0, len(ra), 0, len(rb))) / float64(len(ra)+len(rb))
}

// ignoreConfiguredEndpoints reports whether the endpoints configured
// outside the command line (AWS_ENDPOINT_URL_SWF, AWS_ENDPOINT_URL, the
// profile's services section and endpoint_url) are to be ignored, leaving
// --endpoint-url or the default. AWS_IGNORE_CONFIGURED_ENDPOINT_URLS
// decides when it is set, even to "" (which says no); otherwise the
// profile's ignore_configured_endpoint_urls. Only "true", in any case,
// says yes.
func ignoreConfiguredEndpoints(e *env, sc sharedConfig) bool {
	v, ok := e.lookupenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
	if !ok {
		v = sc.ignoreEndpoints
	}
	return strings.ToLower(v) == "true"
}

// resolveGlobals reads the global options and their environment defaults.
func resolveGlobals(e *env, p *parsed) (*globals, error) {
	g := &globals{output: "json", color: "auto"}
	g.profile = p.get("profile")
	g.profileFlag = g.profile != ""
	if g.profile == "" {
		g.profile = e.getenv("AWS_PROFILE")
	}
	if g.profile == "" {
		g.profile = e.getenv("AWS_DEFAULT_PROFILE")
	}
	if id, secret := e.getenv("AWS_ACCESS_KEY_ID"), e.getenv("AWS_SECRET_ACCESS_KEY"); id != "" && secret != "" {
		g.envCreds = &aws.Credentials{AccessKeyID: id, SecretAccessKey: secret, SessionToken: e.getenv("AWS_SESSION_TOKEN"), Source: "EnvConfigCredentials"}
		if g.envCreds.SessionToken == "" {
			g.envCreds.SessionToken = e.getenv("AWS_SECURITY_TOKEN")
		}
	}
	sc, err := loadSharedConfig(e, g.profile)
	if err != nil {
		return nil, err
	}
	g.endpoint = p.get("endpoint-url")
	configured := []string{e.getenv("AWS_ENDPOINT_URL_SWF"), e.getenv("AWS_ENDPOINT_URL"), sc.endpoint}
	if ignoreConfiguredEndpoints(e, sc) {
		configured = nil
	}
	// Given on the command line, even empty, --endpoint-url is the
	// endpoint: an empty one is refused below, as the AWS CLI refuses it,
	// rather than taken as not given.
	if !p.has("endpoint-url") {
		for _, ep := range append(configured, defaultEndpoint) {
			if g.endpoint == "" {
				g.endpoint = ep
			}
		}
	}
	if !strings.Contains(g.endpoint, "://") {
		return nil, fmt.Errorf("Bad value for --endpoint-url \"%s\": scheme is missing.  Must be of the form http://<hostname>/ or https://<hostname>/", g.endpoint)
	}
	g.region = p.get("region")
	if g.region == "" {
		g.region = e.getenv("AWS_REGION")
	}
	if g.region == "" {
		g.region = e.getenv("AWS_DEFAULT_REGION")
	}
	if p.has("output") {
		g.output = p.get("output")
	} else if o, ok := e.lookupenv("AWS_DEFAULT_OUTPUT"); ok {
		// Set, even to "", it is the output format, as in the AWS CLI
		// (where "" is then an unknown one).
		g.output = o
	} else if sc.output != "" {
		g.output = sc.output
	}
	switch g.output {
	case "json", "text", "table":
	default:
		if !p.has("output") {
			break // from the environment or the profile: printResult says so, after the call, as aws does
		}
		return nil, &usageError{"argument --output: Invalid choice, valid choices are:\n\njson                                     | text                                    \ntable                                   "}
	}
	g.query = p.get("query")
	if p.has("query") && g.query == "" {
		// Checked here, before any call, with the other global options:
		// elsewhere an empty query is taken for none.
		return nil, errors.New("Bad value for --query : Invalid JMESPath expression: cannot be empty.")
	}
	if p.has("color") {
		g.color = p.get("color")
		switch g.color {
		case "on", "off", "auto":
		default:
			return nil, &usageError{fmt.Sprintf("argument --color: Invalid choice, valid choices are:\n\non                                       | off                                     \nauto                                    ")}
		}
	}
	g.caBundle = p.get("ca-bundle")
	g.profileCABundle = sc.caBundle
	g.debug = p.has("debug")
	g.noVerifySSL = p.has("no-verify-ssl")
	g.noPaginate = p.has("no-paginate")
	g.noSign = p.has("no-sign-request")
	for _, t := range []struct {
		flag string
		dst  **time.Duration
	}{{"cli-read-timeout", &g.readTimeout}, {"cli-connect-timeout", &g.connectTimeout}} {
		if !p.has(t.flag) {
			continue
		}
		n, err := strconv.Atoi(p.get(t.flag))
		if err != nil {
			return nil, fmt.Errorf("invalid literal for int() with base 10: '%s'", p.get(t.flag))
		}
		d := time.Duration(n) * time.Second // 0: no timeout
		*t.dst = &d
	}
	if g.debug {
		g.debugOut = e.stderr
	}
	return g, nil
}

// specsFor returns the flags of a service command plus the global ones.
func specsFor(c *command) map[string]argKind {
	specs := map[string]argKind{}
	for k, v := range globalSpecs {
		specs[k] = v
	}
	specs["cli-input-json"] = kindValue
	specs["generate-cli-skeleton"] = kindOptional
	if c.pager != nil {
		specs["starting-token"] = kindValue
		specs["page-size"] = kindValue
		specs["max-items"] = kindValue
	}
	for _, p := range c.params {
		switch p.shape.Type {
		case "boolean":
			specs[p.flag] = kindBool
			specs["no-"+p.flag] = kindBool
		case "list":
			specs[p.flag] = kindList
		default:
			specs[p.flag] = kindValue
		}
	}
	return specs
}

// flagOrder lists a service command's own flags in the AWS CLI's order:
// the input members, then the pagination and input options.
func flagOrder(c *command) []string {
	var out []string
	for _, p := range c.params {
		out = append(out, p.flag)
		if p.shape.Type == "boolean" {
			out = append(out, "no-"+p.flag)
		}
	}
	if c.pager != nil {
		out = append(out, "starting-token", "page-size", "max-items")
	}
	return append(out, "cli-input-json", "generate-cli-skeleton")
}

func isHelp(p *parsed) bool {
	for _, a := range p.positionals {
		if a == "help" {
			return true
		}
	}
	return false
}

// ownHelp reports whether one of swf's own commands (history, executions,
// describe, bench, clock, dev, completion) is asked for its help: help as a
// word, or -h or --help anywhere on its command line. The SWF API's
// commands take help alone, as the AWS CLI's do (-h and --help are unknown
// options there).
func ownHelp(p *parsed) bool {
	return isHelp(p) || slices.Contains(p.positionals, "-h") || slices.Contains(p.unknown, "--help")
}

func runService(ctx context.Context, e *env, c *command, args []string) error {
	p, err := parseArgsInOrder(args, specsFor(c), flagOrder(c), true)
	if err != nil {
		return err
	}
	if p.has("version") { // anywhere on the line, as with aws
		fmt.Fprintln(e.stdout, versionString())
		return nil
	}
	if isHelp(p) {
		printCommandHelp(e.stdout, c)
		return nil
	}
	for _, f := range []string{"max-items", "page-size"} {
		if p.has(f) {
			if _, err := intFlag(p, f); err != nil {
				return err // argparse checks these as it reads them
			}
		}
	}
	skel, wantSkel := p.values["generate-cli-skeleton"]
	if !p.has("cli-input-json") && !wantSkel {
		var missing []string
		for _, prm := range c.params {
			if prm.required && !p.has(prm.flag) && !(prm.shape.Type == "boolean" && p.has("no-"+prm.flag)) {
				missing = append(missing, "--"+prm.flag)
			}
		}
		if len(missing) > 0 {
			return &usageError{"the following arguments are required: " + strings.Join(missing, ", ")}
		}
	}
	if len(p.unknown) > 0 || len(p.positionals) > 0 {
		return &unknownOptionsError{append(append([]string{}, p.unknown...), p.positionals...)}
	}
	g, err := resolveGlobals(e, p)
	if err != nil {
		return err
	}
	if wantSkel {
		kind := "input"
		if len(skel) > 0 {
			kind = skel[0]
		}
		switch kind {
		case "input":
			io.WriteString(e.stdout, pyJSON(inputSkeleton(shape(c.op.Input)))+"\n")
		case "output":
			if c.op.Output != "" {
				io.WriteString(e.stdout, pyJSON(outputSkeleton(shape(c.op.Output)))+"\n")
			}
		default:
			return &usageError{fmt.Sprintf("argument --generate-cli-skeleton: Invalid choice, valid choices are:\n\ninput                                    | output                                  ")}
		}
		return nil
	}
	if err := checkQuery(g); err != nil {
		return err
	}
	in, err := buildInput(c, p)
	if err != nil {
		return err
	}
	body, err := prepare(shape(c.op.Input), in)
	if err != nil {
		return err
	}
	cl, err := newClient(ctx, g)
	if err != nil {
		return err
	}
	res, err := callCommand(ctx, cl, c, p, g, body, e.stderr)
	if err != nil {
		return err
	}
	return printResult(e, g, c.op.Name, res)
}

// buildInput merges --cli-input-json with the flags given (flags win).
func buildInput(c *command, p *parsed) (*omap, error) {
	in := newOmap()
	if p.has("cli-input-json") {
		s, err := resolveParamFile("--cli-input-json", p.get("cli-input-json"))
		if err != nil {
			return nil, err
		}
		v, err := decodeJSON([]byte(s))
		if err != nil {
			return nil, &paramError{"cli-input-json", fmt.Sprintf("Invalid JSON: %v\nJSON received: %s", err, s)}
		}
		o, ok := v.(*omap)
		if !ok {
			return nil, &paramError{"cli-input-json", fmt.Sprintf("Invalid JSON: expected an object\nJSON received: %s", s)}
		}
		in = o
	}
	for _, prm := range c.params {
		if prm.shape.Type == "boolean" {
			if p.has(prm.flag) {
				in.set(prm.member, true)
			}
			if p.has("no-" + prm.flag) {
				in.set(prm.member, false)
			}
			continue
		}
		raw, ok := p.values[prm.flag]
		if !ok {
			continue
		}
		v, err := convertArg(prm, raw)
		if err != nil {
			return nil, err
		}
		in.set(prm.member, v)
	}
	return in, nil
}

// sortedFlags lists a command's documented flags (for help and completion).
func sortedFlags(c *command) []string {
	var out []string
	for _, p := range c.params {
		if p.hidden {
			continue
		}
		out = append(out, "--"+p.flag)
		if p.shape.Type == "boolean" {
			out = append(out, "--no-"+p.flag)
		}
	}
	out = append(out, "--cli-input-json", "--generate-cli-skeleton")
	if c.pager != nil {
		out = append(out, "--starting-token", "--page-size", "--max-items")
	}
	return out
}

func globalFlagNames() []string {
	var out []string
	for k := range globalSpecs {
		out = append(out, "--"+k)
	}
	sort.Strings(out)
	return out
}
