// Package http2test tests WebSocket over HTTP/2 (RFC 8441) end to end:
// wsproto's server behind net/http's HTTP/2 server, over TLS and over
// cleartext HTTP/2, and wsproto's client through golang.org/x/net/http2's
// Transport, which can send the extended CONNECT that net/http's own
// Transport refuses. It is a module of its own so that the library keeps
// no dependency beyond the standard library.
package http2test
