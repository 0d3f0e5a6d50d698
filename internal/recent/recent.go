// Package recent keeps the keys seen lately, each with when it was last
// seen, bounded both by age and by count: what a server remembers of names
// its clients choose (task lists polled, pollers seen) stays bounded however
// many names they use.
//
// A Table keeps its keys in the order they were last seen, so that each of
// its operations costs the same however many keys it holds: recording a key
// moves it to the front, and what is forgotten (the stale, or the least
// recently seen past the bound) is taken from the back, each key once.
package recent

import (
	"container/list"
	"iter"
	"time"
)

// Table holds when each key was last seen, the most recently seen first. Its
// zero value is not usable; make one with New. A Table is not safe for
// concurrent use: its owner holds its own lock around it.
type Table[K comparable] struct {
	max    int
	onDrop func(K)
	byKey  map[K]*list.Element
	order  list.List // of *entry[K], the most recently seen first
}

type entry[K comparable] struct {
	key K
	at  time.Time
}

// New returns an empty table that keeps at most max keys. onDrop, when not
// nil, is called with each key the table forgets, by age (Expire), by count
// (Touch), or when removed (Remove, Clear), so that its owner may forget
// what it keeps about the key.
func New[K comparable](max int, onDrop func(K)) *Table[K] {
	return &Table[K]{max: max, onDrop: onDrop, byKey: map[K]*list.Element{}}
}

// Touch records that k was seen at now. A key new to a full table first
// makes it forget the least recently seen.
func (t *Table[K]) Touch(k K, now time.Time) {
	if e := t.byKey[k]; e != nil {
		e.Value.(*entry[K]).at = now
		t.order.MoveToFront(e)
		return
	}
	for t.order.Len() >= t.max && t.order.Len() > 0 {
		t.drop(t.order.Back())
	}
	t.byKey[k] = t.order.PushFront(&entry[K]{key: k, at: now})
}

// Seen returns when k was last seen, and whether the table holds it.
func (t *Table[K]) Seen(k K) (at time.Time, ok bool) {
	if e := t.byKey[k]; e != nil {
		return e.Value.(*entry[K]).at, true
	}
	return time.Time{}, false
}

// Expire forgets the keys not seen within age of now.
func (t *Table[K]) Expire(now time.Time, age time.Duration) {
	for e := t.order.Back(); e != nil && now.Sub(e.Value.(*entry[K]).at) >= age; e = t.order.Back() {
		t.drop(e)
	}
}

// Remove forgets k, if the table holds it.
func (t *Table[K]) Remove(k K) {
	if e := t.byKey[k]; e != nil {
		t.drop(e)
	}
}

// Oldest returns the least recently seen key, and false when the table is
// empty.
func (t *Table[K]) Oldest() (k K, ok bool) {
	if e := t.order.Back(); e != nil {
		return e.Value.(*entry[K]).key, true
	}
	return k, false
}

// Clear forgets every key.
func (t *Table[K]) Clear() {
	for e := t.order.Back(); e != nil; e = t.order.Back() {
		t.drop(e)
	}
}

// Len returns how many keys the table holds.
func (t *Table[K]) Len() int { return t.order.Len() }

// All yields each key the table holds with when it was last seen, the most
// recently seen first. The table must not change during the iteration.
func (t *Table[K]) All() iter.Seq2[K, time.Time] {
	return func(yield func(K, time.Time) bool) {
		for e := t.order.Front(); e != nil; e = e.Next() {
			en := e.Value.(*entry[K])
			if !yield(en.key, en.at) {
				return
			}
		}
	}
}

func (t *Table[K]) drop(e *list.Element) {
	k := t.order.Remove(e).(*entry[K]).key
	delete(t.byKey, k)
	if t.onDrop != nil {
		t.onDrop(k)
	}
}
