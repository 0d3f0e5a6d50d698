//go:build !race

package e2e

const hostileRaceScale = 1
