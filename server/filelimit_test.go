package server

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/swfd/swfd/internal/connlimit"
	"github.com/swfd/swfd/internal/logbuf"
)

// A --max-connections the open-file limit cannot hold is warned of at
// start, with both numbers and what to do. The issue: it was taken
// silently, and at load accept failed ("accept4: too many open files;
// retrying in 1s") while calls waited half a minute.
func TestMaxConnectionsAboveFileLimitWarned(t *testing.T) {
	files := connlimit.FileLimit()
	if files == 0 || files > 1<<30 {
		t.Skipf("open-file limit %d", files)
	}
	for _, c := range []struct {
		max  int
		warn bool
	}{{0, false}, {int(files) + 1000, true}} {
		var buf logbuf.Buffer
		s, err := Open(context.Background(), Config{DB: MemoryDB, MaxConnections: c.max, Logger: slog.New(slog.NewTextHandler(&buf, nil))})
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		warned := strings.Contains(buf.String(), `level=WARN msg="--max-connections is more than the open-file limit allows`)
		if warned != c.warn {
			t.Errorf("--max-connections %d with an open-file limit of %d: warned %v, want %v:\n%s", c.max, files, warned, c.warn, buf.String())
		}
		if c.warn && !strings.Contains(buf.String(), "open_file_limit=") {
			t.Errorf("the warning does not say the limit:\n%s", buf.String())
		}
	}
}

// --metrics-addr's connections take open files too: a --max-connections
// that fits the limit alone but not with --metrics-max-connections beside
// it is warned of, naming both caps. The issue: only --max-connections was
// counted, so such a pair started without a word.
func TestMetricsConnectionsCountTowardFileLimit(t *testing.T) {
	files := connlimit.FileLimit()
	if files < connlimit.OtherFiles+100 || files > 1<<30 {
		t.Skipf("open-file limit %d", files)
	}
	api := int(files) - connlimit.OtherFiles - 10 // fits alone, with 10 files to spare
	for _, c := range []struct {
		metricsAddr string
		metricsMax  int
		warn        bool
	}{{"", 0, false}, {"127.0.0.1:0", 10, false}, {"127.0.0.1:0", 11, true}, {"127.0.0.1:0", DefaultMetricsMaxConnections, true}} {
		var buf logbuf.Buffer
		s, err := Open(context.Background(), Config{DB: MemoryDB, MaxConnections: api, MetricsAddr: c.metricsAddr, MetricsMaxConnections: c.metricsMax,
			Logger: slog.New(slog.NewTextHandler(&buf, nil))})
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		warned := strings.Contains(buf.String(), "level=WARN") && strings.Contains(buf.String(), "open-file limit")
		if warned != c.warn {
			t.Errorf("--max-connections %d, --metrics-addr %q with --metrics-max-connections %d, open-file limit %d: warned %v, want %v:\n%s",
				api, c.metricsAddr, c.metricsMax, files, warned, c.warn, buf.String())
		}
		if c.warn && !strings.Contains(buf.String(), "metrics_max_connections=") {
			t.Errorf("the warning does not name --metrics-max-connections' cap:\n%s", buf.String())
		}
	}
}

// The connections the process holds on addresses of its own (cmd/swfd's
// --pprof-addr) take open files too: they count toward the warning.
func TestOtherConnectionsCountTowardFileLimit(t *testing.T) {
	files := connlimit.FileLimit()
	if files < connlimit.OtherFiles+100 || files > 1<<30 {
		t.Skipf("open-file limit %d", files)
	}
	api := int(files) - connlimit.OtherFiles - 10 // fits alone, with 10 files to spare
	for _, c := range []struct {
		metricsAddr string
		metricsMax  int
		other       int
		warn        bool
	}{{"", 0, 10, false}, {"", 0, 11, true}, {"127.0.0.1:0", 5, 5, false}, {"127.0.0.1:0", 5, 6, true}} {
		var buf logbuf.Buffer
		s, err := Open(context.Background(), Config{DB: MemoryDB, MaxConnections: api, MetricsAddr: c.metricsAddr, MetricsMaxConnections: c.metricsMax,
			OtherConnections: c.other, Logger: slog.New(slog.NewTextHandler(&buf, nil))})
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		warned := strings.Contains(buf.String(), "level=WARN") && strings.Contains(buf.String(), "open-file limit")
		if warned != c.warn {
			t.Errorf("--max-connections %d, --metrics-addr %q with --metrics-max-connections %d, %d other connections, open-file limit %d: warned %v, want %v:\n%s",
				api, c.metricsAddr, c.metricsMax, c.other, files, warned, c.warn, buf.String())
		}
		if c.warn && !strings.Contains(buf.String(), fmt.Sprintf("other_connections=%d", c.other)) {
			t.Errorf("the warning does not name the other connections:\n%s", buf.String())
		}
	}
}
