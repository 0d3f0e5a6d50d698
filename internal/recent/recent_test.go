package recent

import (
	"slices"
	"testing"
	"time"
)

func keys(t *Table[int]) []int {
	var ks []int
	for k := range t.All() {
		ks = append(ks, k)
	}
	return ks
}

// A table keeps at most its bound, forgetting the least recently seen
// first (a key seen again counts as new), tells its owner of each key it
// forgets exactly once, and forgets by age from the oldest on.
func TestTableBoundsAndOrder(t *testing.T) {
	var dropped []int
	tb := New(3, func(k int) { dropped = append(dropped, k) })
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	tb.Touch(1, at(1))
	tb.Touch(2, at(2))
	tb.Touch(3, at(3))
	tb.Touch(1, at(4)) // 1 seen again: 2 is now the least recent
	tb.Touch(4, at(5))
	if got, want := keys(tb), []int{4, 1, 3}; !slices.Equal(got, want) {
		t.Fatalf("keys %v, want %v (most recent first)", got, want)
	}
	if !slices.Equal(dropped, []int{2}) {
		t.Fatalf("dropped %v, want [2]", dropped)
	}
	if when, ok := tb.Seen(1); !ok || !when.Equal(at(4)) {
		t.Errorf("Seen(1) = %v, %v; want %v", when, ok, at(4))
	}
	if _, ok := tb.Seen(2); ok {
		t.Error("a forgotten key is still seen")
	}
	if k, ok := tb.Oldest(); !ok || k != 3 {
		t.Errorf("Oldest() = %v, %v; want 3", k, ok)
	}

	// Keys last seen 2 s or more before 6 s: 3 (at 3) and 1 (at 4).
	tb.Expire(at(6), 2*time.Second)
	if got := keys(tb); !slices.Equal(got, []int{4}) {
		t.Errorf("after Expire: keys %v, want [4]", got)
	}
	tb.Touch(5, at(7))
	tb.Remove(4)
	tb.Remove(4) // not held: nothing to do
	tb.Clear()
	if tb.Len() != 0 || len(tb.byKey) != 0 {
		t.Errorf("after Clear: %d keys (%d in the map)", tb.Len(), len(tb.byKey))
	}
	if want := []int{2, 3, 1, 4, 5}; !slices.Equal(dropped, want) {
		t.Errorf("dropped %v, want %v, each once", dropped, want)
	}
	if _, ok := tb.Oldest(); ok {
		t.Error("an empty table has an oldest key")
	}
}

// Many distinct keys leave the table at its bound, its map and its order
// holding the same keys.
func TestTableManyKeys(t *testing.T) {
	drops := 0
	tb := New(100, func(int) { drops++ })
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 10000 {
		tb.Touch(i, now.Add(time.Duration(i)*time.Millisecond))
	}
	if tb.Len() != 100 || len(tb.byKey) != 100 || drops != 9900 {
		t.Fatalf("%d keys in order, %d in the map, %d dropped; want 100, 100, 9900", tb.Len(), len(tb.byKey), drops)
	}
	if got := keys(tb); got[0] != 9999 || got[99] != 9900 {
		t.Errorf("kept %d…%d, want the latest, 9999…9900", got[0], got[99])
	}
}
