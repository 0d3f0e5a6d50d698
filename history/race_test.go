//go:build race

package history

// underRace: the race detector slows every test several times; the
// randomized checks of one goroutine's logic draw fewer cases under it.
const underRace = true
