package service_test

import "github.com/swfd/swfd"

// updateDetailBytes is the bytes of heartbeat details an update writes
// outside the run's state.
func updateDetailBytes(u swfd.Update) int64 { return 0 }
