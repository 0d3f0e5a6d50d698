package matching

import (
	"sort"
	"time"
)

// ListInfo is what a task list holds at one moment, for operators.
type ListInfo struct {
	Key ListKey
	// Queued is how many tasks wait on the list, Waiting how many pollers.
	Queued, Waiting int
	// Oldest is when the oldest queued task was scheduled (zero if none
	// is queued).
	Oldest time.Time
	// LastPoll is when the list was last polled here (zero if not within
	// the last minute or so).
	LastPoll time.Time
	// Pollers are the pollers seen lately, most recent first.
	Pollers []Poller
}

// Poller is one poller seen on a list: its identity (as it gave it; may be
// empty) and when it last polled.
type Poller struct {
	Identity string
	LastPoll time.Time
}

// Poller bookkeeping bounds: identities kept per list, and how long one is
// remembered after its last poll.
const (
	maxPollersKept = 50
	pollerKept     = 10 * time.Minute
)

// SawPoller records that identity polled list k now. It keeps the latest
// maxPollersKept identities of each list, each for a few minutes after its
// last poll.
func (m *Matcher) SawPoller(k ListKey, identity string) {
	now := m.now()
	m.pmu.Lock()
	defer m.pmu.Unlock()
	ids := m.pollers[k]
	if ids == nil {
		ids = map[string]time.Time{}
		m.pollers[k] = ids
	}
	if _, ok := ids[identity]; !ok && len(ids) >= maxPollersKept {
		var oldest string
		var at time.Time
		for id, t := range ids {
			if at.IsZero() || t.Before(at) {
				oldest, at = id, t
			}
		}
		delete(ids, oldest)
	}
	ids[identity] = now
}

// Lists returns the task lists of a domain in use here: those with tasks
// queued or pollers waiting, and those polled within the last few minutes,
// ordered by kind and name.
func (m *Matcher) Lists(domain string) []ListInfo {
	now := m.now()
	byKey := map[ListKey]*ListInfo{}
	get := func(k ListKey) *ListInfo {
		li := byKey[k]
		if li == nil {
			li = &ListInfo{Key: k}
			byKey[k] = li
		}
		return li
	}
	m.mu.Lock()
	for k, l := range m.lists {
		if k.Domain != domain {
			continue
		}
		li := get(k)
		li.Queued, li.Waiting = len(l.queue)+len(l.remote), len(l.waiters)
		for _, h := range []taskHeap{l.queue, l.remote} {
			for _, it := range h {
				if li.Oldest.IsZero() || it.task.Scheduled.Before(li.Oldest) {
					li.Oldest = it.task.Scheduled
				}
			}
		}
	}
	for k, at := range m.polled {
		if k.Domain == domain && now.Sub(at) < pollerKept {
			get(k).LastPoll = at
		}
	}
	m.mu.Unlock()

	m.pmu.Lock()
	for k, ids := range m.pollers {
		if k.Domain != domain {
			continue
		}
		for id, at := range ids {
			if now.Sub(at) >= pollerKept {
				delete(ids, id)
				continue
			}
			li := get(k)
			li.Pollers = append(li.Pollers, Poller{Identity: id, LastPoll: at})
			if at.After(li.LastPoll) {
				li.LastPoll = at
			}
		}
		if len(ids) == 0 {
			delete(m.pollers, k)
		}
	}
	m.pmu.Unlock()

	out := make([]ListInfo, 0, len(byKey))
	for _, li := range byKey {
		sort.Slice(li.Pollers, func(i, j int) bool { return li.Pollers[i].LastPoll.After(li.Pollers[j].LastPoll) })
		out = append(out, *li)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Key.Kind != out[j].Key.Kind {
			return out[i].Key.Kind < out[j].Key.Kind
		}
		return out[i].Key.TaskList < out[j].Key.TaskList
	})
	return out
}
