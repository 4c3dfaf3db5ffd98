//go:build !amd64 || purego

package utf8valid

func vectorPaths() []vectorPath { return nil }
