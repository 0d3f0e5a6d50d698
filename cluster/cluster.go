// Package cluster connects the nodes of a cluster that share one store.
// Each node tells the others, through a swfd.Broadcaster, what its commits
// changed that they may act on: tasks they may hand out, tasks taken, runs
// closed or changed, timers and messages added, registry entries changed.
// It applies their news to its own task lists, run cache, timer and
// transfer loops and registry cache, and keeps track of which peers are
// alive, so that a broadcast task goes first to one node only. A node that
// has sent no news for a few seconds sends an empty message, a heartbeat,
// so that the others count it alive while it is idle.
//
// News may be lost: the store stays the record. A node reloads the pending
// tasks every few seconds (Node.Run), and at once when its subscription
// says it has just begun to receive again after a gap in which news was
// lost (swfd.ResumingBroadcaster), when it also tells the run store's
// listeners that news may have been lost (runs.Commit.Missed); its timer
// loop looks at the store at least every two seconds, and its caches check
// versions or expire.
//
// service.New chooses once, at construction, between a *Node (when a
// Broadcaster connects it to other nodes) and Alone (a single node), and
// configures the other parts from that one choice.
package cluster

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/internal/loop"
	"github.com/swfd/swfd/matching"
	"github.com/swfd/swfd/runs"
)

// Peers is what a node tells the other nodes sharing its store.
type Peers interface {
	// Shared reports whether other nodes share the store.
	Shared() bool
	// Committed is told of each commit made here, with what the task
	// lists did with it: the tasks queued (no poller here was waiting
	// for them) and the tasks taken off the lists.
	Committed(c runs.Commit, queued []swfd.Task, taken []TaskKey)
	// Taken says that a poller here took a task, before its start
	// commits.
	Taken(t swfd.Task)
	// Returned says that a task taken here was not started after all:
	// it is pending again.
	Returned(t swfd.Task)
	// RegistryChanged says that a domain or type was written here.
	RegistryChanged()
	// Run does the background work until ctx ends.
	Run(ctx context.Context)
}

// Alone is the Peers of a single node: nobody to tell.
type Alone struct{}

func (Alone) Shared() bool                                  { return false }
func (Alone) Committed(runs.Commit, []swfd.Task, []TaskKey) {}
func (Alone) Taken(swfd.Task)                               {}
func (Alone) Returned(swfd.Task)                            {}
func (Alone) RegistryChanged()                              {}
func (Alone) Run(context.Context)                           {}

// TaskLists are the task lists news acts on (a *matching.Matcher).
type TaskLists interface {
	Remove(runID string, scheduledEventID int64) (queued bool)
	RemoveRun(runID string)
	AddRemote(t swfd.Task)
	Queued(runID string, scheduledEventID int64) bool
	// Own lists up to limit of the tasks this node scheduled that still
	// wait here, the latest first.
	Own(limit int) []swfd.Task
	PolledWithin(k matching.ListKey, d time.Duration) bool
}

// Runs is the run store news acts on (a *runs.Store).
type Runs interface {
	// Evict drops a run another node changed from the cache.
	Evict(runID string)
	// RemoteChanged tells listeners of runs another node changed.
	RemoteChanged(changes []runs.Change)
	// RemoteMissed tells them that news of runs other nodes changed may
	// have been lost (runs.Commit.Missed).
	RemoteMissed()
}

// Timers is the timer loop news acts on (a *timers.Loop).
type Timers interface {
	Wake()
	WakeFor(due time.Time)
}

// Options configure a Node.
type Options struct {
	Broadcaster swfd.Broadcaster
	Store       interface {
		PendingTasks(ctx context.Context) ([]swfd.Task, error)
	}
	Tasks     TaskLists
	Runs      Runs
	Timers    Timers
	Transfers interface{ Wake() }
	Registry  interface{ Clear() }
	Log       *slog.Logger
	// NewsSent and NewsReceived, if set, are told of each news message
	// published, and of each received from another node with the time
	// it was sent by that node's clock (zero if it does not say): for
	// metrics.
	NewsSent     func()
	NewsReceived func(sent time.Time)
}

// Node is a node of a cluster.
type Node struct {
	bcast swfd.Broadcaster
	store interface {
		PendingTasks(context.Context) ([]swfd.Task, error)
	}
	tasks     TaskLists
	runs      Runs
	timers    Timers
	transfers interface{ Wake() }
	registry  interface{ Clear() }
	log       *slog.Logger

	id string
	// ownNews is how this node's published news begins.
	ownNews []byte
	// afterFunc is time.AfterFunc, or a test's stand-in.
	afterFunc func(time.Duration, func()) *time.Timer
	newsq     chan news // to publishLoop
	peers     peers     // the other nodes, as their news shows them
	// heartbeat is how long the node may send nothing before it sends a
	// heartbeat (heartbeatEvery; tests shorten it); lastSent is when it
	// last published (Unix ns).
	heartbeat time.Duration
	lastSent  atomic.Int64
	// resync is how often the node reloads the pending tasks
	// (resyncEvery; tests lengthen it), and gap asks resyncLoop for a
	// reload at once (missedNews).
	resync time.Duration
	gap    chan struct{}

	newsSent     func()
	newsReceived func(time.Time)
}

var _ Peers = (*Node)(nil)

// New returns a Node; Run runs its background work.
func New(opts Options) *Node {
	n := &Node{
		bcast: opts.Broadcaster, store: opts.Store, tasks: opts.Tasks, runs: opts.Runs,
		timers: opts.Timers, transfers: opts.Transfers, registry: opts.Registry, log: opts.Log,
		id: runs.NewRunID(), afterFunc: time.AfterFunc, newsq: make(chan news, 1024), heartbeat: heartbeatEvery,
		resync: resyncEvery, gap: make(chan struct{}, 1),
		newsSent: opts.NewsSent, newsReceived: opts.NewsReceived,
	}
	if n.log == nil {
		n.log = slog.New(slog.DiscardHandler)
	}
	id, _ := json.Marshal(n.id)
	n.ownNews = append([]byte(`{"n":`), id...)
	return n
}

// Shared is true: other nodes share the store.
func (n *Node) Shared() bool { return true }

// LiveNodes counts the nodes of the cluster heard from within the last
// ten seconds (news or a heartbeat), this one included.
func (n *Node) LiveNodes() int { return 1 + n.peers.live() }

// Run sends and receives news until ctx ends, sends a heartbeat when it has
// sent nothing for a few seconds, and reloads the pending tasks every few
// seconds in case news was missed, and at once after a gap in the news. A
// loop that panics is logged with its stack and started again. When ctx ends, Run hands over before it
// returns (see handOver): the node is stopping, its calls answered.
func (n *Node) Run(ctx context.Context) {
	loops := map[string]func(context.Context){
		"cluster subscription": n.subscribeLoop,
		"cluster resync":       n.resyncLoop,
		"cluster publisher":    n.publishLoop,
		"cluster heartbeat":    n.heartbeatLoop,
	}
	var wg sync.WaitGroup
	for name, fn := range loops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			loop.Keep(ctx, n.log, name, fn)
		}()
	}
	wg.Wait()
	n.handOver()
}
