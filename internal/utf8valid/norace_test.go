//go:build !race

package utf8valid

const raceEnabled = false
