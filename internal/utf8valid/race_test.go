//go:build race

package utf8valid

// raceEnabled trims the exhaustive tests, whose Go loops the race detector
// slows tenfold; the paths they check are the same.
const raceEnabled = true
