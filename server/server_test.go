package server

import (
	"context"
	"strings"
	"testing"

	"github.com/swfd/swfd/history"
	"github.com/swfd/swfd/service"
)

func TestOpenStoreDSNs(t *testing.T) {
	ctx := context.Background()
	for dsn, want := range map[string]string{
		"postgres://x:1/db":     "open PostgreSQL database",
		"postgresql://u@h:1/db": "open PostgreSQL database",
		"sqlite:":               "needs a path",
		"mysql://x":             "unknown database",
		"":                      "unknown database",
		"/tmp/just-a-path.db":   "unknown database",
	} {
		st, err := OpenStore(ctx, dsn, nil)
		if err == nil {
			st.Close()
			t.Errorf("OpenStore(%q) succeeded", dsn)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("OpenStore(%q) = %v, want it to mention %q", dsn, err, want)
		}
	}
}

func TestLimitsWithDefaults(t *testing.T) {
	if got := limitsWithDefaults(service.Limits{}); got != service.DefaultLimits {
		t.Errorf("zero limits = %+v, want defaults", got)
	}
	got := limitsWithDefaults(service.Limits{MaxDomains: 3})
	want := service.DefaultLimits
	want.MaxDomains = 3
	if got != want {
		t.Errorf("partial limits = %+v, want %+v", got, want)
	}
	got = limitsWithDefaults(service.Limits{MaxTagsPerDomain: 2, History: history.Limits{MaxEvents: 10}})
	if got.MaxTagsPerDomain != 2 || got.History.MaxEvents != 10 || got.History.MaxOpenTimers != service.DefaultLimits.History.MaxOpenTimers || got.MaxDomains != 100 {
		t.Errorf("partial limits = %+v", got)
	}
}
