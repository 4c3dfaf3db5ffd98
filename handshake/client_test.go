package handshake

import (
	"bufio"
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeRequest(t *testing.T, rawURL, key string, opts *ClientOptions) (string, error) {
	t.Helper()
	u, err := url.Parse(rawURL)
	require.NoError(t, err)
	var out bytes.Buffer
	bw := bufio.NewWriter(&out)
	err = WriteRequest(bw, u, key, opts)
	require.NoError(t, bw.Flush())
	return out.String(), err
}

func TestWriteRequest(t *testing.T) {
	opts := &ClientOptions{
		Origin:       "https://app.example.com",
		Subprotocols: []string{"chat", "superchat"},
		Extensions: []Extension{
			{Name: "permessage-deflate", Params: []Param{{Name: "client_max_window_bits"}}},
			{Name: "permessage-deflate"},
		},
		Header: http.Header{"Authorization": {"Bearer t"}, "X-Trace": {"1", "2"}},
	}
	tests := []struct {
		name   string
		url    string
		opts   *ClientOptions
		target string
		host   string
	}{
		{name: "no path", url: "ws://example.com", target: "/", host: "example.com"},
		{name: "path and query", url: "wss://example.com:8443/chat?room=1#frag", target: "/chat?room=1", host: "example.com:8443"},
		{name: "escaped path", url: "ws://example.com/a%20b", target: "/a%20b", host: "example.com"},
		{name: "IPv6 host", url: "ws://[::1]:9000/", target: "/", host: "[::1]:9000"},
		{name: "upper-case scheme", url: "WS://example.com/x", target: "/x", host: "example.com"},
		{name: "all options", url: "wss://server.example.com/chat", opts: opts, target: "/chat", host: "server.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := writeRequest(t, tt.url, rfcKey, tt.opts)
			require.NoError(t, err)

			hr, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
			require.NoError(t, err)
			assert.Equal(t, "GET", hr.Method)
			assert.Equal(t, tt.target, hr.RequestURI)
			assert.Equal(t, "HTTP/1.1", hr.Proto)
			assert.Equal(t, tt.host, hr.Host)
			assert.Equal(t, "websocket", hr.Header.Get("Upgrade"))
			assert.Equal(t, "Upgrade", hr.Header.Get("Connection"))
			assert.Equal(t, rfcKey, hr.Header.Get("Sec-WebSocket-Key"))
			assert.Equal(t, "13", hr.Header.Get("Sec-WebSocket-Version"))
			if tt.opts != nil {
				assert.Equal(t, tt.opts.Origin, hr.Header.Get("Origin"))
				assert.Equal(t, "chat, superchat", hr.Header.Get("Sec-WebSocket-Protocol"))
				assert.Equal(t, "permessage-deflate; client_max_window_bits, permessage-deflate", hr.Header.Get("Sec-WebSocket-Extensions"))
				assert.Equal(t, "Bearer t", hr.Header.Get("Authorization"))
				assert.Equal(t, []string{"1", "2"}, hr.Header.Values("X-Trace"))
			} else {
				for _, h := range []string{"Origin", "Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions"} {
					assert.Empty(t, hr.Header.Values(h), h)
				}
			}

			// The server side of this package accepts what the client
			// side writes.
			var r Request
			require.NoError(t, r.ReadRequest(bufio.NewReader(strings.NewReader(raw)), 0))
			_, err = Check(&r, &ServerOptions{OriginPatterns: []string{"*.example.com"}})
			require.NoError(t, err)
		})
	}
}

func TestWriteRequestErrors(t *testing.T) {
	tests := []struct {
		name string
		url  string
		key  string
		opts *ClientOptions
	}{
		{name: "http scheme", url: "http://example.com/"},
		{name: "https scheme", url: "https://example.com/"},
		{name: "no scheme", url: "//example.com/"},
		{name: "no host", url: "ws:///path"},
		{name: "opaque", url: "ws:example.com"},
		{name: "bad key", url: "ws://example.com/", key: "short"},
		{name: "key with CRLF", url: "ws://example.com/", key: "dGhlIHNhbXBsZSBub25j\r\nQ="},
		{name: "subprotocol not a token", url: "ws://example.com/", opts: &ClientOptions{Subprotocols: []string{"a b"}}},
		{name: "empty subprotocol", url: "ws://example.com/", opts: &ClientOptions{Subprotocols: []string{""}}},
		{name: "extension name not a token", url: "ws://example.com/", opts: &ClientOptions{Extensions: []Extension{{Name: "a,b"}}}},
		{name: "extension value not a token", url: "ws://example.com/", opts: &ClientOptions{Extensions: []Extension{{Name: "a", Params: []Param{{Name: "p", Value: "x y", HasValue: true}}}}}},
		{name: "origin with CRLF", url: "ws://example.com/", opts: &ClientOptions{Origin: "https://a\r\nX: y"}},
		{name: "header overrides key", url: "ws://example.com/", opts: &ClientOptions{Header: http.Header{"Sec-Websocket-Key": {rfcKey}}}},
		{name: "header overrides host, odd case", url: "ws://example.com/", opts: &ClientOptions{Header: http.Header{"host": {"evil"}}}},
		{name: "header overrides origin", url: "ws://example.com/", opts: &ClientOptions{Header: http.Header{"Origin": {"https://x"}}}},
		{name: "header overrides version", url: "ws://example.com/", opts: &ClientOptions{Header: http.Header{"Sec-WebSocket-Version": {"8"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := tt.key
			if key == "" {
				key = rfcKey
			}
			raw, err := writeRequest(t, tt.url, key, tt.opts)
			require.Error(t, err)
			assert.True(t, strings.HasPrefix(err.Error(), "handshake: "), err.Error())
			assert.Empty(t, raw, "nothing may be written on error")
		})
	}
	assert.Error(t, WriteRequest(bufio.NewWriter(&bytes.Buffer{}), nil, rfcKey, nil))
}

func TestCheckResponse(t *testing.T) {
	opts := &ClientOptions{
		Subprotocols: []string{"chat", "superchat"},
		Extensions:   []Extension{{Name: "permessage-deflate"}},
	}
	good := []string{
		"Upgrade: websocket",
		"Connection: Upgrade",
		"Sec-WebSocket-Accept: " + rfcAccept,
	}
	response := func(status string, headers ...string) string {
		return head("HTTP/1.1 "+status, headers...)
	}
	tests := []struct {
		name   string
		raw    string
		opts   *ClientOptions
		sub    string
		exts   []Extension
		status int // 0: accepted
		header string
	}{
		{name: "good, minimal", raw: response("101 Switching Protocols", good...)},
		{
			name: "good, subprotocol and extension",
			raw:  response("101 Switching Protocols", append(good, "Sec-WebSocket-Protocol: superchat", "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover")...),
			opts: opts, sub: "superchat",
			exts: []Extension{{Name: "permessage-deflate", Params: []Param{{Name: "server_no_context_takeover"}}}},
		},
		{name: "header values in odd case", raw: response("101 Switching Protocols", "upgrade: WebSocket", "connection: keep-alive, upgrade", "sec-websocket-accept: "+rfcAccept)},
		{name: "empty subprotocol header", raw: response("101 Switching Protocols", append(good, "Sec-WebSocket-Protocol:")...)},

		{name: "not 101", raw: response("404 Not Found", "Content-Length: 0"), status: 404},
		{name: "200", raw: response("200 OK", append(good, "Content-Length: 0")...), status: 200},
		{name: "426", raw: response("426 Upgrade Required", "Sec-WebSocket-Version: 13", "Content-Length: 0"), status: 426},
		{name: "missing Upgrade", raw: response("101 Switching Protocols", good[1:]...), status: 101, header: "Upgrade"},
		{name: "wrong Upgrade", raw: response("101 Switching Protocols", append([]string{"Upgrade: h2c"}, good[1:]...)...), status: 101, header: "Upgrade"},
		{name: "missing Connection", raw: response("101 Switching Protocols", good[0], good[2]), status: 101, header: "Connection"},
		{name: "wrong accept", raw: response("101 Switching Protocols", good[0], good[1], "Sec-WebSocket-Accept: "+AcceptKey("other")), status: 101, header: "Sec-WebSocket-Accept"},
		{name: "missing accept", raw: response("101 Switching Protocols", good[:2]...), status: 101, header: "Sec-WebSocket-Accept"},
		{name: "repeated accept", raw: response("101 Switching Protocols", append(good, good[2])...), status: 101, header: "Sec-WebSocket-Accept"},
		{name: "unoffered subprotocol", raw: response("101 Switching Protocols", append(good, "Sec-WebSocket-Protocol: other")...), opts: opts, status: 101, header: "Sec-WebSocket-Protocol"},
		{name: "subprotocol when none offered", raw: response("101 Switching Protocols", append(good, "Sec-WebSocket-Protocol: chat")...), status: 101, header: "Sec-WebSocket-Protocol"},
		{name: "subprotocol list", raw: response("101 Switching Protocols", append(good, "Sec-WebSocket-Protocol: chat, superchat")...), opts: opts, status: 101, header: "Sec-WebSocket-Protocol"},
		{name: "repeated subprotocol", raw: response("101 Switching Protocols", append(good, "Sec-WebSocket-Protocol: chat", "Sec-WebSocket-Protocol: chat")...), opts: opts, status: 101, header: "Sec-WebSocket-Protocol"},
		{name: "unoffered extension", raw: response("101 Switching Protocols", append(good, "Sec-WebSocket-Extensions: x-other")...), opts: opts, status: 101, header: "Sec-WebSocket-Extensions"},
		{name: "extension when none offered", raw: response("101 Switching Protocols", append(good, "Sec-WebSocket-Extensions: permessage-deflate")...), status: 101, header: "Sec-WebSocket-Extensions"},
		{name: "malformed extension", raw: response("101 Switching Protocols", append(good, "Sec-WebSocket-Extensions: permessage-deflate;")...), opts: opts, status: 101, header: "Sec-WebSocket-Extensions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(tt.raw)), nil)
			require.NoError(t, err)
			sub, exts, err := CheckResponse(resp, rfcKey, tt.opts)
			if tt.status == 0 {
				require.NoError(t, err)
				assert.Equal(t, tt.sub, sub)
				assert.Equal(t, tt.exts, exts)
				return
			}
			require.Error(t, err)
			assert.Empty(t, sub)
			assert.Nil(t, exts)
			var e *Error
			require.True(t, errors.As(err, &e), "got %T %v", err, err)
			assert.Equal(t, tt.status, e.Status)
			assert.Equal(t, tt.header, e.Header)
			assert.True(t, strings.HasPrefix(err.Error(), "handshake: "), err.Error())
		})
	}
	_, _, err := CheckResponse(nil, rfcKey, nil)
	assert.Error(t, err)
}

// TestRoundTrip runs both roles against each other.
func TestRoundTrip(t *testing.T) {
	key, err := NewKey()
	require.NoError(t, err)
	copts := &ClientOptions{
		Origin:       "https://server.example.com",
		Subprotocols: []string{"v2", "v1"},
		Extensions:   []Extension{{Name: "permessage-deflate"}},
	}
	u, err := url.Parse("wss://server.example.com/socket")
	require.NoError(t, err)

	var wire bytes.Buffer
	bw := bufio.NewWriter(&wire)
	require.NoError(t, WriteRequest(bw, u, key, copts))
	require.NoError(t, bw.Flush())

	var r Request
	require.NoError(t, r.ReadRequest(bufio.NewReader(&wire), 0))
	sub, err := Check(&r, &ServerOptions{Subprotocols: []string{"v1", "v2"}})
	require.NoError(t, err)
	assert.Equal(t, "v1", sub)
	offers, err := ParseExtensions(r.Extensions)
	require.NoError(t, err)
	require.Len(t, offers, 1)

	wire.Reset()
	require.NoError(t, WriteResponse(bw, r.Key, sub, offers[0].String(), nil))
	require.NoError(t, bw.Flush())

	resp, err := http.ReadResponse(bufio.NewReader(&wire), nil)
	require.NoError(t, err)
	gotSub, exts, err := CheckResponse(resp, key, copts)
	require.NoError(t, err)
	assert.Equal(t, "v1", gotSub)
	assert.Equal(t, []Extension{{Name: "permessage-deflate"}}, exts)
}
