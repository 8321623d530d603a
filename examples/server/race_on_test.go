//go:build race

package main

// raceEnabled builds the service under test with the race detector too.
const raceEnabled = true
