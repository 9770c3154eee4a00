//go:build race

package engine_test

// raceEnabled: the race detector changes what allocates.
const raceEnabled = true
