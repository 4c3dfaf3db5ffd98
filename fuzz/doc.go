// Package fuzz holds fuzz targets over the public API: arbitrary bytes fed
// to whole connections, where the parsers' own targets (in frame and
// handshake) feed single functions. It has no code of its own.
//
//	go test -run='^$' -fuzz=FuzzServerConn -fuzztime=60s ./fuzz/
package fuzz
