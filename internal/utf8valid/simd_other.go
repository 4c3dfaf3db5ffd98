//go:build !amd64 || purego

package utf8valid

const haveSIMD = false

const simdMin = 1 << 62

func validSIMD(p []byte) bool { panic("utf8valid: no vector unit") }
