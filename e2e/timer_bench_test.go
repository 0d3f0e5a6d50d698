package e2e

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"

	"github.com/swfd/swfd/internal/swfdtest"
)

// BenchmarkTimerPunctuality starts 200 one-second timers under light load
// and reports how late each fired: TimerFired's timestamp minus
// TimerStarted's, minus the second.
//
//	go test -run '^$' -bench TimerPunctuality -benchtime 1x ./e2e/
func BenchmarkTimerPunctuality(b *testing.B) {
	h := newWFHarness(b, swfdtest.Options{})
	const n = 200
	runs := make([]string, n)
	for i := range runs {
		runs[i] = h.start(fmt.Sprint("t", i))
	}
	for range runs {
		d := h.mustDecision("deciders")
		h.decide(d.TaskToken, types.Decision{DecisionType: types.DecisionTypeStartTimer, StartTimerDecisionAttributes: &types.StartTimerDecisionAttributes{TimerId: aws.String("t"), StartToFireTimeout: aws.String("1")}})
		time.Sleep(5 * time.Millisecond) // spread the due times
	}
	time.Sleep(2 * time.Second)
	var lags []time.Duration
	for i, r := range runs {
		evs := h.history(fmt.Sprint("t", i), r)
		started, fired := findEvent(evs, types.EventTypeTimerStarted), findEvent(evs, types.EventTypeTimerFired)
		if started == nil || fired == nil {
			b.Fatalf("t%d: timer did not fire", i)
		}
		lags = append(lags, fired.EventTimestamp.Sub(*started.EventTimestamp)-time.Second)
	}
	sort.Slice(lags, func(i, j int) bool { return lags[i] < lags[j] })
	b.ReportMetric(float64(lags[n/2].Microseconds())/1000, "lag-p50-ms")
	b.ReportMetric(float64(lags[n*99/100].Microseconds())/1000, "lag-p99-ms")
	b.ReportMetric(float64(lags[n-1].Microseconds())/1000, "lag-max-ms")
}
