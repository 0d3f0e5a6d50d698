package history

import (
	"cmp"
	"slices"
	"sync"
	"unsafe"
)

// A JSONMemo makes encoding the successive states of one run cheaper when
// they hold many open items. A run that fans out to a thousand activities
// is stored again, whole, with every step (each activity's start and
// completion), and encoding its items was most of what such a step cost:
// the memo keeps each item's encoding next to a copy of the value it
// encoded, and the next encoding copies the bytes of every item whose
// value is unchanged instead of writing them again, in the order of keys
// it kept (so the keys are sorted again only when new ones appear).
//
// It is a cache of values, not of steps: an item's bytes are reused only
// when the item equals, field by field, the copy the memo took of it when
// it wrote them (pointers compared by what they point to), and the
// encoding depends on nothing else, so whatever states it is given, in
// whatever order (a step decided again after losing a race, a state
// decoded from the store, one abandoned), m.AppendJSON(b, s) is byte for
// byte s.AppendJSON(b). It holds copies, never the state's own items: a
// state changed in place after its encoding cannot change what the memo
// holds.
//
// Maps of fewer than memoMinItems items are encoded as AppendJSON encodes
// them, and their part of the memo let go: a small run costs nothing more.
// A JSONMemo may be used from several goroutines at once (they take turns).
// The zero value is an empty memo.
type JSONMemo struct {
	mu         sync.Mutex
	activities itemMemo[string, Activity, activityMemo]
	timers     itemMemo[string, UserTimer, timerMemo]
	lambdas    itemMemo[string, Lambda, lambdaMemo]
	children   itemMemo[int64, Child, childMemo]
	externals  itemMemo[int64, External, externalMemo]
	size       int // estimated bytes held, as of the last encoding
	last       int // length of the last encoding
	minItems   int // memoMinItems if 0 (tests set it lower)
	fresh      int // items the last encoding wrote afresh (for tests)
}

// memoMinItems is the number of items a map needs for the memo to keep
// their encodings.
const memoMinItems = 16

// MemoWorthwhile reports whether a JSONMemo would spare anything in
// encoding s: whether one of its maps has memoMinItems items or more.
func MemoWorthwhile(s *State) bool {
	return s != nil && (len(s.Activities) >= memoMinItems || len(s.Timers) >= memoMinItems ||
		len(s.Lambdas) >= memoMinItems || len(s.Children) >= memoMinItems || len(s.Externals) >= memoMinItems)
}

// AppendJSON appends the JSON encoding of s to b, as s.AppendJSON(b)
// does (the same bytes, and b unchanged for a state AppendJSON cannot
// encode), reusing the encodings of the items m has seen unchanged. A nil
// m encodes without a memo.
func (m *JSONMemo) AppendJSON(b []byte, s *State) []byte {
	if m == nil || s == nil {
		return s.AppendJSON(b)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fresh = 0
	e := stateEncoder{b: b}
	start := e.stateHead(s)
	e.memoMaps(m, s)
	e.stateTail(s, start)
	if e.bad {
		// An item may have been kept with the bytes of a time that
		// cannot be encoded: reusing them would encode what AppendJSON
		// refuses.
		m.reset()
		return b
	}
	m.size = m.activities.bytes() + m.timers.bytes() + m.lambdas.bytes() + m.children.bytes() + m.externals.bytes()
	m.last = len(e.b) - len(b)
	return e.b
}

// Size estimates the bytes of memory m holds: its items' encodings and
// the copies of their values (not the strings those share with the
// states), with the places of items dropped that it may still hold.
func (m *JSONMemo) Size() int {
	if m == nil {
		return 0
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return int(unsafe.Sizeof(*m)) + m.size
}

// LastLen is the length of the last encoding m made (0 before any): a
// hint for the buffer of the next.
func (m *JSONMemo) LastLen() int {
	if m == nil {
		return 0
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last
}

func (m *JSONMemo) reset() {
	m.activities.reset()
	m.timers.reset()
	m.lambdas.reset()
	m.children.reset()
	m.externals.reset()
	m.size, m.last = 0, 0
}

// memoKind is what an itemMemo needs to know of the items of one map:
// how their keys sort and are written, how an item is written, and how to
// keep a copy of one that a later value can be compared with.
type memoKind[K any, V any] interface {
	// compare orders keys as the encoding does.
	compare(a, b K) int
	// key writes k as a member's name, with its colon.
	key(e *stateEncoder, k K)
	// value writes v.
	value(e *stateEncoder, v *V)
	// keep returns a copy of v holding all that value writes and
	// nothing shared with v that could change after (what a pointer
	// points to is copied; what value does not write may be dropped).
	keep(v *V) V
	// same reports whether v would be written as kept was: whether
	// every field value writes is equal (pointers by what they point
	// to). It may change kept while it compares, and leaves it as it
	// was.
	same(kept, v *V) bool
}

// itemMemo keeps the encoding of the items of one map, in the order of
// their keys.
//
// The items new in one encoding are allocated together, in one block: a
// fan-out of a thousand activities costs one allocation, not a thousand.
// A block lives as long as any of its items, so the items dropped since
// still take their place in it; they are cleared as they are dropped (what
// their encodings and copies held is let go), and once the blocks hold more
// dropped items than kept ones, the kept ones are copied into a block of
// their own and the old blocks let go. slots counts the items of the blocks
// that may still be held, dropped or not, which is what the memo's
// size counts.
type itemMemo[K cmp.Ordered, V any, M memoKind[K, V]] struct {
	items []*memoItem[K, V] // pointers: dropping one moves the rest
	slots int               // items of the blocks not yet let go
}

type memoItem[K any, V any] struct {
	key   K
	isNil bool   // the value was a nil pointer (written as null)
	val   V      // the kept copy of the value written (if not nil)
	enc   []byte // `"key":value`, as written; nil until written
}

func (mm *itemMemo[K, V, M]) reset() { mm.items, mm.slots = nil, 0 }

// bytes estimates the memory mm holds: its list, its blocks (their dropped
// items too) and the encodings of the items kept.
func (mm *itemMemo[K, V, M]) bytes() int {
	n := cap(mm.items)*int(unsafe.Sizeof(&memoItem[K, V]{})) + mm.slots*int(unsafe.Sizeof(memoItem[K, V]{}))
	for _, it := range mm.items {
		n += cap(it.enc)
	}
	return n
}

// compactAfter is how many dropped items the blocks may hold before the
// kept ones are copied out of them (when they also outnumber the kept).
const compactAfter = 16

// compact copies the items kept into one block of their own when the
// blocks hold more dropped items than kept ones, so that the dropped
// ones' places are let go.
func (mm *itemMemo[K, V, M]) compact() {
	dropped := mm.slots - len(mm.items)
	if dropped <= len(mm.items) || dropped < compactAfter {
		return
	}
	block := make([]memoItem[K, V], len(mm.items))
	for i, it := range mm.items {
		block[i] = *it
		mm.items[i] = &block[i]
	}
	mm.slots = len(block)
}

// write writes m, a map of memoMinItems items or more, as the plain
// encoder would, and keeps the encoding of each of its items. The items
// kept are walked in their order: those whose keys are gone are dropped,
// the others written (their bytes reused if they are unchanged). If the
// map has keys the memo had not, the keys are sorted again and the map
// written again in that order, the items written a moment ago reused.
func (mm *itemMemo[K, V, M]) write(e *stateEncoder, m map[K]*V, fresh *int) {
	start := len(e.b)
	e.b = append(e.b, '{')
	kept := mm.items[:0]
	for _, it := range mm.items {
		v, ok := m[it.key]
		if !ok {
			// Its block may outlive it: nothing it held stays with it.
			*it = memoItem[K, V]{}
			continue
		}
		if len(kept) > 0 {
			e.b = append(e.b, ',')
		}
		kept = append(kept, it)
		mm.put(e, it, v, fresh)
	}
	clear(mm.items[len(kept):]) // no hold on what the dropped items held
	mm.items = kept
	if len(kept) == len(m) {
		e.b = append(e.b, '}')
		mm.compact()
		return
	}
	var k M
	keys := make([]K, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	slices.SortFunc(keys, k.compare)
	items := make([]*memoItem[K, V], 0, len(keys))
	added := make([]memoItem[K, V], len(keys)-len(kept))
	mm.slots += len(added)
	j := 0
	for _, key := range keys {
		// Every item kept is in m, and both are sorted: kept[j] is
		// key's item or key is new.
		if j < len(kept) && kept[j].key == key {
			items = append(items, kept[j])
			j++
		} else {
			it := &added[len(items)-j]
			it.key = key
			items = append(items, it)
		}
	}
	e.b = append(e.b[:start], '{')
	for i, it := range items {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		mm.put(e, it, m[it.key], fresh)
	}
	e.b = append(e.b, '}')
	mm.items = items
	mm.compact()
}

// put writes the member of it's key with value v: the bytes kept if v is
// the value they were written from, else written afresh and kept, with a
// copy of v.
func (mm *itemMemo[K, V, M]) put(e *stateEncoder, it *memoItem[K, V], v *V, fresh *int) {
	var k M
	if it.enc != nil && it.isNil == (v == nil) && (v == nil || k.same(&it.val, v)) {
		e.b = append(e.b, it.enc...)
		return
	}
	*fresh++
	pos := len(e.b)
	k.key(e, it.key)
	var zero V
	if v == nil {
		e.b = append(e.b, "null"...)
		it.isNil, it.val = true, zero
	} else {
		k.value(e, v)
		it.isNil, it.val = false, k.keep(v)
	}
	it.enc = append(it.enc[:0], e.b[pos:]...)
}

type stringKeyed struct{}

func (stringKeyed) compare(a, b string) int       { return cmp.Compare(a, b) }
func (stringKeyed) key(e *stateEncoder, k string) { e.stringKey(0, k) }

type intKeyed struct{}

func (intKeyed) compare(a, b int64) int       { return compareDecimal(a, b) }
func (intKeyed) key(e *stateEncoder, k int64) { e.intKey(0, k) }

// keepStr returns a pointer to a copy of *p (nil for nil).
func keepStr(p *string) *string {
	if p == nil {
		return nil
	}
	s := *p
	return &s
}

// sameStr reports whether two *string are both nil or point to equal
// strings.
func sameStr(a, b *string) bool {
	return a == b || a != nil && b != nil && *a == *b
}

// The values are compared with ==, pointers taken out first: a field
// added to one of these types is then compared without being named here
// (a field == cannot compare fails to build). A pointer field added is
// compared as a pointer, which TestJSONMemoSeesEveryField catches.

type activityMemo struct{ stringKeyed }

func (activityMemo) value(e *stateEncoder, a *Activity) { e.activity(a) }

// keep drops HeartbeatDetails, which the encoding leaves out (and
// which may be large).
func (activityMemo) keep(a *Activity) Activity {
	c := *a
	c.HeartbeatDetails = nil
	return c
}

// same gives kept a's HeartbeatDetails for the comparison (instead of
// copying a without them, a tenth of the time a step of a run of a
// thousand activities took).
func (activityMemo) same(kept, a *Activity) bool {
	kept.HeartbeatDetails = a.HeartbeatDetails
	eq := *kept == *a
	kept.HeartbeatDetails = nil
	return eq
}

type timerMemo struct{ stringKeyed }

func (timerMemo) value(e *stateEncoder, t *UserTimer) { e.timer(t) }
func (timerMemo) keep(t *UserTimer) UserTimer         { return *t }
func (timerMemo) same(kept, t *UserTimer) bool        { return *t == *kept }

type lambdaMemo struct{ stringKeyed }

func (lambdaMemo) value(e *stateEncoder, l *Lambda) { e.lambda(l) }
func (lambdaMemo) keep(l *Lambda) Lambda            { return *l }
func (lambdaMemo) same(kept, l *Lambda) bool        { return *l == *kept }

type childMemo struct{ intKeyed }

func (childMemo) value(e *stateEncoder, c *Child) { e.child(c) }

func (childMemo) keep(c *Child) Child {
	k := *c
	k.Control = keepStr(c.Control)
	return k
}

func (childMemo) same(kept, c *Child) bool {
	a, b := *kept, *c
	a.Control, b.Control = nil, nil
	return a == b && sameStr(kept.Control, c.Control)
}

type externalMemo struct{ intKeyed }

func (externalMemo) value(e *stateEncoder, x *External) { e.external(x) }

func (externalMemo) keep(x *External) External {
	k := *x
	k.RunID, k.Control = keepStr(x.RunID), keepStr(x.Control)
	return k
}

func (externalMemo) same(kept, x *External) bool {
	a, b := *kept, *x
	a.RunID, a.Control, b.RunID, b.Control = nil, nil, nil, nil
	return a == b && sameStr(kept.RunID, x.RunID) && sameStr(kept.Control, x.Control)
}

// memoMaps writes the maps of s as stateMaps does, those of memoMinItems
// items or more through the memo.
func (e *stateEncoder) memoMaps(m *JSONMemo, s *State) {
	least := m.minItems
	if least == 0 {
		least = memoMinItems
	}
	e.b = append(e.b, `,"Activities":`...)
	if len(s.Activities) >= least {
		m.activities.write(e, s.Activities, &m.fresh)
	} else {
		m.activities.reset()
		e.activities(s.Activities)
	}
	e.b = append(e.b, `,"Timers":`...)
	if len(s.Timers) >= least {
		m.timers.write(e, s.Timers, &m.fresh)
	} else {
		m.timers.reset()
		e.timers(s.Timers)
	}
	e.b = append(e.b, `,"Children":`...)
	if len(s.Children) >= least {
		m.children.write(e, s.Children, &m.fresh)
	} else {
		m.children.reset()
		e.children(s.Children)
	}
	e.b = append(e.b, `,"Externals":`...)
	if len(s.Externals) >= least {
		m.externals.write(e, s.Externals, &m.fresh)
	} else {
		m.externals.reset()
		e.externals(s.Externals)
	}
	e.b = append(e.b, `,"Lambdas":`...)
	if len(s.Lambdas) >= least {
		m.lambdas.write(e, s.Lambdas, &m.fresh)
	} else {
		m.lambdas.reset()
		e.lambdas(s.Lambdas)
	}
}
