//go:build race

package e2e

// The race detector allows 8,128 live goroutines; the exhaustion test
// scales down under it.
const hostileRaceScale = 3
