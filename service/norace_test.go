//go:build !race

package service

// underRace: see race_test.go.
const underRace = false
