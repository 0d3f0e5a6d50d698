//go:build !race

package runs

// underRace: see race_test.go.
const underRace = false
