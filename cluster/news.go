package cluster

import (
	"slices"
	"time"

	"github.com/swfd/swfd"
)

// news is what one commit (or several, merged) tells the other nodes.
type news struct {
	Node      string      `json:"n"`
	At        int64       `json:"at,omitempty"` // when it was sent (Unix µs, the sender's clock)
	Tasks     []swfd.Task `json:"t,omitempty"`
	Done      []TaskKey   `json:"d,omitempty"`
	Closed    []string    `json:"c,omitempty"`  // runs closed, whose tasks are all gone
	Started   []string    `json:"st,omitempty"` // runs started
	Timers    bool        `json:"tm,omitempty"` // from nodes before TimerDue: look at the timers
	TimerDue  int64       `json:"td,omitempty"` // the earliest timer added (Unix ms)
	Transfers bool        `json:"tr,omitempty"`
	Registry  bool        `json:"rg,omitempty"` // a domain or type changed
	// Changed holds the runs changed, by domain.
	Changed map[string][]string `json:"ch,omitempty"`
}

// TaskKey names a task: its run and scheduled event.
type TaskKey struct {
	RunID string `json:"r"`
	Sched int64  `json:"s"`
}

// urgent reports whether news may let another node do something now: hand
// a task to a waiting poller, or stop trusting a changed registry entry.
// The rest (tasks taken, runs closed or changed, timers, messages) only
// saves the other nodes work they would otherwise find out is not needed,
// or keeps their listeners current.
func (nw news) urgent() bool { return len(nw.Tasks) > 0 || nw.Registry }

// empty reports whether news has nothing to tell.
func (nw news) empty() bool {
	return nw.entries() == 0 && !nw.Timers && nw.TimerDue == 0 && !nw.Transfers && !nw.Registry
}

// entries counts the list entries of news.
func (nw news) entries() int {
	n := len(nw.Tasks) + len(nw.Done) + len(nw.Closed) + len(nw.Started)
	for _, ids := range nw.Changed {
		n += len(ids)
	}
	return n
}

// merge adds m's news to nw's. Of a task both offered and taken, the
// later word stands: one taken after it was offered is taken, and one
// offered after it was taken (given back) is pending. The receivers apply
// a message's tasks taken before its tasks offered, whatever the order
// they were published in.
func (nw *news) merge(m news) {
	if len(m.Done) > 0 && len(nw.Tasks) > 0 {
		taken := make(map[TaskKey]bool, len(m.Done))
		for _, k := range m.Done {
			taken[k] = true
		}
		nw.Tasks = slices.DeleteFunc(nw.Tasks, func(t swfd.Task) bool { return taken[TaskKey{t.RunID, t.ScheduledEventID}] })
	}
	if len(m.Tasks) > 0 && len(nw.Done) > 0 {
		offered := make(map[TaskKey]bool, len(m.Tasks))
		for _, t := range m.Tasks {
			offered[TaskKey{t.RunID, t.ScheduledEventID}] = true
		}
		nw.Done = slices.DeleteFunc(nw.Done, func(k TaskKey) bool { return offered[k] })
	}
	nw.Tasks = append(nw.Tasks, m.Tasks...)
	nw.Done = append(nw.Done, m.Done...)
	nw.Closed = append(nw.Closed, m.Closed...)
	nw.Started = append(nw.Started, m.Started...)
	for domain, ids := range m.Changed {
		nw.changed(domain, ids...)
	}
	nw.Timers = nw.Timers || m.Timers
	if m.TimerDue != 0 && (nw.TimerDue == 0 || m.TimerDue < nw.TimerDue) {
		nw.TimerDue = m.TimerDue
	}
	nw.Transfers = nw.Transfers || m.Transfers
	nw.Registry = nw.Registry || m.Registry
}

// parts splits news into pieces that fit in a message of 8000 bytes: tasks
// 8 at a time (a task's JSON is under 900 bytes: its names are at most 256
// characters), finished tasks 64 at a time, and changed runs (of one
// domain) 32 at a time, each piece with those of its runs that were started
// or closed (a run id is 44 characters), so that a node reads whether a run
// of a domain started or closed from one message. Started and closed runs
// that are not among the changed ones follow, 64 at a time.
func (nw news) parts() []news {
	var out []news
	for i := 0; i < len(nw.Tasks); i += 8 {
		out = append(out, news{Tasks: nw.Tasks[i:min(i+8, len(nw.Tasks))]})
	}
	for i := 0; i < len(nw.Done); i += 64 {
		out = append(out, news{Done: nw.Done[i:min(i+64, len(nw.Done))]})
	}
	started, closed := setOf(nw.Started), setOf(nw.Closed)
	for domain, ids := range nw.Changed {
		for i := 0; i < len(ids); i += 32 {
			part := news{Changed: map[string][]string{domain: ids[i:min(i+32, len(ids))]}}
			for _, id := range part.Changed[domain] {
				if started[id] {
					part.Started = append(part.Started, id)
					delete(started, id)
				}
				if closed[id] {
					part.Closed = append(part.Closed, id)
					delete(closed, id)
				}
			}
			out = append(out, part)
		}
	}
	// The rest, in their order (each once).
	rest := func(ids []string, left map[string]bool) []string {
		var r []string
		for _, id := range ids {
			if left[id] {
				r = append(r, id)
				delete(left, id)
			}
		}
		return r
	}
	closedLeft, startedLeft := rest(nw.Closed, closed), rest(nw.Started, started)
	for i := 0; i < len(closedLeft); i += 64 {
		out = append(out, news{Closed: closedLeft[i:min(i+64, len(closedLeft))]})
	}
	for i := 0; i < len(startedLeft); i += 64 {
		out = append(out, news{Started: startedLeft[i:min(i+64, len(startedLeft))]})
	}
	if len(out) > 0 {
		out[0].Timers, out[0].TimerDue, out[0].Transfers, out[0].Registry = nw.Timers, nw.TimerDue, nw.Transfers, nw.Registry
	}
	return out
}

// setOf is a set of run ids.
func setOf(ids []string) map[string]bool {
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// secondOfferDelay is how long the nodes that do not have first call on a
// broadcast task wait before offering it to their own pollers.
const secondOfferDelay = 20 * time.Millisecond

// changed adds runs of a domain to the runs changed.
func (nw *news) changed(domain string, runIDs ...string) {
	if nw.Changed == nil {
		nw.Changed = map[string][]string{}
	}
	nw.Changed[domain] = append(nw.Changed[domain], runIDs...)
}
