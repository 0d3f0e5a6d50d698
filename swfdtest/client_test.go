package swfdtest_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"

	"github.com/swfd/swfd/internal/sdkhttp"
	"github.com/swfd/swfd/swfdtest"
)

// A server's clients wait longer than its long polls, whatever poll
// timeout it has, so that a poll that finds no task comes back empty
// rather than failing with the client's timeout: shown here on the
// clients' settings for polls of minutes, and by a poll that waits its
// whole (short) timeout.
func TestClientOutwaitsThePollTimeout(t *testing.T) {
	timeout := func(c *swf.Client) time.Duration {
		t.Helper()
		hc, ok := c.Options().HTTPClient.(sdkhttp.Client)
		if !ok {
			t.Fatalf("the client's HTTP client is a %T", c.Options().HTTPClient)
		}
		return hc.Timeout
	}
	for _, poll := range []time.Duration{time.Second, 90 * time.Second, 2 * time.Minute, 10 * time.Minute} {
		srv := swfdtest.New(t, swfdtest.WithPollTimeout(poll))
		for name, c := range map[string]*swf.Client{"Client": srv.Client(), "ClientWithKey": srv.ClientWithKey("AKID", "secret")} {
			if got := timeout(c); got < poll+30*time.Second || got < swfdtest.DefaultClientTimeout {
				t.Errorf("with a poll timeout of %v, %s's HTTP timeout is %v: want the poll timeout and 30 s at least, and no less than %v",
					poll, name, got, swfdtest.DefaultClientTimeout)
			}
		}
		srv.Stop()
	}

	const poll = 300 * time.Millisecond
	srv := swfdtest.New(t, swfdtest.WithPollTimeout(poll))
	srv.RegisterDomain("shop")
	begun := time.Now()
	out, err := srv.Client().PollForDecisionTask(context.Background(), &swf.PollForDecisionTaskInput{
		Domain: aws.String("shop"), TaskList: &types.TaskList{Name: aws.String("deciders")}})
	if err != nil {
		t.Fatalf("an empty poll: %v", err)
	}
	if out.TaskToken != nil {
		t.Fatalf("an empty poll was handed a task: %+v", out)
	}
	if waited := time.Since(begun); waited < poll {
		t.Fatalf("an empty poll came back after %v, before the poll timeout of %v", waited, poll)
	}
}
