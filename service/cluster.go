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
	if len(b) > maxNewsBytes && len(n.Tasks)+len(n.Done)+len(n.Closed) > 1 {
		// Notification payloads are small (PostgreSQL: 8000 bytes): send
		// the news in parts of a few entries each.
		for _, part := range n.parts() {
			part.Node = s.nodeID
			pb, _ := json.Marshal(part)
			if err := s.bcast.Publish(context.WithoutCancel(ctx), pb); err != nil {
				// The other nodes find the work at their next resync.
				s.log.Warn("publishing to the cluster failed", "err", err)
			}
		}
		return
	}
	if err := s.bcast.Publish(context.WithoutCancel(ctx), b); err != nil {
		s.log.Warn("publishing to the cluster failed", "err", err)
	}
}

// maxNewsBytes bounds one published message.
const maxNewsBytes = 7000

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

// parts splits news into pieces that fit in a notification: tasks 8 at a
// time (a task's JSON is under 900 bytes: its names are at most 256
// characters), finished tasks and closed runs 64 at a time.
func (n news) parts() []news {
	var out []news
	for i := 0; i < len(n.Tasks); i += 8 {
		out = append(out, news{Tasks: n.Tasks[i:min(i+8, len(n.Tasks))]})
	}
	for i := 0; i < len(n.Done); i += 64 {
		out = append(out, news{Done: n.Done[i:min(i+64, len(n.Done))]})
	}
	for i := 0; i < len(n.Closed); i += 64 {
		out = append(out, news{Closed: n.Closed[i:min(i+64, len(n.Closed))]})
	}
	if len(out) > 0 {
		out[0].Timers, out[0].Transfers = n.Timers, n.Transfers
	}
	return out
}
