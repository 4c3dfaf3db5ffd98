package handshake

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// DefaultMaxHeaderBytes is the limit on the size of a request head (request
// line, header lines and the blank line that ends them, line endings
// included) that [Request.ReadRequest] applies when given 0. 16 KiB holds
// a browser's upgrade request with a generous cookie jar; servers that need
// more pass a larger limit.
const DefaultMaxHeaderBytes = 16 << 10

// Request is the part of an HTTP upgrade request the handshake needs.
//
// The byte-slice fields alias r's own buffer: they stay valid until r is
// filled again by [Request.ReadRequest] or [Request.FromHTTP] or cleared by
// [Request.Reset]; copy what must outlive that. A zero Request is ready to
// use. Reusing one (from a sync.Pool, say) makes ReadRequest free of
// allocations once its buffers have grown to the size of the requests seen.
//
// A Request is filled as it is found on the wire and not validated beyond
// the HTTP syntax; [Check] decides whether it is an acceptable WebSocket
// handshake.
type Request struct {
	Method  []byte // request method, case-sensitive (RFC 9110 §9.1)
	URI     []byte // request-target as sent (RFC 9112 §3.2)
	Host    []byte // Host header (the last one, if repeated)
	Key     []byte // Sec-WebSocket-Key (the last one, if repeated)
	Version []byte // Sec-WebSocket-Version (the last one, if repeated)
	Origin  []byte // Origin (the last one, if repeated)

	// Protocol is the :protocol pseudo-header of an HTTP/2 extended
	// CONNECT request (RFC 8441 §4), as [Request.FromHTTP] finds it in a
	// request net/http received; empty for HTTP/1.x.
	Protocol []byte

	// Protocols holds the Sec-WebSocket-Protocol elements in the order the
	// client sent them, over all header lines, with empty list elements
	// dropped.
	Protocols [][]byte

	// Extensions holds all Sec-WebSocket-Extensions values joined with
	// ", ", as sent; parse it with [ParseExtensions].
	Extensions []byte

	buf []byte // request head, or the values copied by FromHTTP
	ext []byte // Extensions when it spans several header lines

	protoMajor, protoMinor int

	upgrade    bool // Upgrade holds "websocket"
	connection bool // Connection holds "upgrade"

	// Header counts, for the fields that must appear exactly once.
	nHost, nKey, nVersion, nOrigin, nExt int
}

// Reset clears r, keeping its buffers for reuse.
func (r *Request) Reset() {
	*r = Request{
		Protocols: r.Protocols[:0],
		buf:       r.buf[:0],
		ext:       r.ext[:0],
	}
}

// ReadRequest reads an HTTP/1.x request head from br, up to and including
// the blank line that ends it, and fills r from it. It reads nothing beyond
// the head: a request body, or WebSocket frames the client sent early, stay
// in br.
//
// maxHeader bounds the whole head in bytes, line endings included; 0 or less
// means [DefaultMaxHeaderBytes]. Header lines of any length up to that bound
// are read, whatever the size of br's buffer. Header names compare without
// regard to case, values are trimmed of whitespace, and unknown headers are
// skipped (but count toward the limit). Lines may end in CRLF or a bare LF
// (RFC 9112 §2.2).
//
// Errors:
//   - [ErrHeaderTooLarge] (431) when the head exceeds maxHeader;
//   - an [*Error] with Status 400 for a malformed request line or header
//     line, including obsolete line folding (RFC 9112 §5.2);
//   - an error wrapping io.EOF if br ended before any byte of a request,
//     io.ErrUnexpectedEOF if it ended inside one, or whatever error br's
//     reader returned.
//
// On error, r holds whatever had been read and must not be passed to
// Check. Whether the request is an acceptable WebSocket handshake is
// [Check]'s business, not ReadRequest's: a well-formed POST reads without
// error.
func (r *Request) ReadRequest(br *bufio.Reader, maxHeader int) error {
	r.Reset()
	if maxHeader <= 0 {
		maxHeader = DefaultMaxHeaderBytes
	}
	line, err := r.readLine(br, maxHeader)
	if err != nil {
		return err
	}
	if err := r.parseRequestLine(line); err != nil {
		return err
	}
	for {
		line, err := r.readLine(br, maxHeader)
		if err != nil {
			return err
		}
		if len(line) == 0 {
			return nil
		}
		if err := r.parseHeaderLine(line); err != nil {
			return err
		}
	}
}

// readLine appends the next line from br to r.buf and returns it without its
// line ending. The line may span several of br's buffers.
func (r *Request) readLine(br *bufio.Reader, max int) ([]byte, error) {
	start := len(r.buf)
	for {
		frag, err := br.ReadSlice('\n')
		if len(frag) > max-len(r.buf) {
			return nil, ErrHeaderTooLarge
		}
		r.buf = append(r.buf, frag...)
		switch {
		case err == nil:
			line := r.buf[start : len(r.buf)-1]
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
			return line, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if len(r.buf) == 0 {
				return nil, fmt.Errorf("handshake: reading request: %w", io.EOF)
			}
			return nil, fmt.Errorf("handshake: reading request: %w", io.ErrUnexpectedEOF)
		default:
			return nil, fmt.Errorf("handshake: reading request: %w", err)
		}
	}
}

// parseRequestLine parses method SP request-target SP HTTP-version
// (RFC 9112 §3).
func (r *Request) parseRequestLine(line []byte) error {
	i := bytes.IndexByte(line, ' ')
	if i < 0 {
		return errRequestLine
	}
	method, rest := line[:i], line[i+1:]
	j := bytes.IndexByte(rest, ' ')
	if j < 0 {
		return errRequestLine
	}
	uri, proto := rest[:j], rest[j+1:]
	if !isToken(method) || !validTarget(uri) {
		return errRequestLine
	}
	major, minor, ok := parseHTTPVersion(proto)
	if !ok {
		return errRequestLine
	}
	r.Method, r.URI = clip(method), clip(uri)
	r.protoMajor, r.protoMinor = major, minor
	return nil
}

// validTarget reports whether s is a non-empty run of visible ASCII, which
// every form of request-target is (RFC 9112 §3.2).
func validTarget(s []byte) bool {
	if len(s) == 0 {
		return false
	}
	for _, c := range s {
		if c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

// parseHTTPVersion parses "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3).
func parseHTTPVersion(s []byte) (major, minor int, ok bool) {
	if len(s) != len("HTTP/1.1") || string(s[:5]) != "HTTP/" || s[6] != '.' {
		return 0, 0, false
	}
	if !isDigit(s[5]) || !isDigit(s[7]) {
		return 0, 0, false
	}
	return int(s[5] - '0'), int(s[7] - '0'), true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// parseHeaderLine parses field-name ":" OWS field-value OWS (RFC 9112 §5).
func (r *Request) parseHeaderLine(line []byte) error {
	if isOWS(line[0]) {
		// Obsolete line folding, or whitespace between the request line
		// and the first header; both may be rejected (RFC 9112 §2.2, §5.2).
		return errFolding
	}
	// field-name is a token, and no whitespace is allowed between it and
	// the colon (RFC 9112 §5.1).
	i := skipToken(line, 0)
	if i == 0 || i == len(line) || line[i] != ':' {
		return errHeaderLine
	}
	name, value := line[:i], trimOWS(line[i+1:])
	if !validFieldValue(value) {
		return errHeaderLine
	}
	r.add(lookupField(name), value)
	return nil
}

// field identifies the header fields the handshake reads.
type field uint8

const (
	fieldOther field = iota
	fieldHost
	fieldUpgrade
	fieldConnection
	fieldOrigin
	fieldKey
	fieldVersion
	fieldProtocol
	fieldExtensions
)

// lookupField maps a header name, in any case, to its field.
func lookupField(name []byte) field {
	var f field
	var want string
	switch len(name) {
	case len(hdrHost):
		f, want = fieldHost, hdrHost
	case len(hdrOrigin):
		f, want = fieldOrigin, hdrOrigin
	case len(hdrUpgrade):
		f, want = fieldUpgrade, hdrUpgrade
	case len(hdrConnection):
		f, want = fieldConnection, hdrConnection
	case len(hdrKey):
		f, want = fieldKey, hdrKey
	case len(hdrVersion):
		f, want = fieldVersion, hdrVersion
	case len(hdrProtocol):
		f, want = fieldProtocol, hdrProtocol
	case len(hdrExtensions):
		f, want = fieldExtensions, hdrExtensions
	default:
		return fieldOther
	}
	if !equalFold(name, want) {
		return fieldOther
	}
	return f
}

// add records one header value. Both ReadRequest and FromHTTP go through it,
// so the two paths feed Check the same facts.
func (r *Request) add(f field, v []byte) {
	v = clip(v)
	switch f {
	case fieldHost:
		r.nHost++
		r.Host = v
	case fieldUpgrade:
		r.upgrade = r.upgrade || hasToken(v, "websocket")
	case fieldConnection:
		r.connection = r.connection || hasToken(v, "upgrade")
	case fieldOrigin:
		r.nOrigin++
		r.Origin = v
	case fieldKey:
		r.nKey++
		r.Key = v
	case fieldVersion:
		r.nVersion++
		r.Version = v
	case fieldProtocol:
		for len(v) > 0 {
			var p []byte
			p, v = nextElement(v)
			if len(p) > 0 {
				r.Protocols = append(r.Protocols, clip(p))
			}
		}
	case fieldExtensions:
		// Repeated lines are one comma-separated list (RFC 9110 §5.3).
		r.nExt++
		switch r.nExt {
		case 1:
			r.Extensions = v
		case 2:
			r.ext = append(r.ext[:0], r.Extensions...)
			fallthrough
		default:
			r.ext = append(r.ext, ", "...)
			r.ext = append(r.ext, v...)
			r.Extensions = r.ext
		}
	}
}

// FromHTTP fills r from a request received by net/http, copying the values
// the handshake needs into r's buffer, so that a handler can validate it
// with [Check] like a request read by [Request.ReadRequest].
//
// net/http has already parsed and partly validated the request: it moves
// Host out of the header map (rejecting a repeated one) and folds header
// names to canonical case; FromHTTP looks headers up under those canonical
// names. For requests made by a client rather than read
// by a server, the request-target is taken from hr.URL when
// hr.RequestURI is empty.
func (r *Request) FromHTTP(hr *http.Request) {
	r.Reset()
	r.Method = r.save(hr.Method)
	uri := hr.RequestURI
	if uri == "" && hr.URL != nil {
		uri = hr.URL.RequestURI()
	}
	r.URI = r.save(uri)
	r.protoMajor, r.protoMinor = hr.ProtoMajor, hr.ProtoMinor
	if hr.Host != "" {
		r.add(fieldHost, r.save(hr.Host))
	}
	// net/http's HTTP/2 server passes :protocol on in the header map,
	// under its own name (a name no HTTP/1.x header can have).
	if p := hr.Header[":protocol"]; len(p) > 0 {
		r.Protocol = r.save(p[0])
	}
	// The keys are in the canonical form net/http stores them in
	// (textproto.CanonicalMIMEHeaderKey), so the lookups do not allocate.
	for _, h := range [...]struct {
		f    field
		name string
	}{
		{fieldUpgrade, "Upgrade"},
		{fieldConnection, "Connection"},
		{fieldOrigin, "Origin"},
		{fieldKey, "Sec-Websocket-Key"},
		{fieldVersion, "Sec-Websocket-Version"},
		{fieldProtocol, "Sec-Websocket-Protocol"},
		{fieldExtensions, "Sec-Websocket-Extensions"},
	} {
		for _, v := range hr.Header[h.name] {
			r.add(h.f, trimOWS(r.save(v)))
		}
	}
}

// save copies s to the end of r.buf and returns the copy.
func (r *Request) save(s string) []byte {
	start := len(r.buf)
	r.buf = append(r.buf, s...)
	return clip(r.buf[start:])
}

// clip limits the capacity of a slice of r.buf to its length, so that a
// caller appending to a field cannot overwrite the bytes after it.
func clip(b []byte) []byte { return b[:len(b):len(b)] }
