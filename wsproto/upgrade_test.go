//go:build !js

package wsproto

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// requestConn serves one upgrade request and takes every write: the
// handshake without the network, so that what UpgradeConn allocates shows.
type requestConn struct {
	discard
	req strings.Reader
}

func (c *requestConn) Read(p []byte) (int, error) { return c.req.Read(p) }

const upgradeRequest = "GET /chat HTTP/1.1\r\n" +
	"Host: 127.0.0.1:9001\r\n" +
	"Upgrade: websocket\r\n" +
	"Connection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
	"Sec-WebSocket-Version: 13\r\n" +
	"User-Agent: Go-http-client/1.1\r\n\r\n"

var _ net.Conn = (*requestConn)(nil)

// TestUpgradeConnAllocs bounds what the raw-conn upgrade path allocates,
// with no options and with a subprotocol chosen from the client's list
// (the name comes from the options, not the request, so it costs no copy).
// On Go 1.26 that is the Conn and nothing else (BenchmarkUpgradeConn
// reports the figure); the test allows one more, so that a runtime that
// allocates differently does not fail it for nothing.
func TestUpgradeConnAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	cases := map[string]struct {
		req  string
		opts *UpgradeOptions
	}{
		"no options":  {upgradeRequest, nil},
		"subprotocol": {strings.Replace(upgradeRequest, "\r\n\r\n", "\r\nSec-WebSocket-Protocol: v2.chat, v1.chat\r\n\r\n", 1), &UpgradeOptions{Subprotocols: []string{"v1.chat"}}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			nc := &requestConn{}
			allocs := testing.AllocsPerRun(100, func() {
				nc.req.Reset(tc.req)
				c, err := UpgradeConn(nc, tc.opts)
				if err != nil || c == nil {
					panic(err)
				}
			})
			require.LessOrEqual(t, allocs, 2.0, "allocations per upgrade (the Conn is one)")
			nc.req.Reset(tc.req)
			c, err := UpgradeConn(nc, tc.opts)
			require.NoError(t, err)
			if tc.opts != nil {
				require.Equal(t, "v1.chat", c.Subprotocol())
			}
		})
	}
}

// BenchmarkUpgradeConn is the server side of one opening handshake on the
// raw-conn path, network aside. It reports the size of the Conn too, which
// every connection holds while idle.
func BenchmarkUpgradeConn(b *testing.B) {
	nc := &requestConn{}
	b.ReportAllocs()
	for b.Loop() {
		nc.req.Reset(upgradeRequest)
		if _, err := UpgradeConn(nc, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(unsafe.Sizeof(Conn{})), "conn-bytes")
}

// TestUpgradeHooks: CheckOrigin decides on the origin in place of the
// same-host rule, and SelectSubprotocol picks the subprotocol, behind
// net/http and on a raw connection alike.
func TestUpgradeHooks(t *testing.T) {
	opts := &UpgradeOptions{
		CheckOrigin: func(r *http.Request) bool {
			return r.Header.Get("Origin") == "https://app.example" && r.URL.Path == "/ws"
		},
		SelectSubprotocol: func(r *http.Request, offered []string) string {
			if r.URL.Query().Get("v") == "2" {
				return offered[len(offered)-1]
			}
			return offered[0]
		},
	}
	serveHTTP := func(t *testing.T) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if c, err := Upgrade(w, r, opts); err == nil {
				c.CloseNow()
			}
		}))
		t.Cleanup(srv.Close)
		return srv.Listener.Addr().String()
	}
	serveRaw := func(t *testing.T) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				nc, err := ln.Accept()
				if err != nil {
					return
				}
				go func() {
					if c, err := UpgradeConn(nc, opts); err == nil {
						c.CloseNow()
					}
				}()
			}
		}()
		return ln.Addr().String()
	}
	for name, serve := range map[string]func(*testing.T) string{"Upgrade": serveHTTP, "UpgradeConn": serveRaw} {
		t.Run(name, func(t *testing.T) {
			addr := serve(t)
			ctx := context.Background()
			protos := []string{"chat.v1", "chat.v2"}
			c, _, err := Dial(ctx, "ws://"+addr+"/ws", &DialOptions{Origin: "https://app.example", Subprotocols: protos})
			require.NoError(t, err)
			assert.Equal(t, "chat.v1", c.Subprotocol())
			c.CloseNow()
			c, _, err = Dial(ctx, "ws://"+addr+"/ws?v=2", &DialOptions{Origin: "https://app.example", Subprotocols: protos})
			require.NoError(t, err)
			assert.Equal(t, "chat.v2", c.Subprotocol())
			c.CloseNow()
			_, resp, err := Dial(ctx, "ws://"+addr+"/ws", &DialOptions{Origin: "https://evil.example", Subprotocols: protos})
			require.Error(t, err)
			require.NotNil(t, resp)
			assert.Equal(t, http.StatusForbidden, resp.StatusCode)
			_, resp, err = Dial(ctx, "ws://"+addr+"/ws", &DialOptions{Origin: "http://" + addr, Subprotocols: protos})
			require.Error(t, err, "CheckOrigin replaces the same-host rule")
			assert.Equal(t, http.StatusForbidden, resp.StatusCode)
		})
	}
}
