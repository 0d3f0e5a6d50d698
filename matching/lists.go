package matching

import (
	"sort"
	"time"
)

// ListInfo is what a task list holds at one moment, for operators.
type ListInfo struct {
	Key ListKey
	// Queued is how many tasks are pending on the list (as Count: those
	// waiting and those pollers here are starting), Waiting how many
	// pollers.
	Queued, Waiting int
	// Oldest is when the oldest pending task was scheduled (zero if none
	// is pending).
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

// Poller bookkeeping bounds: identities kept per list, in all, and how
// long one is remembered after its last poll.
const (
	maxPollersKept  = 50
	maxPollersTotal = 10000
	pollerKept      = 10 * time.Minute
)

// pollerKey is one identity seen polling one list (Matcher.seen).
type pollerKey struct {
	list     ListKey
	identity string
}

// SawPoller records that identity polled list k now. It keeps the latest
// maxPollersKept identities of each list and maxPollersTotal in all, each
// for pollerKept after its last poll: what it keeps is bounded by the
// pollers of the last few minutes, whatever names clients poll. Its cost
// is constant (package recent), but for a list at maxPollersKept, where a
// new identity takes the place of the list's least recently seen.
func (m *Matcher) SawPoller(k ListKey, identity string) {
	now := m.now()
	m.pmu.Lock()
	defer m.pmu.Unlock()
	m.seen.Expire(now, pollerKept)
	pk := pollerKey{k, identity}
	if _, ok := m.seen.Seen(pk); ok {
		m.seen.Touch(pk, now)
		return
	}
	if ids := m.pollers[k]; len(ids) >= maxPollersKept {
		var oldest pollerKey
		var oldestAt time.Time
		for id := range ids {
			if at, _ := m.seen.Seen(pollerKey{k, id}); oldestAt.IsZero() || at.Before(oldestAt) {
				oldest, oldestAt = pollerKey{k, id}, at
			}
		}
		m.seen.Remove(oldest)
	}
	m.seen.Touch(pk, now)
	ids := m.pollers[k]
	if ids == nil {
		ids = map[string]bool{}
		m.pollers[k] = ids
	}
	ids[identity] = true
}

// forgotPoller forgets a poller m.seen forgot, and its list once it has
// none. The caller holds pmu.
func (m *Matcher) forgotPoller(p pollerKey) {
	ids := m.pollers[p.list]
	delete(ids, p.identity)
	if len(ids) == 0 {
		delete(m.pollers, p.list)
	}
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
		li.Queued, li.Waiting = len(l.queue)+len(l.remote)+l.taken, len(l.waiters)
		for _, h := range []taskHeap{l.queue, l.remote} {
			for _, it := range h {
				if li.Oldest.IsZero() || it.task.Scheduled.Before(li.Oldest) {
					li.Oldest = it.task.Scheduled
				}
			}
		}
	}
	for _, t := range m.taken {
		if li := byKey[KeyOf(t)]; li != nil && (li.Oldest.IsZero() || t.Scheduled.Before(li.Oldest)) {
			li.Oldest = t.Scheduled
		}
	}
	for k, at := range m.polled.All() {
		if k.Domain == domain && now.Sub(at) < pollsKept {
			get(k).LastPoll = at
		}
	}
	m.mu.Unlock()

	m.pmu.Lock()
	m.seen.Expire(now, pollerKept)
	for k, ids := range m.pollers {
		if k.Domain != domain {
			continue
		}
		li := get(k)
		for id := range ids {
			at, _ := m.seen.Seen(pollerKey{k, id})
			li.Pollers = append(li.Pollers, Poller{Identity: id, LastPoll: at})
			if at.After(li.LastPoll) {
				li.LastPoll = at
			}
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
