//go:build !js

package wsproto

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/db7c6739/ws/handshake"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A WebSocket request over HTTP/2 that is not an extended CONNECT is what
// reaches a server that does not offer extended CONNECT: the refusal says
// how to turn it on, and ends the stream, not the connection. (The tests
// of WebSockets over HTTP/2 end to end, which need an HTTP/2 client that
// can send extended CONNECT, are in the http2test module.)
func TestUpgradeHTTP2Refusals(t *testing.T) {
	require.NotContains(t, os.Getenv("GODEBUG"), "http2xconnect=1",
		"this test wants a process without extended CONNECT")
	for _, tc := range []struct {
		name   string
		method string
		header http.Header
		status int
		want   error
		hint   bool
	}{
		{"GET with Upgrade", http.MethodGet, http.Header{"Upgrade": {"websocket"}, "Connection": {"Upgrade"},
			"Sec-Websocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="}, "Sec-Websocket-Version": {"13"}}, 405, handshake.ErrNotExtendedConnect, true},
		{"CONNECT without :protocol", http.MethodConnect, http.Header{"Sec-Websocket-Version": {"13"}}, 400, handshake.ErrBadConnectProtocol, false},
		{"wrong version", http.MethodConnect, http.Header{":protocol": {"websocket"}, "Sec-Websocket-Version": {"7"}}, 400, handshake.ErrBadVersion, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "https://example.com/ws", nil)
			r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/2.0", 2, 0
			r.Header = tc.header
			w := httptest.NewRecorder()
			c, err := Upgrade(w, r, nil)
			require.Nil(t, c)
			assert.ErrorIs(t, err, tc.want)
			assert.Equal(t, tc.status, w.Code)
			assert.Empty(t, w.Header().Values("Connection"), "Connection: close would end the whole HTTP/2 connection")
			assert.Equal(t, tc.hint, strings.Contains(err.Error(), "GODEBUG=http2xconnect=1"), "%v", err)
			if tc.status == 405 {
				assert.Equal(t, "CONNECT", w.Header().Get("Allow"))
			}
		})
	}
}
