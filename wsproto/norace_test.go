//go:build !js && !race

package wsproto

const raceEnabled = false
