//go:build !js

// Package fuzz holds fuzz targets over the public API: arbitrary bytes fed
// to whole connections, in both roles, with and without permessage-deflate,
// the opening handshake included, where the parsers' own targets (in
// frame, handshake, wsproto and internal/deflate) feed single functions.
// It has no code of its own; fuzz/record is a proxy that records real
// traffic as seeds. README.md lists the targets, the properties they check
// and what to do with a crasher.
//
//	go test -run='^$' -fuzz='^FuzzServerConn$' -fuzztime=60s ./fuzz/
package fuzz
