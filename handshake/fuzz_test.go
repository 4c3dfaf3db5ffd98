package handshake_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/db7c6739/ws/handshake"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzReadRequest feeds arbitrary bytes to ReadRequest and Check. They must
// not panic; the outcome must not depend on the size of the bufio buffer;
// and a request they accept must have a valid key and lead to a response a
// client accepts.
func FuzzReadRequest(f *testing.F) {
	f.Add([]byte("GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"))
	f.Add([]byte("GET / HTTP/1.1\nHost: h\nUpgrade: x, WebSocket\nConnection: keep-alive, upgrade\n" +
		"Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\nSec-WebSocket-Version: 13\nOrigin: http://h\n" +
		"Sec-WebSocket-Protocol: a, b\nSec-WebSocket-Extensions: x; y=\"z\"\n\n"))
	f.Add([]byte("GET / HTTP/1.0\r\nX: a\r\n b\r\n\r\n"))
	f.Add([]byte("POST / HTTP/1.1\r\n\r\n"))

	opts := &handshake.ServerOptions{Subprotocols: []string{"b", "a"}, OriginPatterns: []string{"*.example.com"}}
	const max = 1024
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 2*max {
			// Past the limit every input is rejected the same way, and
			// long inputs only slow the fuzzer down.
			return
		}
		var small, large handshake.Request
		errSmall := small.ReadRequest(bufio.NewReaderSize(bytes.NewReader(data), 16), max)
		errLarge := large.ReadRequest(bufio.NewReaderSize(bytes.NewReader(data), 8192), max)
		require.Equal(t, errSmall == nil, errLarge == nil, "buffer size changed the outcome: %v / %v", errSmall, errLarge)
		if errSmall != nil {
			require.Equal(t, errSmall.Error(), errLarge.Error())
			return
		}
		sub, err := handshake.Check(&small, opts)
		sub2, err2 := handshake.Check(&large, opts)
		require.Equal(t, sub, sub2)
		require.Equal(t, err, err2)
		if err != nil {
			return
		}

		key, decErr := base64.StdEncoding.DecodeString(string(small.Key))
		require.NoError(t, decErr)
		require.Len(t, key, 16)
		_, extErr := handshake.ParseExtensions(small.Extensions)
		require.NoError(t, extErr)

		var out bytes.Buffer
		bw := bufio.NewWriter(&out)
		require.NoError(t, handshake.WriteResponse(bw, small.Key, sub, "", nil))
		require.NoError(t, bw.Flush())
		resp, rerr := http.ReadResponse(bufio.NewReader(&out), nil)
		require.NoError(t, rerr)
		gotSub, _, cerr := handshake.CheckResponse(resp, string(small.Key), &handshake.ClientOptions{Subprotocols: opts.Subprotocols})
		require.NoError(t, cerr)
		assert.Equal(t, sub, gotSub)
	})
}

// FuzzParseExtensions checks that ParseExtensions does not panic and that
// whatever it parses survives AppendExtensions and a second parse unchanged.
func FuzzParseExtensions(f *testing.F) {
	for _, s := range []string{
		"permessage-deflate; client_max_window_bits",
		"permessage-deflate; client_max_window_bits=10; server_no_context_takeover, permessage-deflate",
		`foo; bar="b\az", , baz ; q = 1`,
		`foo; bar="`,
		"foo;",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		exts, err := handshake.ParseExtensions(data)
		if err != nil {
			require.Nil(t, exts)
			return
		}
		out := handshake.AppendExtensions(nil, exts)
		again, err := handshake.ParseExtensions(out)
		require.NoError(t, err, "re-parsing %q", out)
		require.Equal(t, exts, again)
		require.Equal(t, out, handshake.AppendExtensions(nil, again), "canonical form is a fixed point")
	})
}

// FuzzCheckExtendedConnect feeds Check HTTP/2 requests made of arbitrary
// method, :protocol, authority, version and Origin values. It must not
// panic, and it accepts exactly the requests RFC 8441 §5 allows: CONNECT,
// :protocol websocket (any case), an authority, version 13, and an Origin,
// if any, naming the authority.
func FuzzCheckExtendedConnect(f *testing.F) {
	f.Add("CONNECT", "websocket", "example.com", "13", "https://example.com", "chat")
	f.Add("CONNECT", "", "example.com", "13", "", "")
	f.Add("GET", "websocket", "example.com", "13", "", "")
	f.Add("CONNECT", "WebSocket", "h:443", "13", "https://H:443", "a, b")
	f.Add("CONNECT", "websocket", "", "8", "null", "a b")
	f.Fuzz(func(t *testing.T, method, protocol, host, version, origin, protocols string) {
		h := http.Header{}
		if protocol != "" {
			h[":protocol"] = []string{protocol}
		}
		if version != "" {
			h.Set("Sec-Websocket-Version", version)
		}
		if origin != "" {
			h.Set("Origin", origin)
		}
		if protocols != "" {
			h.Set("Sec-Websocket-Protocol", protocols)
		}
		hr := &http.Request{Method: method, Proto: "HTTP/2.0", ProtoMajor: 2, Host: host, RequestURI: "/", Header: h}
		var r handshake.Request
		r.FromHTTP(hr)
		sub, err := handshake.Check(&r, &handshake.ServerOptions{Subprotocols: []string{"chat"}})
		if err != nil {
			var e *handshake.Error
			require.ErrorAs(t, err, &e)
			require.Contains(t, []int{400, 403, 405, 426}, e.Status)
			assert.Empty(t, sub)
			return
		}
		assert.Equal(t, "CONNECT", method)
		assert.True(t, strings.EqualFold(protocol, "websocket"), "protocol %q", protocol)
		assert.NotEmpty(t, host)
		assert.Equal(t, "13", strings.TrimSpace(version))
		if origin != "" {
			// scheme "://" host, and whatever path follows ignored.
			_, oh, found := strings.Cut(strings.TrimSpace(origin), "://")
			require.True(t, found, "origin %q", origin)
			if i := strings.IndexAny(oh, "/?#"); i >= 0 {
				oh = oh[:i]
			}
			assert.True(t, strings.EqualFold(oh, host), "origin %q for host %q", origin, host)
		}
		assert.Contains(t, []string{"", "chat"}, sub)
	})
}
