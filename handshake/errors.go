package handshake

import "net/http"

// Error is a handshake rejection.
//
// On the server side Status is the HTTP status the rejection maps to (400,
// 403, 405, 426, 431) and [WriteReject] and [RejectHTTP] write it. On the
// client side ([CheckResponse]) Status is the status code the server sent.
// Header names the header field at fault, or is "" when the fault is not in
// one header (the request line, the size of the head). Reason is a short
// human-readable explanation.
//
// Two Errors match under [errors.Is] when all three fields are equal, so the
// sentinels below work both as the values this package returns and as
// targets for errors.Is.
type Error struct {
	Status int
	Header string
	Reason string
}

// Error returns "handshake: " followed by the header name, when set, and the
// reason.
func (e *Error) Error() string {
	if e.Header == "" {
		return "handshake: " + e.Reason
	}
	return "handshake: " + e.Header + " header: " + e.Reason
}

// Is reports whether target is an *Error with the same status, header and
// reason.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && e != nil && t != nil && *e == *t
}

// Header names as RFC 6455 §11.3 spells them.
const (
	hdrHost       = "Host"
	hdrUpgrade    = "Upgrade"
	hdrConnection = "Connection"
	hdrOrigin     = "Origin"
	hdrKey        = "Sec-WebSocket-Key"
	hdrVersion    = "Sec-WebSocket-Version"
	hdrProtocol   = "Sec-WebSocket-Protocol"
	hdrExtensions = "Sec-WebSocket-Extensions"
	hdrAccept     = "Sec-WebSocket-Accept"

	hdrPseudoProtocol = ":protocol" // RFC 8441 §4
)

// Sentinel rejections. The server side returns these very values, so they
// cost no allocation; see [Check] for the order in which they are tested.
var (
	// ErrHeaderTooLarge: the request head exceeds the limit given to
	// [Request.ReadRequest] (RFC 6585 §5).
	ErrHeaderTooLarge = &Error{Status: http.StatusRequestHeaderFieldsTooLarge, Reason: "request head too large"}

	// ErrBadMethod: the method is not GET (RFC 6455 §4.2.1 item 1). A 405
	// response carries "Allow: GET" (RFC 9110 §15.5.6).
	ErrBadMethod = &Error{Status: http.StatusMethodNotAllowed, Reason: "method must be GET"}

	// ErrNotWebSocket: the Upgrade header does not ask for "websocket"
	// (RFC 6455 §4.2.1 item 3), which is what a plain HTTP request to a
	// WebSocket endpoint looks like. It maps to 426 Upgrade Required, whose
	// response names the protocol to upgrade to (RFC 9110 §15.5.22).
	ErrNotWebSocket = &Error{Status: http.StatusUpgradeRequired, Header: hdrUpgrade, Reason: `must contain "websocket"`}

	// ErrBadVersion: Sec-WebSocket-Version is missing, repeated or not 13
	// (RFC 6455 §4.2.1 item 6, §11.3.5). The response must carry
	// "Sec-WebSocket-Version: 13" (§4.2.2, §4.4), which WriteReject and
	// RejectHTTP add to every 426.
	ErrBadVersion = &Error{Status: http.StatusUpgradeRequired, Header: hdrVersion, Reason: "must appear once with value 13"}

	// ErrBadKey: Sec-WebSocket-Key is missing, repeated, or not the base64
	// encoding of 16 bytes (RFC 6455 §4.2.1 item 5, §11.3.1).
	ErrBadKey = &Error{Status: http.StatusBadRequest, Header: hdrKey, Reason: "must appear once and be the base64 encoding of 16 bytes"}

	// ErrBadOrigin: the Origin header names a host the server does not
	// allow, cannot be parsed, is "null" or is repeated (RFC 6455 §4.2.2,
	// §10.2; RFC 6454 §7.3).
	ErrBadOrigin = &Error{Status: http.StatusForbidden, Header: hdrOrigin, Reason: "origin not allowed"}

	// ErrNotExtendedConnect: an HTTP/2 request whose method is not CONNECT.
	// Over HTTP/2 a WebSocket opens with an extended CONNECT (RFC 8441 §4),
	// never with a GET and Upgrade, which HTTP/2 forbids (RFC 9113
	// §8.2.2). It maps to 405, with "Allow: CONNECT".
	ErrNotExtendedConnect = &Error{Status: http.StatusMethodNotAllowed, Reason: "over HTTP/2 the method must be CONNECT with :protocol websocket (RFC 8441)"}

	// ErrBadConnectProtocol: an HTTP/2 CONNECT request whose :protocol
	// pseudo-header is missing or is not "websocket" (RFC 8441 §4, §5).
	ErrBadConnectProtocol = &Error{Status: http.StatusBadRequest, Header: hdrPseudoProtocol, Reason: `must be "websocket"`}
)

// Unexported rejections: all 400 Bad Request, told apart by Header and
// Reason through errors.As.
var (
	errRequestLine = &Error{Status: http.StatusBadRequest, Reason: "malformed request line"}
	errHeaderLine  = &Error{Status: http.StatusBadRequest, Reason: "malformed header line"}
	errFolding     = &Error{Status: http.StatusBadRequest, Reason: "header line starts with whitespace (obsolete line folding)"}
	errHTTPVersion = &Error{Status: http.StatusBadRequest, Reason: "HTTP/1.1 or later required"}
	errHost        = &Error{Status: http.StatusBadRequest, Header: hdrHost, Reason: "must appear exactly once and not be empty"}
	errConnection  = &Error{Status: http.StatusBadRequest, Header: hdrConnection, Reason: `must contain "Upgrade"`}
	errProtocol    = &Error{Status: http.StatusBadRequest, Header: hdrProtocol, Reason: "elements must be tokens"}
	errExtSyntax   = &Error{Status: http.StatusBadRequest, Header: hdrExtensions, Reason: "malformed extension list"}
	errExtQuoted   = &Error{Status: http.StatusBadRequest, Header: hdrExtensions, Reason: "quoted parameter value is not a token"}
)
