// Package xconnect turns on net/http's support for HTTP/2 extended CONNECT
// (RFC 8441) in the program that imports it, so that browsers may open
// WebSockets over HTTP/2 to its servers:
//
//	import _ "github.com/db7c6739/ws/wsproto/xconnect"
//
// Go 1.26's net/http has the server side of extended CONNECT, but offers
// it (SETTINGS_ENABLE_CONNECT_PROTOCOL) only when the process starts with
// GODEBUG=http2xconnect=1 in its environment (golang/go#71128), and reads
// that once, as net/http is initialized; a //go:debug line does not reach
// it. This package adds the setting to GODEBUG in its own initialization,
// which Go runs before net/http's: the specification initializes packages
// in the order of their import paths wherever their imports allow it, and
// this package imports nothing that leads to net/http, while its path
// sorts before "net/http". An http2xconnect setting already in the
// environment is left as it is, so GODEBUG=http2xconnect=0 still turns
// the feature off.
//
// The setting is inherited by child processes, like any environment
// variable. Importing this package is the same as starting the program
// with GODEBUG=http2xconnect=1.
package xconnect

import (
	"os"
	"strings"
)

// setting is the GODEBUG entry net/http looks for.
const setting = "http2xconnect=1"

func init() {
	if v, changed := withSetting(os.Getenv("GODEBUG")); changed {
		os.Setenv("GODEBUG", v)
	}
}

// withSetting returns godebug with http2xconnect=1 added, unless it says
// something of http2xconnect already.
func withSetting(godebug string) (string, bool) {
	if strings.Contains(godebug, "http2xconnect=") {
		return godebug, false
	}
	if godebug != "" {
		godebug += ","
	}
	return godebug + setting, true
}

// Enabled reports whether GODEBUG asks net/http for extended CONNECT, as it
// did when net/http was initialized unless the environment changed since.
func Enabled() bool { return strings.Contains(os.Getenv("GODEBUG"), setting) }
