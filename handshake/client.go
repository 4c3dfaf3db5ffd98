package handshake

import (
	"bufio"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// ClientOptions configures [WriteRequest] and [CheckResponse]; pass the
// same value to both. A nil *ClientOptions means the zero value.
type ClientOptions struct {
	// Origin, if not empty, is sent as the Origin header, as a browser
	// would (RFC 6455 §4.1 item 8, RFC 6454).
	Origin string

	// Host, if not empty, is sent as the Host header instead of the URL's
	// host, as for a server known by another name than the one dialed.
	Host string

	// Subprotocols are offered in Sec-WebSocket-Protocol, most preferred
	// first (RFC 6455 §4.1 item 10). Each must be a token.
	Subprotocols []string

	// Extensions are offered in Sec-WebSocket-Extensions (RFC 6455 §4.1
	// item 11, §9.1). Names and values must be tokens.
	Extensions []Extension

	// Header holds extra request headers. It may not name a header that
	// the handshake sets itself (Host, Upgrade, Connection, Origin and the
	// Sec-WebSocket-* fields).
	Header http.Header
}

// ConnectHeader returns the header fields of an HTTP/2 extended CONNECT
// request that opens a WebSocket (RFC 8441 §5): Sec-WebSocket-Version 13,
// Origin, Sec-WebSocket-Protocol and Sec-WebSocket-Extensions from opts,
// and opts.Header. The request itself (method CONNECT, the :protocol
// pseudo-header "websocket", the https URL) is the HTTP/2 client's to
// make; opts.Host, if set, is its authority. The checks on opts are
// [WriteRequest]'s.
func ConnectHeader(opts *ClientOptions) (http.Header, error) {
	var o ClientOptions
	if opts != nil {
		o = *opts
	}
	if !validFieldValue(o.Origin) {
		return nil, fmt.Errorf("handshake: origin %q holds a control character", o.Origin)
	}
	for _, p := range o.Subprotocols {
		if !isToken(p) {
			return nil, fmt.Errorf("handshake: subprotocol %q is not a token", p)
		}
	}
	if !validExtensions(o.Extensions) {
		return nil, errors.New("handshake: extension names and parameters must be tokens")
	}
	if err := checkExtra(o.Header, requestHeaders[:]); err != nil {
		return nil, err
	}
	h := o.Header.Clone()
	if h == nil {
		h = make(http.Header, 4)
	}
	h.Set(hdrVersion, "13")
	if o.Origin != "" {
		h.Set(hdrOrigin, o.Origin)
	}
	if len(o.Subprotocols) > 0 {
		h.Set(hdrProtocol, strings.Join(o.Subprotocols, ", "))
	}
	if len(o.Extensions) > 0 {
		h.Set(hdrExtensions, string(AppendExtensions(nil, o.Extensions)))
	}
	return h, nil
}

// requestHeaders are the fields WriteRequest writes itself.
var requestHeaders = [...]string{hdrHost, hdrUpgrade, hdrConnection, hdrOrigin, hdrKey, hdrVersion, hdrProtocol, hdrExtensions}

// WriteRequest writes the client's opening handshake (RFC 6455 §4.1) for u,
// a ws:// or wss:// URL, to bw:
//
//	GET <u.RequestURI()> HTTP/1.1
//	Host: <opts.Host, or u.Host>
//	Upgrade: websocket
//	Connection: Upgrade
//	Sec-WebSocket-Key: <key>
//	Sec-WebSocket-Version: 13
//	Origin: <opts.Origin>                      (if set)
//	Sec-WebSocket-Protocol: <opts.Subprotocols, comma-separated> (if any)
//	Sec-WebSocket-Extensions: <opts.Extensions> (if any)
//	<opts.Header, sorted by name>
//
// key comes from [NewKey]. opts.Header is written by
// [net/http.Header.Write], which drops invalid field names and turns line
// breaks in values into spaces. The fragment of u, meaningless for WebSocket
// (RFC 6455 §3), is not sent; neither is its userinfo. Connecting (and TLS
// for wss) is the caller's business, as is reading the response.
//
// WriteRequest returns an error, having written nothing, if u's scheme is
// not ws or wss, u has no host, key is not a valid key, or opts holds
// something that cannot be sent (a subprotocol or extension that is not a
// token, an Origin with control characters, a Header naming one of the
// handshake's own headers). It does not flush bw.
func WriteRequest(bw *bufio.Writer, u *url.URL, key string, opts *ClientOptions) error {
	var o ClientOptions
	if opts != nil {
		o = *opts
	}
	if u == nil {
		return errors.New("handshake: nil URL")
	}
	if !strings.EqualFold(u.Scheme, "ws") && !strings.EqualFold(u.Scheme, "wss") {
		return fmt.Errorf("handshake: URL scheme %q is not ws or wss", u.Scheme)
	}
	if u.Host == "" || !validTarget([]byte(u.Host)) {
		return fmt.Errorf("handshake: URL has no valid host: %q", u.Host)
	}
	target := u.RequestURI()
	if !validTarget([]byte(target)) {
		return fmt.Errorf("handshake: URL has an invalid request target %q", target)
	}
	host := u.Host
	if o.Host != "" {
		host = o.Host
	}
	if !validTarget([]byte(host)) {
		return fmt.Errorf("handshake: invalid Host %q", host)
	}
	if !validKey(key) {
		return fmt.Errorf("handshake: key %q is not the base64 encoding of 16 bytes", key)
	}
	if !validFieldValue(o.Origin) {
		return fmt.Errorf("handshake: origin %q holds a control character", o.Origin)
	}
	for _, p := range o.Subprotocols {
		if !isToken(p) {
			return fmt.Errorf("handshake: subprotocol %q is not a token", p)
		}
	}
	if !validExtensions(o.Extensions) {
		return errors.New("handshake: extension names and parameters must be tokens")
	}
	if err := checkExtra(o.Header, requestHeaders[:]); err != nil {
		return err
	}

	b := bw.AvailableBuffer()
	b = append(b, "GET "...)
	b = append(b, target...)
	b = append(b, " HTTP/1.1\r\n"...)
	b = appendField(b, hdrHost, host)
	b = append(b, "Upgrade: websocket\r\nConnection: Upgrade\r\n"...)
	b = appendField(b, hdrKey, key)
	b = append(b, "Sec-WebSocket-Version: 13\r\n"...)
	if o.Origin != "" {
		b = appendField(b, hdrOrigin, o.Origin)
	}
	if len(o.Subprotocols) > 0 {
		b = appendField(b, hdrProtocol, strings.Join(o.Subprotocols, ", "))
	}
	if len(o.Extensions) > 0 {
		b = appendField(b, hdrExtensions, string(AppendExtensions(nil, o.Extensions)))
	}
	if _, err := bw.Write(b); err != nil {
		return err
	}
	if err := o.Header.Write(bw); err != nil {
		return err
	}
	_, err := bw.WriteString("\r\n")
	return err
}

// CheckResponse validates the server's response to a handshake written by
// [WriteRequest] with the same key and opts, as RFC 6455 §4.1 asks of the
// client, and returns the subprotocol the server selected ("" for none) and
// the extensions it accepted, parsed.
//
// The checks, in order, each failing with an [*Error] naming the header at
// fault:
//   - the status is 101; otherwise the Error's Status is the one received;
//   - Upgrade holds "websocket" and Connection holds "Upgrade",
//     case-insensitively;
//   - Sec-WebSocket-Accept appears once and equals AcceptKey(key);
//   - Sec-WebSocket-Protocol, if present and not empty, appears once and is
//     one of opts.Subprotocols;
//   - Sec-WebSocket-Extensions, if present, parses and names only
//     extensions in opts.Extensions.
//
// Past these checks the errors have Status 101, the status received.
// Whether the accepted parameters suit the client is for the caller to
// decide. CheckResponse does not read or close resp.Body.
func CheckResponse(resp *http.Response, key string, opts *ClientOptions) (subprotocol string, exts []Extension, err error) {
	var o ClientOptions
	if opts != nil {
		o = *opts
	}
	if resp == nil {
		return "", nil, errors.New("handshake: nil response")
	}
	status := resp.StatusCode
	if status != http.StatusSwitchingProtocols {
		text := resp.Status
		if text == "" {
			text = fmt.Sprintf("%d %s", status, http.StatusText(status))
		}
		return "", nil, &Error{Status: status, Reason: "unexpected response status " + text}
	}
	fail := func(header, reason string) (string, []Extension, error) {
		return "", nil, &Error{Status: status, Header: header, Reason: reason}
	}
	if !headerHasToken(resp.Header, hdrUpgrade, "websocket") {
		return fail(hdrUpgrade, `must contain "websocket"`)
	}
	if !headerHasToken(resp.Header, hdrConnection, "upgrade") {
		return fail(hdrConnection, `must contain "Upgrade"`)
	}
	if accept := resp.Header.Values(hdrAccept); len(accept) != 1 || trimOWS(accept[0]) != AcceptKey(key) {
		return fail(hdrAccept, "must appear once and match the key")
	}
	return checkAgreed(resp, &o)
}

// CheckConnectResponse validates the server's response to an HTTP/2
// extended CONNECT request (RFC 8441 §5) built from [ConnectHeader]: the
// status is 2xx, else an [*Error] with the status received; then
// Sec-WebSocket-Protocol and Sec-WebSocket-Extensions are checked as
// [CheckResponse] checks them. There is no key and no accept value on this
// path.
func CheckConnectResponse(resp *http.Response, opts *ClientOptions) (subprotocol string, exts []Extension, err error) {
	var o ClientOptions
	if opts != nil {
		o = *opts
	}
	if resp == nil {
		return "", nil, errors.New("handshake: nil response")
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		text := resp.Status
		if text == "" {
			text = fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
		}
		return "", nil, &Error{Status: resp.StatusCode, Reason: "unexpected response status " + text}
	}
	return checkAgreed(resp, &o)
}

// checkAgreed checks the subprotocol and the extensions a response agreed
// to against the offer.
func checkAgreed(resp *http.Response, o *ClientOptions) (subprotocol string, exts []Extension, err error) {
	status := resp.StatusCode
	fail := func(header, reason string) (string, []Extension, error) {
		return "", nil, &Error{Status: status, Header: header, Reason: reason}
	}
	switch protos := resp.Header.Values(hdrProtocol); len(protos) {
	case 0:
	case 1:
		subprotocol = trimOWS(protos[0])
		if subprotocol != "" && !slices.Contains(o.Subprotocols, subprotocol) {
			return fail(hdrProtocol, "server selected a subprotocol that was not offered")
		}
	default:
		return fail(hdrProtocol, "must appear at most once")
	}
	if vals := resp.Header.Values(hdrExtensions); len(vals) > 0 {
		exts, err = ParseExtensions([]byte(strings.Join(vals, ", ")))
		if err != nil {
			var e *Error
			errors.As(err, &e)
			return fail(hdrExtensions, e.Reason)
		}
		for _, x := range exts {
			if !slices.ContainsFunc(o.Extensions, func(offer Extension) bool { return offer.Name == x.Name }) {
				return fail(hdrExtensions, fmt.Sprintf("server accepted extension %q, which was not offered", x.Name))
			}
		}
	}
	return subprotocol, exts, nil
}

// headerHasToken reports whether any of h's lines named name holds token.
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		if hasToken(v, token) {
			return true
		}
	}
	return false
}
