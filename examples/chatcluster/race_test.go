//go:build race

package main

// raceEnabled has TestMain build the node with the race detector too.
const raceEnabled = true
