package console

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"hash/maphash"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/auth"
	"github.com/swfd/swfd/inspect"
	"github.com/swfd/swfd/internal/connlimit"
	"github.com/swfd/swfd/runs"
)

// Hub fans the run store's commits out to the open pages that show them,
// by server-sent events. It is one per process: Committed (a
// runs.Listener) copies what changed and hands it to the hub's goroutine,
// which renders each change once, whatever the number of pages watching,
// and queues it for each of them; each page's connection writes its queue.
// With no page open, Committed returns at once (after counting the runs
// that started or closed, below). A page's queue that grows past a bound
// is replaced by one "resync" message (an execution's page reloads, a list
// reads itself again), so a slow browser costs memory only up to that
// bound and never slows a commit.
//
// A change reaches an execution's page only if it is the page's execution:
// the same domain, workflow id and run id (a change another node committed
// names no workflow id; its domain and run id must match). The URL a page
// subscribes with is the client's to choose, so a run id alone would let a
// page of one domain watch a run of another.
//
// Changes committed by other nodes of a cluster come with the domain, the
// run id and whether the commit started or closed the run: for a run a page
// shows, the hub reads the new events once (through the inspector it was
// given, with the page's domain and execution) and fans them out the same
// way; for a run that started or closed in a domain whose list a page
// shows, it reads the run once (Inspector.Execution) and fans its row out
// as for a local one. A run that changed otherwise is news to no list, as
// it is when it changes here.
//
// That news may be lost: while the node's listener is disconnected (a
// network cut, its backend terminated) nothing of what the other nodes
// commit reaches it. When the listener listens again (runs.Commit.Missed),
// the hub reads again, once each, the new events and pending work of every
// execution a page shows, and tells each list page to read itself again
// (its event "stale"): it cannot know which runs started or closed in the
// gap, and the rows a list shows depend on its filters.
//
// A list page may also miss runs while it has no stream: between the read
// of its rows and the opening of its stream, and while its stream is cut
// (the server ended it at the connection limit, the network dropped) until
// its EventSource connects again. So the hub counts, whether or not a page
// is open, the runs that start or close in each domain (here, or on other
// nodes as their news comes, and all domains at once when that news may
// have been lost): a list page is served with the count of its domain as
// it was before its rows were read (listMark), and its stream starts by
// comparing it with the count now: when they differ, the page is told to
// read itself again ("stale"). The stream gives the count it compared as
// its event id, which the page's EventSource sends back when it connects
// again (Last-Event-ID), so that a reconnection is compared the same way:
// at most one read of the list each time the stream opens, and none when
// nothing started or closed meanwhile.
type Hub struct {
	src  inspect.Inspector // unguarded: pages were authorized for the execution they subscribed to (and again after each reload of the auth file), and it is read as they named it
	log  *slog.Logger
	frag atomic.Pointer[template.Template]
	// now is swfd's time, the console's (setClock): an open run's row
	// says how long it has run, as a served list's row does.
	now atomic.Pointer[func() time.Time]

	subs    atomic.Int64
	in      chan []change
	dropped atomic.Bool
	missed  atomic.Bool // news of other nodes' commits may have been lost (readMissed)
	stop    context.CancelFunc
	done    chan struct{}

	// marks counts the runs that started or closed, by domain, in
	// listMarks buckets (a bucket is shared by the domains that hash to
	// it, which costs them a read now and then, never a missed run);
	// seed hashes the domains; epoch tells this hub's counts from those
	// of another process (a restart, another node).
	marks [listMarks]atomic.Uint64
	seed  maphash.Seed
	epoch string

	mu      sync.Mutex
	runs    map[string]map[*sub]bool // by run id; each change is matched to the page's execution (reaches)
	domains map[string]map[*sub]bool
	// refresh is the executions whose pending work and (for changes made
	// elsewhere) events are to be read again, coalesced; refreshed is
	// when each was last read.
	refresh   map[execKey]*refreshJob
	refreshed map[execKey]time.Time
	kick      chan struct{}
	// rows is the runs another node started or closed whose rows the
	// lists of their domains are to get, by run id.
	rows map[string]*rowJob
}

// rowJob is a run another node started or closed, to be read for the
// lists of its domain.
type rowJob struct {
	domain, runID   string
	created, closed bool
	pos             uint64 // the position of the latest news of it (change.pos)
}

// change is what the hub keeps of one run's commit.
type change struct {
	domain, runID, workflowID string
	typ                       api.WorkflowType
	created, closed, remote   bool
	status                    api.CloseStatus
	start, close              time.Time
	tags                      []string
	events                    []api.HistoryEvent
	// pos is the count of its domain's runs started or closed (listMark)
	// that this change brought it to, when it started or closed its run.
	pos uint64
}

// execKey is one execution as a page names it.
type execKey struct {
	domain string
	ex     api.WorkflowExecution
}

type refreshJob struct {
	key    execKey
	events bool // read new events too (the change was made elsewhere, or a page missed some)
}

// reaches reports whether a change is to an execution page's run: the
// same domain and run id, and the same workflow id when the change names
// one (one from another node does not).
func (ch change) reaches(s *sub) bool {
	return s.domain == ch.domain && s.ex.RunID == ch.runID && (ch.workflowID == "" || s.ex.WorkflowID == ch.workflowID)
}

// Bounds: the commits waiting for the hub's goroutine, a page's queue, and
// how often a run's pending work is read again while it changes.
const (
	hubQueue     = 4096
	subQueue     = 2000
	refreshEvery = time.Second
	keepAlive    = 20 * time.Second
	// sessionCheck is how often a signed-in stream looks whether its
	// session has ended without being forgotten (out of time). It hears
	// of a reload of the auth file at once (Keyring.Changed).
	sessionCheck = time.Second
	writeEvery   = 100 * time.Millisecond
	// A list page: at most listBatch rows a write, one write every
	// listEvery.
	listBatch = 20
	listEvery = 250 * time.Millisecond
	// Runs another node started or closed: at most remoteRows waiting to
	// be read (past that, the lists are told "changed elsewhere", and
	// read themselves again), at most remoteRowsEvery read per tick of the
	// hub.
	remoteRows      = 256
	remoteRowsEvery = 64
	// listMarks is how many counts of runs started or closed the hub
	// keeps (listMark).
	listMarks = 256
)

// NewHub returns a running hub that reads through src what commits do not
// carry. Close stops it.
func NewHub(src inspect.Inspector, log *slog.Logger) *Hub {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &Hub{src: src, log: log, in: make(chan []change, hubQueue), stop: cancel, done: make(chan struct{}),
		seed: maphash.MakeSeed(), epoch: rand.Text()[:16],
		runs: map[string]map[*sub]bool{}, domains: map[string]map[*sub]bool{},
		refresh: map[execKey]*refreshJob{}, refreshed: map[execKey]time.Time{}, kick: make(chan struct{}, 1), rows: map[string]*rowJob{}}
	go func() {
		defer close(h.done)
		h.run(ctx)
	}()
	return h
}

// Close stops the hub.
func (h *Hub) Close() {
	h.stop()
	<-h.done
}

func (h *Hub) setRenderer(t *template.Template) { h.frag.Store(t) }

func (h *Hub) setClock(now func() time.Time) { h.now.Store(&now) }

// Committed is the run store's listener. It counts the runs that started
// or closed (listMark), copies the changes (the commit's events are
// shared, read only) and returns without waiting.
func (h *Hub) Committed(c runs.Commit) {
	// Counted before the subscriptions are looked at: a list's stream
	// that subscribes and then reads a count without this commit's is
	// subscribed when the commit is looked at below, and gets its row.
	if c.Missed {
		for i := range h.marks {
			h.marks[i].Add(1)
		}
	}
	// Each run that started or closed is given the count its commit
	// brought its domain to, its position: a list read from a position
	// at or past it has it already (listMark).
	var pos []uint64
	for i, ch := range c.Runs {
		if ch.Created || ch.Closed {
			n := h.marks[h.markOf(ch.Domain)].Add(1)
			if pos == nil {
				pos = make([]uint64, len(c.Runs))
			}
			pos[i] = n
		}
	}
	if h.subs.Load() == 0 {
		return
	}
	if c.Missed {
		// Read on the hub's next tick, after this: the listener is
		// receiving again, so what is read then misses nothing.
		h.missed.Store(true)
		return
	}
	out := make([]change, len(c.Runs))
	for i, ch := range c.Runs {
		out[i] = change{domain: ch.Domain, runID: ch.RunID, workflowID: ch.WorkflowID, typ: ch.WorkflowType,
			created: ch.Created, closed: ch.Closed, status: ch.CloseStatus, start: ch.StartTime, close: ch.CloseTime, tags: ch.Tags,
			events: ch.Events, remote: c.Remote}
		if pos != nil {
			out[i].pos = pos[i]
		}
	}
	select {
	case h.in <- out:
	default:
		// The hub is behind: drop, and have every page resync.
		h.dropped.Store(true)
	}
}

// markOf is the bucket of marks that counts a domain's runs.
func (h *Hub) markOf(domain string) int {
	return int(maphash.String(h.seed, domain) % listMarks)
}

// listMark is where the lists of a domain stand: a token that changes
// whenever a run of the domain starts or closes, here or (as its news
// comes) on another node, or news of other nodes may have been lost. A
// list page takes it before it reads its rows; its stream compares it
// with the token then (liveDomain).
//
// The same token, with the count a change brought the domain to, is the
// position of each row a list's stream sends (liveRow.Pos). A commit is
// counted once it is durable (Committed), so it may be read before it is
// counted but is never counted before it can be read: a list read after
// the token was taken has already every row whose position is at or
// before the token's, and its page drops such a row rather than count its
// run a second time. A list page also takes the token once its rows and
// count are read (executionsData.Upto): a row positioned between the two
// may or may not be in them.
func (h *Hub) listMark(domain string) string {
	return h.markToken(h.marks[h.markOf(domain)].Load())
}

// markToken is a count of marks as a position (listMark).
func (h *Hub) markToken(n uint64) string {
	return h.epoch + "." + strconv.FormatUint(n, 10)
}

// validMark reports whether s has the form of a token of listMark (of
// any hub).
func validMark(s string) bool {
	epoch, n, ok := strings.Cut(s, ".")
	if !ok || len(epoch) == 0 || len(epoch) > 32 || len(n) == 0 || len(n) > 20 {
		return false
	}
	for _, c := range epoch {
		if !strings.ContainsRune("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", c) {
			return false
		}
	}
	_, err := strconv.ParseUint(n, 10, 64)
	return err == nil
}

// sub is one open page's subscription.
type sub struct {
	domain string
	ex     api.WorkflowExecution // zero for a domain's list
	wake   chan struct{}

	mu     sync.Mutex
	queue  []sseMsg
	lastID int64 // the newest event the page has
	resync bool
	more   int // rows left out of a list page's queue (listBatch)
	// mark is where a list page's stream starts (listMark), written as
	// the stream's event id.
	mark string
}

// key is the execution an execution's page shows.
func (s *sub) key() execKey { return execKey{domain: s.domain, ex: s.ex} }

type sseMsg struct {
	event string
	data  []byte
}

func (s *sub) push(m sseMsg) {
	s.mu.Lock()
	if s.ex.RunID == "" && m.event == "row" && len(s.queue) >= listBatch {
		// A list page shows a few rows at a time; past that it is told
		// how many more changed.
		s.more++
	} else if len(s.queue) >= subQueue {
		s.queue, s.resync = nil, true
	} else if !s.resync {
		s.queue = append(s.queue, m)
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// take empties the queue. A list page's rows past listBatch come as one
// "many" message with their count.
func (s *sub) take() ([]sseMsg, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, r := s.queue, s.resync
	if s.more > 0 {
		q = append(q, sseMsg{event: "many", data: []byte(`{"count":` + strconv.Itoa(s.more) + `}`)})
	}
	s.queue, s.resync, s.more = nil, false, 0
	return q, r
}

// index is where a subscription is kept: by run id for an execution's
// page, by domain for a list. The caller holds h.mu.
func (h *Hub) index(s *sub) (map[string]map[*sub]bool, string) {
	if s.ex.RunID != "" {
		return h.runs, s.ex.RunID
	}
	return h.domains, s.domain
}

func (h *Hub) subscribe(s *sub) {
	h.mu.Lock()
	m, key := h.index(s)
	if m[key] == nil {
		m[key] = map[*sub]bool{}
	}
	m[key][s] = true
	h.mu.Unlock()
	h.subs.Add(1)
}

func (h *Hub) unsubscribe(s *sub) {
	h.mu.Lock()
	m, key := h.index(s)
	delete(m[key], s)
	if len(m[key]) == 0 {
		delete(m, key)
	}
	h.mu.Unlock()
	h.subs.Add(-1)
}

func (h *Hub) run(ctx context.Context) {
	tick := time.NewTicker(refreshEvery / 4)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case batch := <-h.in:
			if h.dropped.Swap(false) {
				h.resyncAll()
			}
			for _, ch := range batch {
				h.apply(ch)
			}
		case <-tick.C:
			if h.dropped.Swap(false) {
				h.resyncAll()
			}
			if h.missed.Swap(false) {
				h.readMissed()
			}
			h.refreshDue(ctx)
			h.remoteRowsDue(ctx)
		}
	}
}

func (h *Hub) resyncAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, m := range []map[string]map[*sub]bool{h.runs, h.domains} {
		for _, subs := range m {
			for s := range subs {
				s.mu.Lock()
				s.queue, s.resync = nil, true
				s.mu.Unlock()
				select {
				case s.wake <- struct{}{}:
				default:
				}
			}
		}
	}
}

// readMissed brings the open pages up to date after news of other nodes'
// commits may have been lost: each execution a page shows has its new
// events (after the oldest a page of it has) and pending work read again
// at once, by refreshDue; each list page is told to read itself again
// ("stale"), as the runs that started or closed meanwhile are unknown.
func (h *Hub) readMissed() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, subs := range h.runs {
		for s := range subs {
			key := s.key()
			job := h.refresh[key]
			if job == nil {
				job = &refreshJob{key: key}
				h.refresh[key] = job
			}
			job.events = true
			delete(h.refreshed, key)
		}
	}
	for _, subs := range h.domains {
		for s := range subs {
			s.push(sseMsg{event: "stale", data: []byte(`{}`)})
		}
	}
}

// apply fans one change out: to the pages of its execution and the lists
// of its domain.
func (h *Hub) apply(ch change) {
	h.mu.Lock()
	// Pages by execution: a change without a workflow id may reach pages
	// that name the run with different ones (only one can be right, and
	// reading it again sorts that out), each rendered with its own.
	var runSubs map[execKey][]*sub
	for s := range h.runs[ch.runID] {
		if !ch.reaches(s) {
			continue
		}
		if runSubs == nil {
			runSubs = map[execKey][]*sub{}
		}
		runSubs[s.key()] = append(runSubs[s.key()], s)
	}
	domSubs := make([]*sub, 0, len(h.domains[ch.domain]))
	for s := range h.domains[ch.domain] {
		domSubs = append(domSubs, s)
	}
	for key := range runSubs {
		job := h.refresh[key]
		if job == nil {
			job = &refreshJob{key: key}
			h.refresh[key] = job
		}
		job.events = job.events || ch.remote
	}
	h.mu.Unlock()

	if !ch.remote && len(ch.events) > 0 {
		for _, subs := range runSubs {
			h.sendEvents(subs, ch.events, ch.closed)
		}
	}
	switch {
	case len(domSubs) == 0 || !(ch.created || ch.closed):
	case ch.remote:
		h.queueRow(ch, domSubs)
	default:
		b, _ := json.Marshal(h.rowOf(ch))
		for _, s := range domSubs {
			s.push(sseMsg{event: "row", data: b})
		}
	}
}

// queueRow has the row of a run another node started or closed read for
// the lists of its domain (subs): the news carries no more than the run's
// domain and id. When too many wait, the lists are told instead that
// executions changed elsewhere.
func (h *Hub) queueRow(ch change, subs []*sub) {
	h.mu.Lock()
	job := h.rows[ch.runID]
	full := job == nil && len(h.rows) >= remoteRows
	if job == nil && !full {
		job = &rowJob{domain: ch.domain, runID: ch.runID}
		h.rows[ch.runID] = job
	}
	if job != nil {
		job.created = job.created || ch.created
		job.closed = job.closed || ch.closed
		job.pos = max(job.pos, ch.pos)
	}
	h.mu.Unlock()
	if full {
		for _, s := range subs {
			s.push(sseMsg{event: "remote", data: []byte(`{}`)})
		}
	}
}

// remoteRowsDue reads the runs other nodes started or closed, up to
// remoteRowsEvery of them, once each whatever the number of lists showing
// their domain, and fans their rows out as for local changes: a run that
// started with its open row, a run that closed with its closed row. A run
// found closed when it was news only for its start gets its row when the
// news of its close comes. A run that cannot be read has its lists told
// that executions changed elsewhere.
func (h *Hub) remoteRowsDue(ctx context.Context) {
	h.mu.Lock()
	var jobs []*rowJob
	for id, job := range h.rows {
		if len(jobs) == remoteRowsEvery {
			break
		}
		jobs = append(jobs, job)
		delete(h.rows, id)
	}
	h.mu.Unlock()
	for _, job := range jobs {
		h.mu.Lock()
		subs := make([]*sub, 0, len(h.domains[job.domain]))
		for s := range h.domains[job.domain] {
			subs = append(subs, s)
		}
		h.mu.Unlock()
		if len(subs) == 0 {
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		info, err := h.src.Execution(rctx, job.domain, job.runID)
		cancel()
		msg := sseMsg{event: "remote", data: []byte(`{}`)}
		if err != nil {
			h.log.Debug("console: live list read", "domain", job.domain, "run", job.runID, "err", err)
		} else {
			closed := info.ExecutionStatus != api.ExecutionStatusOpen
			if closed != job.closed {
				continue
			}
			b, _ := json.Marshal(h.rowOf(change{domain: job.domain, runID: job.runID, workflowID: info.Execution.WorkflowID,
				typ: info.WorkflowType, created: job.created && !closed, closed: closed, status: info.CloseStatus,
				start: info.StartTimestamp.Time, close: info.CloseTimestamp.Time, tags: info.TagList, pos: job.pos}))
			msg = sseMsg{event: "row", data: b}
		}
		for _, s := range subs {
			s.push(msg)
		}
	}
}

// liveRow is an execution that started or closed, for a list page.
type liveRow struct {
	WorkflowID string   `json:"workflowId"`
	RunID      string   `json:"runId"`
	Type       string   `json:"type"`
	Version    string   `json:"version"`
	Status     string   `json:"status"` // OPEN or the close status
	Start      string   `json:"start"`
	Close      string   `json:"close,omitempty"`
	Tags       []string `json:"tags,omitempty"`
	URL        string   `json:"url"`
	Created    bool     `json:"created"`
	StartISO   string   `json:"startIso,omitempty"` // the times as the rows' datetime attributes write them
	CloseISO   string   `json:"closeIso,omitempty"`
	Duration   string   `json:"duration,omitempty"` // how long the run ran (closed) or has run (open), as the list shows it
	// Pos is the position of the change (listMark): a list read from
	// there on has it already.
	Pos string `json:"pos,omitempty"`
}

// rowOf is a change's row for the lists, with its position. Its start
// time and tags are the run's, also when the change closes the run, so
// that a list filtered by tag drops (or, closed, gains) it.
func (h *Hub) rowOf(ch change) liveRow {
	r := liveRow{WorkflowID: ch.workflowID, RunID: ch.runID, Type: ch.typ.Name, Version: ch.typ.Version, Status: "OPEN",
		URL: execURL(ch.domain, ch.workflowID, ch.runID), Created: ch.created, Tags: ch.tags}
	if ch.pos != 0 {
		r.Pos = h.markToken(ch.pos)
	}
	start := ch.start
	for _, ev := range ch.events {
		if a := ev.WorkflowExecutionStartedEventAttributes; a != nil && start.IsZero() {
			start, r.Tags = ev.EventTimestamp.Time, a.TagList
		}
	}
	if !start.IsZero() {
		r.Start, r.StartISO = fmtTime(start), isoTime(start)
	}
	if now := h.now.Load(); !ch.closed && now != nil && !start.IsZero() {
		// How long it has run when the row is sent, as a served row says
		// how long when the list is read.
		r.Duration = between(start, (*now)())
	}
	if ch.closed {
		r.Status = string(ch.status)
		end := ch.close
		if n := len(ch.events); end.IsZero() && n > 0 {
			end = ch.events[n-1].EventTimestamp.Time
		}
		if !end.IsZero() {
			r.Close, r.CloseISO = fmtTime(end), isoTime(end)
			if !start.IsZero() {
				r.Duration = between(start, end)
			}
		}
	}
	return r
}

// liveEvents is what an execution page gets for new events.
type liveEvents struct {
	Rows   string `json:"rows"`   // the rows' HTML, oldest first
	First  int64  `json:"first"`  // the first event id in rows
	Last   int64  `json:"last"`   // the newest event id
	Closed bool   `json:"closed"` // the run closed
}

// sendEvents renders events once and queues them for each page that has
// not got them yet. The pages all show the one execution the events are
// of.
func (h *Hub) sendEvents(subs []*sub, events []api.HistoryEvent, closed bool) {
	t := h.frag.Load()
	if t == nil || len(events) == 0 {
		return
	}
	s0 := subs[0]
	var rows bytes.Buffer
	for _, ev := range events {
		if err := t.ExecuteTemplate(&rows, "eventRow", eventRow{Ev: ev, Domain: s0.domain, Exec: s0.ex}); err != nil {
			h.log.Error("console: render live event", "err", err)
			return
		}
	}
	first, last := events[0].EventID, events[len(events)-1].EventID
	b, _ := json.Marshal(liveEvents{Rows: string(reveal(rows.Bytes())), First: first, Last: last, Closed: closed})
	for _, s := range subs {
		s.mu.Lock()
		stale := last <= s.lastID
		gap := first > s.lastID+1
		if !stale && !gap {
			s.lastID = last
		}
		s.mu.Unlock()
		switch {
		case stale:
		case gap:
			// The page missed events (it subscribed while they were
			// committed): have it read them.
			h.mu.Lock()
			if job := h.refresh[s.key()]; job != nil {
				job.events = true
			}
			h.mu.Unlock()
		default:
			s.push(sseMsg{event: "events", data: b})
		}
	}
}

// refreshDue reads again the executions that changed, at most once a
// second each: their pending work, and their new events when the change
// was made elsewhere. Each read serves every page showing the execution.
func (h *Hub) refreshDue(ctx context.Context) {
	now := time.Now()
	h.mu.Lock()
	var due []*refreshJob
	for key, job := range h.refresh {
		if now.Sub(h.refreshed[key]) < refreshEvery {
			continue
		}
		if len(h.subsOfLocked(key)) > 0 {
			due = append(due, job)
		}
		delete(h.refresh, key)
		h.refreshed[key] = now
	}
	for key, at := range h.refreshed {
		if now.Sub(at) > time.Minute {
			delete(h.refreshed, key)
		}
	}
	h.mu.Unlock()
	for _, job := range due {
		h.refreshRun(ctx, job)
	}
}

// subsOfLocked is the pages showing one execution. The caller holds h.mu.
func (h *Hub) subsOfLocked(key execKey) []*sub {
	var out []*sub
	for s := range h.runs[key.ex.RunID] {
		if s.key() == key {
			out = append(out, s)
		}
	}
	return out
}

func (h *Hub) subsOf(key execKey) []*sub {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.subsOfLocked(key)
}

// catchUp has the events of a page that has just subscribed read once:
// those committed between the page's render and its subscription.
func (h *Hub) catchUp(s *sub) {
	key := s.key()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.refresh[key] == nil {
		h.refresh[key] = &refreshJob{key: key}
	}
	h.refresh[key].events = true
	delete(h.refreshed, key)
}

// refreshRun reads one execution again, in the domain and with the
// workflow id its pages named (and were authorized for), for those pages
// only.
func (h *Hub) refreshRun(ctx context.Context, job *refreshJob) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	domain, ex := job.key.domain, job.key.ex
	subs := h.subsOf(job.key)
	if len(subs) == 0 {
		return
	}
	if job.events {
		from := int64(-1)
		for _, s := range subs {
			s.mu.Lock()
			if from < 0 || s.lastID < from {
				from = s.lastID
			}
			s.mu.Unlock()
		}
		for range 25 {
			evs, err := h.src.History(ctx, domain, ex, from, false, 1000)
			if err != nil {
				h.log.Debug("console: live history read", "err", err)
				break
			}
			full := make([]api.HistoryEvent, 0, len(evs))
			closed := false
			for _, ev := range evs {
				if f, err := ev.Full(); err == nil {
					full = append(full, f)
					closed = closed || isClosing(f.EventType)
				}
			}
			h.sendEvents(subs, full, closed)
			if len(evs) < 1000 {
				break
			}
			from = evs[len(evs)-1].EventID
		}
	}
	p, err := h.src.Pending(ctx, domain, ex)
	if err != nil {
		h.log.Debug("console: live pending read", "err", err)
		return
	}
	t := h.frag.Load()
	if t == nil {
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "pending", &pendingData{Domain: domain, Exec: ex, P: p}); err != nil {
		h.log.Error("console: render live pending", "err", err)
		return
	}
	b, _ := json.Marshal(map[string]string{"html": string(reveal(buf.Bytes()))})
	for _, s := range subs {
		s.push(sseMsg{event: "pending", data: b})
	}
}

func isClosing(t api.EventType) bool {
	switch t {
	case api.EventTypeWorkflowExecutionCompleted, api.EventTypeWorkflowExecutionFailed, api.EventTypeWorkflowExecutionTimedOut,
		api.EventTypeWorkflowExecutionCanceled, api.EventTypeWorkflowExecutionTerminated, api.EventTypeWorkflowExecutionContinuedAsNew:
		return true
	}
	return false
}

// grant is one call a live stream is authorized as when it opens. The
// stream asks it again of its session's principal whenever a reload puts
// another auth file in force.
type grant struct {
	op string
	in any
}

// authorizeAll authorizes each grant as the principal in ctx: nil if every
// one would be allowed, else the first refusal.
func (h *Handler) authorizeAll(ctx context.Context, grants []grant) error {
	for _, g := range grants {
		if err := h.authorize(ctx, g.op, g.in); err != nil {
			return err
		}
	}
	return nil
}

// liveRun streams an execution's new events and pending work. The
// execution must be the one the URL names, found as its page finds it: in
// that domain, with that workflow id (UnknownResourceFault, 404,
// otherwise). The hub then gives the stream only that execution's changes.
func (h *Handler) liveRun(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	domain, ex := h.execOf(r)
	if h.cfg.Hub == nil {
		http.Error(w, "Live updates are off.", http.StatusNotFound)
		return
	}
	r.Header.Set("X-Console-Fragment", "1")
	describe := &api.DescribeWorkflowExecutionInput{Domain: domain, Execution: ex}
	grants := []grant{
		{"GetWorkflowExecutionHistory", &api.GetWorkflowExecutionHistoryInput{Domain: domain, Execution: ex}},
		{"DescribeWorkflowExecution", describe},
	}
	if err := h.authorizeAll(ctx, grants[:1]); err != nil {
		h.fail(w, r, err)
		return
	}
	// Describing the run authorizes DescribeWorkflowExecution and finds it
	// in the URL's domain, as the page did. After a reload only the
	// authorization is asked again: the run was found already.
	if _, err := do[api.WorkflowExecutionDetail](ctx, h, "DescribeWorkflowExecution", describe); err != nil {
		h.fail(w, r, err)
		return
	}
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	s := &sub{domain: domain, ex: ex, wake: make(chan struct{}, 1), lastID: max(after, 0)}
	hub := h.cfg.Hub
	hub.subscribe(s)
	defer hub.unsubscribe(s)
	hub.catchUp(s)
	h.stream(w, r, s, grants)
}

// liveDomain streams a domain's executions that start and close. The hub
// gives it only the changes of that domain.
func (h *Handler) liveDomain(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	domain := r.PathValue("domain")
	if h.cfg.Hub == nil {
		http.Error(w, "Live updates are off.", http.StatusNotFound)
		return
	}
	tf := api.ExecutionTimeFilter{OldestDate: api.Time{Time: epoch}}
	grants := []grant{
		{"ListOpenWorkflowExecutions", &api.ListOpenWorkflowExecutionsInput{Domain: domain, StartTimeFilter: tf}},
		{"ListClosedWorkflowExecutions", &api.ListClosedWorkflowExecutionsInput{Domain: domain, StartTimeFilter: &tf}},
	}
	if err := h.authorizeAll(ctx, grants); err != nil {
		r.Header.Set("X-Console-Fragment", "1")
		h.fail(w, r, err)
		return
	}
	// The domain must exist, as for its list page (UnknownResourceFault,
	// 404, otherwise): a name is not watched before it is registered.
	if _, err := do[api.WorkflowExecutionInfos](ctx, h, "ListOpenWorkflowExecutions",
		&api.ListOpenWorkflowExecutionsInput{Domain: domain, StartTimeFilter: tf, MaximumPageSize: 1}); err != nil {
		r.Header.Set("X-Console-Fragment", "1")
		h.fail(w, r, err)
		return
	}
	// Where the page stands: the token it was served with, or, when its
	// EventSource connects again, the one its stream last started at.
	since, field := r.URL.Query().Get("since"), "since"
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		since, field = id, "Last-Event-ID"
	}
	if since != "" && !validMark(since) {
		r.Header.Set("X-Console-Fragment", "1")
		h.fail(w, r, api.ErrValidation("%s: '%s' is not a position of a list's live updates.", field, trunc(40, since)))
		return
	}
	hub := h.cfg.Hub
	s := &sub{domain: domain, wake: make(chan struct{}, 1)}
	hub.subscribe(s)
	defer hub.unsubscribe(s)
	// Read once subscribed: a run that starts or closes after this is
	// sent to the page as a row. One before it that the page's token
	// does not count (or a page that gives none) may be missing from the
	// page: it reads itself again.
	s.mark = hub.listMark(domain)
	if since != s.mark {
		s.push(sseMsg{event: "stale", data: []byte(`{}`)})
	}
	h.stream(w, r, s, grants)
}

// stream writes a subscription's messages as server-sent events until the
// page goes away, the session ends, the auth file no longer allows the
// stream, or the server stops. A session that ends (sign-out, expiry, its
// key dropped by a reload of the auth file) ends the stream at once if it
// was forgotten or its key dropped, within sessionCheck otherwise, and in
// any case before another message is written: its last event is
// "signedout". A reload that puts another auth file in force has grants,
// the calls the stream was authorized as when it opened, asked again of
// the key's principal in the new file, at once and in any case before
// another message is written; a stream they no longer allow ends the same
// way, its last event "denied".
func (h *Handler) stream(w http.ResponseWriter, r *http.Request, s *sub, grants []grant) {
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	write := func(b []byte) bool {
		rc.SetWriteDeadline(time.Now().Add(keepAlive + 10*time.Second))
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	open := "retry: 3000\n: live\n\n"
	if s.mark != "" {
		// A list's position: its EventSource sends it back when it
		// connects again (Last-Event-ID).
		open = "retry: 3000\nid: " + s.mark + "\n: live\n\n"
	}
	if !write([]byte(open)) {
		return
	}
	ka := time.NewTicker(keepAlive)
	defer ka.Stop()
	// The stream holds its connection for as long as the page is open,
	// as a long poll holds one while it waits: at the connection limit
	// (connlimit.WaitingStream), with no idle connection left to close,
	// the stream open longest ends so that a new connection is served,
	// and the page's EventSource connects again by itself.
	evicted := make(chan struct{})
	var once sync.Once
	waiting := connlimit.WaitingStream(r.Context(), func() { once.Do(func() { close(evicted) }) })
	defer waiting()
	ri := infoOf(r.Context())
	var ended, reloaded <-chan struct{} // nil without sign-in: never
	var check <-chan time.Time
	if ri.s != nil {
		ended = ri.s.ended
		// Taken before the auth file in force is first compared with
		// the request's, so that no reload goes unseen.
		reloaded = h.cfg.Keys.Changed()
		t := time.NewTicker(sessionCheck)
		defer t.Stop()
		check = t.C
	}
	authorizedBy := ri.keys // the auth file the grants were last allowed by
	// why is "" while the stream may go on, else its last event:
	// "signedout" when the session has ended, "denied" when the auth file
	// in force no longer allows the grants.
	why := func() string {
		if ri.s == nil {
			return ""
		}
		if !h.sessions.alive(ri.s.id) {
			return "signedout"
		}
		keys := h.cfg.Keys.Config()
		if keys == authorizedBy {
			return ""
		}
		p := keys.Principal(ri.s.keyID)
		if p == nil {
			return "signedout"
		}
		p.UserAgent = r.UserAgent() // p is this request's copy
		if err := h.authorizeAll(auth.NewContext(r.Context(), p), grants); err != nil {
			h.log.Info("console: live stream ended: the auth file no longer allows it",
				"principal", p.Name, "access_key_id", p.AccessKeyID, "path", r.URL.Path, "err", err)
			return "denied"
		}
		authorizedBy = keys
		return ""
	}
	last := func(event string) { write([]byte("event: " + event + "\ndata: {}\n\n")) }
	if e := why(); e != "" {
		last(e)
		return
	}
	var buf bytes.Buffer
	var lastWrite time.Time
	for {
		select {
		case <-r.Context().Done():
			return
		case <-h.cfg.Hub.done:
			return
		case <-evicted:
			return
		case <-ended:
			last("signedout")
			return
		case <-reloaded:
			reloaded = h.cfg.Keys.Changed()
			if e := why(); e != "" {
				last(e)
				return
			}
		case <-check:
			if e := why(); e != "" {
				last(e)
				return
			}
		case <-ka.C:
			if e := why(); e != "" {
				last(e)
				return
			}
			if !write([]byte(": keep-alive\n\n")) {
				return
			}
		case <-s.wake:
			// At most one write per page every writeEvery: under a
			// heavy load a page gets batches, not one write per commit.
			every := writeEvery
			if s.ex.RunID == "" {
				every = listEvery
			}
			if wait := every - time.Since(lastWrite); wait > 0 {
				select {
				case <-time.After(wait):
				case <-r.Context().Done():
					return
				case <-ended:
					last("signedout")
					return
				}
			}
			if e := why(); e != "" {
				last(e)
				return
			}
			lastWrite = time.Now()
			msgs, resync := s.take()
			buf.Reset()
			if resync {
				buf.WriteString("event: resync\ndata: {}\n\n")
			}
			for _, m := range msgs {
				buf.WriteString("event: ")
				buf.WriteString(m.event)
				buf.WriteString("\ndata: ")
				buf.Write(m.data)
				buf.WriteString("\n\n")
			}
			if buf.Len() > 0 && !write(buf.Bytes()) {
				return
			}
		}
	}
}
