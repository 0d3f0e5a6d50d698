package service

import (
	"bytes"
	"context"
	"encoding/json"
	"hash/fnv"
	"strconv"
	"sync"
	"time"

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
	Closed    []string    `json:"c,omitempty"`  // runs whose tasks are all gone
	Timers    bool        `json:"tm,omitempty"` // from nodes before TimerDue: look at the timers
	TimerDue  int64       `json:"td,omitempty"` // the earliest timer added (Unix ms)
	Transfers bool        `json:"tr,omitempty"`
	Registry  bool        `json:"rg,omitempty"` // a domain or type changed
}

type taskKey struct {
	RunID string `json:"r"`
	Sched int64  `json:"s"`
}

// publish tells the other nodes what a commit changed. The news goes to
// publishLoop, which sends what has gathered as one message: under load one
// notification carries the news of many commits, instead of costing the
// database a transaction each. Failures are only logged: other nodes find
// the work anyway when they next look at the store.
func (s *Service) publish(ctx context.Context, n news) {
	if s.bcast == nil {
		return
	}
	select {
	case s.newsq <- n:
	default:
		s.send(ctx, n) // publishLoop is not running or far behind
	}
}

// publishLoop sends the news of commits, merging what arrives within a
// short while: newsLinger when the news may wake a poller elsewhere,
// newsLingerQuiet when it only keeps the other nodes' views current.
func (s *Service) publishLoop(ctx context.Context) {
	for {
		var n news
		select {
		case n = <-s.newsq:
		case <-ctx.Done():
			return
		}
		linger := newsLingerQuiet
		if n.urgent() {
			linger = newsLinger
		}
		due := time.Now().Add(linger)
		timer := time.NewTimer(linger)
	gather:
		for {
			select {
			case m := <-s.newsq:
				n.merge(m)
				if m.urgent() && time.Until(due) > newsLinger {
					due = time.Now().Add(newsLinger)
					timer.Reset(newsLinger)
				}
			case <-timer.C:
				break gather
			case <-ctx.Done():
				timer.Stop()
				return
			}
		}
		s.send(ctx, n)
	}
}

// urgent reports whether news may let another node do something now: hand
// a task to a waiting poller, or stop trusting a changed registry entry.
// The rest (tasks taken, runs closed, timers, messages) only saves the
// other nodes work they would otherwise find out is not needed.
func (n news) urgent() bool { return len(n.Tasks) > 0 || n.Registry }

// merge adds m's news to n's.
func (n *news) merge(m news) {
	n.Tasks = append(n.Tasks, m.Tasks...)
	n.Done = append(n.Done, m.Done...)
	n.Closed = append(n.Closed, m.Closed...)
	n.Timers = n.Timers || m.Timers
	if m.TimerDue != 0 && (n.TimerDue == 0 || m.TimerDue < n.TimerDue) {
		n.TimerDue = m.TimerDue
	}
	n.Transfers = n.Transfers || m.Transfers
	n.Registry = n.Registry || m.Registry
}

// send publishes news, in parts when it is too large for one message.
func (s *Service) send(ctx context.Context, n news) {
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

// How long publishLoop gathers news before sending it: under load one
// notification then carries the news of several commits. Every notification
// costs the database a transaction and wakes every node's listener.
const (
	newsLinger      = 3 * time.Millisecond  // news that may wake a poller
	newsLingerQuiet = 15 * time.Millisecond // other news
)

// maxNewsBytes bounds one published message.
const maxNewsBytes = 7000

// receive applies news from another node to this node's task lists and
// loops.
func (s *Service) receive(msg []byte) {
	// The database echoes this node's own news back: skip it unread
	// (send writes the node's id first).
	if bytes.HasPrefix(msg, s.ownNews) {
		return
	}
	var n news
	if json.Unmarshal(msg, &n) != nil || n.Node == s.nodeID {
		return
	}
	s.peers.seen(n.Node)
	// Runs another node changed: a step here would need to read them.
	for _, k := range n.Done {
		s.peers.done(k)
		s.matcher.Remove(k.RunID, k.Sched)
		s.runs.evict(k.RunID)
	}
	for _, r := range n.Closed {
		s.matcher.RemoveRun(r)
		s.runs.evict(r)
	}
	var later []swfd.Task
	for _, t := range n.Tasks {
		s.runs.evict(t.RunID)
		if s.peers.first(s.nodeID, n.Node, t) {
			s.matcher.AddRemote(t)
		} else {
			later = append(later, t)
		}
	}
	if len(later) > 0 {
		// Another node has first call on these: offer them here only
		// if they are still pending a moment later.
		time.AfterFunc(secondOfferDelay, func() {
			for _, t := range later {
				if !s.peers.isDone(taskKey{t.RunID, t.ScheduledEventID}) {
					s.matcher.AddRemote(t)
				}
			}
		})
	}
	// Only a timer due before the timer loop means to wake concerns it:
	// most timers (timeouts) are minutes away.
	if n.Timers || n.TimerDue != 0 && s.timerDueBefore(time.UnixMilli(n.TimerDue)) {
		poke(s.timerWake)
	}
	if n.Transfers {
		poke(s.transferWake)
	}
	if n.Registry {
		s.registry.clear()
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
		out[0].Timers, out[0].TimerDue, out[0].Transfers, out[0].Registry = n.Timers, n.TimerDue, n.Transfers, n.Registry
	}
	return out
}

// secondOfferDelay is how long the nodes that do not have first call on a
// broadcast task wait before offering it to their own pollers.
const secondOfferDelay = 20 * time.Millisecond

// peerTTL is how long a node counts as alive after its last news.
const peerTTL = 10 * time.Second

// peers is what a node knows of the others from their news: who is alive
// and which tasks were taken lately. A broadcast task goes at once to the
// pollers of one node only, chosen by hashing the task with each live
// node's id (the node that scheduled it, which had no poller waiting, is
// left out); the others offer it a moment later if it is still pending.
// Without that every node with a poller waiting would hand the task out at
// the same instant, and all but one would pay a read and a failed commit.
type peers struct {
	mu    sync.Mutex
	alive map[string]time.Time
	// taken holds the tasks taken lately, and takenBefore those of the
	// span before: every takenSpan the older set is dropped whole, so a
	// task is remembered for one to two spans at a constant cost per task.
	taken, takenBefore map[taskKey]struct{}
	rotated            time.Time
	now                func() time.Time // nil: time.Now
}

func (p *peers) clock() time.Time {
	if p.now != nil {
		return p.now()
	}
	return time.Now()
}

// takenSpan is how long a node remembers, at least, that a task was taken.
const takenSpan = 30 * time.Second

func (p *peers) seen(node string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.alive == nil {
		p.alive = map[string]time.Time{}
	}
	p.alive[node] = time.Now()
}

func (p *peers) done(k taskKey) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock()
	if p.taken == nil || now.Sub(p.rotated) >= takenSpan {
		p.takenBefore, p.taken, p.rotated = p.taken, map[taskKey]struct{}{}, now
	}
	p.taken[k] = struct{}{}
}

func (p *peers) isDone(k taskKey) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, now := p.taken[k]
	_, before := p.takenBefore[k]
	return now || before
}

// first reports whether node self has first call on task t, broadcast by
// node from.
func (p *peers) first(self, from string, t swfd.Task) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	best, bestHash := "", uint64(0)
	consider := func(node string) {
		h := fnv.New64a()
		h.Write([]byte(node))
		h.Write([]byte(t.RunID))
		h.Write([]byte(strconv.FormatInt(t.ScheduledEventID, 10)))
		if v := h.Sum64(); best == "" || v < bestHash {
			best, bestHash = node, v
		}
	}
	consider(self)
	for node, at := range p.alive {
		if node != from && node != self && now.Sub(at) < peerTTL {
			consider(node)
		}
	}
	return best == self
}
