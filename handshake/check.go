package handshake

import (
	"bytes"
	"path"
	"strings"
)

// ServerOptions configures [Check]. A nil *ServerOptions means the zero
// value: no subprotocols, and only same-origin browser requests allowed.
type ServerOptions struct {
	// Subprotocols lists the subprotocols the server speaks, most preferred
	// first. Check selects the first one the client also offers
	// (RFC 6455 §4.2.2 item 5.4).
	Subprotocols []string

	// OriginPatterns lists hosts, besides the request's own Host, that
	// browser requests may come from. Each is a path.Match pattern matched
	// case-insensitively against the host[:port] of the Origin header,
	// e.g. "*.example.com" or "localhost:*". A malformed pattern matches
	// nothing.
	OriginPatterns []string

	// InsecureSkipOriginCheck turns the origin check off, letting any web
	// page open a connection with the user's cookies (RFC 6455 §10.2).
	InsecureSkipOriginCheck bool
}

// Check validates an upgrade request against RFC 6455 §4.2.1 and selects a
// subprotocol. It returns the selected subprotocol, one of
// opts.Subprotocols or "" when the client offered none the server speaks.
// It does not allocate unless opts.OriginPatterns has to be consulted.
//
// The checks run in this order; the first failure is returned:
//   - the method is GET, else [ErrBadMethod] (405);
//   - the version is HTTP/1.1 or later, else 400;
//   - Host appears exactly once and is not empty (RFC 9112 §3.2), else 400
//     with Header "Host";
//   - Upgrade holds the token "websocket", case-insensitively, in any of
//     its lines, else [ErrNotWebSocket] (426);
//   - Connection holds the token "Upgrade" likewise, else 400 with Header
//     "Connection";
//   - Sec-WebSocket-Version appears once and is "13", else [ErrBadVersion]
//     (426). It is tested before the key so that a client speaking an older
//     draft learns which version to use (RFC 6455 §4.4);
//   - Sec-WebSocket-Key appears once and is the base64 encoding of 16
//     bytes, else [ErrBadKey] (400);
//   - unless opts.InsecureSkipOriginCheck, an Origin header, if any,
//     appears once and names the request's Host (compared as written,
//     case-insensitively, with no default-port normalization) or a host
//     matching one of opts.OriginPatterns, else [ErrBadOrigin] (403). A
//     request without Origin does not come from a browser and passes
//     (RFC 6455 §10.2); an Origin of "null" never passes;
//   - every Sec-WebSocket-Protocol element is a token (RFC 6455 §11.3.4),
//     else 400 with Header "Sec-WebSocket-Protocol";
//   - Sec-WebSocket-Extensions follows the grammar of RFC 6455 §9.1, else
//     400 with Header "Sec-WebSocket-Extensions". Which extensions to
//     accept is left to the caller.
//
// An HTTP/2 request (RFC 8441 §5) takes the place of the first seven
// checks with these: the method is CONNECT, else [ErrNotExtendedConnect]
// (405); the :protocol pseudo-header is "websocket", else
// [ErrBadConnectProtocol] (400); the authority (Host) is not empty, else
// 400; Sec-WebSocket-Version is "13", else [ErrBadVersion]. Upgrade,
// Connection and Sec-WebSocket-Key have no part in it and are not looked
// at. The checks from Origin on are the same.
func Check(r *Request, opts *ServerOptions) (subprotocol string, err error) {
	var o ServerOptions
	if opts != nil {
		o = *opts
	}
	if r.protoMajor >= 2 {
		if err := checkExtendedConnect(r); err != nil {
			return "", err
		}
	} else {
		switch {
		case string(r.Method) != "GET":
			return "", ErrBadMethod
		case r.protoMajor < 1 || r.protoMajor == 1 && r.protoMinor < 1:
			return "", errHTTPVersion
		case r.nHost != 1 || len(r.Host) == 0:
			return "", errHost
		case !r.upgrade:
			return "", ErrNotWebSocket
		case !r.connection:
			return "", errConnection
		case r.nVersion != 1 || string(r.Version) != "13":
			return "", ErrBadVersion
		case r.nKey != 1 || !validKey(r.Key):
			return "", ErrBadKey
		}
	}
	if !o.InsecureSkipOriginCheck && r.nOrigin > 0 {
		if r.nOrigin > 1 || !originAllowed(r.Origin, r.Host, o.OriginPatterns) {
			return "", ErrBadOrigin
		}
	}
	for _, p := range r.Protocols {
		if !isToken(p) {
			return "", errProtocol
		}
	}
	if err := scanExtensions(r.Extensions, nil); err != nil {
		return "", err
	}
	return selectSubprotocol(o.Subprotocols, r.Protocols), nil
}

// checkExtendedConnect is Check's first part for an HTTP/2 request.
func checkExtendedConnect(r *Request) error {
	switch {
	case string(r.Method) != "CONNECT":
		return ErrNotExtendedConnect
	case !equalFold(r.Protocol, "websocket"): // RFC 9110 §7.8: compared without case
		return ErrBadConnectProtocol
	case r.nHost != 1 || len(r.Host) == 0:
		return errHost
	case r.nVersion != 1 || string(r.Version) != "13":
		return ErrBadVersion
	}
	return nil
}

// selectSubprotocol returns the first of the server's subprotocols that the
// client offered.
func selectSubprotocol(server []string, client [][]byte) string {
	for _, s := range server {
		for _, c := range client {
			if string(c) == s {
				return s
			}
		}
	}
	return ""
}

// originAllowed reports whether a browser request from origin may reach a
// server addressed as host.
func originAllowed(origin, host []byte, patterns []string) bool {
	oh, ok := originHost(origin)
	if !ok {
		return false
	}
	if equalFold(oh, host) {
		return true
	}
	if len(patterns) == 0 {
		return false
	}
	h := strings.ToLower(string(oh))
	for _, p := range patterns {
		if ok, err := path.Match(strings.ToLower(p), h); ok && err == nil {
			return true
		}
	}
	return false
}

// originHost returns the host[:port] of a serialized origin,
// scheme "://" host [ ":" port ] (RFC 6454 §6.2). A trailing path, query or
// fragment is tolerated and ignored. The opaque origin "null", and anything
// else without a scheme and a host, has none.
func originHost(origin []byte) ([]byte, bool) {
	i := bytes.Index(origin, []byte("://"))
	if i <= 0 || !validScheme(origin[:i]) {
		return nil, false
	}
	host := origin[i+3:]
	if j := bytes.IndexAny(host, "/?#"); j >= 0 {
		host = host[:j]
	}
	if len(host) == 0 {
		return nil, false
	}
	for _, c := range host {
		// Userinfo has no place in an origin; whitespace and controls
		// have no place in a host.
		if c == '@' || c <= ' ' || c >= 0x7f {
			return nil, false
		}
	}
	return host, true
}

// validScheme reports whether s is ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
// (RFC 3986 §3.1).
func validScheme(s []byte) bool {
	for i, c := range s {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && (isDigit(c) || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return len(s) > 0
}
