package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/swfd/swfd/clock"
)

// The commands of swfd's own API (see package admin): the clock of a swfd
// started with --clock manual or skip, and the reset of a swfd --dev.

const clockHelp = `swf clock                      print swfd's time and how its clock runs
swf clock advance DURATION     move the clock forward: 90s, 15m, 24h, 7d, 1d12h, or seconds (86400, 1.5)
swf clock set TIME             move the clock forward to a time: 2030-01-02T15:04:05Z, epoch seconds (to the millisecond)

A swfd started with --clock manual stands still until moved. Moving the clock fires every timer and timeout
that falls due on the way, in order, each at its own time; a timer that fails to fire (its run cannot be read)
is passed over, named in a warning, and tried again later. The clock never goes backwards, not even when a
swfd whose database keeps its data starts again with --clock manual or skip: it resumes from the time it
reached (with --clock real it is the wall clock again, and swfd warns if that is behind the time reached).
With --auth the principal needs the IAM action swfd:AdvanceClock to move it. --output json prints swfd's
answer as JSON.
`

func runClock(ctx context.Context, e *env, args []string) error {
	p, g, err := parseAdmin(e, args, clockHelp)
	if err != nil || g == nil {
		return err
	}
	var op, method, path string
	var body any
	switch pos := p.positionals; {
	case len(pos) == 0:
		op, method, path = "DescribeClock", http.MethodGet, "/swfd/clock"
	case pos[0] == "advance" && len(pos) == 2:
		if _, err := clock.ParseDuration(pos[1]); err != nil {
			return fmt.Errorf("Invalid duration %q for swf clock advance: %v", pos[1], err)
		}
		op, method, path = "AdvanceClock", http.MethodPost, "/swfd/clock/advance"
		body = map[string]string{"duration": pos[1]}
	case pos[0] == "set" && len(pos) == 2:
		t, err := parseTimestamp(pos[1])
		if f, ferr := strconv.ParseFloat(strings.TrimSpace(pos[1]), 64); err == nil && ferr == nil && !(f >= minClockEpoch && f < maxClockEpoch) {
			// Epoch seconds past what an RFC 3339 time writes (years 1
			// to 9999) would wrap around: no time swfd could take.
			err = errors.New("out of range")
		}
		if err != nil {
			return fmt.Errorf("Invalid time %q for swf clock set: use 2030-01-02T15:04:05Z, 2030-01-02 or epoch seconds", pos[1])
		}
		op, method, path = "SetClock", http.MethodPost, "/swfd/clock/set"
		at := t.UTC().Format(time.RFC3339Nano)
		if epoch := strings.TrimSpace(pos[1]); isEpoch(epoch) {
			// Epoch seconds go as given: parseTimestamp keeps whole
			// seconds (as the SWF parameters it reads carry them), and
			// swfd reads the fraction exactly.
			at = epoch
		}
		body = map[string]string{"time": at}
	default:
		return &usageError{"usage: swf clock [advance DURATION | set TIME]"}
	}
	v, err := callAdmin(ctx, g, op, method, path, body)
	if err != nil {
		return err
	}
	if p.has("output") || g.query != "" {
		return printResult(e, g, op, &result{single: v})
	}
	o, _ := v.(*omap)
	line := fmt.Sprintf("%s (%s clock", str(o, "now"), str(o, "mode"))
	if fired := str(o, "timersFired"); fired != "" {
		line += "; " + plural(fired, "timer") + " fired"
	}
	var stuck []any
	if o != nil {
		stuck, _ = o.m["timersStuck"].([]any)
	}
	if len(stuck) > 0 {
		line += "; " + plural(fmt.Sprint(len(stuck)), "timer") + " failed to fire"
	}
	fmt.Fprintln(e.stdout, line+")")
	for _, t := range stuck {
		// A swfd that could not read the run's names (or an older one)
		// gives its runId alone.
		which := "run " + str(t, "runId")
		if wf := str(t, "workflowId"); wf != "" {
			which = "workflow " + wf + " (" + which + ") in domain " + str(t, "domain")
		}
		fmt.Fprintf(e.stderr, "warning: the timer of %s due at %s failed to fire (its run could not be read or written); "+
			"the clock went on past it, and it is still pending: swfd's log says why\n", which, str(t, "due"))
	}
	return nil
}

// The epoch seconds of 0001-01-01T00:00:00Z and 10000-01-01T00:00:00Z: swf
// clock set takes times from the one up to the other.
const (
	minClockEpoch = -62135596800
	maxClockEpoch = 253402300800
)

// isEpoch reports whether s is epoch seconds written in decimal, with or
// without a fraction ("1930122000", "1930122000.626").
func isEpoch(s string) bool {
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" || dot && frac == "" {
		return false
	}
	return strings.Trim(whole+frac, "0123456789") == ""
}

const devHelp = `swf dev reset                  drop every domain, execution and task of a swfd --dev

A swfd started with --dev (the mode for tests) keeps everything in memory;
reset empties it at once, answers every waiting poll empty, and leaves the
server ready. Its clock keeps its time. Any other swfd refuses it. With --auth
the principal needs the IAM action swfd:Reset.
`

func runDev(ctx context.Context, e *env, args []string) error {
	p, g, err := parseAdmin(e, args, devHelp)
	if err != nil || g == nil {
		return err
	}
	if len(p.positionals) != 1 || p.positionals[0] != "reset" {
		return &usageError{"usage: swf dev reset"}
	}
	v, err := callAdmin(ctx, g, "Reset", http.MethodPost, "/swfd/dev/reset", nil)
	if err != nil {
		return err
	}
	if p.has("output") || g.query != "" {
		return printResult(e, g, "Reset", &result{single: v})
	}
	fmt.Fprintln(e.stdout, "reset: every domain, execution and task dropped")
	return nil
}

func plural(n, what string) string {
	if n == "1" {
		return n + " " + what
	}
	return n + " " + what + "s"
}

// parseAdmin parses the global options and positionals of an admin
// command; a nil globals means help was printed.
func parseAdmin(e *env, args []string, help string) (*parsed, *globals, error) {
	p, err := parseArgs(args, globalSpecs)
	if err != nil {
		return nil, nil, err
	}
	if ownHelp(p) {
		io.WriteString(e.stdout, help)
		return nil, nil, nil
	}
	if len(p.unknown) > 0 {
		return nil, nil, &unknownOptionsError{p.unknown}
	}
	g, err := resolveGlobals(e, p)
	if err != nil {
		return nil, nil, err
	}
	// Before the call: a move of the clock is not undone by a query
	// that fails afterwards.
	if err := checkQuery(g); err != nil {
		return nil, nil, err
	}
	return p, g, nil
}

// callAdmin sends one call of swfd's admin API (never retried: a move of
// the clock is not idempotent) and returns its answer.
func callAdmin(ctx context.Context, g *globals, op, method, path string, body any) (any, error) {
	c, err := newClient(ctx, g)
	if err != nil {
		return nil, err
	}
	var payload []byte
	if body != nil {
		if payload, err = json.Marshal(body); err != nil {
			return nil, err
		}
	}
	creds, err := c.credentials(ctx)
	if err != nil {
		return nil, err
	}
	status, resp, err := c.roundTrip(ctx, method, path, "", payload, creds)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		se := parseFault(op, status, resp)
		if status == http.StatusNotFound {
			se.message, se.hasMessage = fmt.Sprintf("%s has no %s: is it swfd?", c.endpoint, path), true
		}
		return nil, c.explain(se)
	}
	v, err := decodeJSON(resp)
	if err != nil {
		return nil, fmt.Errorf("Unable to parse response (%v), invalid JSON received:\n%s", err, resp)
	}
	return v, nil
}
