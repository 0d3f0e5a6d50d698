package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/matching"
	"github.com/swfd/swfd/runs"
)

// Committed tells the other nodes what a commit here changed (a commit
// another node made, learnt from its news, is not told again): the tasks
// queued with no poller here waiting (see Scheduled), the tasks taken off
// the lists, the runs started, closed and changed, the earliest timer and
// whether messages were added.
func (n *Node) Committed(c runs.Commit, queued []swfd.Task, taken []TaskKey) {
	if c.Remote {
		return
	}
	nw := news{Done: taken, Transfers: c.Transfers}
	for _, t := range queued {
		if n.shareNow(t) {
			nw.Tasks = append(nw.Tasks, t)
		}
	}
	for _, ch := range c.Runs {
		if ch.Closed {
			nw.Closed = append(nw.Closed, ch.RunID)
		}
		if ch.Created {
			nw.Started = append(nw.Started, ch.RunID)
		}
		nw.changed(ch.Domain, ch.RunID)
	}
	if due := c.EarliestTimer(); !due.IsZero() {
		nw.TimerDue = max(due.UnixMilli(), 1)
	}
	n.publish(nw)
}

// shareNow reports whether the other nodes should hear now of a task queued
// here with no poller waiting for it.
//
// A task scheduled while every poller of its list here is busy (one polled
// within pollerBusyFor) is kept for them for shareDelay before the other
// nodes hear of it: under load a poller here is back within a few
// milliseconds, and a task started by the node that scheduled it needs no
// read of its run, while another node's poller would read the run (and its
// history), and often race a poller here that came back meanwhile. A task
// of a list nobody here polls is news at once. (A task a poller here was
// waiting for is never news: offered to every node, it would set pollers
// on each of them racing to start it.)
func (n *Node) shareNow(t swfd.Task) bool {
	if !n.tasks.PolledWithin(matching.KeyOf(t), pollerBusyFor) {
		return true
	}
	n.afterFunc(shareDelay, func() {
		if n.tasks.Queued(t.RunID, t.ScheduledEventID) {
			n.publish(news{Tasks: []swfd.Task{t}})
		}
	})
	return false
}

// How long a task waits for this node's busy pollers before the others
// hear of it (see shareNow).
const (
	shareDelay    = 10 * time.Millisecond
	pollerBusyFor = time.Second
)

// Taken tells the other nodes that a poller here took a task: they may
// hold it too, and their pollers freed meanwhile would race this one for
// it if they heard only once its start has committed.
func (n *Node) Taken(t swfd.Task) {
	n.publish(news{Done: []TaskKey{{t.RunID, t.ScheduledEventID}}})
}

// Returned tells the other nodes that a task taken here is pending again.
func (n *Node) Returned(t swfd.Task) {
	n.publish(news{Tasks: []swfd.Task{t}})
}

// RegistryChanged tells the other nodes to stop trusting their cached
// domains and types.
func (n *Node) RegistryChanged() {
	n.publish(news{Registry: true})
}

// publish tells the other nodes some news. It goes to publishLoop, which
// sends what has gathered as one message: under load one notification
// carries the news of many commits, instead of costing the database a
// transaction each. Failures are only logged: other nodes find the work
// anyway when they next look at the store.
func (n *Node) publish(nw news) {
	if nw.empty() {
		return
	}
	select {
	case n.newsq <- nw:
	default:
		n.send(nw) // publishLoop is not running or far behind
	}
}

// publishLoop sends the news of commits, merging what arrives within a
// short while: newsLinger when the news may wake a poller elsewhere,
// newsLingerQuiet when it only keeps the other nodes' views current.
func (n *Node) publishLoop(ctx context.Context) {
	for {
		var nw news
		select {
		case nw = <-n.newsq:
		case <-ctx.Done():
			return
		}
		linger := newsLingerQuiet
		if nw.urgent() {
			linger = newsLinger
		}
		due := time.Now().Add(linger)
		timer := time.NewTimer(linger)
	gather:
		for {
			select {
			case m := <-n.newsq:
				nw.merge(m)
				if m.urgent() && time.Until(due) > newsLinger {
					due = time.Now().Add(newsLinger)
					timer.Reset(newsLinger)
				}
			case <-timer.C:
				break gather
			case <-ctx.Done():
				// Not dropped: handOver sends it.
				timer.Stop()
				n.publish(nw)
				return
			}
		}
		n.send(nw)
	}
}

// handOverWait bounds how long a stopping node spends telling the others
// of the tasks it leaves (handOver), and handOverTasks how many it tells
// of (the latest queued; 128 messages): in a backlog of thousands the
// older tasks are news already, or the others' next resync finds them.
const (
	handOverWait  = 5 * time.Second
	handOverTasks = 1024
)

// handOver tells the other nodes, as the node stops, of the tasks it
// scheduled that still wait on its lists (the latest handOverTasks), and sends the news its loops had
// not sent yet. Some of those tasks are news to nobody: a task handed to a
// poller waiting here is not shared, and one that goes back to the list as
// the poll is ended by the shutdown stays here; a task queued while this
// node's pollers were busy is shared only shareDelay later, which a node
// that stops sooner never does. Without this the others found such tasks
// only at their next resync (resyncEvery), and their pollers waited for
// them meanwhile. Run calls it once its loops have ended, before the store
// is closed.
func (n *Node) handOver() {
	var nw news
	for more := true; more; {
		select {
		case m := <-n.newsq:
			nw.merge(m)
		default:
			more = false
		}
	}
	nw.Tasks = append(nw.Tasks, n.tasks.Own(handOverTasks)...)
	if nw.empty() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), handOverWait)
	defer cancel()
	n.sendCtx(ctx, nw)
}

// send publishes news, in parts when it is too large for one message.
func (n *Node) send(nw news) { n.sendCtx(context.Background(), nw) }

// sendCtx is send, each message published with ctx.
func (n *Node) sendCtx(ctx context.Context, nw news) {
	nw.Node = n.id
	nw.At = time.Now().UnixMicro()
	// A run changed by several commits gathered here is news once.
	for domain, ids := range nw.Changed {
		slices.Sort(ids)
		nw.Changed[domain] = slices.Compact(ids)
	}
	b, err := json.Marshal(nw)
	if err != nil {
		return
	}
	msgs := [][]byte{b}
	if len(b) > n.bcast.MaxMessage() && nw.entries() > 1 {
		// The broadcaster's messages are small (PostgreSQL's: 8000
		// bytes): send the news in parts of a few entries each.
		msgs = msgs[:0]
		for _, part := range nw.parts() {
			part.Node, part.At = n.id, nw.At
			pb, _ := json.Marshal(part)
			msgs = append(msgs, pb)
		}
	}
	for _, m := range msgs {
		// Sent even when the commit's caller has gone: the news is of
		// work already committed.
		if err := n.bcast.Publish(ctx, m); err != nil {
			// The other nodes find the work at their next resync.
			n.log.Warn("publishing to the cluster failed", "err", err)
			continue
		}
		n.lastSent.Store(time.Now().UnixNano())
		if n.newsSent != nil {
			n.newsSent()
		}
	}
}

// heartbeatEvery is how long a node may send nothing before it sends a
// heartbeat: well within peerTTL, so that an idle node stays counted alive
// through a lost or late message. A heartbeat is news with nothing to
// tell, a few dozen bytes; a busy node sends none.
const heartbeatEvery = 3 * time.Second

// heartbeatLoop announces the node at once, then sends a heartbeat each
// time it has published nothing for n.heartbeat, until ctx ends.
func (n *Node) heartbeatLoop(ctx context.Context) {
	n.send(news{})
	t := time.NewTicker(n.heartbeat / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if time.Since(time.Unix(0, n.lastSent.Load())) >= n.heartbeat {
			n.send(news{})
		}
	}
}

// How long publishLoop gathers news before sending it: under load one
// notification then carries the news of several commits. Every notification
// costs the database a transaction and wakes every node's listener.
const (
	newsLinger      = 3 * time.Millisecond  // news that may wake a poller
	newsLingerQuiet = 15 * time.Millisecond // other news
)

// receive applies news from another node to this node's task lists, run
// cache, loops and registry cache.
func (n *Node) receive(msg []byte) {
	// The database echoes this node's own news back: skip it unread
	// (send writes the node's id first).
	if bytes.HasPrefix(msg, n.ownNews) {
		return
	}
	var nw news
	if json.Unmarshal(msg, &nw) != nil || nw.Node == n.id {
		return
	}
	// A heartbeat (news with nothing to tell) says only that its node is
	// alive; see peers.first for what other news says.
	n.peers.seen(nw.Node, !nw.empty())
	if n.newsReceived != nil {
		var sent time.Time
		if nw.At > 0 {
			sent = time.UnixMicro(nw.At)
		}
		n.newsReceived(sent)
	}
	// Runs another node changed: a step here would need to read them.
	for _, k := range nw.Done {
		n.peers.done(k)
		n.tasks.Remove(k.RunID, k.Sched)
		n.runs.Evict(k.RunID)
	}
	for _, r := range nw.Closed {
		n.tasks.RemoveRun(r)
		n.runs.Evict(r)
	}
	var later []swfd.Task
	for _, t := range nw.Tasks {
		// A task offered is pending, though it may have been taken
		// before: its taker gave it back (Returned) when its start
		// failed. Were it still remembered as taken, only the node
		// with first call would offer it again, and the others' pollers
		// would wait for their next resync. (An offer that comes after
		// the task was taken for good costs a poller a read of the run,
		// which shows the task started.)
		n.peers.pending(TaskKey{t.RunID, t.ScheduledEventID})
		n.runs.Evict(t.RunID)
		if n.peers.first(n.id, nw.Node, t) {
			n.tasks.AddRemote(t)
		} else {
			later = append(later, t)
		}
	}
	if len(later) > 0 {
		// Another node has first call on these: offer them here only
		// if they are still pending a moment later.
		time.AfterFunc(secondOfferDelay, func() {
			for _, t := range later {
				if !n.peers.isDone(TaskKey{t.RunID, t.ScheduledEventID}) {
					n.tasks.AddRemote(t)
				}
			}
		})
	}
	// Only a timer due before the timer loop means to wake concerns it:
	// most timers (timeouts) are minutes away.
	if nw.Timers {
		n.timers.Wake()
	} else if nw.TimerDue != 0 {
		n.timers.WakeFor(time.UnixMilli(nw.TimerDue))
	}
	if nw.Transfers {
		n.transfers.Wake()
	}
	if nw.Registry {
		n.registry.Clear()
	}
	if len(nw.Changed) > 0 {
		// Whether a run started or closed comes with its domain in the
		// same message (see parts).
		started, closed := setOf(nw.Started), setOf(nw.Closed)
		var changes []runs.Change
		for domain, ids := range nw.Changed {
			for _, id := range ids {
				changes = append(changes, runs.Change{Domain: domain, RunID: id, Created: started[id], Closed: closed[id]})
			}
		}
		n.runs.RemoteChanged(changes)
	}
}

// subscribeLoop applies news from the other nodes until ctx ends,
// subscribing again after failures. A broadcaster that says when its
// subscription begins to receive (swfd.ResumingBroadcaster: PostgreSQL's
// listener, which reconnects by itself after its connection is lost) has
// the node read what the news missed meanwhile would have told it
// (missedNews).
func (n *Node) subscribeLoop(ctx context.Context) {
	rb, resumes := n.bcast.(swfd.ResumingBroadcaster)
	for ctx.Err() == nil {
		var err error
		if resumes {
			err = rb.SubscribeResumed(ctx, n.receive, n.missedNews)
		} else {
			err = n.bcast.Subscribe(ctx, n.receive)
		}
		if err != nil && ctx.Err() == nil {
			n.log.Warn("cluster subscription failed; retrying", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

// missedNews says that the subscription has just begun to receive (again):
// the news published before may have been lost to this node (its listener's
// connection was lost, for as long as it took to connect again; or, the
// first time, since the node loaded its task lists). resyncLoop reads the
// store at once, rather than at its next period: before, a poller here
// waited up to resyncEvery for a task another node had scheduled in that
// gap. The run store's listeners are told too (runs.Commit.Missed): the
// console's live pages, which hear of other nodes' commits only through
// this news, read what they show again.
func (n *Node) missedNews() {
	n.runs.RemoteMissed()
	select {
	case n.gap <- struct{}{}:
	default: // a read is due already
	}
}

// resyncEvery is how often a node reloads the pending tasks from the store,
// in case it missed news (it joined late, or a message was lost).
const resyncEvery = 5 * time.Second

// resyncLoop reloads the pending tasks every n.resync, and at once after a
// gap in the news (missedNews). After a gap it also has the timer and
// transfer loops look at the store and the registry cache dropped, as news
// of earlier timers, messages and registry changes would have done; the
// runs changed meanwhile need nothing, as a step on a cached run checks its
// version.
func (n *Node) resyncLoop(ctx context.Context) {
	t := time.NewTicker(n.resync)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-n.gap:
			n.timers.Wake()
			n.transfers.Wake()
			n.registry.Clear()
		}
		tasks, err := n.store.PendingTasks(ctx)
		if err != nil {
			n.log.Warn("reloading pending tasks", "err", err)
			continue
		}
		for _, tk := range tasks {
			// A task this node does not hold already is another node's
			// (adding one it holds does nothing): this node's own tasks
			// keep going first.
			n.tasks.AddRemote(tk)
		}
	}
}
