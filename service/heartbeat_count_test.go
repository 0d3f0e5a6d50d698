package service_test

import "github.com/swfd/swfd"

// updateDetailBytes is the bytes of heartbeat details an update writes
// outside the run's state.
func updateDetailBytes(u swfd.Update) int64 {
	var n int64
	for _, hb := range u.Heartbeats {
		if hb.Details != nil {
			n += int64(len(*hb.Details))
		}
	}
	return n
}
