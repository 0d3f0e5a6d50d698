package cluster

import (
	"hash/fnv"
	"maps"
	"strconv"
	"sync"
	"time"

	"github.com/swfd/swfd"
)

// peerTTL is how long a node counts as alive after its last news or
// heartbeat.
const peerTTL = 10 * time.Second

// peers is what a node knows of the others from their news: who is alive
// and which tasks were taken lately. A broadcast task goes at once to the
// pollers of one node only, chosen by hashing the task with each live
// node's id (the node that scheduled it, which had no poller waiting, is
// left out); the others offer it a moment later if it is still pending.
// Without that every node with a poller waiting would hand the task out at
// the same instant, and all but one would pay a read and a failed commit.
type peers struct {
	mu sync.Mutex
	// alive is when each node was last heard from (news or heartbeat),
	// working when it last sent news of its work. A node is forgotten
	// once it has not been heard from for peerTTL (see seen): each start
	// of swfd is a node of its own, and the nodes restarted over months
	// would otherwise pile up, every task offered looking at them all.
	alive, working map[string]time.Time
	pruned         time.Time // when nodes were last forgotten
	// taken holds the tasks taken lately, and takenBefore those of the
	// span before: every takenSpan the older set is dropped whole, so a
	// task is remembered for one to two spans at a constant cost per task.
	taken, takenBefore map[TaskKey]struct{}
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

// seen records that node was heard from now; work is true when it sent
// news of its work, false for a heartbeat.
func (p *peers) seen(node string, work bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.alive == nil {
		p.alive, p.working = map[string]time.Time{}, map[string]time.Time{}
	}
	now := p.clock()
	p.alive[node] = now
	if work {
		p.working[node] = now
	}
	if now.Sub(p.pruned) >= peerTTL {
		// At most once every peerTTL: the cost of a look at every node
		// is spread over the news of that time.
		for _, m := range []map[string]time.Time{p.alive, p.working} {
			maps.DeleteFunc(m, func(_ string, at time.Time) bool { return now.Sub(at) >= peerTTL })
		}
		p.pruned = now
	}
}

func (p *peers) done(k TaskKey) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock()
	if p.taken == nil || now.Sub(p.rotated) >= takenSpan {
		p.takenBefore, p.taken, p.rotated = p.taken, map[TaskKey]struct{}{}, now
	}
	p.taken[k] = struct{}{}
}

// pending forgets that a task was taken: news offers it again, as a
// task whose taker gave it back (its start failed) is pending once more.
func (p *peers) pending(k TaskKey) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.taken, k)
	delete(p.takenBefore, k)
}

func (p *peers) isDone(k TaskKey) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, now := p.taken[k]
	_, before := p.takenBefore[k]
	return now || before
}

// live counts the other nodes heard from within peerTTL.
func (p *peers) live() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	now, n := p.clock(), 0
	for _, at := range p.alive {
		if now.Sub(at) < peerTTL {
			n++
		}
	}
	return n
}

// first reports whether node self has first call on task t, broadcast by
// node from. Only the nodes that sent news of their work lately are
// candidates, not those heard from only by their heartbeats: such a node
// has handed out no task lately (a task started is news), likely has no
// pollers, and first call there would leave the task waiting
// secondOfferDelay for the nodes that have them.
func (p *peers) first(self, from string, t swfd.Task) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock()
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
	for node, at := range p.working {
		if node != from && node != self && now.Sub(at) < peerTTL {
			consider(node)
		}
	}
	return best == self
}
