//go:build !race

package history

// underRace: see race_test.go.
const underRace = false
