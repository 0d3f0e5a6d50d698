package service

import (
	"context"
	"encoding/json"

	"github.com/swfd/swfd"
)

// Broadcaster carries news between the nodes of a cluster that share one
// store: tasks made available or taken, timers and messages added. On a
// single node it is nil. Delivery may be lost or repeated: the store stays
// the record, news only saves waiting.
type Broadcaster interface {
	// Publish sends a message to every node, this one included or not.
	Publish(ctx context.Context, msg []byte) error
	// Subscribe calls fn for every message published, until ctx ends.
	Subscribe(ctx context.Context, fn func(msg []byte)) error
}

// news is what one commit tells the other nodes.
type news struct {
	Node      string      `json:"n"`
	Tasks     []swfd.Task `json:"t,omitempty"`
	Done      []taskKey   `json:"d,omitempty"`
	Closed    []string    `json:"c,omitempty"` // runs whose tasks are all gone
	Timers    bool        `json:"tm,omitempty"`
	Transfers bool        `json:"tr,omitempty"`
}

type taskKey struct {
	RunID string `json:"r"`
	Sched int64  `json:"s"`
}

// publish tells the other nodes what a commit changed. Failures are only
// logged: other nodes find the work anyway when they next look at the store.
func (s *Service) publish(ctx context.Context, n news) {
	if s.bcast == nil {
		return
	}
	n.Node = s.nodeID
	b, err := json.Marshal(n)
	if err != nil {
		return
	}
	if err := s.bcast.Publish(context.WithoutCancel(ctx), b); err != nil {
		s.log.Warn("publishing to the cluster failed", "err", err)
	}
}

// receive applies news from another node to this node's task lists and
// loops.
func (s *Service) receive(msg []byte) {
	var n news
	if json.Unmarshal(msg, &n) != nil || n.Node == s.nodeID {
		return
	}
	for _, k := range n.Done {
		s.matcher.Remove(k.RunID, k.Sched)
	}
	for _, r := range n.Closed {
		s.matcher.RemoveRun(r)
	}
	for _, t := range n.Tasks {
		s.matcher.Add(t)
	}
	if n.Timers {
		poke(s.timerWake)
	}
	if n.Transfers {
		poke(s.transferWake)
	}
}
