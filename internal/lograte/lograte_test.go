package lograte

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A storm of 10,000 lines in one second writes the burst, then the
// steady rate; the first line after the storm says how many were left
// out.
func TestStormIsBounded(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	now := time.Unix(1000, 0)
	l := New(log, 2, 5, func() time.Time { return now })
	for i := range 10000 {
		now = time.Unix(1000, 0).Add(time.Duration(i) * 100 * time.Microsecond) // 10,000 in one second
		l.Log(context.Background(), slog.LevelWarn, "bad signature", "i", i)
	}
	lines := strings.Count(buf.String(), "\n")
	if lines < 5 || lines > 8 { // the burst of 5 and 2 a second
		t.Fatalf("%d lines written:\n%s", lines, buf.String())
	}
	now = now.Add(time.Second)
	l.Log(context.Background(), slog.LevelWarn, "bad signature", "i", "after")
	out := buf.String()
	last := out[strings.LastIndex(out[:len(out)-1], "\n")+1:]
	if !strings.Contains(last, "i=after") || !strings.Contains(last, "suppressed=") {
		t.Fatalf("line after the storm: %q", last)
	}
	// Every line left out is counted once, on the next line written.
	var counted int
	for _, m := range regexp.MustCompile(`suppressed=(\d+)`).FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(m[1])
		counted += n
	}
	if counted != 10000-lines {
		t.Fatalf("%d counted as left out, want %d:\n%s", counted, 10000-lines, out)
	}
	// Quiet again: the next line has no count.
	buf.Reset()
	now = now.Add(time.Minute)
	l.Log(context.Background(), slog.LevelWarn, "bad signature")
	if strings.Contains(buf.String(), "suppressed") {
		t.Fatalf("count repeated: %q", buf.String())
	}
}

// Lines below the logger's level are neither written nor counted; a nil
// Limiter allows everything.
func TestDisabledAndNil(t *testing.T) {
	var buf bytes.Buffer
	l := New(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelError})), 1, 1, nil)
	for range 10 {
		l.Log(context.Background(), slog.LevelWarn, "x")
	}
	if buf.Len() != 0 || l.suppressed != 0 {
		t.Fatalf("wrote %q, counted %d", buf.String(), l.suppressed)
	}
	var nl *Limiter
	if ok, _ := nl.Allow(); !ok {
		t.Fatal("nil limiter refused")
	}
	nl.Log(context.Background(), slog.LevelWarn, "x")
}
