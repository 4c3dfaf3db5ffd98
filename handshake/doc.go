// Package handshake implements the opening handshake of the WebSocket
// protocol (RFC 6455 §4), for both roles, and the header grammars it relies
// on (§9.1 extensions, §11.3 header fields).
//
// It knows nothing of frames: after a successful handshake the connection
// carries WebSocket frames, and reading or writing them is the job of
// another package.
//
// # Server
//
// A server reads the request head with [Request.ReadRequest] (from a raw
// connection, without allocating once a [Request] is reused) or fills a
// [Request] from a net/http request with [Request.FromHTTP]. [Check] then
// validates it (RFC 6455 §4.2.1, the origin policy of §10.2) and selects a
// subprotocol. On success the server writes the 101 response with
// [WriteResponse]; on failure it writes the error with [WriteReject] or
// [RejectHTTP], which turn the [*Error] into its HTTP status and headers.
//
// Check validates the Sec-WebSocket-Extensions syntax but does not negotiate
// extensions: the caller parses the offers with [ParseExtensions], decides,
// and passes its answer to WriteResponse.
//
// # Client
//
// A client makes a key with [NewKey], writes the request with [WriteRequest],
// reads the response with [net/http.ReadResponse] and checks it with
// [CheckResponse] (RFC 6455 §4.1).
//
// # Errors
//
// Every rejection is an [*Error] that carries the HTTP status it maps to and
// the header at fault; use [errors.As] to get at it. The most common
// rejections are also sentinel values ([ErrBadVersion], [ErrBadKey], ...)
// for [errors.Is]. I/O errors are wrapped with %w.
//
// # Limits
//
// ReadRequest reads at most [DefaultMaxHeaderBytes] of request head unless
// told otherwise. Nothing in this package reads a message body.
package handshake
