package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"

	"github.com/swfd/swfd/swfdtest"
)

// swf executions counts --since and --until back from swfd's time, not
// the client's: against a manual clock far from the wall clock, "the last
// hour" is the last hour swfd's clock has seen.
func TestExecutionsCountBackFromSwfdsClock(t *testing.T) {
	start := time.Date(2031, 3, 1, 9, 0, 0, 0, time.UTC) // years from the wall clock
	srv := swfdtest.New(t, swfdtest.StartAt(start))
	srv.RegisterDomain("shop", swfdtest.WorkflowType{Name: "order", Version: "1"})
	c := srv.Client()
	startRun := func(id string) {
		t.Helper()
		if _, err := c.StartWorkflowExecution(context.Background(), &swf.StartWorkflowExecutionInput{
			Domain: aws.String("shop"), WorkflowId: aws.String(id),
			WorkflowType: &types.WorkflowType{Name: aws.String("order"), Version: aws.String("1")}}); err != nil {
			t.Fatal(err)
		}
	}
	startRun("early")
	srv.Advance(5 * time.Hour)
	startRun("late")

	env := map[string]string{"AWS_ENDPOINT_URL_SWF": srv.URL}
	cases := []struct {
		args         []string
		want, absent string
	}{
		{[]string{"--since", "1h"}, "late", "early"},
		{[]string{"--since", "30d", "--until", "1h"}, "early", "late"},
		{nil, "early", ""}, // the last 24 hours by default
	}
	for _, cs := range cases {
		r := swfRun(env, append([]string{"executions", "--domain", "shop"}, cs.args...)...)
		if r.RC != 0 || !strings.Contains(r.Stdout, cs.want) || (cs.absent != "" && strings.Contains(r.Stdout, cs.absent)) {
			t.Errorf("swf executions %v: rc=%d, want %q listed and %q not:\n%s%s", cs.args, r.RC, cs.want, cs.absent, r.Stdout, r.Stderr)
		}
	}
	srv.Advance(time.Hour)
	r := swfRun(env, "executions", "--domain", "shop", "--since", "30m")
	if want := "No open executions started since 2031-03-01 14:30:00."; !strings.Contains(r.Stdout, want) {
		t.Errorf("swf executions --since 30m: rc=%d, want %q:\n%s%s", r.RC, want, r.Stdout, r.Stderr)
	}
}

// --since and --until count back from now: a negative duration (which
// would reach into the future) or one too long for a time.Duration is
// refused, not wrapped around.
func TestParseWhenRefusesDurationsThatDoNotCountBack(t *testing.T) {
	now := time.Date(2031, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, s := range []string{"-5h", "-1d", "NaNd", "Infd", "-Infd", "99999999d", "36501d", "1000000h"} {
		if got, err := parseWhen(s, now); err == nil {
			t.Errorf("parseWhen(%q) = %v, want an error", s, got)
		}
	}
	for s, want := range map[string]time.Time{
		"90m":        now.Add(-90 * time.Minute),
		"1.5d":       now.Add(-36 * time.Hour),
		"36500d":     now.Add(-36500 * 24 * time.Hour),
		"2030-01-02": time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC),
	} {
		if got, err := parseWhen(s, now); err != nil || !got.Equal(want) {
			t.Errorf("parseWhen(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	r := swfRun(map[string]string{"AWS_ENDPOINT_URL_SWF": "http://127.0.0.1:1"}, "executions", "--domain", "d", "--since", "-5h")
	if r.RC != 255 || !strings.Contains(r.Stderr, `--since: "-5h": a duration back from now must be between 0 and 36500d`) {
		t.Errorf("swf executions --since -5h: rc=%d %q", r.RC, r.Stderr)
	}
}

// swf clock set takes epoch seconds with their fraction, as swfd reports
// its time (unixMillis): it kept whole seconds only, so setting the clock
// to the time it showed was refused as a move backwards.
func TestClockSetKeepsTheFractionOfEpochSeconds(t *testing.T) {
	start := time.Date(2031, 3, 1, 9, 0, 0, 626_000_000, time.UTC)
	srv := swfdtest.New(t, swfdtest.StartAt(start))
	env := map[string]string{"AWS_ENDPOINT_URL_SWF": srv.URL}
	for _, cs := range []struct{ arg, want string }{
		{"1930122000.626", "2031-03-01T09:00:00.626Z"},
		{"1930122000.75", "2031-03-01T09:00:00.750Z"},
		{"1930122001", "2031-03-01T09:00:01.000Z"},
	} {
		r := swfRun(env, "clock", "set", cs.arg)
		if r.RC != 0 || !strings.Contains(r.Stdout, cs.want) {
			t.Errorf("swf clock set %s: rc=%d, want %s:\n%s%s", cs.arg, r.RC, cs.want, r.Stdout, r.Stderr)
		}
	}
}

// swf clock set refuses, before any call, a time no RFC 3339 time can
// write (epoch seconds past year 9999, or before year 1): it sent a time
// wrapped around (1.5e20 went as "292277026596-12-04T15:30:08Z"), which
// swfd refused as not a time at all.
func TestClockSetRefusesTimesOutOfRange(t *testing.T) {
	env := map[string]string{"AWS_ENDPOINT_URL_SWF": "http://127.0.0.1:1"}
	for _, arg := range []string{"1.5e20", "-1e20", "253402300800", "1e300"} {
		r := swfRun(env, "clock", "set", arg)
		if r.RC != 255 || !strings.Contains(r.Stderr, "Invalid time \""+arg+"\" for swf clock set") {
			t.Errorf("swf clock set %s: rc=%d %q, want it refused before any call", arg, r.RC, r.Stderr)
		}
	}
}

// swf clock set and swfd agree on a time finer than a millisecond, which
// swfd's clock cannot show: it is refused, naming the member, and the
// clock stays where it was (it was cut to the millisecond before it).
func TestClockSetRefusesTimesFinerThanAMillisecond(t *testing.T) {
	start := time.Date(2031, 3, 1, 9, 0, 0, 0, time.UTC)
	srv := swfdtest.New(t, swfdtest.StartAt(start))
	env := map[string]string{"AWS_ENDPOINT_URL_SWF": srv.URL}
	for _, arg := range []string{"2031-03-01T09:00:01.0005Z", "1930122001.0005", "1930122001.1234"} {
		r := swfRun(env, "clock", "set", arg)
		if r.RC != 255 || !strings.Contains(r.Stderr, "at 'time' failed to satisfy constraint: Member must be a whole number of milliseconds") {
			t.Errorf("swf clock set %s: rc=%d %q%q, want it refused", arg, r.RC, r.Stdout, r.Stderr)
		}
		if now := srv.Now(); !now.Equal(start) {
			t.Fatalf("swf clock set %s moved the clock to %v", arg, now)
		}
	}
}

// A negative duration after "--" (which keeps it from reading as an
// option) is refused for what it is, in swfd's words for it, as
// without "--": the command printed its usage, as if "--" were a third
// argument. "--" before a duration that moves the clock forward is taken
// as the end of the options.
func TestClockAdvanceAfterDoubleDash(t *testing.T) {
	start := time.Date(2031, 3, 1, 9, 0, 0, 0, time.UTC)
	srv := swfdtest.New(t, swfdtest.StartAt(start))
	env := map[string]string{"AWS_ENDPOINT_URL_SWF": srv.URL}
	for _, args := range [][]string{{"clock", "advance", "--", "-1h"}, {"clock", "advance", "-1h"}} {
		r := swfRun(env, args...)
		if r.RC != 255 || !strings.Contains(r.Stderr, `Invalid duration "-1h" for swf clock advance: a duration to move the clock by must not be negative: the clock never goes backwards`) || strings.Contains(r.Stderr, "usage") {
			t.Errorf("swf %v: rc=%d %q%q, want it refused as negative", args, r.RC, r.Stdout, r.Stderr)
		}
	}
	if now := srv.Now(); !now.Equal(start) {
		t.Fatalf("the clock moved to %v", now)
	}
	r := swfRun(env, "clock", "advance", "--", "1h")
	if r.RC != 0 || !strings.Contains(r.Stdout, "2031-03-01T10:00:00.000Z (manual clock; 0 timers fired)") {
		t.Errorf("swf clock advance -- 1h: rc=%d %q%q", r.RC, r.Stdout, r.Stderr)
	}
}
