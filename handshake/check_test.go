package handshake

import (
	"bufio"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// outcome is what Check made of a request, in a form both paths can be
// compared by.
type outcome struct {
	Subprotocol string
	Status      int // 0 when accepted
	Header      string
	Reason      string
}

func outcomeOf(t *testing.T, sub string, err error) outcome {
	t.Helper()
	if err == nil {
		return outcome{Subprotocol: sub}
	}
	var e *Error
	require.True(t, errors.As(err, &e), "Check returned %T %v, want *Error", err, err)
	assert.Empty(t, sub)
	return outcome{Status: e.Status, Header: e.Header, Reason: e.Reason}
}

func checkRaw(t *testing.T, raw string, opts *ServerOptions) (outcome, error) {
	t.Helper()
	var r Request
	require.NoError(t, r.ReadRequest(bufio.NewReader(strings.NewReader(raw)), 0))
	sub, err := Check(&r, opts)
	return outcomeOf(t, sub, err), err
}

// checkHTTP reads raw with net/http and checks it through FromHTTP. ok is
// false if net/http refused the request itself.
func checkHTTP(t *testing.T, raw string, opts *ServerOptions) (o outcome, ok bool) {
	t.Helper()
	hr, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		return outcome{}, false
	}
	var r Request
	r.FromHTTP(hr)
	sub, err := Check(&r, opts)
	return outcomeOf(t, sub, err), true
}

func TestCheck(t *testing.T) {
	const (
		hostErr = "Host"
		keyErr  = "Sec-WebSocket-Key"
		verErr  = "Sec-WebSocket-Version"
		orgErr  = "Origin"
	)
	patterns := &ServerOptions{OriginPatterns: []string{"*.example.com", "localhost:*"}}
	tests := []struct {
		name   string
		raw    string
		opts   *ServerOptions
		sub    string
		status int // 0: accepted
		header string
		is     error // sentinel the error must match, if any
		// netHTTPRejects marks requests http.ReadRequest refuses itself,
		// so no handler could see them.
		netHTTPRejects bool
	}{
		{name: "good", raw: upgrade(nil)},
		{name: "browser request", raw: chromeRequest, opts: &ServerOptions{Subprotocols: []string{"superchat"}}, sub: "superchat"},

		{name: "method POST", raw: strings.Replace(upgrade(nil), "GET", "POST", 1), status: 405, is: ErrBadMethod},
		{name: "method lower-case get", raw: strings.Replace(upgrade(nil), "GET", "get", 1), status: 405, is: ErrBadMethod},
		{name: "HTTP/1.0", raw: strings.Replace(upgrade(nil), "HTTP/1.1", "HTTP/1.0", 1), status: 400},

		{name: "missing Host", raw: upgrade(without("Host")), status: 400, header: hostErr},
		{name: "empty Host", raw: upgrade(without("Host"), "Host:"), status: 400, header: hostErr},
		{name: "duplicated Host", raw: upgrade(nil, "Host: other.example.com"), status: 400, header: hostErr, netHTTPRejects: true},

		{name: "missing Upgrade", raw: upgrade(without("Upgrade")), status: 426, header: "Upgrade", is: ErrNotWebSocket},
		{name: "Upgrade h2c", raw: upgrade(without("Upgrade"), "Upgrade: h2c"), status: 426, header: "Upgrade", is: ErrNotWebSocket},
		{name: "Upgrade websocket/13 is another protocol", raw: upgrade(without("Upgrade"), "Upgrade: websocket/13"), status: 426, header: "Upgrade"},
		{name: "Upgrade in a list, any case", raw: upgrade(without("Upgrade"), "Upgrade: h2c, WebSocket")},
		{name: "Upgrade over repeated lines", raw: upgrade(without("Upgrade"), "Upgrade: h2c", "upgrade: websocket")},
		{name: "upgrade header name in odd case", raw: upgrade(without("Upgrade"), "UPGRADE: websocket")},

		{name: "missing Connection", raw: upgrade(without("Connection")), status: 400, header: "Connection"},
		{name: "Connection keep-alive only", raw: upgrade(without("Connection"), "Connection: keep-alive"), status: 400, header: "Connection"},
		{name: "Connection list keep-alive, Upgrade", raw: upgrade(without("Connection"), "Connection: keep-alive, Upgrade")},
		{name: "Connection over repeated lines", raw: upgrade(without("Connection"), "Connection: keep-alive", "Connection: upgrade")},
		{name: "Connection with empty elements", raw: upgrade(without("Connection"), "Connection: , ,upgrade,")},

		{name: "missing key", raw: upgrade(without("Sec-WebSocket-Key")), status: 400, header: keyErr, is: ErrBadKey},
		{name: "key of 15 bytes", raw: upgrade(without("Sec-WebSocket-Key"), "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAA"), status: 400, header: keyErr, is: ErrBadKey},
		{name: "key of 17 bytes", raw: upgrade(without("Sec-WebSocket-Key"), "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAA="), status: 400, header: keyErr, is: ErrBadKey},
		{name: "key not base64", raw: upgrade(without("Sec-WebSocket-Key"), "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ!!"), status: 400, header: keyErr, is: ErrBadKey},
		{name: "empty key", raw: upgrade(without("Sec-WebSocket-Key"), "Sec-WebSocket-Key:"), status: 400, header: keyErr, is: ErrBadKey},
		{name: "duplicated key", raw: upgrade(nil, "Sec-WebSocket-Key: "+rfcKey), status: 400, header: keyErr, is: ErrBadKey},

		{name: "version 8", raw: upgrade(without("Sec-WebSocket-Version"), "Sec-WebSocket-Version: 8"), status: 426, header: verErr, is: ErrBadVersion},
		{name: "missing version", raw: upgrade(without("Sec-WebSocket-Version")), status: 426, header: verErr, is: ErrBadVersion},
		{name: "duplicated version", raw: upgrade(nil, "Sec-WebSocket-Version: 13"), status: 426, header: verErr, is: ErrBadVersion},
		{name: "version list", raw: upgrade(without("Sec-WebSocket-Version"), "Sec-WebSocket-Version: 13, 8"), status: 426, header: verErr, is: ErrBadVersion},
		{name: "bad version reported before bad key", raw: upgrade(without("Sec-WebSocket-Version", "Sec-WebSocket-Key"), "Sec-WebSocket-Version: 8"), status: 426, header: verErr},

		{name: "no origin", raw: upgrade(nil)},
		{name: "same origin", raw: upgrade(nil, "Origin: https://server.example.com")},
		{name: "same origin, other case", raw: upgrade(nil, "Origin: HTTPS://Server.Example.COM")},
		{name: "same origin with a trailing slash", raw: upgrade(nil, "Origin: https://server.example.com/")},
		{name: "same host, other port", raw: upgrade(nil, "Origin: https://server.example.com:8443"), status: 403, header: orgErr, is: ErrBadOrigin},
		{name: "bad origin", raw: upgrade(nil, "Origin: https://evil.example.net"), status: 403, header: orgErr, is: ErrBadOrigin},
		{name: "origin matching a pattern", raw: upgrade(nil, "Origin: https://app.example.com"), opts: patterns},
		{name: "origin matching a pattern, other case", raw: upgrade(nil, "Origin: https://APP.Example.com"), opts: patterns},
		{name: "origin matching a port pattern", raw: upgrade(nil, "Origin: http://localhost:3000"), opts: patterns},
		{name: "origin matching no pattern", raw: upgrade(nil, "Origin: https://example.com.evil.net"), opts: patterns, status: 403, header: orgErr, is: ErrBadOrigin},
		{name: "origin null", raw: upgrade(nil, "Origin: null"), opts: patterns, status: 403, header: orgErr, is: ErrBadOrigin},
		{name: "origin without scheme", raw: upgrade(nil, "Origin: server.example.com"), status: 403, header: orgErr, is: ErrBadOrigin},
		{name: "origin with userinfo", raw: upgrade(nil, "Origin: https://evil@server.example.com"), status: 403, header: orgErr, is: ErrBadOrigin},
		{name: "origin with empty host", raw: upgrade(nil, "Origin: https://"), status: 403, header: orgErr, is: ErrBadOrigin},
		{name: "repeated origin", raw: upgrade(nil, "Origin: https://server.example.com", "Origin: https://server.example.com"), status: 403, header: orgErr, is: ErrBadOrigin},
		{name: "bad origin, check skipped", raw: upgrade(nil, "Origin: null"), opts: &ServerOptions{InsecureSkipOriginCheck: true}},
		{name: "malformed pattern matches nothing", raw: upgrade(nil, "Origin: https://app.example.com"), opts: &ServerOptions{OriginPatterns: []string{"[*.example.com"}}, status: 403, header: orgErr},

		{name: "subprotocol in server order", raw: upgrade(nil, "Sec-WebSocket-Protocol: a, b, c"), opts: &ServerOptions{Subprotocols: []string{"x", "c", "b"}}, sub: "c"},
		{name: "subprotocol over repeated lines", raw: upgrade(nil, "Sec-WebSocket-Protocol: a", "Sec-WebSocket-Protocol: b"), opts: &ServerOptions{Subprotocols: []string{"b"}}, sub: "b"},
		{name: "subprotocol none in common", raw: upgrade(nil, "Sec-WebSocket-Protocol: a, b"), opts: &ServerOptions{Subprotocols: []string{"c"}}},
		{name: "subprotocol not offered", raw: upgrade(nil), opts: &ServerOptions{Subprotocols: []string{"c"}}},
		{name: "subprotocol compared case-sensitively", raw: upgrade(nil, "Sec-WebSocket-Protocol: Chat"), opts: &ServerOptions{Subprotocols: []string{"chat"}}},
		{name: "subprotocol not a token", raw: upgrade(nil, "Sec-WebSocket-Protocol: chat, a b"), status: 400, header: "Sec-WebSocket-Protocol"},

		{name: "extensions over repeated lines", raw: upgrade(nil, "Sec-WebSocket-Extensions: permessage-deflate", "Sec-WebSocket-Extensions: x-foo; a=1")},
		{name: "extensions malformed", raw: upgrade(nil, "Sec-WebSocket-Extensions: permessage-deflate;"), status: 400, header: "Sec-WebSocket-Extensions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := checkRaw(t, tt.raw, tt.opts)
			assert.Equal(t, tt.sub, got.Subprotocol)
			assert.Equal(t, tt.status, got.Status, "status; error: %v", err)
			assert.Equal(t, tt.header, got.Header, "header; error: %v", err)
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
			if err != nil {
				assert.True(t, strings.HasPrefix(err.Error(), "handshake: "), err.Error())
			}

			viaHTTP, ok := checkHTTP(t, tt.raw, tt.opts)
			if tt.netHTTPRejects {
				assert.False(t, ok, "http.ReadRequest accepted the request")
				return
			}
			require.True(t, ok, "http.ReadRequest refused the request")
			assert.Equal(t, got, viaHTTP, "FromHTTP and ReadRequest disagree")
		})
	}
}

func TestCheckNilOptions(t *testing.T) {
	var r Request
	require.NoError(t, r.ReadRequest(bufio.NewReader(strings.NewReader(chromeRequest)), 0))
	sub, err := Check(&r, nil)
	require.NoError(t, err)
	assert.Empty(t, sub)
}

func TestCheckZeroRequest(t *testing.T) {
	_, err := Check(&Request{}, nil)
	assert.ErrorIs(t, err, ErrBadMethod)
}

func TestCheckAllocs(t *testing.T) {
	var r Request
	require.NoError(t, r.ReadRequest(bufio.NewReader(strings.NewReader(chromeRequest)), 0))
	opts := &ServerOptions{Subprotocols: []string{"superchat", "chat"}}
	var sub string
	var err error
	allocs := testing.AllocsPerRun(100, func() {
		sub, err = Check(&r, opts)
	})
	require.NoError(t, err)
	assert.Equal(t, "superchat", sub)
	assert.Zero(t, allocs)
}

func TestErrorIs(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		target error
		want   bool
	}{
		{"same value", ErrBadVersion, ErrBadVersion, true},
		{"equal fields", &Error{Status: 426, Header: "Sec-WebSocket-Version", Reason: "must appear once with value 13"}, ErrBadVersion, true},
		{"wrapped", errors.Join(errors.New("ctx"), ErrBadKey), ErrBadKey, true},
		{"other sentinel", ErrBadKey, ErrBadVersion, false},
		{"other status", &Error{Status: 400, Header: ErrBadVersion.Header, Reason: ErrBadVersion.Reason}, ErrBadVersion, false},
		{"not an *Error", errors.New("x"), ErrBadKey, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, errors.Is(tt.err, tt.target))
		})
	}
}

func TestErrorMessage(t *testing.T) {
	assert.Equal(t, "handshake: request head too large", ErrHeaderTooLarge.Error())
	assert.Equal(t, "handshake: Sec-WebSocket-Version header: must appear once with value 13", ErrBadVersion.Error())
}
