// Package promtest reads Prometheus metrics for tests: it scrapes an
// endpoint in the text format and sums the series of a metric whose labels
// match.
package promtest

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Families are the metrics of one scrape, by name.
type Families map[string]*dto.MetricFamily

// Scrape reads url (a /metrics endpoint) with client (nil: the default).
func Scrape(client *http.Client, url string) (Families, error) {
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("GET %s: %s: %s", url, resp.Status, b)
	}
	return Parse(resp.Body)
}

// Parse reads metrics in the text format.
func Parse(r io.Reader) (Families, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	return Families(fams), err
}

// Value sums the series of a metric whose labels include every pair given
// ("name", "value", …): a counter's or gauge's value; for a histogram,
// name may end in _count or _sum. found is false when no series matches.
func (f Families) Value(name string, labels ...string) (v float64, found bool) {
	part := ""
	fam := f[name]
	if fam == nil {
		for _, suffix := range []string{"_count", "_sum"} {
			if b, ok := strings.CutSuffix(name, suffix); ok && f[b] != nil {
				part, fam = suffix, f[b]
			}
		}
	}
	if fam == nil {
		return 0, false
	}
	for _, m := range fam.Metric {
		if !matches(m, labels) {
			continue
		}
		found = true
		switch {
		case m.Counter != nil:
			v += m.Counter.GetValue()
		case m.Gauge != nil:
			v += m.Gauge.GetValue()
		case m.Untyped != nil:
			v += m.Untyped.GetValue()
		case m.Histogram != nil && part == "_count":
			v += float64(m.Histogram.GetSampleCount())
		case m.Histogram != nil && part == "_sum":
			v += m.Histogram.GetSampleSum()
		}
	}
	return v, found
}

func matches(m *dto.Metric, labels []string) bool {
	for i := 0; i+1 < len(labels); i += 2 {
		ok := false
		for _, lp := range m.Label {
			if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}
