package wsproto

import (
	"net"
	"strings"
	"testing"

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

// TestUpgradeConnAllocs pins what the raw-conn upgrade path allocates: the
// Conn and nothing else, with no options and with a subprotocol chosen
// from the client's list (the name comes from the options, not the
// request, so it costs no copy).
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
			require.Equal(t, 1.0, allocs, "allocations per upgrade (the Conn is one)")
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
// raw-conn path, network aside.
func BenchmarkUpgradeConn(b *testing.B) {
	nc := &requestConn{}
	b.ReportAllocs()
	for b.Loop() {
		nc.req.Reset(upgradeRequest)
		if _, err := UpgradeConn(nc, nil); err != nil {
			b.Fatal(err)
		}
	}
}
