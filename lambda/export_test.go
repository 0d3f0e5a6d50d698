package lambda

import "time"

// SetRetryPace sets the pace of retryLater until the function it returns
// is called.
func SetRetryPace(first, max time.Duration) (restore func()) {
	f, m := firstRetry, maxRetry
	firstRetry, maxRetry = first, max
	return func() { firstRetry, maxRetry = f, m }
}
